"""The frame of a keypad on an RS-485 bus, described as tokens, as pure bytes <-> values.

Keypads that share a bus with window screens (caller keypads with an LCD, evaluators) answer
only when the host addresses them, in a frame of their vendor's shape. The shape is written as
a list of tokens, the same way in the driver, the emulator and the tests::

    ["FF", "68", "{len}", "{len}", "68", "{addr}", "{cmd}", "{data}", "{sum8}", "16"]

Literals are hex bytes; ``{addr}``, ``{cmd}`` and ``{len}`` are one byte each (``{len}`` may be
repeated: every copy carries the same value and a frame whose copies differ is rejected);
``{data}`` is the variable part; ``{sum8}`` / ``{xor8}`` is the checksum. The length counts, and
the checksum covers, the bytes from the first field token (``{addr}``/``{cmd}``/``{data}``) to
the byte before the checksum, unless ``length_from`` / ``checksum_from`` name another token.

``BusFrameSpec.check`` is the frame's check function for the shared stream decoder
(hwd/stream.py, Klipper's "check packet"): need more bytes, skip bad bytes, or a frame; after a
rejected frame the decoder resynchronises one byte after the rejected start, so a frame hidden
behind garbage that happened to look like a start is found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drivers import checksums
from drivers.hexbytes import parse_hex
from hwd.stream import Buffer, Skip, StreamDecoder

FIELDS = ("addr", "cmd", "len", "data")
CHECKSUMS = ("sum8", "xor8")
MAX_DATA = 255


class BusFrameError(ValueError):
    """A frame description that cannot work; ``index`` is the token's position."""

    def __init__(self, message: str, index: int | None = None):
        super().__init__(message)
        self.index = index


def checksum(kind: str, data: bytes) -> int:
    return (checksums.sum8 if kind == "sum8" else checksums.xor8)(data)


@dataclass(frozen=True)
class Token:
    kind: str              # "literal" or a field name or a checksum name
    value: bytes = b""     # literal bytes


@dataclass(frozen=True)
class BusFrame:
    addr: int
    cmd: int
    data: bytes
    raw: bytes = b""

    @property
    def size(self) -> int:
        return len(self.raw)


