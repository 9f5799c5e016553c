"""A screen's wire protocol as the ``frame`` driver and its emulator see it: lines in, frames out.

Most vendors' frames are data (the token DSL in ``protocol.py``, wrapped here by ``DslCodec``);
a protocol that is clearer as code lives in ``drivers/display/vendors/<name>.py`` behind the same
interface. Either way the driver gives a codec the encoded lines of one update (and the colour
of each byte, for frames that carry one) and sends the frames it returns in order (init frames,
the content, commit frames), after the ``hello`` frames once whenever it (re)connects; the
emulator feeds the
bytes it receives to ``codec.decoder()`` and gets back ``Frame``s whose fields say what the screen
now shows (``text`` and ``line``, or ``lines``) and ``Skip`` for what it had to drop
(hwd/stream.py: one stream decoder, each protocol a check function).
"""

from __future__ import annotations

from typing import Protocol

from drivers.display.protocol import FrameSpec, frame_decoder
from hwd.stream import StreamDecoder


class Codec(Protocol):
    encoding: str
    one_string: bool      # the screen takes one string: a preset joins the content's lines

    def update(self, lines: list[bytes], addr: int, effect: str,
               colors: list[list[int]] | None = None) -> list[bytes]:
        """The frames that put ``lines`` (already encoded; ``colors``: each byte's colour, per
        line) on the screen at ``addr``."""

    def hello(self, addr: int) -> list[bytes]:
        """The frames a screen wants once, when the host connects (none for most)."""

    def capacity(self, lines: int) -> int:
        """The most bytes one line may have."""

    def decoder(self, name: str = "") -> StreamDecoder:
        """A fresh stream decoder (for the emulator); ``name`` is in its log lines."""


class DslCodec:
    """Frames declared as tokens: one frame per line (``{line}``) or all lines joined into one,
    each preceded by the ``init`` frames, the update followed by the ``commit`` frames."""

    def __init__(self, spec: FrameSpec, init: list[FrameSpec] = (), commit: list[FrameSpec] = (),
                 joiner: bytes | None = None, line_base: int = 0, effects: dict | None = None,
                 encoding: str = "gb2312", connect: list[FrameSpec] = ()):
        self.spec = spec
        self.init = list(init)
        self.commit = list(commit)
        self.connect = list(connect)
        self.joiner = joiner
        self.line_base = line_base
        self.effects = effects or {"static": 0, "scroll": 1, "blink": 2}
        self.encoding = encoding
        self.one_string = False
        seq = next((t for s in [spec, *self.init, *self.commit, *self.connect] for t in s.tokens
                    if t.kind == "seq"), None)
        self.seq_token = seq
        self.seq = seq.start if seq else 0

    def _next_seq(self, spec: FrameSpec) -> int:
        if not spec.has("seq") or self.seq_token is None:
            return 0
        value = self.seq
        self.seq = (self.seq + self.seq_token.step) % self.seq_token.modulo
        return value

    def capacity(self, lines: int) -> int:
        room = self.spec.capacity()
        if self.joiner is not None and lines > 1:
            room = (room - len(self.joiner) * (lines - 1)) // lines
        return max(0, room)

    def hello(self, addr: int) -> list[bytes]:
        return [spec.encode(b"", addr=addr, line=self.line_base, seq=self._next_seq(spec)) for spec in self.connect]

    def update(self, lines: list[bytes], addr: int, effect: str,
               colors: list[list[int]] | None = None) -> list[bytes]:
        code = int(self.effects.get(effect, 0))
        shades = colors if colors is not None else [[0] * len(line) for line in lines]
        if self.joiner is not None:
            joined: list[int] = []
            for i, shade in enumerate(shades):
                joined += ([0] * len(self.joiner) if i else []) + list(shade)
            payloads = [(self.joiner.join(lines), self.line_base, joined)]
        else:
            payloads = [(line, self.line_base + i, shades[i]) for i, line in enumerate(lines)]
        frames: list[bytes] = []
        for payload, line, shade in payloads:
            for spec in self.init:
                frames.append(spec.encode(payload, addr=addr, line=line, effect=code, seq=self._next_seq(spec)))
            frames.append(self.spec.encode(payload, addr=addr, line=line, effect=code,
                                           seq=self._next_seq(self.spec), colors=shade))
        for spec in self.commit:
            frames.append(spec.encode(b"", addr=addr, line=self.line_base, effect=code, seq=self._next_seq(spec)))
        return frames

    def decoder(self, name: str = "") -> StreamDecoder:
        if not self.init and not self.commit and not self.connect:
            return frame_decoder(self.spec, name)
        return frame_decoder([("data", self.spec)] + [("init", s) for s in self.init]
                             + [("commit", s) for s in self.commit] + [("connect", s) for s in self.connect], name)
