"""ESC/POS bytes, pure: the builders python-escpos does not get right, real-time status decoding,
and the incremental stream parser the emulator reads with.

No I/O here, so every function is tested with byte fixtures and property tests. Byte facts are
the ESC/POS manuals' (Epson TM-U220, Bixolon SRP-350, Citizen CT-S2000). python-escpos 3.1 sends Chinese without ``FS &`` and prints to
stdout from ``image()`` and ``barcode()``, so text, size, barcodes and raster images are built
here; QR codes and cuts come from python-escpos (see ``documents.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, FS, DLE, EOT = 0x1B, 0x1D, 0x1C, 0x10, 0x04
LF = b"\n"

INIT = b"\x1b\x40"
CHINESE_ON = b"\x1c\x26"    # FS &
CHINESE_OFF = b"\x1c\x2e"   # FS .
ALIGNS = {"left": 0, "center": 1, "right": 2}
CUT_FULL = b"\x1d\x56\x00"
CUT_PARTIAL = b"\x1d\x56\x01"

# GS k m (format B: m = 65..73, then a length byte)
BARCODE_TYPES = {"UPC-A": 65, "UPC-E": 66, "EAN13": 67, "EAN8": 68, "CODE39": 69, "ITF": 70,
                 "CODABAR": 71, "CODE93": 72, "CODE128": 73}
BARCODE_NAMES = {v: k for k, v in BARCODE_TYPES.items()}
BARCODE_NAMES_A = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR"}


class ProtocolError(ValueError):
    """A value cannot be expressed in ESC/POS (too long, out of range)."""


# -- builders ---------------------------------------------------------------------------------
def size_byte(width: int, height: int) -> int:
    """GS ! n: width-1 in bits 4-6, height-1 in bits 0-2 (each 1..8)."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ProtocolError(f"character size {width}x{height} is outside 1..8")
    return ((width - 1) << 4) | (height - 1)


def text_line(text: str, size: int = 1, bold: bool = False, align: str = "left") -> bytes:
    """One printed line: align, bold, size, then the text as GB18030 inside FS & ... FS . and LF.

    Every attribute is sent on every line, so a line never inherits a stale state."""
    if align not in ALIGNS:
        raise ProtocolError(f"align {align!r} is not one of {', '.join(ALIGNS)}")
    body = text.replace("\r", "").replace("\n", " ").encode("gb18030", errors="replace")
    return (bytes((ESC, 0x61, ALIGNS[align], ESC, 0x45, 1 if bold else 0, GS, 0x21, size_byte(size, size)))
            + CHINESE_ON + body + CHINESE_OFF + LF)


def reset_style() -> bytes:
    """Back to left, not bold, size 1."""
    return bytes((ESC, 0x61, 0, ESC, 0x45, 0, GS, 0x21, 0))


def align(name: str) -> bytes:
    return bytes((ESC, 0x61, ALIGNS[name]))


def feed(lines: int) -> bytes:
    """ESC d n: print and feed n lines."""
    if not 0 <= lines <= 255:
        raise ProtocolError(f"feed {lines} is outside 0..255")
    return bytes((ESC, 0x64, lines))


def barcode(data: str, kind: str = "CODE128", height: int = 64, module: int = 2, hri: bool = True) -> bytes:
    """GS h / GS w / GS H, then GS k m n data (format B). CODE128 gets code set B (``{B``)."""
    kind = kind.upper()
    if kind not in BARCODE_TYPES:
        raise ProtocolError(f"barcode type {kind!r} is not one of {', '.join(BARCODE_TYPES)}")
    payload = data.encode("ascii", errors="strict") if data.isascii() else None
    if payload is None:
        raise ProtocolError("barcode data must be ASCII")
    if kind == "CODE128" and not payload.startswith(b"{"):
        payload = b"{B" + payload.replace(b"{", b"{{")
    if not 1 <= len(payload) <= 255:
        raise ProtocolError("barcode data must be 1..255 bytes")
    return (bytes((GS, 0x68, max(1, min(255, height)), GS, 0x77, max(2, min(6, module)),
                   GS, 0x48, 2 if hri else 0, GS, 0x6B, BARCODE_TYPES[kind], len(payload))) + payload)


def raster(width_px: int, height_px: int, rows: bytes) -> bytes:
    """GS v 0: a raster bit image; ``rows`` holds ceil(width/8) bytes per row, MSB left, 1 = black."""
    width_bytes = (width_px + 7) // 8
    if len(rows) != width_bytes * height_px:
        raise ProtocolError(f"raster data is {len(rows)} bytes, expected {width_bytes * height_px}")
    if height_px > 0xFFFF or width_bytes > 0xFFFF:
        raise ProtocolError("raster image too large")
    return bytes((GS, 0x76, 0x30, 0, width_bytes & 0xFF, width_bytes >> 8,
                  height_px & 0xFF, height_px >> 8)) + rows


