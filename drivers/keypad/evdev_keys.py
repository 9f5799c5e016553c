"""Key events → keypad actions: the pure part of the ``evdev`` keypad driver.

Fed by a real evdev device in production and by recorded ``(type, code, value, time)``
sequences in tests. Only key-down (value 1) counts: releases and autorepeat (value 2) are
ignored, so holding a key rates once.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.evdev_input import EV_KEY, KEY_DOWN


@dataclass(frozen=True)
class KeyPress:
    key: str              # evdev key name, e.g. KEY_F1 (or "code:N" if unnamed)
    action: str | None    # None: the key is not in the map


class KeyEventMapper:
    def __init__(self, keys: dict[str, str], codes: dict[str, int], names: dict[int, str] | None = None):
        """``keys`` name → action from config; ``codes`` name → code (evdev's table)."""
        self.by_code = {codes[name]: (name, action) for name, action in keys.items()}
        self.names = names or {}

    def feed(self, type_: int, code: int, value: int) -> KeyPress | None:
        if type_ != EV_KEY or value != KEY_DOWN:
            return None
        if code in self.by_code:
            name, action = self.by_code[code]
            return KeyPress(name, action)
        return KeyPress(self.names.get(code, f"code:{code}"), None)
