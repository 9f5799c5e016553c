"""What of an ID card may leave the reader in clear: the masked summary carried by
``idcard.inserted``, and what the hall keeps of a card (a ticket's holder as ``张*``, the age for
the elderly priority class).

Personal data never goes on the event bus or into logs in clear (PIPL). The event carries the
name's first character (``张*``), the ID number's region and last four
(``110101********1234``), the age, sex and card type, and a short-lived token that resolves to the
full card by RPC. Used by the idcard driver (drivers/idcard) and the hall (hwd.hall.issuing).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from hwd.clock import wall


def mask_name(name: str | None) -> str | None:
    """``张三丰`` → ``张*``; ``SMITH JOHN`` → ``S*``."""
    name = (name or "").strip()
    return name[0] + "*" if name else None


def mask_id(number: str | None) -> str | None:
    """Keep the region (first 6; first 3 for shorter numbers) and the last 4 characters."""
    number = (number or "").strip()
    if not number:
        return None
    if len(number) <= 8:
        return "*" * len(number)
    head = 6 if len(number) >= 18 else 3
    return number[:head] + "*" * (len(number) - head - 4) + number[-4:]


def age_on(birth: str | None, today: _dt.date | None = None) -> int | None:
    """Whole years from an ISO birth date to ``today``."""
    if not birth:
        return None
    try:
        born = _dt.date.fromisoformat(birth)
    except ValueError:
        return None
    today = today or _dt.date.fromtimestamp(wall())
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def masked_summary(card: dict[str, Any], today: _dt.date | None = None) -> dict[str, Any]:
    """The fields of ``idcard.inserted`` (without device and token)."""
    return {"name": mask_name(card.get("name") or card.get("name_en")),
            "id_masked": mask_id(card.get("id_number")),
            "age": age_on(card.get("birth"), today),
            "sex": card.get("sex"),
            "card_type": card.get("card_type")}
