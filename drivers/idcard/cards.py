"""The 256-byte text block of Chinese ID cards <-> the card dict of ``idcard.read`` (docs/drivers/idcard.md).

Four layouts share the block, told apart by the character at byte 248 (docs/drivers/idcard.md):
resident ID card, ``J`` Hong Kong/Macao/Taiwan residence permit, ``I`` foreign permanent
resident card (pre-2023) and ``Y`` foreign permanent resident card (2023). Text is UCS-2LE,
space padded. ``decode`` turns a block (plus the photo and the optional additional address)
into the card dict; ``encode`` is its inverse, used by the emulator to speak real bytes.
Pure: no I/O, no logging (the values are personal data).
"""

from __future__ import annotations

import base64
import datetime as _dt
from typing import Any

from drivers.idcard.protocol import PHOTO_LEN, TEXT_LEN, IdCardError

CARD_FIELDS = ("card_type", "name", "name_en", "sex", "nation", "birth", "address", "id_number",
               "authority", "valid_from", "valid_to", "long_term", "pass_number", "nationality",
               "photo_wlt")
CARD_TYPES = ("resident", "hkmotw", "foreign", "foreign2023")
LONG_TERM = "长期"
FLAG_OFFSET = 248
FLAGS = {"hkmotw": "J", "foreign": "I", "foreign2023": "Y"}

SEX = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}
NATIONS = ("汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶",
           "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水",
           "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南",
           "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂",
           "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺")
NATION = {f"{i + 1:02d}": name for i, name in enumerate(NATIONS)}
NATION.update({"97": "其他", "98": "外国血统"})

# (field, byte offset, byte length) per layout; dates and codes are converted after slicing
LAYOUTS: dict[str, tuple[tuple[str, int, int], ...]] = {
    "resident": (("name", 0, 30), ("sex", 30, 2), ("nation", 32, 4), ("birth", 36, 16),
                 ("address", 52, 70), ("id_number", 122, 36), ("authority", 158, 30),
                 ("valid_from", 188, 16), ("valid_to", 204, 16)),
    "hkmotw": (("name", 0, 30), ("sex", 30, 2), ("birth", 36, 16), ("address", 52, 70),
               ("id_number", 122, 36), ("authority", 158, 30), ("valid_from", 188, 16),
               ("valid_to", 204, 16), ("pass_number", 220, 18), ("issue_count", 238, 4)),
    "foreign": (("name_en", 0, 120), ("sex", 120, 2), ("id_number", 122, 30),
                ("nationality", 152, 6), ("name", 158, 30), ("valid_from", 188, 16),
                ("valid_to", 204, 16), ("birth", 220, 16), ("version", 236, 4),
                ("authority", 240, 8)),
    "foreign2023": (("name", 0, 30), ("sex", 30, 2), ("renewal_count", 32, 4), ("birth", 36, 16),
                    ("name_en", 52, 70), ("id_number", 122, 36), ("valid_from", 188, 16),
                    ("valid_to", 204, 16), ("name_en_2", 220, 22), ("nationality", 242, 6)),
}


class CardFormatError(IdCardError, ValueError):
    """A text block that cannot be a card (wrong size, not UCS-2)."""


def layout_of(text: bytes) -> str:
    flag = text[FLAG_OFFSET:FLAG_OFFSET + 2].decode("utf-16-le", errors="replace")
    return {"J": "hkmotw", "I": "foreign", "Y": "foreign2023"}.get(flag, "resident")


def _field(text: bytes, offset: int, length: int) -> str:
    return text[offset:offset + length].decode("utf-16-le", errors="replace").strip(" \x00")


def iso_date(value: str) -> str | None:
    """``19900307`` → ``1990-03-07``; anything that is not a real date → None."""
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return _dt.date(int(value[:4]), int(value[4:6]), int(value[6:])).isoformat()
    except ValueError:
        return None


