"""Keypad actions and key maps, checked at config time, the serial byte-sequence decoder, and the
digits a caller sends before a key.

A keypad never decides what a key means for the hall: config maps each key to one of the
actions below, and the driver publishes ``keypad.key {device, key, action, digits?}``; the hall
engine acts on it. Pure: no I/O.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Callable

from drivers.hexbytes import parse_hex
from hwd.stream import Buffer, StreamDecoder

SIMPLE_ACTIONS = ("call_next", "recall", "no_show", "start", "finish", "pause", "resume")
# keys whose meaning comes with the digits typed before them (a caller's): transfer to the
# service with that number, log that clerk in; and log out
DIGIT_ACTIONS = ("transfer", "login", "logout")
RATE_ACTIONS = tuple(f"rate:{n}" for n in range(1, 6))
_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_KEY_NAME = re.compile(r"^(KEY|BTN)_[A-Z0-9_]+$")
_REASON_RATE = re.compile(r"^rate:[12]:[A-Za-z0-9_.-]{1,32}(,[A-Za-z0-9_.-]{1,32}){0,7}$")


def check_action(action: object) -> str | None:
    """Why ``action`` is not a keypad action, or None."""
    if not isinstance(action, str):
        return "an action is a string"
    if action in SIMPLE_ACTIONS or action in RATE_ACTIONS or action in DIGIT_ACTIONS:
        return None
    if _REASON_RATE.match(action):  # an evaluator whose 差评 keys name their reason: rate:2:attitude
        return None
    if action.startswith("transfer:"):
        return None if _SERVICE.match(action[len("transfer:"):]) else "transfer:<service id> needs a service id"
    return (f"unknown action {action!r}; use rate:1..rate:5, rate:1|2:<reason>[,<reason>], "
            f"{', '.join(SIMPLE_ACTIONS + DIGIT_ACTIONS)} or transfer:<service>")


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


MAX_DIGITS = 12


def split_key(data: bytes, keys: dict[bytes, str]) -> tuple[bytes, str, str] | None:
    """``(key, action, digits)`` of a caller's key frame data, or None when no key matches.

    A frame's data that is a key is that key (``06 0F``, JackQChen's "give up the ticket", can
    be mapped whole: such a key is only ever the whole frame). Otherwise the digit keys pressed
    before a key come first, one value 00–09 each, and the key last, the shortest key that
    ends the data: ``01 02 03 0C`` is key ``0C`` with digits "123", ``00 08 01 05 0F`` key
    ``0F`` with "0815" (uvbs/HospitalQueueSystem ``NurseStation/com/SLZCCaller.cpp``
    ``SepaMsgNum``: the bytes between the function code and the key)."""
    if data in keys:
        return data, keys[data], ""
    for cut in range(len(data) - 1, max(0, len(data) - 1 - MAX_DIGITS), -1):
        head, tail = data[:cut], data[cut:]
        if tail in keys:
            if max(head) > 9 or len(head) > MAX_DIGITS:
                return None
            return tail, keys[tail], "".join(str(b) for b in head)
    return None


@dataclass(frozen=True)
class Key:
    """A key's bytes as they came (``action`` None: a byte that starts no configured key)."""

    code: bytes
    action: str | None

    @property
    def size(self) -> int:
        return len(self.code)


class SequenceDecoder:
    """Bytes from a serial keypad → ``(key_hex, action)``, longest configured sequence first.

    The framing is hwd/stream.py's check: when the bytes so far are both a key and the start of
    a longer key, the check waits for more; once the keypad has been quiet for ``timeout``
    seconds (``flush``) the key it has is taken. Bytes that start no key are dropped and
    reported through ``take_unknown``.
    """

    def __init__(self, keys: dict[str, str], timeout: float = 0.2,
                 clock: Callable[[], float] = time.monotonic):
        self.keys = {parse_hex(k): a for k, a in keys.items()}
        self.longest = max((len(k) for k in self.keys), default=1)
        self.timeout = timeout
        self.clock = clock
        self.last = 0.0
        self.unknown = bytearray()
        self.stream = StreamDecoder(self._check, "keys", quiet=self._quiet)

    def reset(self) -> None:
        self.stream.reset()

    def feed(self, data: bytes) -> list[tuple[str, str]]:
        if data:
            self.last = self.clock()
        return self._keys(self.stream.feed(data))

    def flush(self) -> list[tuple[str, str]]:
        """Resolve a waiting prefix once the keypad has been quiet for ``timeout``."""
        if self.stream.pending and self.clock() - self.last >= self.timeout:
            return self._keys(self.stream.flush())
        return []

    def take_unknown(self) -> bytes:
        data, self.unknown = bytes(self.unknown), bytearray()
        return data

    def _keys(self, items: list) -> list[tuple[str, str]]:
        out = []
        for item in items:
            if isinstance(item, Key) and item.action is not None:
                out.append((item.code.hex(), item.action))
            elif isinstance(item, Key):
                self.unknown += item.code
        return out

    def _check(self, buf: Buffer, pos: int) -> Key | None:
        head = bytes(buf[pos:pos + self.longest])
        if len(head) < self.longest and any(len(k) > len(head) and k.startswith(head) for k in self.keys):
            return None         # the start of a longer key: wait for the rest
        return self._quiet(buf, pos)

    def _quiet(self, buf: Buffer, pos: int) -> Key:
        head = bytes(buf[pos:pos + self.longest])
        matches = [k for k in self.keys if head.startswith(k)]
        if not matches:
            return Key(head[:1], None)
        key = max(matches, key=len)
        return Key(key, self.keys[key])
