"""The configurable LED-screen frame: a token list from the config, encoded and decoded.

Chinese window screens have no common protocol (protocols.md C), so the frame is data: e.g.
``["A5", "{addr}", "01", "{len}", "{text}", "{crc16_modbus}", "5A"]``. This module is pure (no
I/O): the driver encodes with it and the emulator decodes with the same spec, so a config
mistake shows up as bad frames on the emulator rather than as silence on a real bus.

Rules: the first token is a hex literal (the start marker). A checksum covers the raw
(unescaped) bytes from the token after the first one up to the byte before the checksum, unless
``checksum_from`` gives the index of the first covered token. ``{len}`` counts the payload
(``{text}`` or ``{bitmap}``) plus ``len_adjust``. The ``escape`` table maps single bytes to
sequences and applies to every token after the first literal and before the last literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

FIELD_TOKENS = {  # name -> width in bytes (None: variable payload)
    "addr": 1, "addr16": 2, "len": 1, "len16": 2, "len16le": 2, "line": 1, "effect": 1,
    "text": None, "bitmap": None,
    "xor": 1, "sum8": 1, "crc16_modbus": 2, "crc16_ccitt": 2,
}
CHECKSUMS = ("xor", "sum8", "crc16_modbus", "crc16_ccitt")
LENGTHS = ("len", "len16", "len16le")
PAYLOADS = ("text", "bitmap")
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")


class FrameError(ValueError):
    """The frame configuration is invalid; ``index`` names the token (or None)."""

    def __init__(self, message: str, index: int | None = None, key: str = "frame"):
        super().__init__(message)
        self.index = index
        self.key = key


# -- checksums --------------------------------------------------------------------------------
def xor8(data: bytes) -> int:
    value = 0
    for b in data:
        value ^= b
    return value


def sum8(data: bytes) -> int:
    return sum(data) & 0xFF


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS: poly 0xA001 reflected, init 0xFFFF; sent low byte first."""
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected; sent high byte first."""
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def checksum_bytes(name: str, data: bytes) -> bytes:
    if name == "xor":
        return bytes([xor8(data)])
    if name == "sum8":
        return bytes([sum8(data)])
    if name == "crc16_modbus":
        return crc16_modbus(data).to_bytes(2, "little")
    if name == "crc16_ccitt":
        return crc16_ccitt(data).to_bytes(2, "big")
    raise KeyError(name)


def parse_hex(text: str) -> bytes:
    """``"A5"``, ``"A6 02"``, ``"0x06"`` → bytes; raise ValueError otherwise."""
    cleaned = text.replace(" ", "").replace("0x", "").replace("0X", "")
    if not _HEX.match(cleaned):
        raise ValueError(f"{text!r} is not hex bytes (write e.g. \"A5\" or \"A6 02\")")
    return bytes.fromhex(cleaned)


# -- the spec ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str            # "literal" or a FIELD_TOKENS name
    literal: bytes = b""

    @property
    def width(self) -> int | None:
        return len(self.literal) if self.kind == "literal" else FIELD_TOKENS[self.kind]


@dataclass
class Frame:
    """A decoded frame: the field values and the number of wire bytes it took."""

    fields: dict
    size: int
    raw: bytes = b""


@dataclass
class Bad:
    """Bytes that are not a valid frame: drop ``skip`` bytes and look again."""

    reason: str
    skip: int


@dataclass
class FrameSpec:
    tokens: list[Token]
    escape: dict[int, bytes] = field(default_factory=dict)
    checksum_from: int | None = None
    len_adjust: int = 0
    max_payload: int = 8192

    # -- building ----------------------------------------------------------------------------
    @classmethod
    def parse(cls, frame: Iterable[str], escape: dict | None = None, checksum_from: int | None = None,
              len_adjust: int = 0, payload: str | None = None, max_payload: int = 8192) -> "FrameSpec":
        """Build a spec from config values; raise FrameError naming the bad token or key.

        ``payload`` ("text" or "bitmap") is the payload token the driver needs."""
        tokens: list[Token] = []
        for i, raw in enumerate(frame):
            if not isinstance(raw, str):
                raise FrameError(f"token {raw!r} is not a string", i)
            text = raw.strip()
            if text.startswith("{") and text.endswith("}"):
                name = text[1:-1].strip()
                if name not in FIELD_TOKENS:
                    raise FrameError(f"unknown token {text}; known: "
                                     + ", ".join("{" + n + "}" for n in FIELD_TOKENS), i)
                tokens.append(Token(name))
            else:
                try:
                    tokens.append(Token("literal", parse_hex(text)))
                except ValueError as exc:
                    raise FrameError(f"{exc}, or a token such as {{addr}}", i) from None
        if not tokens:
            raise FrameError("the frame is empty")
        if tokens[0].kind != "literal":
            raise FrameError("the frame must start with a hex literal (the start marker)", 0)
        kinds = [t.kind for t in tokens]
        for group, what in ((PAYLOADS, "payload"), (CHECKSUMS, "checksum"), (LENGTHS, "length")):
            found = [i for i, k in enumerate(kinds) if k in group]
            if len(found) > 1:
                raise FrameError(f"more than one {what} token", found[1])
        payloads = [i for i, k in enumerate(kinds) if k in PAYLOADS]
        if payload is not None:
            if not payloads or kinds[payloads[0]] != payload:
                raise FrameError(f"this driver needs a {{{payload}}} token in the frame")
        lens = [i for i, k in enumerate(kinds) if k in LENGTHS]
        if payloads and lens and lens[0] > payloads[0]:
            raise FrameError("the length token must come before the payload", lens[0])
        if payloads and not lens:
            after = [t for t in tokens[payloads[0] + 1:]]
            if not any(t.kind == "literal" for t in after):
                raise FrameError("a frame without {len} needs a literal (end marker) after the payload",
                                 payloads[0])
            for t in after:
                if t.kind == "literal":
                    break
                if t.width is None:
                    raise FrameError("variable-size token between the payload and the end marker")
        checks = [i for i, k in enumerate(kinds) if k in CHECKSUMS]
        if checksum_from is not None:
            if not checks:
                raise FrameError("checksum_from is set but the frame has no checksum token",
                                 key="checksum_from")
            if not 0 <= checksum_from < checks[0]:
                raise FrameError(f"checksum_from must be a token index from 0 to {checks[0] - 1} "
                                 "(before the checksum)", key="checksum_from")
        table: dict[int, bytes] = {}
        for key, value in (escape or {}).items():
            try:
                k, v = parse_hex(key), parse_hex(value)
            except ValueError as exc:
                raise FrameError(str(exc), key="escape") from None
            if len(k) != 1:
                raise FrameError(f"escape key {key!r} must be one byte", key="escape")
            if not v:
                raise FrameError(f"escape value for {key!r} is empty", key="escape")
            table[k[0]] = v
        return cls(tokens, table, checksum_from, len_adjust, max_payload)

    # -- layout helpers ----------------------------------------------------------------------
    @property
    def kinds(self) -> list[str]:
        return [t.kind for t in self.tokens]

    def has(self, kind: str) -> bool:
        return kind in self.kinds

    def _escaped_range(self) -> range:
        literals = [i for i, t in enumerate(self.tokens) if t.kind == "literal"]
        end = literals[-1] if len(literals) > 1 else len(self.tokens)
        return range(1, end)

    def _checksum_range(self, index: int) -> range:
        start = 1 if self.checksum_from is None else self.checksum_from
        return range(start, index)

    def escape_bytes(self, data: bytes) -> bytes:
        if not self.escape:
            return data
        out = bytearray()
        for b in data:
            out += self.escape.get(b, bytes([b]))
        return bytes(out)

    # -- encode ------------------------------------------------------------------------------
    def encode(self, payload: bytes = b"", addr: int = 0, line: int = 0, effect: int = 0) -> bytes:
        """Build one frame on the wire. Raise ValueError if a value does not fit its field."""
        length = len(payload) + self.len_adjust
        parts: list[bytes] = []
        for token in self.tokens:
            kind = token.kind
            if kind == "literal":
                parts.append(token.literal)
            elif kind == "addr":
                parts.append(_u8(addr, "address"))
            elif kind == "addr16":
                parts.append(_u16(addr, "address", "big"))
            elif kind == "line":
                parts.append(_u8(line, "line"))
            elif kind == "effect":
                parts.append(_u8(effect, "effect"))
            elif kind == "len":
                parts.append(_u8(length, "payload length"))
            elif kind == "len16":
                parts.append(_u16(length, "payload length", "big"))
            elif kind == "len16le":
                parts.append(_u16(length, "payload length", "little"))
            elif kind in PAYLOADS:
                parts.append(bytes(payload))
            else:
                parts.append(b"")  # checksum: filled below
        for i, token in enumerate(self.tokens):
            if token.kind in CHECKSUMS:
                covered = b"".join(parts[j] for j in self._checksum_range(i))
                parts[i] = checksum_bytes(token.kind, covered)
        escaped = self._escaped_range()
        return b"".join(self.escape_bytes(p) if i in escaped else p for i, p in enumerate(parts))

    # -- decode ------------------------------------------------------------------------------
    def decode(self, buf: bytes) -> Frame | Bad | None:
        """Look at the start of ``buf``: a Frame, Bad (drop bytes and retry), or None (need more)."""
        start = self.tokens[0].literal
        if not buf:
            return None
        if not buf.startswith(start):
            if start.startswith(buf[:len(start)]) and len(buf) < len(start):
                return None
            nxt = buf.find(start, 1)
            if nxt < 0:
                # keep a tail that may be the beginning of a start marker
                keep = next((k for k in range(min(len(start) - 1, len(buf)), 0, -1)
                             if start.startswith(buf[-k:])), 0)
                return Bad("no start marker", len(buf) - keep)
            return Bad("bytes before the start marker", nxt)
        escaped = self._escaped_range()
        reader = _Reader(buf, self._unescape_table())
        pos = len(start)
        parts: list[bytes] = [start]
        fields: dict = {}
        length: int | None = None
        for i in range(1, len(self.tokens)):
            token = self.tokens[i]
            esc = i in escaped
            if token.kind in PAYLOADS:
                if length is not None:
                    n = length - self.len_adjust
                    if n < 0 or n > self.max_payload:
                        return Bad(f"payload length {n} out of range", 1)
                    got = reader.read(pos, n, esc)
                    if isinstance(got, str):
                        return Bad(got, 1)
                    if got is None:
                        return None
                    value, pos = got
                else:
                    got = self._read_until_marker(reader, pos, i, escaped)
                    if isinstance(got, Bad) or got is None:
                        return got
                    value, pos = got
                parts.append(value)
                fields[token.kind] = value
                continue
            got = reader.read(pos, token.width, esc)
            if isinstance(got, str):
                return Bad(got, 1)
            if got is None:
                return None
            value, pos = got
            parts.append(value)
            if token.kind == "literal":
                if value != token.literal:
                    return Bad(f"expected {token.literal.hex().upper()} at token {i}, "
                               f"got {value.hex().upper()}", 1)
            elif token.kind in CHECKSUMS:
                covered = b"".join(parts[j] for j in self._checksum_range(i))
                want = checksum_bytes(token.kind, covered)
                if value != want:
                    return Bad(f"bad {token.kind}: got {value.hex().upper()}, "
                               f"computed {want.hex().upper()}", 1)
            elif token.kind in LENGTHS:
                length = int.from_bytes(value, "little" if token.kind == "len16le" else "big")
                fields["len"] = length
            elif token.kind in ("addr", "addr16"):
                fields["addr"] = int.from_bytes(value, "big")
            else:
                fields[token.kind] = value[0]
        return Frame(fields, pos, bytes(buf[:pos]))

    def _unescape_table(self) -> list[tuple[bytes, int]]:
        return sorted(((v, k) for k, v in self.escape.items()), key=lambda item: -len(item[0]))

    def _read_until_marker(self, reader: "_Reader", pos: int, index: int, escaped: range):
        """Payload without a length: it runs to the next literal, less the fixed tokens before it."""
        fixed = 0
        marker_index = index + 1
        while self.tokens[marker_index].kind != "literal":
            fixed += self.tokens[marker_index].width
            marker_index += 1
        marker = self.tokens[marker_index].literal
        if marker_index in escaped:
            marker = self.escape_bytes(marker)
        limit = pos + 2 * (self.max_payload + fixed) * max([1] + [len(v) for v in self.escape.values()])
        search_from = pos
        while True:
            at = reader.buf.find(marker, search_from)
            if at < 0:
                if len(reader.buf) > limit:
                    return Bad("no end marker", 1)
                return None
            span = reader.unescape(pos, at, index in escaped)
            if isinstance(span, str):
                return Bad(span, 1)
            if len(span) >= fixed:
                payload = span[:len(span) - fixed]
                if len(payload) > self.max_payload:
                    return Bad("payload too long", 1)
                # re-read the payload alone to find where the fixed tokens start on the wire
                end = reader.wire_end(pos, len(payload), index in escaped)
                return payload, end
            search_from = at + 1


class _Reader:
    """Reads raw values out of wire bytes, undoing the escape table where a token is escaped."""

    def __init__(self, buf: bytes, unescape: list[tuple[bytes, int]]):
        self.buf = bytes(buf)
        self.table = unescape
        self.prefixes = {seq[0] for seq, _ in unescape}

    def _one(self, pos: int, escaped: bool):
        buf = self.buf
        if pos >= len(buf):
            return None
        b = buf[pos]
        if escaped and b in self.prefixes:
            for seq, value in self.table:
                if buf.startswith(seq, pos):
                    return value, pos + len(seq)
            for seq, _ in self.table:
                if seq.startswith(buf[pos:]):
                    return None  # an escape sequence cut short: need more bytes
            if any(value == b for _, value in self.table):
                return f"bad escape sequence at byte {pos}"
        return b, pos + 1

    def read(self, pos: int, n: int, escaped: bool):
        out = bytearray()
        for _ in range(n):
            got = self._one(pos, escaped)
            if got is None or isinstance(got, str):
                return got
            out.append(got[0])
            pos = got[1]
        return bytes(out), pos

    def unescape(self, pos: int, end: int, escaped: bool):
        out = bytearray()
        while pos < end:
            got = self._one(pos, escaped)
            if got is None:
                return "escape sequence runs into the end marker"
            if isinstance(got, str):
                return got
            out.append(got[0])
            pos = got[1]
        return bytes(out)

    def wire_end(self, pos: int, n: int, escaped: bool) -> int:
        got = self.read(pos, n, escaped)
        return got[1]


def _u8(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"{what} {value} does not fit in one byte")
    return bytes([value])


def _u16(value: int, what: str, order: str) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{what} {value} does not fit in two bytes")
    return value.to_bytes(2, order)


class FrameDecoder:
    """Splits a byte stream into frames, counting what it had to drop."""

    def __init__(self, spec: FrameSpec):
        self.spec = spec
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame | Bad]:
        self.buffer += data
        out: list[Frame | Bad] = []
        while self.buffer:
            result = self.spec.decode(bytes(self.buffer))
            if result is None:
                break
            if isinstance(result, Frame):
                del self.buffer[:result.size]
            else:
                del self.buffer[:max(1, result.skip)]
            out.append(result)
        return out
