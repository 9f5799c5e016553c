"""Keypad actions and key maps, checked at config time, and the serial byte-sequence decoder.

A keypad never decides what a key means for the hall: config maps each key to one of the
actions below, and the driver publishes ``keypad.key {device, key, action}``; the hall engine
acts on it. Pure: no I/O.
"""

from __future__ import annotations

import re
import time
from typing import Callable

SIMPLE_ACTIONS = ("call_next", "recall", "no_show", "start", "finish", "pause", "resume")
RATE_ACTIONS = tuple(f"rate:{n}" for n in range(1, 6))
_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_KEY_NAME = re.compile(r"^(KEY|BTN)_[A-Z0-9_]+$")
_REASON_RATE = re.compile(r"^rate:[12]:[A-Za-z0-9_.-]{1,32}(,[A-Za-z0-9_.-]{1,32}){0,7}$")


def check_action(action: object) -> str | None:
    """Why ``action`` is not a keypad action, or None."""
    if not isinstance(action, str):
        return "an action is a string"
    if action in SIMPLE_ACTIONS or action in RATE_ACTIONS:
        return None
    if _REASON_RATE.match(action):  # an evaluator whose 差评 keys name their reason: rate:2:attitude
        return None
    if action.startswith("transfer:"):
        return None if _SERVICE.match(action[len("transfer:"):]) else "transfer:<service id> needs a service id"
    return (f"unknown action {action!r}; use rate:1..rate:5, rate:1|2:<reason>[,<reason>], "
            f"{', '.join(SIMPLE_ACTIONS)} or transfer:<service>")


def parse_hex(text: str) -> bytes:
    """``"1b 31"`` / ``"1B31"`` → bytes; ValueError when it is not whole hex bytes."""
    cleaned = text.replace(" ", "")
    if not cleaned or len(cleaned) % 2:
        raise ValueError(f"{text!r} is not whole hex bytes")
    return bytes.fromhex(cleaned)


def check_serial_keys(keys: dict) -> str | None:
    """``keys = { "31" = "rate:5", "1b32" = "call_next" }``: hex byte sequences → actions."""
    if not keys:
        return "map at least one key, e.g. keys = { \"31\" = \"rate:5\" }"
    seen: dict[bytes, str] = {}
    for key, action in keys.items():
        try:
            data = parse_hex(key)
        except ValueError:
            return f"key {key!r}: write the bytes the keypad sends in hex, e.g. \"31\" or \"1b31\""
        if data in seen:
            return f"keys {seen[data]!r} and {key!r} are the same bytes"
        seen[data] = key
        problem = check_action(action)
        if problem:
            return f"key {key!r}: {problem}"
    return None


def check_evdev_keys(keys: dict) -> str | None:
    """``keys = { KEY_F1 = "rate:5" }``: evdev key names → actions."""
    if not keys:
        return "map at least one key, e.g. keys = { KEY_F1 = \"rate:5\" }"
    for key, action in keys.items():
        if not _KEY_NAME.match(key):
            return f"key {key!r}: use evdev key names such as KEY_F1 or KEY_KP5"
        problem = check_action(action)
        if problem:
            return f"key {key!r}: {problem}"
    try:
        from evdev import ecodes
    except ImportError:
        return None  # the missing package is reported by the driver's requirements
    unknown = [k for k in keys if k not in ecodes.ecodes]
    return f"unknown evdev key names: {', '.join(unknown)}" if unknown else None


class SequenceDecoder:
    """Bytes from a serial keypad → ``(key_hex, action)``, longest configured sequence first.

    When the bytes so far are both a key and the start of a longer key, the decoder waits up to
    ``timeout`` seconds for the rest (``flush``). Bytes that start no key are dropped and
    reported through ``unknown``.
    """

    def __init__(self, keys: dict[str, str], timeout: float = 0.2,
                 clock: Callable[[], float] = time.monotonic):
        self.keys = {parse_hex(k): a for k, a in keys.items()}
        self.timeout = timeout
        self.clock = clock
        self.buffer = bytearray()
        self.last = 0.0
        self.unknown = bytearray()

    def feed(self, data: bytes) -> list[tuple[str, str]]:
        if data:
            self.buffer += data
            self.last = self.clock()
        return self._decode(expired=False)

    def flush(self) -> list[tuple[str, str]]:
        """Resolve a waiting prefix once the keypad has been quiet for ``timeout``."""
        if self.buffer and self.clock() - self.last >= self.timeout:
            return self._decode(expired=True)
        return []

    def _decode(self, expired: bool) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        while self.buffer:
            buf = bytes(self.buffer)
            longer = any(len(k) > len(buf) and k.startswith(buf) for k in self.keys)
            if longer and not expired:
                break
            matches = [k for k in self.keys if buf.startswith(k)]
            if matches:
                key = max(matches, key=len)
                out.append((key.hex(), self.keys[key]))
                del self.buffer[:len(key)]
            else:
                self.unknown.append(self.buffer.pop(0))
        return out

    def take_unknown(self) -> bytes:
        data, self.unknown = bytes(self.unknown), bytearray()
        return data
