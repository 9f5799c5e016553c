"""The configurable LED-screen frame: a token list from the config, encoded and decoded.

Chinese window screens have no common protocol (each vendor has its own), so the frame is data: e.g.
``["A5", "{addr}", "01", "{len}", "{text}", "{crc16_modbus}", "5A"]``. This module is pure (no
I/O): the driver encodes with it and the emulator decodes with the same spec, so a config
mistake shows up as bad frames on the emulator rather than as silence on a real bus.

A token is a hex literal or ``{name arg ...}``; arguments are ``key=value`` or bare words:

- ``{addr}`` ``{line}`` ``{effect}`` ``{seq}``: numbers, ``bytes=1..4`` wide, ``order=be|le``
  (``{addr16}``, ``{addr16le}`` are short forms); ``{seq start=S step=1 modulo=M}`` counts the frames.
- ``{len over=A-B adjust=K}``: the number of raw bytes of tokens A..B (indexes, inclusive; it may
  cover itself, other lengths, the payload), plus K. Without ``over`` it counts the payload
  (plus ``len_adjust``), as ``{len}``, ``{len16}``, ``{len16le}`` always did. ``base=255`` writes
  a multi-byte length in digits of 255 (``n // 255, n % 255``, as uvbs/HospitalQueueSystem's strip
  screens take it) instead of bytes.
- ``{text}`` / ``{bitmap}``: the payload, with optional per-byte transforms (``{text nibble_split}``).
- a check by its reveng catalogue name (``{CRC-16/ARC}``, ``{sum8}``, ``{xor8}``, …; the old
  ``{xor}``, ``{crc16_modbus}``, ``{crc16_ccitt}`` still work) with ``from=A to=B`` (the covered
  tokens, before or after it) and ``order=``. By default it covers the token after the first one
  (or ``checksum_from``) up to the byte before it.

Lengths and checks are computed on raw bytes, after transforms and before escaping. The
``escape`` table maps single bytes to sequences and applies to every token after a leading
literal (the start marker) and before the last literal (the end marker). A frame may start with
a field (a bus address) if it has a check or a length that tells a frame from noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable

from drivers import checksums
from drivers.display import transforms
from drivers.hexbytes import parse_hex
from hwd.stream import Buffer, Skip, StreamDecoder, Tagged, first_of

INT_FIELDS = ("addr", "len", "line", "effect", "seq")
PAYLOADS = ("text", "bitmap")
SHORT_FORMS = {  # name -> (kind, bytes, order)
    "addr": ("addr", 1, "big"), "addr16": ("addr", 2, "big"), "addr16le": ("addr", 2, "little"),
    "len": ("len", 1, "big"), "len16": ("len", 2, "big"), "len16le": ("len", 2, "little"),
    "line": ("line", 1, "big"), "effect": ("effect", 1, "big"), "seq": ("seq", 1, "big"),
}
ORDERS = {"be": "big", "big": "big", "le": "little", "little": "little"}


class FrameError(ValueError):
    """The frame configuration is invalid; ``index`` names the token (or None)."""

    def __init__(self, message: str, index: int | None = None, key: str = "frame"):
        super().__init__(message)
        self.index = index
        self.key = key


# -- checksums (the names the DSL had before; each is its catalogue algorithm) ---------------
xor8 = checksums.xor8
sum8 = checksums.sum8


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS: poly 0x8005 reflected, init 0xFFFF; sent low byte first."""
    return checksums.lookup("CRC-16/MODBUS").value(data)


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected; sent high byte first."""
    return checksums.lookup("CRC-16/CCITT-FALSE").value(data)


# -- tokens -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str                    # "literal", an INT_FIELDS name, a PAYLOADS name, or "check"
    literal: bytes = b""
    size: int = 1                # bytes of a number or a check
    order: str = "big"
    name: str = ""               # as written, for messages
    algo: str = ""               # check: catalogue name
    span: tuple[int, int] | None = None   # len / check: covered token indexes, inclusive
    adjust: int | None = None    # len: added to the count (None: the spec's len_adjust)
    start: int = 0               # seq
    step: int = 1
    base: int = 256              # len: the radix of its bytes (255 for n // 255, n % 255)
    modulo: int = 256
    transforms: tuple[str, ...] = ()

    @property
    def width(self) -> int | None:
        if self.kind == "literal":
            return len(self.literal)
        if self.kind in PAYLOADS:
            return None
        return self.size


def _int_arg(value: str, what: str, index: int, low: int, high: int) -> int:
    try:
        n = int(value, 0)
    except ValueError:
        raise FrameError(f"{what}={value!r} is not a number", index) from None
    if not low <= n <= high:
        raise FrameError(f"{what}={n} is out of range {low}..{high}", index)
    return n


def _span_arg(value: str, index: int) -> tuple[int, int]:
    first, _, last = value.partition("-")
    a = _int_arg(first, "token index", index, 0, 999)
    b = _int_arg(last, "token index", index, 0, 999) if last else a
    if b < a:
        raise FrameError(f"range {value} runs backwards", index)
    return a, b


def parse_token(raw: object, i: int) -> Token:
    if not isinstance(raw, str):
        raise FrameError(f"token {raw!r} is not a string", i)
    text = raw.strip()
    if not (text.startswith("{") and text.endswith("}")):
        try:
            return Token("literal", parse_hex(text))
        except ValueError as exc:
            raise FrameError(f"{exc}, or a token such as {{addr}}", i) from None
    words = text[1:-1].split()
    if not words:
        raise FrameError("empty token {}", i)
    name, args = words[0], words[1:]
    keyed: dict[str, str] = {}
    bare: list[str] = []
    for arg in args:
        key, eq, value = arg.partition("=")
        if eq:
            keyed[key] = value
        else:
            bare.append(arg)

    def take(allowed: Iterable[str]) -> None:
        extra = [k for k in keyed if k not in allowed] + ([] if name in PAYLOADS else bare)
        if extra:
            raise FrameError(f"{{{name}}} does not take {extra[0]!r}; it takes "
                             + (", ".join(f"{k}=" for k in allowed) or "no arguments"), i)

    if name in SHORT_FORMS:
        kind, size, order = SHORT_FORMS[name]
        allowed = ["bytes", "order"] + {"len": ["over", "adjust", "base"],
                                        "seq": ["start", "step", "modulo"]}.get(kind, [])
        take(allowed)
        size = _int_arg(keyed["bytes"], "bytes", i, 1, 4) if "bytes" in keyed else size
        if "order" in keyed:
            if keyed["order"] not in ORDERS:
                raise FrameError(f"order={keyed['order']!r}: write order=be or order=le", i)
            order = ORDERS[keyed["order"]]
        extra: dict = {}
        if kind == "len":
            extra["span"] = _span_arg(keyed["over"], i) if "over" in keyed else None
            extra["adjust"] = _int_arg(keyed["adjust"], "adjust", i, -255, 255) if "adjust" in keyed else None
            extra["base"] = _int_arg(keyed["base"], "base", i, 2, 256) if "base" in keyed else 256
        if kind == "seq":
            extra["start"] = _int_arg(keyed.get("start", "0"), "start", i, 0, 1 << 32)
            extra["step"] = _int_arg(keyed.get("step", "1"), "step", i, 1, 1 << 16)
            extra["modulo"] = _int_arg(keyed.get("modulo", str(1 << (8 * size))), "modulo", i, 2, 1 << 32)
            if extra["start"] >= extra["modulo"]:
                raise FrameError("start must be below modulo", i)
        return Token(kind, size=size, order=order, name=name, **extra)
    if name in PAYLOADS:
        take([])
        unknown = [t for t in bare if t not in transforms.TRANSFORMS]
        if unknown:
            raise FrameError(f"unknown transform {unknown[0]!r}; known: {', '.join(transforms.TRANSFORMS)}", i)
        return Token(name, name=name, transforms=tuple(bare))
    try:
        algo = checksums.lookup(name)
    except ImportError:
        raise FrameError(f"{{{name}}} needs the Python package crccheck (pip install 'hwd[display]')", i) from None
    except KeyError:
        if checksums.is_checksum_name(name):
            raise FrameError(f"unknown check {{{name}}}; use a reveng catalogue name such as "
                             "CRC-16/ARC, CRC-16/MODBUS, CRC-16/XMODEM, CRC-16/CCITT-FALSE, sum8, xor8", i) from None
        known = ", ".join("{" + n + "}" for n in list(SHORT_FORMS) + list(PAYLOADS))
        raise FrameError(f"unknown token {text}; known: {known}, or a check such as {{CRC-16/ARC}}", i) from None
    take(["from", "to", "order"])
    order = algo.order
    if "order" in keyed:
        if keyed["order"] not in ORDERS:
            raise FrameError(f"order={keyed['order']!r}: write order=be or order=le", i)
        order = ORDERS[keyed["order"]]
    first = _int_arg(keyed["from"], "from", i, 0, 999) if "from" in keyed else None
    last = _int_arg(keyed["to"], "to", i, 0, 999) if "to" in keyed else None
    span = (-1 if first is None else first, -1 if last is None else last)
    return Token("check", size=algo.size, order=order, name=name, algo=algo.name, span=span)


# -- decode results -----------------------------------------------------------------------------
@dataclass
class Frame:
    """A decoded frame: the field values and the number of wire bytes it took."""

    fields: dict
    size: int
    raw: bytes = b""


# -- the spec ---------------------------------------------------------------------------------
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
              len_adjust: int = 0, payload: str | None = None, max_payload: int = 8192,
              need_payload: bool = True) -> "FrameSpec":
        """Build a spec from config values; raise FrameError naming the bad token or key.

        ``payload`` ("text" or "bitmap") is the payload token the driver needs; an init or commit
        frame (``need_payload=False``) has none, and its ``{len}`` counts the update's payload."""
        tokens = [parse_token(raw, i) for i, raw in enumerate(frame)]
        if not tokens:
            raise FrameError("the frame is empty")
        kinds = [t.kind for t in tokens]
        payloads = [i for i, k in enumerate(kinds) if k in PAYLOADS]
        if len(payloads) > 1:
            raise FrameError("more than one payload token", payloads[1])
        if payload is not None and need_payload:
            if not payloads or kinds[payloads[0]] != payload:
                raise FrameError(f"this driver needs a {{{payload}}} token in the frame")
        elif payloads and not need_payload:
            raise FrameError("an init or commit frame carries no payload token", payloads[0])
        p = payloads[0] if payloads else None
        checks = [i for i, k in enumerate(kinds) if k == "check"]
        if checksum_from is not None:
            if not checks:
                raise FrameError("checksum_from is set but the frame has no checksum token",
                                 key="checksum_from")
            if not 0 <= checksum_from < checks[0]:
                raise FrameError(f"checksum_from must be a token index from 0 to {checks[0] - 1} "
                                 "(before the checksum)", key="checksum_from")
        n = len(tokens)
        resolved: list[Token] = []
        for i, t in enumerate(tokens):
            if t.kind == "check":
                first = t.span[0] if t.span[0] >= 0 else (1 if checksum_from is None else checksum_from)
                last = t.span[1] if t.span[1] >= 0 else i - 1
                if first > last:
                    raise FrameError(f"{{{t.name}}} covers no tokens (from={first} to={last})", i)
                if last >= n:
                    raise FrameError(f"{{{t.name}}} covers token {last}, but the frame has {n}", i)
                if first <= i <= last:
                    raise FrameError(f"{{{t.name}}} cannot cover itself", i)
                t = replace(t, span=(first, last))
            elif t.kind == "len":
                if t.span is None:
                    span = (p, p) if p is not None else None
                else:
                    span = t.span
                    if span[1] >= n:
                        raise FrameError(f"{{{t.name}}} covers token {span[1]}, but the frame has {n}", i)
                if span is not None and p is not None and span[0] <= p <= span[1] and i > p:
                    raise FrameError("the length token must come before the payload", i)
                t = replace(t, span=span)
            resolved.append(t)
        tokens = resolved
        seen: dict = {}
        for i, t in enumerate(tokens):
            if t.kind == "len":
                if t.span in seen:
                    raise FrameError("more than one length token over the same tokens "
                                     "(nested lengths need different over= ranges)", i)
                seen[t.span] = i
        if tokens[0].kind != "literal" and not any(t.kind in ("check", "len") for t in tokens):
            raise FrameError("the frame must start with a hex literal (the start marker), or have a "
                             "check or a length that tells a frame from noise", 0)
        if p is not None and not any(t.kind == "len" and t.span and t.span[0] <= p <= t.span[1] for t in tokens):
            after = tokens[p + 1:]
            if not any(t.kind == "literal" for t in after):
                raise FrameError("a frame without {len} needs a literal (end marker) after the payload", p)
            for t in after:
                if t.kind == "literal":
                    break
                if t.width is None:
                    raise FrameError("variable-size token between the payload and the end marker")
        spec = cls(tokens, {}, checksum_from, len_adjust, max_payload)
        spec._check_order()
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
        spec.escape = table
        return spec

    def _check_order(self) -> None:
        """Checks are computed so that a check covering another comes after it; refuse cycles."""
        pending = [i for i, t in enumerate(self.tokens) if t.kind == "check"]
        order: list[int] = []
        while pending:
            ready = [i for i in pending
                     if not any(j in pending and j != i and self.tokens[i].span[0] <= j <= self.tokens[i].span[1]
                                for j in pending)]
            if not ready:
                raise FrameError("checks cover each other", pending[0])
            order += ready
            pending = [i for i in pending if i not in ready]
        self.check_order = order

    # -- layout helpers ----------------------------------------------------------------------
    @property
    def kinds(self) -> list[str]:
        return [t.kind for t in self.tokens]

    def has(self, kind: str) -> bool:
        return kind in self.kinds

    @property
    def payload_index(self) -> int | None:
        return next((i for i, t in enumerate(self.tokens) if t.kind in PAYLOADS), None)

    @property
    def starts_with_literal(self) -> bool:
        return self.tokens[0].kind == "literal"

    def _escaped_range(self) -> range:
        start = 1 if self.starts_with_literal else 0
        later = [i for i, t in enumerate(self.tokens) if t.kind == "literal" and i > 0]
        return range(start, later[-1] if later else len(self.tokens))

    def _adjust(self, token: Token) -> int:
        return self.len_adjust if token.adjust is None else token.adjust

    def escape_bytes(self, data: bytes) -> bytes:
        if not self.escape:
            return data
        out = bytearray()
        for b in data:
            out += self.escape.get(b, bytes([b]))
        return bytes(out)

    def capacity(self) -> int:
        """The most payload bytes (before transforms) every length field can count."""
        limit = self.max_payload
        p = self.payload_index
        for t in self.tokens:
            if t.kind == "len" and t.span and p is not None and t.span[0] <= p <= t.span[1]:
                others = sum(self.tokens[j].width for j in range(t.span[0], t.span[1] + 1) if j != p)
                room = t.base ** t.size - 1 - others - self._adjust(t)
                if p is not None and self.tokens[p].transforms:
                    room //= 2 ** len(self.tokens[p].transforms)
                limit = min(limit, room)
            elif t.kind == "len" and t.span is None:
                limit = min(limit, t.base ** t.size - 1 - self._adjust(t))
        return max(0, limit)

    # -- encode ------------------------------------------------------------------------------
    def encode(self, payload: bytes = b"", addr: int = 0, line: int = 0, effect: int = 0, seq: int = 0,
               colors: list[int] | None = None) -> bytes:
        """Build one frame on the wire; ``colors`` (one per payload byte) go to a colour transform.
        Raise ValueError if a value does not fit its field."""
        return self.assemble(self.encode_parts(payload, addr, line, effect, seq, colors))

    def assemble(self, parts: list[bytes]) -> bytes:
        """Raw token values → wire bytes (escaping applied)."""
        escaped = self._escaped_range()
        return b"".join(self.escape_bytes(part) if i in escaped else part for i, part in enumerate(parts))

    def encode_parts(self, payload: bytes = b"", addr: int = 0, line: int = 0, effect: int = 0,
                     seq: int = 0, colors: list[int] | None = None) -> list[bytes]:
        """The raw value of every token (lengths and checks computed), before escaping."""
        p = self.payload_index
        data = (transforms.apply(self.tokens[p].transforms, bytes(payload), colors) if p is not None
                else bytes(payload))
        parts: list[bytes] = []
        for token in self.tokens:
            if token.width is None:
                parts.append(data)
            elif token.kind == "literal":
                parts.append(token.literal)
            else:
                parts.append(bytes(token.size))  # numbers and checks: filled below
        values = {"addr": addr, "line": line, "effect": effect, "seq": seq}
        for i, token in enumerate(self.tokens):
            if token.kind in values:
                value = values[token.kind]
                if token.kind == "seq":
                    value &= (1 << (8 * token.size)) - 1
                parts[i] = _uint(value, token, _WHAT[token.kind])
            elif token.kind == "len":
                if token.span is None:
                    count = len(payload)
                else:
                    count = sum(len(parts[j]) for j in range(token.span[0], token.span[1] + 1))
                parts[i] = _uint(count + self._adjust(token), token, "payload length")
        for i in self.check_order:
            token = self.tokens[i]
            covered = b"".join(parts[token.span[0]:token.span[1] + 1])
            parts[i] = checksums.lookup(token.algo).wire(covered, token.order)
        return parts

    def fits(self, payload: bytes) -> bool:
        try:
            self.encode(payload)
        except ValueError:
            return False
        return True

    # -- decode ------------------------------------------------------------------------------
    def decode(self, buf: Buffer, at: int = 0) -> "Frame | Skip | None":
        """Look at ``buf`` from ``at`` on: a Frame, a Skip (drop bytes and retry), or None (need
        more): the check of hwd/stream.py."""
        if at >= len(buf):
            return None
        parts: list[bytes] = []
        pos = at
        if self.starts_with_literal:
            start = self.tokens[0].literal
            if not buf.startswith(start, at):
                if len(buf) - at < len(start) and start.startswith(buf[at:]):
                    return None
                nxt = buf.find(start, at + 1)
                if nxt < 0:
                    # keep a tail that may be the beginning of a start marker
                    keep = next((k for k in range(min(len(start) - 1, len(buf) - at), 0, -1)
                                 if start.startswith(buf[len(buf) - k:])), 0)
                    return Skip(len(buf) - at - keep, "no start marker", noise=True)
                return Skip(nxt - at, "bytes before the start marker", noise=True)
            parts.append(start)
            pos = at + len(start)
        escaped = self._escaped_range()
        reader = _Reader(buf, self._unescape_table())
        fields: dict = {}
        lengths: dict[int, int] = {}
        for i in range(len(parts), len(self.tokens)):
            token = self.tokens[i]
            esc = i in escaped
            if token.kind in PAYLOADS:
                size = self._payload_size(i, lengths)
                if isinstance(size, Skip):
                    return size
                if size is not None:
                    got = reader.read(pos, size, esc)
                    if isinstance(got, str):
                        return Skip(1, got)
                    if got is None:
                        return None
                else:
                    got = self._read_until_marker(reader, pos, i, escaped)
                    if isinstance(got, Skip) or got is None:
                        return got
                value, pos = got
                parts.append(value)
                continue
            got = reader.read(pos, token.width, esc)
            if isinstance(got, str):
                return Skip(1, got)
            if got is None:
                return None
            value, pos = got
            parts.append(value)
            if token.kind == "literal":
                if value != token.literal:
                    return Skip(1, f"expected {token.literal.hex().upper()} at token {i}, "
                                   f"got {value.hex().upper()}")
            elif token.kind == "len":
                number = _from_digits(value, token)
                if number is None:
                    return Skip(1, f"bad length at token {i}: a digit above base {token.base}")
                lengths[i] = number
                fields.setdefault("len", lengths[i])
            elif token.kind in ("addr", "line", "effect", "seq"):
                fields[token.kind] = int.from_bytes(value, token.order)
        for i, value in lengths.items():
            token = self.tokens[i]
            if token.span is None:
                continue   # counts the update's payload, which an init frame does not carry
            want = sum(len(parts[j]) for j in range(token.span[0], token.span[1] + 1)) + self._adjust(token)
            if value != want:
                return Skip(1, f"bad length at token {i}: got {value}, counted {want}")
        for i in self.check_order:
            token = self.tokens[i]
            covered = b"".join(parts[token.span[0]:token.span[1] + 1])
            want = checksums.lookup(token.algo).wire(covered, token.order)
            if parts[i] != want:
                return Skip(1, f"bad {token.name}: got {parts[i].hex().upper()}, "
                               f"computed {want.hex().upper()}")
        p = self.payload_index
        if p is not None:
            try:
                fields[self.tokens[p].kind] = transforms.undo(self.tokens[p].transforms, parts[p])
                colors = transforms.colors_of(self.tokens[p].transforms, parts[p])
            except ValueError as exc:
                return Skip(1, f"payload: {exc}")
            if colors is not None:
                fields["colors"] = colors
        return Frame(fields, pos - at, bytes(buf[at:pos]))

    def _payload_size(self, p: int, lengths: dict[int, int]) -> int | Skip | None:
        """The payload's raw size from a length already read that covers it (None: no such length)."""
        for i, value in lengths.items():
            token = self.tokens[i]
            if token.span and token.span[0] <= p <= token.span[1]:
                others = sum(self.tokens[j].width for j in range(token.span[0], token.span[1] + 1) if j != p)
                n = value - self._adjust(token) - others
                limit = self.max_payload * (2 ** len(self.tokens[p].transforms))
                if n < 0 or n > limit:
                    return Skip(1, f"payload length {n} out of range")
                return n
        return None

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
        expand = 2 ** len(self.tokens[index].transforms)
        limit = pos + 2 * (self.max_payload * expand + fixed) * max([1] + [len(v) for v in self.escape.values()])
        search_from = pos
        while True:
            at = reader.buf.find(marker, search_from)
            if at < 0:
                if len(reader.buf) > limit:
                    return Skip(1, "no end marker")
                return None
            span = reader.unescape(pos, at, index in escaped)
            if isinstance(span, str):
                return Skip(1, span)
            if len(span) >= fixed:
                payload = span[:len(span) - fixed]
                if len(payload) > self.max_payload * expand:
                    return Skip(1, "payload too long")
                # re-read the payload alone to find where the fixed tokens start on the wire
                end = reader.wire_end(pos, len(payload), index in escaped)
                return payload, end
            search_from = at + 1


