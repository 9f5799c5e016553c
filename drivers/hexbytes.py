"""Hex bytes as people write them in hwd's config (frame tokens, key codes, acks, prompts): one
parser for every driver, so ``"A5 01"``, ``"a501"``, ``"0xA5 0x01"`` and ``"0xA5, 0x01"`` mean the
same bytes wherever they are written.
"""

from __future__ import annotations

import re

_IGNORED = re.compile(r"[\s,]+")
_BYTES = re.compile(r"(?:0[xX])?((?:[0-9A-Fa-f]{2})+)")


def parse_hex(text: str) -> bytes:
    """``"A5"``, ``"A6 02"``, ``"a602"``, ``"0x06"``, ``"0xA5 0x01"``, ``"0xA501"``, ``"A5,01"`` → bytes.

    Whitespace and commas are ignored anywhere; each run of hex digits may start with ``0x``.
    ValueError for anything else: no bytes, an odd digit, a character that is not hex."""
    cleaned = _IGNORED.sub("", text)
    out = bytearray()
    pos = 0
    while pos < len(cleaned):
        match = _BYTES.match(cleaned, pos)
        if match is None:
            break
        out += bytes.fromhex(match.group(1))
        pos = match.end()
    if not out or pos != len(cleaned):
        raise ValueError(f"{text!r} is not hex bytes (write e.g. \"A5\", \"A6 02\" or \"0xA6 0x02\")")
    return bytes(out)
