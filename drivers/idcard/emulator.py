"""Emulator of a SAM module behind a pty: the far end of the ``sam`` driver's serial line.

It answers the real frames (drivers/idcard/protocol.py) from a card loaded from a JSON fixture in
``drivers/idcard/fixtures/`` (synthetic people only). As with a real reader, a card that was
read answers "find failed" until it is removed, while "select" keeps succeeding as long as it
lies on the reader.

Actions: ``place {card}`` (a fixture name: resident, longterm, hkmotw, foreign, foreign2023, or
a card dict), ``remove``. Faults, each for the next ``count`` replies (optionally only replies
to ``on`` = find|select|read|address|status): ``bad_checksum``, ``bad_len``, ``garbage``
(bytes before the reply), ``split`` (the reply written in small pieces), ``sw3 {code}``; and
from the base class ``silent``, ``unplug``, ``plug``.

Handshake mode (``handshake = "cvr100"`` in the device's options, or ``sim://NAME?handshake=cvr100``
to emulate such a reader behind a config that lacks it): like a CVR-100 reader, it answers no SAM
frame until the host has sent the vendor challenge (drivers/idcard/handshake.py), and asks for it
again after every unplug. ``bad_handshake`` makes it answer the next challenge wrongly.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from drivers.idcard import cards, protocol as p
from drivers.idcard.handshake import CVR100_HEAD, CVR100_LEN, cvr100_answer, is_cvr100_challenge
from hwd.errors import HwdError, INVALID_PARAMS
from hwd.sim import Emulator
from hwd.stream import Skip

FIXTURES = Path(__file__).with_name("fixtures")
_COMMAND_NAMES = {p.FIND: "find", p.SELECT: "select", p.READ: "read", p.READ_FINGERPRINT: "read",
                  p.READ_EXTRA_ADDRESS: "address", p.SAM_STATUS: "status", p.RESET: "status",
                  p.SAM_ID: "status"}
FAULTS = ("bad_checksum", "bad_len", "garbage", "split", "sw3")


def fixture_names() -> list[str]:
    return sorted(f.stem for f in FIXTURES.glob("*.json"))


def load_fixture(name: str) -> dict[str, Any]:
    """A fixture card by name (the file ``fixtures/NAME.json``)."""
    if name not in fixture_names():
        raise HwdError(f"no card fixture {name!r}; known: {', '.join(fixture_names())}", INVALID_PARAMS)
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


class IdCardEmulator(Emulator):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.parser = p.decoder(f"sim {self.name}")
        self.card: dict[str, Any] | None = None
        self.card_name: str | None = None
        self.card_read = False
        self.faults: list[dict[str, Any]] = []
        self.commands: dict[str, int] = {}
        self.reads = 0
        self._lock = threading.Lock()
        self.demand = self.params.get("handshake") or self.options.get("handshake")
        self.shaken = False
        self.pending = bytearray()      # bytes before the handshake
        self.unanswered = 0
        self.bad_handshake = False

    # -- the wire ----------------------------------------------------------------------------
    def received(self, data: bytes) -> None:
        if self.demand and not self.shaken:
            data = self._await_handshake(data)
            if not data:
                return
        for item in self.parser.feed(data):
            if isinstance(item, Skip) and item.noise:
                continue
            if isinstance(item, Skip):
                self._answer("status", p.reply(0x10 if item.reason == "checksum" else 0x11))
                continue
            command = tuple(item.body[:2]) if len(item.body) >= 2 else (0, 0)
            name = _COMMAND_NAMES.get(command, "other")
            self.commands[name] = self.commands.get(name, 0) + 1
            self._answer(name, self._handle(command))

    def _await_handshake(self, data: bytes) -> bytes:
        """Swallow everything until a valid challenge; answer it; return the bytes after it."""
        self.pending += data
        while True:
            start = self.pending.find(CVR100_HEAD)
            if start < 0:
                self.unanswered += self.pending.count(p.PREAMBLE)
                del self.pending[:max(0, len(self.pending) - len(CVR100_HEAD) + 1)]
                return b""
            self.unanswered += bytes(self.pending[:start]).count(p.PREAMBLE)
            if len(self.pending) - start < CVR100_LEN:
                del self.pending[:start]
                return b""
            frame = bytes(self.pending[start:start + CVR100_LEN])
            if not is_cvr100_challenge(frame):
                del self.pending[:start + 1]
                continue
            rest = bytes(self.pending[start + CVR100_LEN:])
            self.pending.clear()
            answer = cvr100_answer(frame)
            if self.bad_handshake:
                self.bad_handshake = False
                answer = answer[:6] + bytes([answer[6] ^ 0xFF]) + answer[7:]
            else:
                self.shaken = True
            self.send(answer)
            if not self.shaken:
                return b""
            return rest

    def _handle(self, command: tuple) -> bytes:
        with self._lock:
            card = self.card
            if command in (p.RESET, p.SAM_STATUS):
                return p.reply(p.OK)
            if command == p.SAM_ID:
                return p.reply(p.OK, bytes(range(16)))
            if command == p.FIND:
                return p.reply(p.FIND_OK, bytes(4)) if card and not self.card_read else p.reply(p.FIND_FAILED)
            if command == p.SELECT:
                return p.reply(p.OK, bytes(8)) if card else p.reply(p.SELECT_FAILED)
            if command in (p.READ, p.READ_FINGERPRINT):
                if not card:
                    return p.reply(0x41)
                self.card_read = True
                self.reads += 1
                fingerprint = b"" if command == p.READ_FINGERPRINT else None
                return p.reply(p.OK, p.build_read(cards.encode(card), cards.encode_photo(card), fingerprint))
            if command == p.READ_EXTRA_ADDRESS:
                if not card:
                    return p.reply(0x41)
                if not card.get("address_extra"):
                    return p.reply(p.NO_CONTENT)
                return p.reply(p.OK, cards.encode_address(card["address_extra"]))
            return p.reply(0x21)

    def _answer(self, name: str, frame: bytes) -> None:
        fault = self._take_fault(name)
        kind = fault["kind"] if fault else None
        if kind == "bad_checksum":
            frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
        elif kind == "bad_len":
            frame = frame[:5] + b"\xff\xff" + frame[7:]
        elif kind == "sw3":
            frame = p.reply(fault["code"])
        elif kind == "garbage":
            frame = fault["data"] + frame
        if kind == "split":
            for i in range(0, len(frame), 7):
                self.send(frame[i:i + 7])
                time.sleep(0.002)
        else:
            self.send(frame)

    def _take_fault(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            for fault in self.faults:
                if fault["on"] in ("any", name):
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    # -- actions -----------------------------------------------------------------------------
    def act_place(self, card: str | dict = "resident") -> dict:
        """Lay a card on the reader (a fixture name or a card dict)."""
        data = load_fixture(card) if isinstance(card, str) else dict(card)
        if data.get("card_type") not in cards.CARD_TYPES:
            raise HwdError(f"card_type must be one of {', '.join(cards.CARD_TYPES)}", INVALID_PARAMS)
        try:
            cards.encode(data)
        except cards.CardFormatError as exc:
            raise HwdError(f"cannot place this card: {exc}", INVALID_PARAMS) from None
        with self._lock:
            self.card, self.card_read = data, False
            self.card_name = card if isinstance(card, str) else "custom"
        self.log.info("%s: card %s placed", self.name, self.card_name)
        return self.status()

    def act_remove(self) -> dict:
        """Take the card off the reader."""
        with self._lock:
            self.card, self.card_name, self.card_read = None, None, False
        return self.status()

    def _add_fault(self, kind: str, count: int, on: str, **extra: Any) -> dict:
        if on not in ("any", "find", "select", "read", "address", "status"):
            raise HwdError("on must be any, find, select, read, address or status", INVALID_PARAMS)
        with self._lock:
            self.faults.append({"kind": kind, "count": max(1, int(count)), "on": on, **extra})
        return self.status()

    def act_bad_checksum(self, count: int = 1, on: str = "any") -> dict:
        return self._add_fault("bad_checksum", count, on)

    def act_bad_len(self, count: int = 1, on: str = "any") -> dict:
        return self._add_fault("bad_len", count, on)

    def act_garbage(self, count: int = 1, on: str = "any", data: str = "00aaaa9669ff1255") -> dict:
        return self._add_fault("garbage", count, on, data=bytes.fromhex(data))

    def act_split(self, count: int = 1, on: str = "any") -> dict:
        return self._add_fault("split", count, on)

    def act_sw3(self, code: int | str, count: int = 1, on: str = "any") -> dict:
        value = int(code, 16) if isinstance(code, str) else int(code)
        if not 0 <= value <= 0xFF:
            raise HwdError("code is one byte, e.g. 41 or \"41\" (hex)", INVALID_PARAMS)
        return self._add_fault("sw3", count, on, code=value)

    def act_bad_handshake(self) -> dict:
        """Answer the next vendor challenge wrongly (a reader of another family)."""
        self.bad_handshake = True
        return self.status()

    def act_unplug(self) -> dict:
        self.shaken = False      # a reader that lost power wants the handshake again
        self.pending.clear()
        return super().act_unplug()

    def act_clear_faults(self) -> dict:
        with self._lock:
            self.faults.clear()
        return self.status()

    def status(self) -> dict:
        return {**super().status(), "card": self.card_name, "card_read": self.card_read,
                "reads": self.reads, "faults": [f["kind"] for f in self.faults],
                "handshake": self.demand, "shaken": self.shaken, "unanswered": self.unanswered,
                "commands": dict(self.commands)}
