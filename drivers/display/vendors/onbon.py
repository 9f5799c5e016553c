"""Onbon (仰邦) BX-5/BX-6 font-card controllers: the "update dynamic area" command (A3 06).

Clearer as code than as tokens: one frame carries one dynamic area per line, each with its own
geometry and nested little-endian lengths. The layout is the one the Onbon protocol analyser
parses (strongercjd/Onbon-Protocol-Analysis, ``Onbon Protocol analysis/Form1.cs``:
``Font_Card_Protocol_header_string_init``, ``Font_Card_Protocol_A3_06_cmd_string_init``,
``Font_Card_Protocol_area_data_string_init``, ``crc16``, ``Data_deal_with``), and the constant
bytes are those of the capture of Onbon's own software shipped with it (``Form1.resx``, first
commit 89f5b0e):

    A5×8 · dst(2 LE) src(2) 000000 barcode checksum-mode display-mode device-type version(02)
    data-len(2 LE) · A3 06 reply 0000 delete-count update-count · per area: area-len(2 LE) type
    X Y W H (2 LE each; bit 15 of X and W = pixels) id line-spacing run-mode timeout(2) voice …
    text-len(4 LE) text · CRC-16/ARC(2 LE) over everything after the preamble · 5A

Everything between the preamble and the final 5A is escaped: A5→A6 02, A6→A6 01, 5A→5B 02,
5B→5B 01. Text is GB2312 (the analyser decodes it with ``Encoding.GetEncoding("gb2312")``).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers import checksums
from drivers.display.protocol import Frame
from hwd.stream import Buffer, Skip, StreamDecoder

PREAMBLE = b"\xA5" * 8
END = 0x5A
ESCAPE = {0xA5: b"\xA6\x02", 0xA6: b"\xA6\x01", 0x5A: b"\x5B\x02", 0x5B: b"\x5B\x01"}
UNESCAPE = {b"\xA6\x02": 0xA5, b"\xA6\x01": 0xA6, b"\x5B\x02": 0x5A, b"\x5B\x01": 0x5B}
SOURCE = 0x8000           # the capture's source address
DEVICE_TYPE = 0x64        # the capture's device type byte
PROTOCOL_VERSION = 0x02   # the analyser refuses anything else as a font-card frame
REPLY = 0x01              # "controller replies", as in the capture
# 显示方式 (display mode) per effect; the capture scrolls with 03
EFFECTS = {"static": 0x01, "scroll": 0x03, "blink": 0x07}
MAX_TEXT = 1024


@dataclass
class Area:
    """One dynamic area; the defaults are the capture's, except that it does not speak."""

    text: bytes
    area_id: int = 0
    x: int = 0
    y: int = 0
    width: int = 64
    height: int = 16
    area_type: int = 0x00
    line_spacing: int = 0x00
    run_mode: int = 0x00
    timeout: int = 10
    voice: int = 0            # 0 silent; 2 = speak ``voice_text``
    voice_params: bytes = b"\x00\x00\x00"   # speaker/count, volume, speed
    voice_text: bytes = b""
    align: int = 0x00
    single_line: int = 0x01
    auto_wrap: int = 0x01
    display_mode: int = 0x01
    exit_mode: int = 0x00
    speed: int = 0x02
    stay: int = 0x0A

    def encode(self) -> bytes:
        body = bytes([self.area_type])
        body += (self.x | 0x8000).to_bytes(2, "little") + self.y.to_bytes(2, "little")
        body += (self.width | 0x8000).to_bytes(2, "little") + self.height.to_bytes(2, "little")
        body += bytes([self.area_id, self.line_spacing, self.run_mode]) + self.timeout.to_bytes(2, "little")
        body += bytes([self.voice])
        if self.voice == 1:
            body += self.voice_params
        elif self.voice == 2:
            body += self.voice_params + len(self.voice_text).to_bytes(4, "little") + self.voice_text
        body += bytes([0x00])   # extension bytes: none
        body += bytes([self.align, self.single_line, self.auto_wrap, self.display_mode, self.exit_mode,
                       self.speed, self.stay])
        body += len(self.text).to_bytes(4, "little") + self.text
        return len(body).to_bytes(2, "little") + body


def escape(data: bytes) -> bytes:
    return b"".join(ESCAPE.get(b, bytes([b])) for b in data)


def frame(dst: int, areas: list[Area], src: int = SOURCE, device_type: int = DEVICE_TYPE,
          reply: int = REPLY) -> bytes:
    data = bytes([0xA3, 0x06, reply, 0x00, 0x00, 0x00, len(areas)]) + b"".join(a.encode() for a in areas)
    header = dst.to_bytes(2, "little") + src.to_bytes(2, "little") + bytes(3)
    header += bytes([0x00, 0x00, 0x00, device_type, PROTOCOL_VERSION]) + len(data).to_bytes(2, "little")
    body = header + data
    crc = checksums.lookup("CRC-16/ARC").wire(body, "little")
    return PREAMBLE + escape(body + crc) + bytes([END])