def status_query(n: int) -> bytes:
    """DLE EOT n: real-time status request; the printer answers one byte."""
    return bytes((DLE, EOT, n))


def transmit_status(n: int = 1) -> bytes:
    """GS r n: transmit status — executed in turn with the data before it, so the one-byte answer
    to ``GS r 1`` comes once everything sent before has been processed (printed). Gprinter's SDK
    ends a job with it (``EscCommand.addQueryPrinterStatus``)."""
    return bytes((GS, 0x72, n))


def paper_sensor_reply(value: int) -> str | None:
    """The paper state in a ``GS r 1`` answer (bits 0-1 near end, 2-3 end; bits 4 and 7 are 0,
    unlike a DLE EOT reply's), or None for a byte that is no such answer."""
    if value & 0x90:
        return None
    if value & 0x0C:
        return "out"
    return "low" if value & 0x03 else "ok"


def encode_paper_sensor(paper: str = "ok") -> int:
    """The byte a printer answers to ``GS r 1`` (used by the emulator)."""
    return {"ok": 0x00, "near_end": 0x03, "out": 0x0C}[paper]


# -- status decoding ----------------------------------------------------------------------------
def valid_status_byte(value: int) -> bool:
    """A real-time status byte has bits 1 and 4 set and bits 0 and 7 clear."""
    return (value & 0x93) == 0x12


@dataclass(frozen=True)
class PrinterStatus:
    """Decoded DLE EOT 1, 2 and 4 replies."""

    offline: bool = False
    cover_open: bool = False
    paper_end_stop: bool = False
    error: bool = False
    paper_near_end: bool = False
    paper_end: bool = False

    @property
    def paper(self) -> str:
        if self.paper_end or self.paper_end_stop:
            return "out"
        return "low" if self.paper_near_end else "ok"

    @property
    def fault(self) -> str:
        """The device-state detail if the printer cannot print now, else ''."""
        if self.cover_open:
            return "cover_open"
        if self.paper_end or self.paper_end_stop:
            return "paper_out"
        if self.error:
            return "error"
        if self.offline:
            return "printer_offline"
        return ""


def decode_status(printer: int, offline_cause: int, paper: int) -> PrinterStatus:
    """Decode the replies to DLE EOT 1, 2 and 4; raise ProtocolError on a byte of the wrong shape."""
    for n, value in ((1, printer), (2, offline_cause), (4, paper)):
        if not valid_status_byte(value):
            raise ProtocolError(f"DLE EOT {n} reply {value:02X} is not a status byte")
    return PrinterStatus(
        offline=bool(printer & 0x08),
        cover_open=bool(offline_cause & 0x04),
        paper_end_stop=bool(offline_cause & 0x20),
        error=bool(offline_cause & 0x40),
        paper_near_end=bool(paper & 0x0C),
        paper_end=bool(paper & 0x60),
    )


def encode_status(n: int, *, offline: bool = False, cover_open: bool = False, paper: str = "ok",
                  error: bool = False) -> int:
    """The byte a printer in this state answers to DLE EOT n (used by the emulator)."""
    value = 0x12
    paper_out = paper == "out"
    if n == 1 and (offline or cover_open or paper_out or error):
        value |= 0x08
    elif n == 2:
        value |= (0x04 if cover_open else 0) | (0x20 if paper_out else 0) | (0x40 if error else 0)
    elif n == 4:
        value |= 0x60 if paper_out else (0x0C if paper == "near_end" else 0)
    return value


# -- stream parser ------------------------------------------------------------------------------
@dataclass
class Token:
    """One unit of the stream: ``kind`` is "text", "ctl" (LF, CR, HT, FF), "cmd" or "unknown"."""

    kind: str
    name: str = ""
    args: bytes = b""
    data: bytes = b""

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.name}, {self.args.hex()}, {self.data[:16]!r})"


