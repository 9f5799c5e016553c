"""Emulator of the keypads on an RS-485 bus: each attached ``bus`` keypad at its address.

It decodes the host's frames with the same description as the driver (drivers/keypad/busframe.py)
and shares the wire with the window screens of the same ``sim://NAME``, so it also hears their
frames and must skip them, as a real keypad must. Per keypad:

- a polled keypad answers a poll with the next key pressed on it (or an empty reply);
- an unpolled one (``polled = false``) sends its key frame at once, as the callers and
  evaluators of the public queue systems do, and expects it back (``ack = "echo"``; an
  evaluator's frame back with FUNC 01): ``presses``, ``echoed`` and ``unechoed`` say whether
  the host wrote every one back, ``echo_ms_max`` how late the latest was;
- digit keys pressed before a key travel in its frame (``press {key, digits}``);
- a caller shows the LCD text, or its digit cells (``lcd = "ticket6"``/``"ticket-wait"``:
  ``"___023"``), counts beeps; an evaluator shows whether it was asked to evaluate and the
  stars it was sent. A keypad answers the host's frames only when it answers (``answers``,
  default: when polled), as the public sources' keypads never answer an LCD frame.

Actions are addressed by the device they are called for (``hwctl sim win5-caller press …``):
``press {key, digits?}`` (hex key code or a mapped action), ``lcd`` (what the keypad shows and
its counters). Faults, for the keypad the action is called for: ``bad_checksum {count}`` (its
next frames are corrupted; a polled keypad keeps the key, as it re-sends what the host did not
take), ``split {count, gap_ms}`` (a frame in pieces with pauses), ``silent_address {on}`` (it
stops answering and sending); and ``unplug``/``plug``/``silent`` for the whole bus from the base
class.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from drivers.display.textcodec import decode_text
from drivers.hexbytes import parse_hex
from drivers.keypad import lcd
from drivers.keypad.busframe import BusFrame
from drivers.keypad.buspresets import ack_frame, build_spec, command_bytes, resolved
from hwd.errors import HwdError, INVALID_PARAMS
from hwd.sim import Emulator
from hwd.stream import Skip

ECHO_WAIT_S = 1.0     # a key frame not written back within this is counted unechoed


class KeypadBusEmulator(Emulator):
    joins_bus = True

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.spec = build_spec(self.options)
        self.decoder = self.spec.decoder(f"sim {self.name}")
        self.keypads: dict[int, dict[str, Any]] = {}
        self.by_device: dict[str, int] = {}
        self.counters = {"frames": 0, "bad_frames": 0, "noise_bytes": 0, "replies": 0}
        self.lock = threading.Lock()

    def attach(self, device_config: Any) -> None:
        super().attach(device_config)
        opts = dict(device_config.options)
        settings = resolved(opts)
        addr = int(opts.get("address", 1))
        polled = bool(opts.get("polled", True))
        answers = opts.get("answers")
        self.by_device[device_config.id] = addr
        self.keypads[addr] = {
            "device": device_config.id, "address": addr, "keys": dict(opts.get("keys") or {}),
            "role": settings["role"], "commands": command_bytes(opts), "encoding": settings["encoding"],
            "lcd_mode": opts.get("lcd") or "text", "polled": polled,
            "answers": polled if answers is None else bool(answers),
            "expects_echo": not polled and settings["ack"] == "echo", "rewrite": settings["ack_rewrite"],
            "queue": deque(), "pending": deque(), "faults": [], "silent": False,
            "lcd": None, "polls": 0, "beeps": 0, "evaluating": False, "stars": None,
            "presses": 0, "echoed": 0, "unechoed": 0, "echo_ms_max": None,
        }

    # -- the wire ----------------------------------------------------------------------------
    def received(self, data: bytes) -> None:
        with self.lock:
            items = self.decoder.feed(data)
        for item in items:
            if isinstance(item, Skip):
                self.counters["noise_bytes" if item.noise else "bad_frames"] += item.size if item.noise else 1
                continue
            self.counters["frames"] += 1
            self.handle(item)

    def handle(self, frame: BusFrame) -> None:
        pad = self.keypads.get(frame.addr)
        if pad is None or pad["silent"]:
            return                                   # nobody (answering) at this address
        if self._echo(pad, frame):
            return
        commands = pad["commands"]
        code = frame.cmd
        if pad["polled"] and code == commands.get("poll", b"\x00")[0] and not frame.data:
            pad["polls"] += 1
            key = pad["queue"][0] if pad["queue"] else b""
            self.answer(pad, code, key, pops_key=bool(key))
            return
        if pad["role"] == "evaluator":
            evaluate, stars = commands.get("evaluate"), commands.get("stars")
            if evaluate is not None and bytes([code]) + frame.data == evaluate:
                pad["evaluating"], pad["stars"] = True, None
            elif stars is not None and code == stars[0] and len(frame.data) == 1:
                pad["evaluating"], pad["stars"] = False, frame.data[0]
            else:
                return
        elif "text" in commands and code == commands["text"][0]:
            if pad["lcd_mode"] == "text":
                pad["lcd"] = decode_text(frame.data, pad["encoding"])
            else:
                pad["lcd"] = lcd.cells(frame.data)
        elif "beep" in commands and code == commands["beep"][0] and not frame.data:
            pad["beeps"] += 1
        else:
            return
        if pad["answers"]:
            self.answer(pad, code, b"", pops_key=False)

    def _echo(self, pad: dict, frame: BusFrame) -> bool:
        """The host wrote one of this keypad's key frames back."""
        self._expire(pad)
        for i, (expected, sent) in enumerate(pad["pending"]):
            if frame.raw == expected:
                del pad["pending"][i]
                pad["echoed"] += 1
                delay = (time.monotonic() - sent) * 1000
                pad["echo_ms_max"] = round(max(delay, pad["echo_ms_max"] or 0.0), 1)
                return True
        return False

    def _expire(self, pad: dict) -> None:
        now = time.monotonic()
        while pad["pending"] and now - pad["pending"][0][1] > ECHO_WAIT_S:
            pad["pending"].popleft()
            pad["unechoed"] += 1

    def answer(self, pad: dict, cmd: int, data: bytes, pops_key: bool) -> None:
        reply = self.spec.encode(pad["address"], cmd, data)
        fault = pad["faults"].pop(0) if pad["faults"] else None
        if fault and fault["kind"] == "bad_checksum":
            self.send(_corrupt(reply))
            return                                   # the key stays queued: the host will ask again
        if pops_key:
            pad["queue"].popleft()
        self.counters["replies"] += 1
        self._send(reply, fault)

    def _send(self, frame: bytes, fault: dict | None) -> None:
        if fault and fault["kind"] == "split":
            for i in range(0, len(frame), 3):
                self.send(frame[i:i + 3])
                time.sleep(fault["gap_ms"] / 1000)
        else:
            self.send(frame)

    def _press_unasked(self, pad: dict, data: bytes) -> None:
        """An unpolled keypad's key frame, sent at once, then waited for back."""
        frame = self.spec.encode(pad["address"], pad["commands"]["key"][0], data)
        fault = pad["faults"].pop(0) if pad["faults"] else None
        pad["presses"] += 1
        if fault and fault["kind"] == "bad_checksum":
            frame = _corrupt(frame)
        elif pad["expects_echo"]:
            parsed = BusFrame(pad["address"], pad["commands"]["key"][0], data, frame)
            pad["pending"].append((ack_frame(self.spec, parsed, pad["rewrite"]), time.monotonic()))
        self._send(frame, fault)

    # -- actions -----------------------------------------------------------------------------
    def control_device(self, device_id: str, action: str, params: dict | None = None) -> Any:
        params = dict(params or {})
        if action in ("press", "lcd", "bad_checksum", "split", "silent_address"):
            params.setdefault("device", device_id)
        return self.control(action, params)

    def _pad(self, device: str | None) -> dict:
        if device not in self.by_device:
            raise HwdError(f"no keypad {device!r} on bus {self.name}; known: {', '.join(self.by_device)}",
                           INVALID_PARAMS)
        return self.keypads[self.by_device[device]]

    def act_press(self, key: str, device: str | None = None, digits: str = "") -> dict:
        """Press digit keys (``digits``, "0"–"9") and then a key: a polled keypad answers the
        next poll with them; an unpolled one sends them in one frame at once."""
        pad = self._pad(device)
        code = next((k for k, a in pad["keys"].items() if a == key), key)
        try:
            data = parse_hex(code)
        except ValueError:
            raise HwdError(f"key {key!r} is neither hex nor a mapped action", INVALID_PARAMS) from None
        if not isinstance(digits, str) or any(d not in "0123456789" for d in digits):
            raise HwdError("digits are 0-9, e.g. \"123\"", INVALID_PARAMS)
        data = bytes(int(d) for d in digits) + data
        if not pad["polled"]:
            if not pad["silent"]:
                self._press_unasked(pad, data)
            return {"sent_hex": data.hex()}
        pad["queue"].append(data)
        return {"queued_hex": data.hex()}

    def act_lcd(self, device: str | None = None) -> dict:
        """What the keypad shows (``lcd``: its text or digit cells) and its counters."""
        pad = self._pad(device)
        self._expire(pad)
        return {"device": pad["device"], **self._pad_status(pad)}

    def act_bad_checksum(self, count: int = 1, device: str | None = None) -> dict:
        self._pad(device)["faults"].extend({"kind": "bad_checksum"} for _ in range(max(1, int(count))))
        return self.status()

    def act_split(self, count: int = 1, gap_ms: int = 20, device: str | None = None) -> dict:
        self._pad(device)["faults"].extend({"kind": "split", "gap_ms": max(0, int(gap_ms))}
                                           for _ in range(max(1, int(count))))
        return self.status()

    def act_silent_address(self, on: bool = True, device: str | None = None) -> dict:
        self._pad(device)["silent"] = bool(on)
        return self.status()

    @staticmethod
    def _pad_status(pad: dict) -> dict:
        return {"address": pad["address"], "role": pad["role"], "lcd": pad["lcd"], "polls": pad["polls"],
                "beeps": pad["beeps"], "evaluating": pad["evaluating"], "stars": pad["stars"],
                "presses": pad["presses"], "echoed": pad["echoed"], "unechoed": pad["unechoed"],
                "awaiting_echo": len(pad["pending"]), "echo_ms_max": pad["echo_ms_max"],
                "queued": len(pad["queue"]), "silent": pad["silent"]}

    def status(self) -> dict:
        for pad in self.keypads.values():
            self._expire(pad)
        return {**super().status(), **self.counters,
                "keypads": [{"device": p["device"], **self._pad_status(p)} for _, p in sorted(self.keypads.items())]}


def _corrupt(frame: bytes) -> bytes:
    """The frame with a wrong checksum (the byte before the end marker)."""
    return frame[:-2] + bytes([frame[-2] ^ 0x5A]) + frame[-1:]
