"""Emulator of a serial keypad behind a pty: ``press {key}`` sends the key's bytes.

``key`` is hex (``"31"``) or an action from the device's ``keys`` map (``"rate:5"``). Faults:
``garbage`` (unmapped bytes), ``partial`` (only the first byte of a key), ``split`` (a key's
bytes one at a time, with short gaps); ``unplug``/``plug``/``silent`` from the base class.
Bytes the driver sends (prompts) are recorded.
"""

from __future__ import annotations

import time

from drivers.hexbytes import parse_hex
from hwd.errors import HwdError, INVALID_PARAMS
from hwd.sim import Emulator


class KeypadEmulator(Emulator):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received_bytes = bytearray()
        self.prompts = 0
        self.pressed = 0

    def received(self, data: bytes) -> None:
        self.received_bytes += data
        prompt = self.options.get("prompt")
        if prompt and parse_hex(prompt) in bytes(self.received_bytes):
            self.prompts += 1
            self.received_bytes.clear()

    def _bytes_of(self, key: str) -> bytes:
        keys = self.options.get("keys") or {}
        for hex_key, action in keys.items():
            if action == key:
                return parse_hex(hex_key)
        try:
            return parse_hex(key)
        except ValueError:
            raise HwdError(f"key {key!r} is neither hex nor a mapped action "
                           f"({', '.join(sorted(keys.values()))})", INVALID_PARAMS) from None

    def act_press(self, key: str) -> dict:
        """Press a key: its bytes go down the wire."""
        data = self._bytes_of(key)
        self.send(data)
        self.pressed += 1
        return {"sent_hex": data.hex()}

    def act_split(self, key: str, gap_ms: int = 20) -> dict:
        data = self._bytes_of(key)
        for b in data:
            self.send(bytes([b]))
            time.sleep(gap_ms / 1000)
        self.pressed += 1
        return {"sent_hex": data.hex()}

    def act_partial(self, key: str) -> dict:
        data = self._bytes_of(key)[:1]
        self.send(data)
        return {"sent_hex": data.hex()}

    def act_garbage(self, data: str = "ff00") -> dict:
        self.send(parse_hex(data))
        return {"sent_hex": data}

    def status(self) -> dict:
        return {**super().status(), "pressed": self.pressed, "prompts": self.prompts}
