"""The SAM frame protocol of second-generation ID-card readers, as pure bytes <-> values.

Kept free of I/O (Klipper style) so that the driver, the emulator and the property tests share
one definition of a frame. Frame, both directions, as the public implementations agree
(HslCommunication ``Profinet/IDCard/SAMSerial.cs``, ``hevz/hev-idcard-reader``, ``heavyii/cardreader``)::

    AA AA AA 96 69 | LEN (2, big-endian) | body | CHK

``LEN`` counts every byte after itself including ``CHK``; ``CHK`` is the XOR of the ``LEN``
bytes and the body. A host body is ``CMD PARA [data]``, a reader body ``SW1 SW2 SW3 [data]``.

``check`` is the frame's check function for the shared stream decoder (hwd/stream.py; ``decoder``
makes one): bytes go in as they arrive (a frame may be split across reads, and garbage may
precede it), complete frames and rejected frames come out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hwd.stream import Buffer, Skip, StreamDecoder

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = 7            # preamble + LEN
MIN_LEN = 3               # smallest LEN: a two-byte body (CMD PARA) + CHK
MAX_LEN = 0x0A00          # largest reply we accept: read with a 1024-byte fingerprint is 0x090A

# host commands (CMD, PARA)
RESET = (0x10, 0xFF)
SAM_STATUS = (0x11, 0xFF)
SAM_ID = (0x12, 0xFF)
FIND = (0x20, 0x01)
SELECT = (0x20, 0x02)
READ = (0x30, 0x01)
READ_FINGERPRINT = (0x30, 0x10)
READ_EXTRA_ADDRESS = (0x30, 0x03)

# SW3 values
OK = 0x90
FIND_OK = 0x9F
NO_CONTENT = 0x91
FIND_FAILED = 0x80
SELECT_FAILED = 0x81

SW3_NAMES = {
    0x90: "ok",
    0x9F: "find_ok",
    0x91: "no_content",
    0x10: "checksum_error",
    0x11: "length_error",
    0x21: "command_error",
    0x23: "unauthorised",
    0x24: "unknown_error",
    0x31: "card_auth_sam_failed",
    0x32: "sam_auth_card_failed",
    0x33: "verification_error",
    # 尚未找卡，不能进行对卡的操作: a card command before a card was found (the SDKs' error
    # tables, e.g. the VB module mdlCard (lCanNotOperateCard = 52 '0x34') and the Java
    # com.ntga.card.Error.GetErrorText in public code)
    0x34: "card_not_found_yet",
    # 0x37 and 0x3F: readers answer them, but no public SAM / GA 467 reference found names them
    0x37: "reader_status_37_unnamed",
    0x3F: "reader_status_3f_unnamed",
    0x40: "unknown_card_type",
    0x41: "read_failed",
    0x47: "random_number_failed",
    0x60: "sam_self_test_failed",
    0x66: "sam_not_authorised",
    0x80: "find_failed",
    0x81: "select_failed",
}

TEXT_LEN = 256
PHOTO_LEN = 1024


class IdCardError(Exception):
    """Base of the ID-card package's errors."""


class SamError(IdCardError):
    """The reader answered with an SW3 other than success; ``name`` is from ``SW3_NAMES``."""

    def __init__(self, sw3: int, command: tuple[int, int] | None = None):
        self.sw3 = sw3
        self.name = sw3_name(sw3)
        self.command = command
        where = f" to {command[0]:02X} {command[1]:02X}" if command else ""
        super().__init__(f"reader answered {self.name} (SW3 {sw3:02X}){where}")


class FrameError(IdCardError):
    """A frame was rejected (bad checksum, bad LEN) or did not arrive."""


def sw3_name(sw3: int) -> str:
    return SW3_NAMES.get(sw3, f"sw3_{sw3:02x}")


def checksum(data: bytes) -> int:
    value = 0
    for b in data:
        value ^= b
    return value


