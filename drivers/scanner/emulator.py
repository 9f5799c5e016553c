"""Emulator of a serial-mode scanner: ``scan`` sends a code and a CR LF down the wire.

Faults: ``garbage`` sends bytes invalid in UTF-8, ``partial`` sends a code without its line end
(the driver must not emit it until the end arrives), ``unplug``/``plug`` and ``silent`` come
from the base class.
"""

from __future__ import annotations

from hwd.sim import Emulator


class ScannerEmulator(Emulator):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent: list[str] = []

    def act_scan(self, text: str, end: str = "\r\n") -> dict:
        """Scan a code, as a person holding it under the scanner."""
        self.send(text.encode("utf-8") + end.encode())
        self.sent.append(text)
        return {"sent": text}

    def act_partial(self, text: str) -> dict:
        self.send(text.encode("utf-8"))
        return {"sent": text, "end": False}

    def act_garbage(self, data: str = "fffe80") -> dict:
        self.send(bytes.fromhex(data) + b"\r\n")
        return {"sent_hex": data}

    def status(self) -> dict:
        return {**super().status(), "scanned": len(self.sent)}
