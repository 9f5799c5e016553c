"""An evdev input device held by a driver: open and grab it, read its events without blocking,
and turn an unplug (ENODEV, or the by-id path gone) into ``DeviceLost``.

Shared by the keypad and scanner ``evdev`` drivers. Hotplug is a rescan of the configured path:
the device worker reopens with backoff until the path is back, then grabs it again, so a
re-plugged keypad is online and exclusive without a restart. python-evdev is imported only when
a device is opened. Events are handed on as plain ``(type, code, value, timestamp)`` tuples, the
same shape the tests record, so the decoding classes never see an evdev object.
"""

from __future__ import annotations

import errno
import os
from typing import Any

from hwd.errors import DeviceLost

EV_KEY = 1
KEY_UP, KEY_DOWN, KEY_HOLD = 0, 1, 2

Event = tuple  # (type, code, value, timestamp seconds)


def key_codes() -> dict[str, int]:
    """evdev key name → code (``KEY_F1`` → 59)."""
    from evdev import ecodes

    return {name: code for name, code in ecodes.ecodes.items() if name.startswith(("KEY_", "BTN_"))}


def key_names() -> dict[int, str]:
    """evdev key code → its first name."""
    from evdev import ecodes

    names: dict[int, str] = {}
    for code, name in ecodes.KEY.items():
        names[code] = name[0] if isinstance(name, (list, tuple)) else name
    return names


class EvdevInput:
    def __init__(self, path: str, grab: bool = True):
        self.path = path
        self.grab = grab
        self.dev: Any = None

    def open(self) -> None:
        import evdev

        if not os.path.exists(self.path):
            raise DeviceLost(f"{self.path} is not there (unplugged?)")
        dev = evdev.InputDevice(self.path)
        try:
            if self.grab:
                dev.grab()
        except OSError as exc:
            dev.close()
            raise DeviceLost(f"cannot grab {self.path}: {exc.strerror or exc} "
                             "(another program holds it?)") from None
        self.dev = dev

    @property
    def name(self) -> str:
        return getattr(self.dev, "name", "") or ""

    def read(self) -> list[Event]:
        """The events waiting now (maybe none)."""
        try:
            events = list(self.dev.read())
        except BlockingIOError:
            if not os.path.exists(self.path):
                raise DeviceLost(f"{self.path} disappeared") from None
            return []
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.EIO, errno.EBADF):
                raise DeviceLost(f"{self.path} unplugged") from None
            raise
        return [(e.type, e.code, e.value, e.timestamp()) for e in events]

    def fileno(self) -> int:
        return self.dev.fd

    def close(self) -> None:
        dev, self.dev = self.dev, None
        if dev is None:
            return
        if self.grab:
            try:
                dev.ungrab()
            except OSError:
                pass  # already gone with the device
        try:
            dev.close()
        except OSError:
            pass
