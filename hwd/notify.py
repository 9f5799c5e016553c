"""systemd's sd_notify protocol (the sd_notify(3) manual page), without libsystemd.

A datagram of newline-separated KEY=VALUE lines to $NOTIFY_SOCKET (a path, or @name for an
abstract socket). Without NOTIFY_SOCKET every call is a no-op, so the daemon runs the same way
by hand and under systemd.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    def __init__(self, address: str | None = None):
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]
        self.address = address or None
        self._sock: socket.socket | None = None
        if self.address:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, **fields: object) -> None:
        if not self._sock:
            return
        text = "\n".join(f"{key.upper()}={value}" for key, value in fields.items())
        try:
            self._sock.sendto(text.encode(), self.address)
        except OSError:
            pass  # systemd gone or socket full: nothing useful to do about it

    def ready(self, status: str = "") -> None:
        self.send(READY=1, **({"STATUS": status} if status else {}))

    def status(self, text: str) -> None:
        self.send(STATUS=text)

    def watchdog(self) -> None:
        self.send(WATCHDOG=1)

    def stopping(self) -> None:
        self.send(STOPPING=1)

    @staticmethod
    def watchdog_interval() -> float | None:
        """Seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None when not asked."""
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        if not usec or (pid and pid != str(os.getpid())):
            return None
        try:
            return int(usec) / 2_000_000
        except ValueError:
            return None

    def close(self) -> None:
        if self._sock:
            self._sock.close()
            self._sock = None
