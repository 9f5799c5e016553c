"""Playing a capture (hwd/capture.py) back as an emulator: ``sim://NAME?replay=FILE`` (the URL
parameter's name is the contract; in the code this is *playback*, not the RPC layer's replay of a
reply, hwd/replay.py, nor the outbox's 补报, hwd/outbox.py ``resend``).

What a field engineer recorded from a real device becomes a test fixture: the real driver talks
to this emulator at the far end of a pty and gets the device's own bytes back.
"""

from __future__ import annotations

import threading
from typing import Any

from hwd.capture import load
from hwd.errors import HwdError, INVALID_PARAMS
from hwd.sim import Emulator


def exchanges(records: list[tuple[float, str, bytes]]) -> list[tuple[bytes, bytes]]:
    """(request, answer) pairs: each run of writes and the reads that followed it."""
    pairs: list[tuple[bytes, bytes]] = []
    tx, rx = b"", b""
    for _t, direction, data in records:
        if direction == "tx":
            if rx:
                pairs.append((tx, rx))
                tx, rx = b"", b""
            tx += data
        else:
            rx += data
    if tx or rx:
        pairs.append((tx, rx))
    return pairs


class PlaybackEmulator(Emulator):
    """Plays a capture back at the far end of a pty: each request is answered as the device
    answered the same request in the capture, in the captured order; once those answers are used
    up, the last one repeats (a poll keeps getting "nothing new"). Requests the capture never
    saw go unanswered and are counted (``unknown_bytes``). Answers that came before any request
    (a device that talks first) are sent by the action ``unsolicited``."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        path = self.params.get("replay")
        if not path:
            raise HwdError("sim://NAME?replay=FILE needs the capture file", INVALID_PARAMS)
        self.header, records = load(path)
        self.answers: dict[bytes, list[bytes]] = {}
        self.leading = b""
        for request, answer in exchanges(records):
            if not request:
                self.leading += answer
            else:
                self.answers.setdefault(request, []).append(answer)
        self.used: dict[bytes, int] = {}
        self.buffer = bytearray()
        self.counters = {"requests": 0, "unknown_bytes": 0}
        self.lock = threading.Lock()

    def received(self, data: bytes) -> None:
        with self.lock:
            self.buffer += data
            while self.buffer:
                buf = bytes(self.buffer)
                match = max((r for r in self.answers if buf.startswith(r)), key=len, default=None)
                if match is None:
                    if any(r.startswith(buf) for r in self.answers):
                        return                          # the rest of a request is on its way
                    self.counters["unknown_bytes"] += 1
                    del self.buffer[:1]
                    continue
                del self.buffer[:len(match)]
                self.counters["requests"] += 1
                answers = self.answers[match]
                i = self.used.get(match, 0)
                self.used[match] = i + 1
                reply = answers[min(i, len(answers) - 1)]
                if reply:
                    self.send(reply)

    def act_unsolicited(self) -> dict:
        """Send what the device said before it was asked anything."""
        self.send(self.leading)
        return {"sent_hex": self.leading.hex()}

    def status(self) -> dict:
        return {**super().status(), **self.counters, "capture": self.header,
                "requests_known": len(self.answers)}
