"""瑞泽 (Ruize) window screens: a banked two-byte address, text as nibbles, no checksum.

Clearer as code than as tokens because of the address: wangenheng/gitHub
``workspace-latest/queue/screen/IMM9003/IMM9003.cpp`` ``IMM9003::PacketMessage`` (lines 278–314)
sends ``80+(addr mod 64)`` and ``C0+(addr div 64)`` (four banks of 64 addresses, 0–255), then
``44``, the text with every byte ≥ 0x80 split into its two nibbles, then ``1A``. Every other byte
of the frame is < 0x80, so the address byte also marks where a frame starts.
"""

from __future__ import annotations

from drivers.display.protocol import Frame
from drivers.display.transforms import nibble_join, nibble_split
from hwd.stream import Buffer, Skip, StreamDecoder

COMMAND = 0x44
END = 0x1A
MAX_TEXT = 1024


def address_bytes(addr: int) -> bytes:
    if not 0 <= addr <= 255:
        raise ValueError(f"address {addr} is outside 0-255")
    return bytes([0x80 + (addr & 0x3F), 0xC0 + (addr >> 6)])


def frame(addr: int, text: bytes) -> bytes:
    return address_bytes(addr) + bytes([COMMAND]) + nibble_split(text) + bytes([END])


class RuizeCodec:
    encoding = "gbk"
    one_string = True

    def capacity(self, lines: int) -> int:
        return MAX_TEXT

    def hello(self, addr: int) -> list[bytes]:
        return []

    def update(self, lines: list[bytes], addr: int, effect: str,
               colors: list[list[int]] | None = None) -> list[bytes]:
        return [frame(addr, b" ".join(lines))]

    def decoder(self, name: str = "ruize") -> StreamDecoder:
        return StreamDecoder(check, name)


def check(buf: Buffer, pos: int) -> Frame | Skip | None:
    """The screen's side (hwd/stream.py's check): an address byte 80-BF starts a frame."""
    start = next((i for i in range(pos, len(buf)) if 0x80 <= buf[i] <= 0xBF), -1)
    if start < 0:
        return Skip(len(buf) - pos, "no start marker", noise=True)
    if start > pos:
        return Skip(start - pos, "bytes before the start marker", noise=True)
    if len(buf) - pos < 3:
        return None
    if not 0xC0 <= buf[pos + 1] <= 0xC3 or buf[pos + 2] != COMMAND:
        return Skip(1, f"expected a bank byte C0-C3 and 44, got {bytes(buf[pos + 1:pos + 3]).hex().upper()}")
    end = buf.find(END, pos + 3)
    if end < 0:
        if len(buf) - pos > 3 + 2 * MAX_TEXT:
            return Skip(1, "no end marker")
        return None
    raw = bytes(buf[pos:end + 1])
    body = raw[3:-1]
    if any(b & 0x80 for b in body):
        return Skip(1, "a byte ≥ 0x80 inside the text (a frame cut short?)")
    addr = (raw[0] - 0x80) + 64 * (raw[1] - 0xC0)
    try:
        return Frame({"addr": addr, "text": nibble_join(body)}, len(raw), raw)
    except ValueError as exc:
        return Skip(len(raw), f"text: {exc}")
