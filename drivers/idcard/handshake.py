"""Vendor handshakes some ID-card readers demand before their SAM module answers: pure bytes.

``cvr100`` — the challenge of the CVR-100 family's serial SDK (北京海鑫智圣 THID_CVR_IDCard.c,
the ``CVR_100R`` build; public copy: github.com/tovasLuo/cvr_lib_identify, THID_CVR_IDCard.c,
``cmd_init0``, ``randCreateNum`` and ``authenticateCmdInit0``). The host sends a 17-byte frame::

    02 | 00 11 | 03 AA | ten challenge bytes | XOR | 03
    STX  length  cmd?    (random)               of bytes 1..14   ETX

(the reference's fixed frame is ``02 00 11 03 AA 00 01 02 03 04 05 06 07 08 09 B9 03``: B9 is
the XOR of ``00 11 03 AA 00 01 … 09``, and 0x0011 = 17 is the frame's length). The reader
answers with the same 17 bytes, challenge byte ``j`` XORed with ``j + 3``; the SDK compares the
whole answer with that. Which offsets ``randCreateNum``/``authenticateCmdInit0`` are called with
is not in the public copy: hwd takes the ten placeholder bytes (offsets 5..14, the ``00 01 … 09``
the SDK overwrites) as the challenge — derived, see docs/drivers/idcard.md.
"""

from __future__ import annotations

HANDSHAKES = ("cvr100",)

CVR100_HEAD = bytes.fromhex("02 00 11 03 AA")
CVR100_LEN = 17
CHALLENGE = slice(5, 15)


def _xor(data: bytes) -> int:
    value = 0
    for b in data:
        value ^= b
    return value


def cvr100_challenge(challenge: bytes) -> bytes:
    """The host's handshake frame for a ten-byte challenge."""
    if len(challenge) != 10:
        raise ValueError("the CVR-100 challenge is ten bytes")
    body = CVR100_HEAD + challenge
    return body + bytes([_xor(body[1:]), 0x03])


def cvr100_answer(frame: bytes) -> bytes:
    """What a CVR-100 reader answers to ``frame`` (authenticateCmdInit0's expected bytes)."""
    out = bytearray(frame)
    for j, i in enumerate(range(CHALLENGE.start, CHALLENGE.stop)):
        out[i] = (j + 3) ^ frame[i]
    return bytes(out)


def is_cvr100_challenge(frame: bytes) -> bool:
    return (len(frame) == CVR100_LEN and frame.startswith(CVR100_HEAD) and frame[-1] == 0x03
            and frame[15] == _xor(frame[1:15]))
