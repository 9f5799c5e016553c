"""Checksums and CRCs of the drivers' frames, by their reveng catalogue names.

Screen vendors, bus keypads and lock boards each pick a check (XOR, 8-bit sum, a CRC-16); a frame
names it the way Greg Cook's CRC catalogue does (``CRC-16/ARC``, ``CRC-16/MODBUS``,
``CRC-16/XMODEM``, ``CRC-16/CCITT-FALSE``, …) or as one of the byte checks ``sum8`` / ``xor8``.
The byte checks are here; the CRCs are the ``crccheck`` library's, imported on first use, so a
driver or a config that names no CRC never needs it (it is the ``display`` extra).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

# the names the frame DSL had before it took catalogue names; kept so old configs stay valid
ALIASES = {"xor": "xor8", "crc16_modbus": "CRC-16/MODBUS", "crc16_ccitt": "CRC-16/CCITT-FALSE"}


def sum8(data: bytes) -> int:
    """The low byte of the sum of the bytes."""
    return sum(data) & 0xFF


def xor8(data: bytes) -> int:
    """The XOR of the bytes."""
    value = 0
    for b in data:
        value ^= b
    return value


@dataclass(frozen=True)
class Algorithm:
    name: str          # the catalogue name
    size: int          # bytes on the wire
    order: str         # default byte order on the wire: reflected CRCs low byte first
    calc: Callable[[bytes], int]

    def value(self, data: bytes) -> int:
        return self.calc(data)

    def wire(self, data: bytes, order: str | None = None) -> bytes:
        return self.value(data).to_bytes(self.size, order or self.order)


@lru_cache(maxsize=None)
def _catalogue() -> dict[str, Algorithm]:
    from crccheck import crc

    table: dict[str, Algorithm] = {
        "sum8": Algorithm("sum8", 1, "big", sum8),
        "xor8": Algorithm("xor8", 1, "big", xor8),
    }
    for cls in crc.ALLCRCCLASSES:
        names = getattr(cls, "_names", ()) or ()
        if not names or cls._width % 8:
            continue
        order = "little" if cls._reflect_output else "big"
        algo = Algorithm(names[0], cls._width // 8, order, lambda data, cls=cls: cls.calc(bytearray(data)))
        for name in names:
            table.setdefault(name.upper(), algo)
    return table


def lookup(name: str) -> Algorithm:
    """The algorithm called ``name`` (catalogue name, any case, or an alias); KeyError if unknown."""
    key = ALIASES.get(name, name)
    table = _catalogue()
    if key in table:
        return table[key]
    if key.upper() in table:
        return table[key.upper()]
    raise KeyError(name)


def is_checksum_name(name: str) -> bool:
    """Whether a token name looks like a check (so an unknown CRC gets a helpful message)."""
    key = ALIASES.get(name, name)
    return key.upper().startswith("CRC") or key in ("sum8", "xor8")


def known_names() -> list[str]:
    return sorted({a.name for a in _catalogue().values()})
