"""The ``WKLY`` frame of the common RS-485 lock-control boards (锁控板) of document lockers, as
pure bytes <-> values.

A frame, host to board and board to host alike::

    57 4B 4C 59  LEN  ADDR  CMD  DATA…  XOR

``57 4B 4C 59`` is the start code ("WKLY"); ``LEN`` the length of the **whole** frame, start
code and checksum included (so 8 + the data); ``ADDR`` the board's address (its DIP switches);
``CMD`` the command word; ``XOR`` the XOR of every byte before it, start code included.
Commands 0x80–0x89 and the reply layouts (a status byte 00 success / FF failure, then the
channel and the door state 00 open / 01 closed / FF failure) are the ones of junerver/LockDemo
``LockCtlBoardCmdHelper.java`` and of an independent ESP32 driver of the same boards
(``lock_controller_driver.h``); docs/drivers/locker.md says which byte comes from where, and
tests/drivers/locker/wkly_refs.py transcribes their byte fixtures.

``check(buf, pos)`` is the frame's check function for the shared stream decoder (hwd/stream.py):
need more bytes, skip bad bytes, or a frame. A rejected frame is skipped one byte at a time, so
a frame hidden behind garbage that happened to start with 0x57 is still found (the ESP32
parser's resync note: ``57 57 4B 4C 59`` must not lose the real frame).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.checksums import xor8
from hwd.stream import Buffer, Skip

START = b"WKLY"                 # 57 4B 4C 59
HEADER = len(START) + 3         # start code, LEN, ADDR, CMD
MIN_FRAME = HEADER + 1          # no data: 8 bytes (57 4B 4C 59 08 00 84 85)
MAX_FRAME = 0xFF                # LEN is one byte

# command words (LockCtlBoardCmdHelper.java CMD_*; lock_controller_driver.h CMD_*)
OPEN_SEVERAL = 0x80      # 同时开多个锁: data = count, channels…; reply: status
FLASH = 0x81             # 通道闪烁: data = channel; reply: status, channel
OPEN = 0x82              # 开单个锁: data = channel; reply: status, channel, door state
STATUS = 0x83            # 查询单个门状态: data = channel; reply: status, channel, door state
STATUS_ALL = 0x84        # 查询所有门状态: no data; reply: status, count, one door state per channel
UPLOAD = 0x85            # 主动上传门状态变化 (board to host, unasked): channel, door state
OPEN_ALL = 0x86          # 开全部锁: no data; reply: status
OPEN_SEQUENTIAL = 0x87   # 逐一开多锁: data = count, channels…; reply: status
KEEP_OPEN = 0x88         # 通道持续打开: data = channel; reply: status, channel
CLOSE_CHANNEL = 0x89     # 通道关闭: data = channel; reply: status, channel
COMMANDS = {OPEN_SEVERAL: "open_several", FLASH: "flash", OPEN: "open", STATUS: "status",
            STATUS_ALL: "status_all", UPLOAD: "upload", OPEN_ALL: "open_all", OPEN_SEQUENTIAL: "open_sequential",
            KEEP_OPEN: "keep_open", CLOSE_CHANNEL: "close_channel"}

SUCCESS, FAILED = 0x00, 0xFF            # the status byte of a reply
DOOR_OPEN, DOOR_CLOSED, DOOR_FAILED = 0x00, 0x01, 0xFF
DOOR_STATES = {DOOR_OPEN: "open", DOOR_CLOSED: "closed"}   # anything else: "unknown"


class WklyError(ValueError):
    """A value that does not fit the frame (a channel past 255, too much data)."""


@dataclass(frozen=True)
class Frame:
    addr: int
    cmd: int
    data: bytes
    raw: bytes = b""

    @property
    def size(self) -> int:
        return len(self.raw)


def encode(addr: int, cmd: int, data: bytes = b"") -> bytes:
    """The frame to (or from) board ``addr``: length and checksum filled in."""
    length = MIN_FRAME + len(data)
    if length > MAX_FRAME:
        raise WklyError(f"a WKLY frame is at most {MAX_FRAME} bytes; this one would be {length}")
    if not 0 <= addr <= 0xFF or not 0 <= cmd <= 0xFF:
        raise WklyError("address and command are one byte each")
    body = START + bytes([length, addr, cmd]) + bytes(data)
    return body + bytes([xor8(body)])


def check(buf: Buffer, pos: int = 0) -> Frame | Skip | None:
    """A frame at ``pos`` of ``buf``, bytes to skip, or None (need more bytes)."""
    if pos >= len(buf):
        return None
    at = buf.find(START[:1], pos)
    if at < 0:
        return Skip(len(buf) - pos, "no start code", noise=True)
    if at > pos:
        return Skip(at - pos, "bytes before the start code", noise=True)
    head = bytes(buf[pos:pos + len(START)])
    if not START.startswith(head):
        return Skip(1, "not a start code", noise=True)
    if len(head) < len(START) or len(buf) - pos < len(START) + 1:
        return None
    length = buf[pos + len(START)]
    if length < MIN_FRAME:
        return Skip(1, f"length {length} is shorter than a frame")
    if len(buf) - pos < length:
        return None
    end = pos + length - 1
    if xor8(buf[pos:end]) != buf[end]:
        return Skip(1, "checksum")
    raw = bytes(buf[pos:pos + length])
    return Frame(raw[5], raw[6], raw[HEADER:-1], raw)


def address_of(frame: Frame) -> int:
    return frame.addr


# -- host to board ---------------------------------------------------------------------------
def _channel(channel: int) -> bytes:
    if not 0 <= channel <= 0xFF:
        raise WklyError(f"channel {channel} does not fit one byte")
    return bytes([channel])


def open_door(addr: int, channel: int) -> bytes:
    return encode(addr, OPEN, _channel(channel))


def query_door(addr: int, channel: int) -> bytes:
    return encode(addr, STATUS, _channel(channel))


def query_all(addr: int) -> bytes:
    return encode(addr, STATUS_ALL)


def open_several(addr: int, channels: list[int], sequential: bool = False) -> bytes:
    data = bytes([len(channels)]) + b"".join(_channel(c) for c in channels)
    return encode(addr, OPEN_SEQUENTIAL if sequential else OPEN_SEVERAL, data)


# -- board to host ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DoorReply:
    """A reply to 0x82 (open) or 0x83 (status of one door), or a 0x85 upload (``status`` None)."""

    status: int | None
    channel: int
    state: int

    @property
    def ok(self) -> bool:
        return self.status in (None, SUCCESS)

    @property
    def door(self) -> str:
        return DOOR_STATES.get(self.state, "unknown")


def door_reply(frame: Frame) -> DoorReply | None:
    """The door in a 0x82/0x83 reply (status, channel, state) or a 0x85 upload (channel,
    state); None when the frame is not one of them or too short."""
    d = frame.data
    if frame.cmd in (OPEN, STATUS) and len(d) >= 3:
        return DoorReply(d[0], d[1], d[2])
    if frame.cmd == UPLOAD and len(d) >= 2:
        return DoorReply(None, d[0], d[1])
    return None


def all_doors(frame: Frame) -> tuple[int, list[int]] | None:
    """(status, the state of channel 1, 2, …) of a 0x84 reply; None when it is not one. A count
    larger than the states that follow is cut to them (LockDemo reads ``9 + i < length``)."""
    d = frame.data
    if frame.cmd != STATUS_ALL or len(d) < 2:
        return None
    return d[0], list(d[2:2 + d[1]])


def status_of(frame: Frame) -> int | None:
    """The status byte every reply but the 0x85 upload starts its data with."""
    if frame.cmd == UPLOAD or not frame.data:
        return None
    return frame.data[0]


def reply(addr: int, cmd: int, data: bytes) -> bytes:
    """A board's reply (the emulator's): the same frame shape, to the host."""
    return encode(addr, cmd, data)