@dataclass
class BusFrameSpec:
    tokens: list[Token]
    length_from: int
    checksum_from: int
    data_len: int | None = None         # fixed data size when the frame has no {len}
    _check: int = field(init=False, default=-1)

    @classmethod
    def parse(cls, tokens: list[str], length_from: int | None = None, checksum_from: int | None = None,
              data_len: int | None = None) -> "BusFrameSpec":
        parsed: list[Token] = []
        for i, text in enumerate(tokens):
            if text.startswith("{") and text.endswith("}"):
                name = text[1:-1]
                if name not in FIELDS + CHECKSUMS:
                    raise BusFrameError(f"unknown token {text}; known: "
                                        + ", ".join("{%s}" % n for n in FIELDS + CHECKSUMS), i)
                parsed.append(Token(name))
            else:
                try:
                    parsed.append(Token("literal", parse_hex(text)))
                except ValueError as exc:
                    raise BusFrameError(str(exc), i) from None
        kinds = [t.kind for t in parsed]
        if not parsed or parsed[0].kind != "literal":
            raise BusFrameError("the first token must be a literal (the start marker)", 0)
        for name in ("addr", "cmd", "data"):
            if kinds.count(name) > 1:
                raise BusFrameError(f"{{{name}}} may appear only once", kinds.index(name))
        sums = [i for i, k in enumerate(kinds) if k in CHECKSUMS]
        if len(sums) > 1:
            raise BusFrameError("only one checksum token per frame", sums[1])
        if "data" in kinds and "len" not in kinds and data_len is None:
            raise BusFrameError("{data} needs a {len} token or a fixed data_len", kinds.index("data"))
        if "len" in kinds and "data" in kinds and kinds.index("len") > kinds.index("data"):
            raise BusFrameError("{len} must come before {data}", kinds.index("len"))
        first_field = next((i for i, k in enumerate(kinds) if k in ("addr", "cmd", "data")), 1)
        spec = cls(parsed, first_field if length_from is None else length_from,
                   first_field if checksum_from is None else checksum_from, data_len)
        spec._check = sums[0] if sums else -1
        for name, index in (("length_from", spec.length_from), ("checksum_from", spec.checksum_from)):
            if not 0 <= index < len(parsed):
                raise BusFrameError(f"{name} = {index} is not a token index (0..{len(parsed) - 1})")
            if spec._check >= 0 and index > spec._check:
                raise BusFrameError(f"{name} = {index} starts after the checksum")
        return spec

    @property
    def kinds(self) -> list[str]:
        return [t.kind for t in self.tokens]

    # -- encoding ----------------------------------------------------------------------------
    def _parts(self, addr: int, cmd: int, data: bytes) -> list[bytes]:
        """The bytes of every token; length and checksum filled in."""
        parts: list[bytes] = []
        for t in self.tokens:
            if t.kind == "literal":
                parts.append(t.value)
            elif t.kind == "addr":
                parts.append(bytes([addr & 0xFF]))
            elif t.kind == "cmd":
                parts.append(bytes([cmd & 0xFF]))
            elif t.kind == "data":
                parts.append(bytes(data))
            else:
                parts.append(b"\x00")
        end = self._check if self._check >= 0 else len(self.tokens)
        length = sum(len(p) for i, p in enumerate(parts[self.length_from:end], self.length_from)
                     if self.tokens[i].kind != "len")
        if length > 255:
            raise ValueError(f"frame body of {length} bytes does not fit a one-byte length")
        for i, t in enumerate(self.tokens):
            if t.kind == "len":
                parts[i] = bytes([length])
        if self._check >= 0:
            covered = b"".join(parts[self.checksum_from:self._check])
            parts[self._check] = bytes([checksum(self.tokens[self._check].kind, covered)])
        return parts

    def encode(self, addr: int, cmd: int = 0, data: bytes = b"") -> bytes:
        if self.data_len is not None and "len" not in self.kinds and len(data) != self.data_len:
            raise ValueError(f"this frame carries exactly {self.data_len} data bytes")
        return b"".join(self._parts(addr, cmd, data))

    # -- decoding ----------------------------------------------------------------------------
    def check(self, buf: Buffer, pos: int = 0) -> BusFrame | Skip | None:
        """A frame at ``pos`` of ``buf``, bytes to skip, or None (need more bytes)."""
        start = self.tokens[0].value
        if pos >= len(buf):
            return None
        at = buf.find(start[:1], pos)
        if at < 0:
            return Skip(len(buf) - pos, "no start marker", noise=True)
        if at > pos:
            return Skip(at - pos, "bytes before the start marker", noise=True)
        fields: dict[str, int] = {}
        lens: list[int] = []
        offset = pos
        data = b""
        spans: list[tuple[int, int]] = []
        for i, t in enumerate(self.tokens):
            if t.kind == "literal":
                size = len(t.value)
            elif t.kind == "data":
                if "len" in fields:
                    size = fields["len"] - self._fixed_covered()
                    if size < 0:
                        return Skip(1, "length too small")
                else:
                    size = self.data_len or 0
            else:
                size = 1
            if len(buf) < offset + size:
                # a partial start marker or token: wait, unless what we have already mismatches
                if t.kind == "literal" and not t.value.startswith(buf[offset:]):
                    return Skip(1, "bad marker" if i else "bytes before the start marker", noise=not i)
                return None
            chunk = buf[offset:offset + size]
            if t.kind == "literal" and chunk != t.value:
                return Skip(1, "bad marker" if i else "bytes before the start marker", noise=not i)
            if t.kind == "len":
                lens.append(chunk[0])
                if lens[0] != chunk[0]:
                    return Skip(1, "length copies differ")
                fields["len"] = chunk[0]
            elif t.kind in ("addr", "cmd"):
                fields[t.kind] = chunk[0]
            elif t.kind == "data":
                data = bytes(chunk)
            spans.append((offset, offset + size))
            offset += size
        if self._check >= 0:
            covered = buf[spans[self.checksum_from][0]:spans[self._check][0]]
            if checksum(self.tokens[self._check].kind, covered) != buf[spans[self._check][0]]:
                return Skip(1, "checksum")
        return BusFrame(fields.get("addr", 0), fields.get("cmd", 0), data, bytes(buf[pos:offset]))

    def decoder(self, name: str = "", logger: Any = None) -> StreamDecoder:
        """A stream decoder of these frames; ``name`` (or ``logger``) says whose in its log lines."""
        return StreamDecoder(self.check, name, max_frame=4096, logger=logger)

    def _fixed_covered(self) -> int:
        """Bytes the length counts besides {data}."""
        end = self._check if self._check >= 0 else len(self.tokens)
        total = 0
        for t in self.tokens[self.length_from:end]:
            if t.kind == "literal":
                total += len(t.value)
            elif t.kind in ("addr", "cmd"):
                total += 1
        return total
