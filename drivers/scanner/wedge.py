"""Keyboard-wedge decoding: a HID barcode scanner's key events → the scanned text.

A scanner in keyboard mode types each code and presses Enter. This class rebuilds the text on
a US layout: it tracks Shift (both keys) and Caps Lock itself, accepts the keypad keys
(``KEY_KP0``…, as many scanners type digits there), ends a code at Enter (main or keypad) and
throws away a partial code when the keys pause longer than ``timeout`` (someone leaning on a
key, or a scan cut short). Pure: fed ``(type, code, value, timestamp)`` tuples with a
code → name table, from a real device in production and from recordings in tests.
"""

from __future__ import annotations

import string

EV_KEY = 1
KEY_DOWN, KEY_UP = 1, 0

_US: dict[str, tuple[str, str]] = {f"KEY_{c.upper()}": (c, c.upper()) for c in string.ascii_lowercase}
_US.update({f"KEY_{d}": (d, s) for d, s in zip("1234567890", "!@#$%^&*()")})
_US.update({
    "KEY_MINUS": ("-", "_"), "KEY_EQUAL": ("=", "+"), "KEY_LEFTBRACE": ("[", "{"),
    "KEY_RIGHTBRACE": ("]", "}"), "KEY_BACKSLASH": ("\\", "|"), "KEY_SEMICOLON": (";", ":"),
    "KEY_APOSTROPHE": ("'", '"'), "KEY_GRAVE": ("`", "~"), "KEY_COMMA": (",", "<"),
    "KEY_DOT": (".", ">"), "KEY_SLASH": ("/", "?"), "KEY_SPACE": (" ", " "), "KEY_TAB": ("\t", "\t"),
})
_KEYPAD = {f"KEY_KP{d}": d for d in "0123456789"}
_KEYPAD.update({"KEY_KPDOT": ".", "KEY_KPMINUS": "-", "KEY_KPPLUS": "+", "KEY_KPASTERISK": "*",
                "KEY_KPSLASH": "/", "KEY_KPEQUAL": "=", "KEY_KPCOMMA": ","})
SHIFTS = ("KEY_LEFTSHIFT", "KEY_RIGHTSHIFT")
ENDS = ("KEY_ENTER", "KEY_KPENTER")


class WedgeDecoder:
    def __init__(self, names: dict[int, str], timeout: float = 0.2, max_length: int = 512):
        self.names = names
        self.timeout = timeout
        self.max_length = max_length
        self.shift: set[str] = set()
        self.caps = False
        self.chars: list[str] = []
        self.last = 0.0
        self.discarded = 0   # partial codes thrown away
        self.ignored = 0     # key presses that type nothing

    def feed(self, type_: int, code: int, value: int, timestamp: float) -> str | None:
        """One event; returns the code's text when this event ends a code."""
        if type_ != EV_KEY:
            return None
        name = self.names.get(code, "")
        if name in SHIFTS:
            if value == KEY_UP:
                self.shift.discard(name)
            else:
                self.shift.add(name)
            return None
        if value != KEY_DOWN:
            return None  # releases and autorepeat
        self.expire(timestamp)
        self.last = timestamp
        if name == "KEY_CAPSLOCK":
            self.caps = not self.caps
            return None
        if name in ENDS:
            text, self.chars = "".join(self.chars), []
            return text or None
        char = self._char(name)
        if char is None:
            self.ignored += 1
            return None
        if len(self.chars) >= self.max_length:
            self.discarded += 1
            self.chars = []
            return None
        self.chars.append(char)
        return None

    def expire(self, now: float) -> bool:
        """Drop a partial code whose last key is older than ``timeout``; True if one was dropped."""
        if self.chars and now - self.last > self.timeout:
            self.chars = []
            self.discarded += 1
            return True
        return False

    def _char(self, name: str) -> str | None:
        if name in _KEYPAD:
            return _KEYPAD[name]
        pair = _US.get(name)
        if pair is None:
            return None
        shifted = bool(self.shift)
        if name[4:].isalpha() and len(name) == 5 and self.caps:
            shifted = not shifted
        return pair[1] if shifted else pair[0]


def key_events_for(text: str, codes: dict[str, int], start: float = 0.0, step: float = 0.004,
                   keypad_digits: bool = False) -> list[tuple[int, int, int, float]]:
    """The events a US-layout scanner sends for ``text`` + Enter (for tests and emulation)."""
    reverse: dict[str, tuple[str, bool]] = {}
    for key, (plain, shifted) in _US.items():
        reverse.setdefault(plain, (key, False))
        reverse.setdefault(shifted, (key, True))
    if keypad_digits:
        reverse.update({d: (f"KEY_KP{d}", False) for d in "0123456789"})
    events: list[tuple[int, int, int, float]] = []
    t = start

    def emit(key: str, value: int) -> None:
        nonlocal t
        events.append((EV_KEY, codes[key], value, t))
        t += step

    for char in text + "\n":
        if char == "\n":
            emit("KEY_ENTER", 1)
            emit("KEY_ENTER", 0)
            continue
        key, shift = reverse[char]
        if shift:
            emit("KEY_LEFTSHIFT", 1)
        emit(key, 1)
        emit(key, 0)
        if shift:
            emit("KEY_LEFTSHIFT", 0)
    return events