# (prefix, command byte) -> (name, number of fixed argument bytes)
FIXED: dict[tuple[int, int], tuple[str, int]] = {
    (ESC, 0x40): ("init", 0), (ESC, 0x45): ("bold", 1), (ESC, 0x47): ("double_strike", 1),
    (ESC, 0x61): ("align", 1), (ESC, 0x21): ("mode", 1), (ESC, 0x2D): ("underline", 1),
    (ESC, 0x64): ("feed_lines", 1), (ESC, 0x4A): ("feed_dots", 1), (ESC, 0x32): ("line_spacing_default", 0),
    (ESC, 0x33): ("line_spacing", 1), (ESC, 0x74): ("codepage", 1), (ESC, 0x52): ("charset", 1),
    (ESC, 0x4D): ("font", 1), (ESC, 0x56): ("rotate", 1), (ESC, 0x7B): ("upside_down", 1),
    (ESC, 0x20): ("char_spacing", 1), (ESC, 0x24): ("position", 2), (ESC, 0x5C): ("rel_position", 2),
    (ESC, 0x70): ("drawer", 3), (ESC, 0x3D): ("peripheral", 1), (ESC, 0x69): ("cut_partial_legacy", 0),
    (ESC, 0x6D): ("cut_partial_legacy", 0), (ESC, 0x63): ("panel", 2), (ESC, 0x44): ("tabs", -1),
    (GS, 0x21): ("size", 1), (GS, 0x42): ("reverse", 1), (GS, 0x48): ("hri_position", 1),
    (GS, 0x68): ("barcode_height", 1), (GS, 0x77): ("barcode_width", 1), (GS, 0x66): ("hri_font", 1),
    (GS, 0x4C): ("left_margin", 2), (GS, 0x57): ("print_width", 2), (GS, 0x61): ("asb", 1),
    (GS, 0x72): ("status", 1), (GS, 0x49): ("printer_id", 1), (GS, 0x62): ("smoothing", 1),
    (FS, 0x26): ("chinese_on", 0), (FS, 0x2E): ("chinese_off", 0), (FS, 0x21): ("chinese_mode", 1),
    (FS, 0x2D): ("chinese_underline", 1), (FS, 0x57): ("chinese_quad", 1), (FS, 0x43): ("chinese_code", 1),
    (FS, 0x53): ("chinese_spacing", 2), (FS, 0x70): ("nv_image", 2),
    (DLE, 0x04): ("status_query", 1), (DLE, 0x05): ("realtime_request", 1),
}
CONTROL = {0x0A: "LF", 0x0D: "CR", 0x09: "HT", 0x0C: "FF", 0x18: "CAN"}
PREFIXES = (ESC, GS, FS, DLE)
MAX_PENDING = 1 << 20   # a command claiming more data than this is treated as garbage


