"""Pickup codes, and the ID card behind a deposit, kept only as keyed hashes.

A code is made from a random nonce and the hall's ``pickup`` key (hwd.hall.hallkeys): the deposit
row keeps the nonce and an HMAC of the code, so the hall can say the code again (the counter's
slip, the phone page, the notice) while a copy of the database alone neither shows a code nor
lets one be tested offline. The card's ID number is kept as the appointments keep it (``h1:``
HMAC under the ``appointment`` key, hwd.hall.queue.appointments), so a deposit for a ticket
booked with the ID card finds the same person.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


class Codes:
    def __init__(self, key: bytes, length: int):
        self.key, self.length = key, length

    def make(self) -> tuple[str, str]:
        """(nonce, code) of a new code."""
        nonce = secrets.token_hex(12)
        return nonce, self.code_of(nonce)

    def code_of(self, nonce: str) -> str:
        """The code a nonce stands for: ``length`` decimal digits."""
        mac = hmac.new(self.key, b"code:" + nonce.encode(), hashlib.sha256).digest()
        return str(int.from_bytes(mac, "big") % 10 ** self.length).zfill(self.length)

    def digest(self, code: str) -> str:
        """What the database keeps of a code, to find its deposit."""
        return "h1:" + hmac.new(self.key, b"find:" + code.encode(), hashlib.sha256).hexdigest()

    def clean(self, text: str) -> str | None:
        """A code as typed (spaces and dashes allowed between digits), or None when it cannot be one."""
        code = "".join(ch for ch in str(text) if ch not in " -")
        return code if len(code) == self.length and code.isascii() and code.isdigit() else None
