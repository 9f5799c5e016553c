"""Emulator of the keypads on an RS-485 bus: each attached ``bus`` keypad at its address.

It decodes the host's frames with the same description as the driver (drivers/keypad/busframe.py),
answers a poll with the next key pressed on that keypad (or an empty reply), and keeps what each
keypad's LCD shows. It shares the wire with the window screens of the same ``sim://NAME``, so
it also hears their frames and must skip them, as a real keypad must.

Actions are addressed by the device they are called for (``hwctl sim win5-caller press …``):
``press {key}`` (hex key code or a mapped action; a keypad with ``polled = false`` sends it at once), ``lcd`` (what the LCD shows). Faults, for the
keypad the action is called for: ``bad_checksum {count}`` (its next replies are corrupted; the key
is kept, as a keypad re-sends what the host did not take), ``split {count, gap_ms}`` (a reply in
pieces with pauses), ``silent_address {on}`` (it stops answering); and ``unplug``/``plug``/``silent``
for the whole bus from the base class.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from drivers.display.textcodec import decode_text
from drivers.keypad.busframe import BusFrame
from drivers.keypad.buspresets import build_spec, command_bytes, resolved
from hwd.errors import HwdError, INVALID_PARAMS
from hwd.sim import Emulator
from hwd.stream import Skip


class KeypadBusEmulator(Emulator):
    joins_bus = True

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.spec = build_spec(self.options)
        self.commands = command_bytes(self.options)
        self.encoding = resolved(self.options)["encoding"]
        self.decoder = self.spec.decoder(f"sim {self.name}")
        self.keypads: dict[int, dict[str, Any]] = {}
        self.by_device: dict[str, int] = {}
        self.counters = {"frames": 0, "bad_frames": 0, "noise_bytes": 0, "replies": 0}
        self.lock = threading.Lock()

    def attach(self, device_config: Any) -> None:
        super().attach(device_config)
        addr = int(device_config.options.get("address", 1))
        self.by_device[device_config.id] = addr
        self.keypads[addr] = {"device": device_config.id, "keys": dict(device_config.options.get("keys") or {}),
                              "queue": deque(), "lcd": None, "polls": 0, "silent": False, "faults": [],
                              "polled": bool(device_config.options.get("polled", True)), "address": addr}

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
        if frame.cmd == self.commands["poll"]:
            pad["polls"] += 1
            key = pad["queue"][0] if pad["queue"] else b""
            self.answer(frame.addr, frame.cmd, key, pad, pops_key=bool(key))
        elif frame.cmd == self.commands["text"]:
            pad["lcd"] = decode_text(frame.data, self.encoding)
            self.answer(frame.addr, frame.cmd, b"", pad, pops_key=False)

    def answer(self, addr: int, cmd: int, data: bytes, pad: dict, pops_key: bool) -> None:
        reply = self.spec.encode(addr, cmd, data)
        fault = pad["faults"].pop(0) if pad["faults"] else None
        if fault and fault["kind"] == "bad_checksum":
            self.send(reply[:-2] + bytes([reply[-2] ^ 0x5A]) + reply[-1:])
            return                                   # the key stays queued: the host will ask again
        if pops_key:
            pad["queue"].popleft()
        self.counters["replies"] += 1
        if fault and fault["kind"] == "split":
            for i in range(0, len(reply), 3):
                self.send(reply[i:i + 3])
                time.sleep(fault["gap_ms"] / 1000)
        else:
            self.send(reply)

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

    def act_press(self, key: str, device: str | None = None) -> dict:
        """Press a key on the keypad: its code is the data of the reply to the next poll."""
        pad = self._pad(device)
        code = next((k for k, a in pad["keys"].items() if a == key), key)
        try:
            data = bytes.fromhex(code.replace(" ", ""))
        except ValueError:
            raise HwdError(f"key {key!r} is neither hex nor a mapped action", INVALID_PARAMS) from None
        if not pad["polled"]:
            # a keypad that talks by itself sends the key at once (with the poll command's code)
            if not pad["silent"]:
                self.answer(pad["address"], self.commands["poll"], data, pad, pops_key=False)
            return {"sent_hex": data.hex()}
        pad["queue"].append(data)
        return {"queued_hex": data.hex()}

    def act_lcd(self, device: str | None = None) -> dict:
        pad = self._pad(device)
        return {"device": pad["device"], "lcd": pad["lcd"], "polls": pad["polls"]}

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

    def status(self) -> dict:
        return {**super().status(), **self.counters,
                "keypads": [{"address": a, "device": p["device"], "lcd": p["lcd"], "polls": p["polls"],
                             "queued": len(p["queue"]), "silent": p["silent"]}
                            for a, p in sorted(self.keypads.items())]}