class StreamParser:
    """Incremental ESC/POS tokenizer: ``feed(bytes)`` returns the complete tokens so far and keeps
    an incomplete command for the next call. Anything it does not know becomes an "unknown" token
    (the prefix and command byte); it never raises on input."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[Token]:
        self.buffer += data
        tokens: list[Token] = []
        while self.buffer:
            used, token = self._next(self.buffer)
            if used == 0:
                break
            del self.buffer[:used]
            if token is not None:
                tokens.append(token)
        return tokens

    def _next(self, buf: bytearray) -> tuple[int, Token | None]:
        """(bytes consumed, token); (0, None) means: need more bytes."""
        b = buf[0]
        if b in PREFIXES:
            return self._command(buf)
        if b in CONTROL:
            return 1, Token("ctl", CONTROL[b])
        if b < 0x20 or b == 0x7F:
            return 1, Token("unknown", data=bytes(buf[:1]))
        end = 1
        while end < len(buf) and buf[end] >= 0x20 and buf[end] != 0x7F:
            end += 1
        return end, Token("text", data=bytes(buf[:end]))

    def _command(self, buf: bytearray) -> tuple[int, Token | None]:
        if len(buf) < 2:
            return 0, None
        prefix, cmd = buf[0], buf[1]
        if prefix == GS and cmd == 0x28:            # GS ( X pL pH data
            return self._counted(buf, 3, 2, f"gs({chr(buf[2]) if len(buf) > 2 else ''}")
        if prefix == GS and cmd == 0x38:            # GS 8 L p1..p4 data
            return self._counted(buf, 3, 4, "gs8")
        if prefix == GS and cmd == 0x6B:            # GS k m ...
            return self._barcode(buf)
        if prefix == GS and cmd == 0x76:            # GS v 0 m xL xH yL yH data
            if len(buf) < 8:
                return 0, None
            if buf[2] != 0x30:
                return 2, Token("unknown", data=bytes(buf[:2]))
            need = (buf[4] | buf[5] << 8) * (buf[6] | buf[7] << 8)
            if need > MAX_PENDING:
                return 2, Token("unknown", data=bytes(buf[:2]))
            if len(buf) < 8 + need:
                return 0, None
            return 8 + need, Token("cmd", "raster", bytes(buf[2:8]), bytes(buf[8:8 + need]))
        if prefix == GS and cmd == 0x56:            # GS V m [n]
            if len(buf) < 3:
                return 0, None
            m = buf[2]
            if m in (0, 1, 0x30, 0x31):
                return 3, Token("cmd", "cut", bytes(buf[2:3]))
            if m in (0x41, 0x42, 0x61, 0x62, 0x67, 0x68):
                if len(buf) < 4:
                    return 0, None
                return 4, Token("cmd", "cut", bytes(buf[2:4]))
            return 3, Token("unknown", data=bytes(buf[:3]))
        if prefix == ESC and cmd == 0x2A:           # ESC * m nL nH data
            if len(buf) < 5:
                return 0, None
            n = buf[3] | buf[4] << 8
            need = n * (3 if buf[2] in (32, 33) else 1)
            if len(buf) < 5 + need:
                return 0, None
            return 5 + need, Token("cmd", "bit_image", bytes(buf[2:5]), bytes(buf[5:5 + need]))
        if prefix == DLE and cmd == 0x14:           # DLE DC4 fn m t
            if len(buf) < 5:
                return 0, None
            return 5, Token("cmd", "realtime_pulse", bytes(buf[2:5]))
        spec = FIXED.get((prefix, cmd))
        if spec is None:
            return 2, Token("unknown", data=bytes(buf[:2]))
        name, nargs = spec
        if nargs < 0:                               # NUL-terminated list (ESC D)
            end = buf.find(0, 2, 2 + 33)
            if end < 0:
                return (0, None) if len(buf) < 2 + 33 else (2, Token("unknown", data=bytes(buf[:2])))
            return end + 1, Token("cmd", name, bytes(buf[2:end]))
        if len(buf) < 2 + nargs:
            return 0, None
        return 2 + nargs, Token("cmd", name, bytes(buf[2:2 + nargs]))

    def _counted(self, buf: bytearray, head: int, width: int, name: str) -> tuple[int, Token | None]:
        if len(buf) < head + width:
            return 0, None
        need = int.from_bytes(bytes(buf[head:head + width]), "little")
        if need > MAX_PENDING:
            return 2, Token("unknown", data=bytes(buf[:2]))
        total = head + width + need
        if len(buf) < total:
            return 0, None
        return total, Token("cmd", name, bytes(buf[2:3]), bytes(buf[head + width:total]))

    def _barcode(self, buf: bytearray) -> tuple[int, Token | None]:
        if len(buf) < 3:
            return 0, None
        m = buf[2]
        if m <= 6:                                  # format A: data up to NUL
            end = buf.find(0, 3, 3 + 256)
            if end < 0:
                return (0, None) if len(buf) < 3 + 256 else (3, Token("unknown", data=bytes(buf[:3])))
            return end + 1, Token("cmd", "barcode", bytes((m,)), bytes(buf[3:end]))
        if 65 <= m <= 79:
            if len(buf) < 4:
                return 0, None
            n = buf[3]
            if len(buf) < 4 + n:
                return 0, None
            return 4 + n, Token("cmd", "barcode", bytes((m,)), bytes(buf[4:4 + n]))
        return 3, Token("unknown", data=bytes(buf[:3]))


@dataclass
class QrState:
    """What GS ( k has set up so far for the next QR print."""

    module: int = 3
    ec: str = "L"
    data: bytes = b""
    model: int = 2


def qr_function(token: Token, state: QrState) -> bytes | None:
    """Apply one ``GS ( k`` token for symbol type 1 (QR); return the data when it says print."""
    d = token.data
    if len(d) < 2 or d[0] != 0x31:
        return None
    fn = d[1]
    if fn == 0x41 and len(d) >= 3:
        state.model = d[2] - 0x30
    elif fn == 0x43 and len(d) >= 3:
        state.module = d[2]
    elif fn == 0x45 and len(d) >= 3:
        state.ec = "LMQH"[d[2] - 0x30] if 0x30 <= d[2] <= 0x33 else "L"
    elif fn == 0x50 and len(d) >= 3:
        state.data = bytes(d[3:])
    elif fn == 0x51:
        return state.data
    return None


def barcode_name(m: int) -> str:
    return BARCODE_NAMES.get(m) or BARCODE_NAMES_A.get(m) or f"type{m}"


@dataclass
class Unknowns:
    """Counts of bytes the emulator did not understand, with a few samples for the report."""

    count: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, data: bytes) -> None:
        self.count += len(data)
        if len(self.samples) < 20:
            self.samples.append(data.hex(" "))