class OnbonCodec:
    encoding = "gb2312"
    one_string = False      # one dynamic area per line

    def __init__(self, width: int = 64, height: int = 16):
        self.width = width
        self.height = height

    def capacity(self, lines: int) -> int:
        return MAX_TEXT

    def hello(self, addr: int) -> list[bytes]:
        return []

    def update(self, lines: list[bytes], addr: int, effect: str,
               colors: list[list[int]] | None = None) -> list[bytes]:
        band = max(1, self.height // max(1, len(lines)))
        areas = [Area(text, area_id=i, y=i * band, width=self.width, height=band,
                      display_mode=EFFECTS.get(effect, 0x01)) for i, text in enumerate(lines)]
        return [frame(addr, areas)]

    def decoder(self, name: str = "onbon-bx5") -> StreamDecoder:
        return StreamDecoder(check, name)


def check(buf: Buffer, pos: int) -> Frame | Skip | None:
    """The controller's side (hwd/stream.py's check): preamble, unescape to the 5A, CRC, then
    the areas' texts."""
    start = buf.find(0xA5, pos)
    if start < 0:
        return Skip(len(buf) - pos, "no start marker", noise=True)
    if start > pos:
        return Skip(start - pos, "bytes before the start marker", noise=True)
    body_at = pos
    while body_at < len(buf) and buf[body_at] == 0xA5:
        body_at += 1
    end = buf.find(END, body_at)
    restart = buf.find(0xA5, body_at)
    if restart >= 0 and (end < 0 or restart < end):
        # a preamble inside a frame: the frame before it was cut short
        return Skip(restart - pos, "frame cut short")
    if end < 0:
        if len(buf) - pos > 16 * MAX_TEXT:
            return Skip(body_at - pos, "no end marker")
        return None
    return _frame(bytes(buf[body_at:end]), bytes(buf[pos:end + 1]))


def _frame(wire: bytes, raw: bytes) -> Frame | Skip:
    size = len(raw)
    body = bytearray()
    i = 0
    while i < len(wire):
        pair = wire[i:i + 2]
        if wire[i] in (0xA6, 0x5B):
            if pair not in UNESCAPE:
                return Skip(size, f"bad escape sequence {pair.hex().upper()}")
            body.append(UNESCAPE[pair])
            i += 2
        else:
            body.append(wire[i])
            i += 1
    body = bytes(body)
    if len(body) < 16:
        return Skip(size, "frame too short")
    want = checksums.lookup("CRC-16/ARC").wire(body[:-2], "little")
    if body[-2:] != want:
        return Skip(size, f"bad CRC-16/ARC: got {body[-2:].hex().upper()}, computed {want.hex().upper()}")
    try:
        return Frame(_parse(body[:-2]), size, raw)
    except (IndexError, ValueError) as exc:
        return Skip(size, f"bad A3 06 frame: {exc}")


def _parse(body: bytes) -> dict:
    dst = int.from_bytes(body[0:2], "little")
    if body[11] != PROTOCOL_VERSION:
        raise ValueError(f"protocol version {body[11]:02X}")
    data_len = int.from_bytes(body[12:14], "little")
    data = body[14:]
    if data_len != len(data):
        raise ValueError(f"data length {data_len}, frame has {len(data)}")
    if data[0:2] != b"\xA3\x06":
        return {"addr": dst, "kind": "other", "command": data[0:2].hex().upper()}
    deleted = data[5]
    pos = 6 + (deleted if deleted not in (0, 0xFF) else 0)
    count = data[pos]
    pos += 1
    lines: dict[int, bytes] = {}
    effect = None
    for _ in range(count):
        area_len = int.from_bytes(data[pos:pos + 2], "little")
        area = data[pos + 2:pos + 2 + area_len]
        if len(area) != area_len:
            raise ValueError("area runs past the frame")
        pos += 2 + area_len
        area_id = area[9]
        voice = area[14]
        at = 15
        if voice == 1:
            at += 3
        elif voice == 2:
            at += 3
            at += 4 + int.from_bytes(area[at:at + 4], "little")
        ext = area[at]
        at += 1 + ext
        effect = area[at + 3]
        at += 7
        text_len = int.from_bytes(area[at:at + 4], "little")
        text = area[at + 4:at + 4 + text_len]
        if len(text) != text_len or at + 4 + text_len != area_len:
            raise ValueError("display data length does not match the area length")
        lines[area_id] = text
    if pos != len(data):
        raise ValueError("bytes after the last area")
    names = {v: k for k, v in EFFECTS.items()}
    return {"addr": dst, "lines": [lines[k] for k in sorted(lines)], "effect": names.get(effect, effect)}