def decode(text: bytes, photo: bytes = b"", extra_address: bytes | None = None) -> dict[str, Any]:
    """A text block (+ photo, + additional address) → the contract card dict."""
    if len(text) != TEXT_LEN:
        raise CardFormatError(f"text block is {len(text)} bytes, expected {TEXT_LEN}")
    card_type = layout_of(text)
    raw = {name: _field(text, offset, length) for name, offset, length in LAYOUTS[card_type]}
    card: dict[str, Any] = dict.fromkeys(CARD_FIELDS)
    card["card_type"] = card_type
    for key in ("name", "name_en", "address", "id_number", "authority", "pass_number", "nationality"):
        card[key] = raw.get(key) or None
    if card_type == "foreign2023":
        # the second part continues a full first part: spaces at the seam are real
        first = text[52:122].decode("utf-16-le", errors="replace")
        second = text[220:242].decode("utf-16-le", errors="replace").rstrip(" \x00")
        card["name_en"] = (first + second if second else first).strip(" \x00") or None
    card["sex"] = SEX.get(raw["sex"], raw["sex"] or None)
    if "nation" in raw:
        card["nation"] = NATION.get(raw["nation"], raw["nation"] or None)
    card["birth"] = iso_date(raw["birth"])
    card["valid_from"] = iso_date(raw["valid_from"])
    card["long_term"] = raw["valid_to"] == LONG_TERM
    card["valid_to"] = None if card["long_term"] else iso_date(raw["valid_to"])
    card["photo_wlt"] = base64.b64encode(photo).decode("ascii") if photo else None
    # extension of the contract: the 追加住址 written on the chip after a move
    card["address_extra"] = None
    if extra_address:
        card["address_extra"] = extra_address.decode("utf-16-le", errors="replace").strip(" \x00") or None
    return card


# -- encoding (the emulator's side) ----------------------------------------------------------
_SEX_CODE = {word: code for code, word in SEX.items()}
_NATION_CODE = {word: code for code, word in NATION.items()}


def _put(block: bytearray, offset: int, length: int, value: str | None) -> None:
    data = (value or "").encode("utf-16-le")
    if len(data) > length:
        raise CardFormatError(f"value of {len(value or '')} characters does not fit {length // 2}")
    block[offset:offset + length] = data + " ".encode("utf-16-le") * ((length - len(data)) // 2)


def _compact_date(value: str | None) -> str:
    return (value or "").replace("-", "")


def encode(card: dict[str, Any]) -> bytes:
    """The contract card dict → the 256-byte text block a reader would return."""
    card_type = card.get("card_type") or "resident"
    if card_type not in CARD_TYPES:
        raise CardFormatError(f"unknown card type {card_type!r}")
    block = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    values: dict[str, str | None] = {
        "name": card.get("name"), "name_en": card.get("name_en"),
        "sex": _SEX_CODE.get(card.get("sex") or "", card.get("sex") or ""),
        "nation": _NATION_CODE.get(card.get("nation") or "", card.get("nation") or ""),
        "birth": _compact_date(card.get("birth")), "address": card.get("address"),
        "id_number": card.get("id_number"), "authority": card.get("authority"),
        "valid_from": _compact_date(card.get("valid_from")),
        "valid_to": LONG_TERM if card.get("long_term") else _compact_date(card.get("valid_to")),
        "pass_number": card.get("pass_number"), "nationality": card.get("nationality"),
        "issue_count": card.get("issue_count", "01"), "version": card.get("version", "01"),
        "renewal_count": card.get("renewal_count", "00"),
    }
    if card_type == "foreign2023":
        english = values["name_en"] or ""
        values["name_en"], values["name_en_2"] = english[:35], english[35:]
    for name, offset, length in LAYOUTS[card_type]:
        _put(block, offset, length, values.get(name))
    if card_type in FLAGS:
        _put(block, FLAG_OFFSET, 2, FLAGS[card_type])
    return bytes(block)


def encode_photo(card: dict[str, Any]) -> bytes:
    photo = base64.b64decode(card["photo_wlt"]) if card.get("photo_wlt") else b""
    return photo.ljust(PHOTO_LEN, b"\x00")[:PHOTO_LEN]


def encode_address(text: str | None) -> bytes:
    block = bytearray(70)
    _put(block, 0, 70, text)
    return bytes(block)


# -- helpers for synthetic fixtures ----------------------------------------------------------
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_digit(first17: str) -> str:
    """GB 11643 check character of an 18-character ID number."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return "10X98765432"[total % 11]


def synthetic_wlt(seed: str) -> bytes:
    """1024 bytes shaped like a WLT photo (its real header, then deterministic filler)."""
    import hashlib

    body = b""
    counter = 0
    while len(body) < PHOTO_LEN:
        body += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return (b"WLf\x00~\x00" + body)[:PHOTO_LEN]
