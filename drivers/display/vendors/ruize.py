"""瑞泽 (Ruize) window screens: a banked two-byte address, text as nibbles, no checksum.

Clearer as code than as tokens because of the address: wangenheng/gitHub
``workspace-latest/queue/screen/IMM9003/IMM9003.cpp`` ``IMM9003::PacketMessage`` (lines 278–314)
sends ``80+(addr mod 64)`` and ``C0+(addr div 64)`` (four banks of 64 addresses, 0–255), then
``44``, the text with every byte ≥ 0x80 split into its two nibbles, then ``1A``. Every other byte
of the frame is < 0x80, so the address byte also marks where a frame starts.
"""

from __future__ import annotations

from drivers.display.protocol import Bad, Frame
from drivers.display.transforms import nibble_join, nibble_split

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

    def update(self, lines: list[bytes], addr: int, effect: str) -> list[bytes]:
        return [frame(addr, b" ".join(lines))]

    def decoder(self) -> "RuizeDecoder":
        return RuizeDecoder()


class RuizeDecoder:
    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list:
        self.buffer += data
        out: list = []
        while self.buffer:
            start = next((i for i, b in enumerate(self.buffer) if 0x80 <= b <= 0xBF), -1)
            if start < 0:
                out.append(Bad("no start marker", len(self.buffer)))
                self.buffer.clear()
                break
            if start:
                out.append(Bad("bytes before the start marker", start))
                del self.buffer[:start]
                continue
            if len(self.buffer) < 3:
                break
            if not 0xC0 <= self.buffer[1] <= 0xC3 or self.buffer[2] != COMMAND:
                out.append(Bad(f"expected a bank byte C0-C3 and 44, got {bytes(self.buffer[1:3]).hex().upper()}", 1))
                del self.buffer[:1]
                continue
            end = self.buffer.find(END, 3)
            if end < 0:
                if len(self.buffer) > 3 + 2 * MAX_TEXT:
                    out.append(Bad("no end marker", 1))
                    del self.buffer[:1]
                    continue
                break
            raw = bytes(self.buffer[:end + 1])
            body = raw[3:-1]
            if any(b & 0x80 for b in body):
                out.append(Bad("a byte ≥ 0x80 inside the text (a frame cut short?)", 1))
                del self.buffer[:1]
                continue
            del self.buffer[:end + 1]
            addr = (raw[0] - 0x80) + 64 * (raw[1] - 0xC0)
            try:
                out.append(Frame({"addr": addr, "text": nibble_join(body)}, len(raw), raw))
            except ValueError as exc:
                out.append(Bad(f"text: {exc}", len(raw)))
        return out

    def flush(self) -> list:
        """The line went quiet: a frame still waiting for its 1A was cut short."""
        out = [Bad("frame cut short", len(self.buffer))] if self.buffer else []
        self.buffer.clear()
        return out