def build_frame(body: bytes) -> bytes:
    """Wrap a body (host: CMD PARA data; reader: SW1 SW2 SW3 data) into a frame."""
    length = len(body) + 1
    if length > 0xFFFF:
        raise ValueError("body too long for a SAM frame")
    lenbytes = length.to_bytes(2, "big")
    return PREAMBLE + lenbytes + body + bytes([checksum(lenbytes + body)])


def request(command: tuple[int, int], data: bytes = b"") -> bytes:
    return build_frame(bytes(command) + data)


def reply(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return build_frame(bytes((sw1, sw2, sw3)) + data)


@dataclass(frozen=True)
class Frame:
    """A checked frame: its body (without LEN and CHK)."""

    body: bytes

    @property
    def size(self) -> int:
        """Its bytes on the wire."""
        return HEADER_LEN + len(self.body) + 1

    @property
    def sw3(self) -> int:
        return self.body[2] if len(self.body) >= 3 else -1

    @property
    def data(self) -> bytes:
        return self.body[3:]


def check(buf: Buffer, pos: int) -> Frame | Skip | None:
    """A frame at ``pos`` of ``buf``, bytes to skip, or None (need more): hwd/stream.py's check.

    Bytes before a preamble are noise (a tail that may begin a preamble is kept). A rejected
    frame (reason ``length``: LEN out of range; ``checksum``) skips one byte only, so a good
    frame hidden behind a corrupt one is still found."""
    start = buf.find(PREAMBLE, pos)
    if start < 0:
        rest = len(buf) - pos
        keep = next((k for k in range(min(len(PREAMBLE) - 1, rest), 0, -1) if buf.endswith(PREAMBLE[:k])), 0)
        return Skip(rest - keep, "no preamble", noise=True) if rest > keep else None
    if start > pos:
        return Skip(start - pos, "no preamble", noise=True)
    if len(buf) - pos < HEADER_LEN:
        return None
    length = int.from_bytes(buf[pos + 5:pos + 7], "big")
    if length < MIN_LEN or length > MAX_LEN:
        return Skip(1, "length")
    total = HEADER_LEN + length
    if len(buf) - pos < total:
        return None
    if checksum(buf[pos + 5:pos + total - 1]) != buf[pos + total - 1]:
        return Skip(1, "checksum")
    return Frame(bytes(buf[pos + HEADER_LEN:pos + total - 1]))


def decoder(name: str = "", logger: Any = None) -> StreamDecoder:
    """A stream decoder of SAM frames; ``name`` (or ``logger``) says whose in its log lines."""
    return StreamDecoder(check, name, max_frame=HEADER_LEN + MAX_LEN, logger=logger)


@dataclass(frozen=True)
class ReadData:
    """The payload of a successful read (30 01 / 30 10)."""

    text: bytes
    photo: bytes
    fingerprint: bytes = b""


def parse_read(data: bytes, fingerprint: bool = False) -> ReadData:
    """Split a read reply's data (after SW3) into text, photo and fingerprint blocks.

    The data starts with big-endian length words: text and photo, plus fingerprint for 30 10.
    """
    words = 3 if fingerprint else 2
    if len(data) < 2 * words:
        raise FrameError("read reply too short for its length words")
    lengths = [int.from_bytes(data[2 * i:2 * i + 2], "big") for i in range(words)]
    offset = 2 * words
    if len(data) != offset + sum(lengths):
        raise FrameError(f"read reply holds {len(data)} bytes, its length words say {offset + sum(lengths)}")
    text = data[offset:offset + lengths[0]]
    photo = data[offset + lengths[0]:offset + lengths[0] + lengths[1]]
    return ReadData(text, photo, data[offset + lengths[0] + lengths[1]:])


def build_read(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> bytes:
    """The data part of a read reply (the inverse of ``parse_read``)."""
    words = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
    if fingerprint is not None:
        words += len(fingerprint).to_bytes(2, "big")
    return words + text + photo + (fingerprint or b"")
