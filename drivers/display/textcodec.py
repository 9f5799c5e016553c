"""Text to screen bytes in a legacy encoding, without ever failing on a character.

A clerk's name or a rare character (生僻字) may not exist in GB2312; the screen must still show
the rest. Characters the encoding cannot hold become ``replace_char`` and are counted, so the
driver can log them.
"""

from __future__ import annotations

ENCODINGS = ("gb2312", "gbk", "gb18030", "utf-8", "ascii")


def encode_text(text: str, encoding: str, replace_char: str = "?") -> tuple[bytes, list[str]]:
    """Return the encoded bytes and the characters that had to be replaced."""
    try:
        return text.encode(encoding), []
    except UnicodeEncodeError:
        pass
    try:
        fallback = replace_char.encode(encoding)
    except UnicodeEncodeError:
        fallback = b"?"
    out = bytearray()
    missing: list[str] = []
    for ch in text:
        try:
            out += ch.encode(encoding)
        except UnicodeEncodeError:
            out += fallback
            missing.append(ch)
    return bytes(out), missing


def decode_text(data: bytes, encoding: str) -> str:
    return data.decode(encoding, errors="replace")
