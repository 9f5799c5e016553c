"""Per-byte transforms some window screens apply to their text, both ways.

Found in the field (wangenheng/gitHub ``framework/src/CracksAlgorithm.cpp`` and the queue
``screen/*/*.cpp`` drivers): a controller without 8-bit-clean input takes every byte ≥ 0x80 as
two nibble bytes (``nibble_split``, 瑞泽 IMM9003); another wants a 00 after every character — one
ASCII byte or a two-byte GB2312/GBK character (``zero_interleave``, 重庆中意 IMM9012 ``dataTrans``).
Each transform has an exact inverse for the emulator; ``undo`` raises ValueError on bytes the
transform cannot have produced.
"""

from __future__ import annotations


def nibble_split(data: bytes) -> bytes:
    out = bytearray()
    for b in data:
        if b & 0x80:
            out += bytes([b >> 4, b & 0x0F])
        else:
            out.append(b)
    return bytes(out)


def nibble_join(data: bytes) -> bytes:
    """Inverse of nibble_split: a byte 08–0F followed by a byte 00–0F is one split byte."""
    out = bytearray()
    i = 0
    while i < len(data):
        b = data[i]
        if 0x08 <= b <= 0x0F and i + 1 < len(data) and data[i + 1] <= 0x0F:
            out.append(b << 4 | data[i + 1])
            i += 2
        elif b & 0x80:
            raise ValueError(f"byte {b:02X} at {i} should have been split into nibbles")
        else:
            out.append(b)
            i += 1
    return bytes(out)


def zero_interleave(data: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data):
        b = data[i]
        if b & 0x80:
            # the reference reads the string's NUL terminator as the trail of a lone lead byte
            trail = data[i + 1] if i + 1 < len(data) else 0
            out += bytes([b, trail, 0])
            i += 2
        else:
            out += bytes([b, 0])
            i += 1
    return bytes(out)


def zero_strip(data: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data):
        b = data[i]
        step = 3 if b & 0x80 else 2
        chunk = data[i:i + step]
        if len(chunk) < step or chunk[-1] != 0:
            raise ValueError(f"character at {i} is not followed by 00")
        out += chunk[:-1]
        i += step
    return bytes(out)


TRANSFORMS = {"nibble_split": (nibble_split, nibble_join), "zero_interleave": (zero_interleave, zero_strip)}


def apply(names: tuple[str, ...], data: bytes) -> bytes:
    for name in names:
        data = TRANSFORMS[name][0](data)
    return data


def undo(names: tuple[str, ...], data: bytes) -> bytes:
    for name in reversed(names):
        data = TRANSFORMS[name][1](data)
    return data
