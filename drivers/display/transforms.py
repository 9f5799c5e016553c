"""Per-byte transforms some window screens apply to their text, both ways.

Found in the field (wangenheng/gitHub ``framework/src/CracksAlgorithm.cpp`` and the queue
``screen/*/*.cpp`` drivers): a controller without 8-bit-clean input takes every byte ≥ 0x80 as
two nibble bytes (``nibble_split``, 瑞泽 IMM9003); another wants a byte after every character —
one ASCII byte or a two-byte GB2312/GBK character — that is the character's **colour**
(``color_interleave``; 重庆中意 IMM9012 ``dataTrans`` always sends 00, red; uvbs/HospitalQueueSystem
``NurseStation/com/SLZCWndScreen.cpp`` ``DoScreenMsg`` sends 0, 1 or 2). Its old name
``zero_interleave`` still works. Each transform has an exact inverse for the emulator; ``undo``
raises ValueError on bytes the transform cannot have produced.
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


def color_interleave(data: bytes, colors: list[int] | None = None) -> bytes:
    """A colour byte after every character: ``colors[i]`` is the colour of byte i (its
    character's first byte counts); 0 for all without ``colors``."""
    out = bytearray()
    i = 0
    while i < len(data):
        b = data[i]
        color = colors[i] if colors is not None and i < len(colors) else 0
        if b & 0x80:
            # the reference reads the string's NUL terminator as the trail of a lone lead byte
            trail = data[i + 1] if i + 1 < len(data) else 0
            out += bytes([b, trail, color])
            i += 2
        else:
            out += bytes([b, color])
            i += 1
    return bytes(out)


def color_split(data: bytes) -> tuple[bytes, list[int]]:
    """Inverse of ``color_interleave``: the text and the colour of each of its bytes."""
    out = bytearray()
    colors: list[int] = []
    i = 0
    while i < len(data):
        b = data[i]
        step = 3 if b & 0x80 else 2
        chunk = data[i:i + step]
        if len(chunk) < step:
            raise ValueError(f"character at {i} has no colour byte")
        out += chunk[:-1]
        colors += [chunk[-1]] * (step - 1)
        i += step
    return bytes(out), colors


def color_strip(data: bytes) -> bytes:
    return color_split(data)[0]


def zero_interleave(data: bytes) -> bytes:
    """``color_interleave`` with every character red (00), as IMM9012 ``dataTrans`` sends it."""
    return color_interleave(data)


def zero_strip(data: bytes) -> bytes:
    """Inverse of ``zero_interleave``: raise ValueError unless every colour byte is 00."""
    text, colors = color_split(data)
    if any(colors):
        raise ValueError("a character is not followed by 00")
    return text


TRANSFORMS = {"nibble_split": (nibble_split, nibble_join), "color_interleave": (color_interleave, color_strip),
              "zero_interleave": (color_interleave, color_strip)}
COLORED = ("color_interleave", "zero_interleave")   # the transforms that carry a colour per character


def apply(names: tuple[str, ...], data: bytes, colors: list[int] | None = None) -> bytes:
    """Apply the transforms in order; ``colors`` (one per byte of ``data``) reach a colour
    transform only when it comes first, while the bytes are still the text's."""
    for i, name in enumerate(names):
        if name in COLORED:
            data = color_interleave(data, colors if i == 0 else None)
        else:
            data = TRANSFORMS[name][0](data)
    return data


def colors_of(names: tuple[str, ...], data: bytes) -> list[int] | None:
    """The colour of each byte of the text in transformed ``data``, when the first transform
    carries colours (None otherwise)."""
    if not names or names[0] not in COLORED:
        return None
    for name in reversed(names[1:]):
        data = TRANSFORMS[name][1](data)
    return color_split(data)[1]


def undo(names: tuple[str, ...], data: bytes) -> bytes:
    for name in reversed(names):
        data = TRANSFORMS[name][1](data)
    return data