class _Reader:
    """Reads raw values out of wire bytes, undoing the escape table where a token is escaped."""

    def __init__(self, buf: Buffer, unescape: list[tuple[bytes, int]]):
        self.buf = buf      # the decoder's buffer itself: never copied
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


_WHAT = {"addr": "address", "line": "line", "effect": "effect", "seq": "sequence number"}


def _uint(value: int, token: Token, what: str) -> bytes:
    if not 0 <= value < token.base ** token.size:
        raise ValueError(f"{what} {value} does not fit in {token.size} byte(s)")
    if token.base == 256:
        return value.to_bytes(token.size, token.order)
    digits = []
    for _ in range(token.size):
        value, digit = divmod(value, token.base)
        digits.append(digit)
    return bytes(reversed(digits) if token.order == "big" else digits)


def _from_digits(value: bytes, token: Token) -> int | None:
    """A number read from ``value`` in ``token``'s base; None when a byte is not a digit of it."""
    if token.base == 256:
        return int.from_bytes(value, token.order)
    number = 0
    for digit in (value if token.order == "big" else reversed(value)):
        if digit >= token.base:
            return None
        number = number * token.base + digit
    return number


def frame_decoder(specs: "FrameSpec | list[tuple[str, FrameSpec]]", name: str = "") -> StreamDecoder:
    """The stream decoder of one frame spec, or of several sharing the stream (a data frame and
    the init frame sent before it): at each position the first spec that reads a frame wins,
    and its name is the frame's ``kind`` field; bytes are dropped only when none can read them."""
    if isinstance(specs, FrameSpec):
        return StreamDecoder(specs.decode, name)
    either = first_of([(kind, spec.decode) for kind, spec in specs])

    def check(buf: Buffer, pos: int) -> "Frame | Skip | None":
        result = either(buf, pos)
        if isinstance(result, Tagged):
            result.frame.fields["kind"] = result.tag
            return result.frame
        return result

    return StreamDecoder(check, name)
