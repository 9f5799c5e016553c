"""实名评价 (the rater's identity), opt-in: the card holder's name and ID number kept for the
province only, sealed, only until the province has the rating.

Off unless ``[hall.upstream] real_name = true``. Then a ticket issued with an ID card keeps its
holder sealed (AES-256-GCM under ``holder.key`` in the hall's keys directory, the ticket's id as
associated data, so a sealed row cannot be moved to another ticket) in ``rating_holders``, beside
the masked forms the bus already shows (``张*``, ``1101**********1234``) for ``hwctl upstream
preview``. The rating settles it in the rating's own transaction: with the citizen's consent
(``hall.rate`` ``real_name = true``, asked on the rating screen each time) the row is bound to the
rating; without it the row is deleted. A ticket that ends unrated loses its row too, and the
timer deletes what is left of finished tickets and anything older than ``HOLD_S``.

Only the province's sink opens a row (``Vault.holder``), in its own thread, and erases it once the
province has answered for good (sent, or refused for good). The holder never enters the outbox
payload (the county feed and ``hwctl outbox`` read that), an event, a log line or a capture.
Purpose and basis: docs/security.md (实名评价).
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
from typing import Any, Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hwd.privacy import mask_id, mask_name

log = logging.getLogger("hwd.hall.ratings.holders")

KEY_NAME = "holder"  # STATE_DIR/keys/holder.key (hwd.hall.hallkeys)
HOLD_S = 30 * 86400.0  # a consented holder the province never took is erased after this
UNSETTLED_S = 2 * 86400.0  # a holder without a rating: past any rating window (phones rate within a day)
NONCE_BYTES = 12
CERT_TYPE_ID_CARD = "111"  # 居民身份证, as the provinces' interfaces code it
PROP_PERSON = "1"  # 自然人 (a legal person is 2)

_FINISHED = ("SELECT id FROM tickets WHERE rating_state IN ('rated', 'unrated') "
             "OR state IN ('expired', 'no_show', 'cancelled')")


def _aad(ticket: int) -> bytes:
    return f"hwd-holder:{ticket}".encode("ascii")


def settle(db: sqlite3.Connection, ticket: int, rating: int | None) -> None:
    """In the rating's transaction: bind the ticket's holder to the rating (consent) or drop it."""
    if rating is None:
        db.execute("DELETE FROM rating_holders WHERE ticket = ?", (ticket,))
    else:
        db.execute("UPDATE rating_holders SET rating = ? WHERE ticket = ?", (rating, ticket))


def forget(db: sqlite3.Connection, ticket: int) -> None:
    """The ticket will never be rated (unrated, expired): its holder goes."""
    db.execute("DELETE FROM rating_holders WHERE ticket = ? AND rating IS NULL", (ticket,))


def purge(db: sqlite3.Connection, now: float) -> int:
    """Holders nobody needs any more: of finished tickets without consent, unsettled past
    ``UNSETTLED_S``, consented past ``HOLD_S``."""
    cur = db.execute(f"DELETE FROM rating_holders WHERE (rating IS NULL AND (ticket IN ({_FINISHED}) "
                     "OR stored_ts < ?)) OR stored_ts < ?", (now - UNSETTLED_S, now - HOLD_S))
    return cur.rowcount


def held(db: sqlite3.Connection, ticket: int) -> bool:
    """Whether ``ticket`` has a holder the citizen may consent to send (no key needed)."""
    return db.execute("SELECT 1 FROM rating_holders WHERE ticket = ? AND rating IS NULL", (ticket,)).fetchone() is not None


def shown(db: sqlite3.Connection, rating: int) -> dict | None:
    """The masked holder of a consented rating, for ``hwctl upstream preview`` (no key needed)."""
    row = db.execute("SELECT shown FROM rating_holders WHERE rating = ?", (rating,)).fetchone()
    return json.loads(row[0]) if row else None


def fields(card: dict) -> dict:
    """The holder as the profiles take it (``holder.*`` sources)."""
    return {"name": card.get("name") or "", "id_number": card.get("id_number") or "",
            "prop": PROP_PERSON, "cert_type": CERT_TYPE_ID_CARD}


class Vault:
    """Seals holders on the engine's thread; opens and erases them on the province sink's thread
    (a connection of its own per thread)."""

    def __init__(self, key: bytes, path: str, connect: Callable[..., sqlite3.Connection] = sqlite3.connect):
        self._aead = AESGCM(key[:32].ljust(32, b"\0"))
        self.path, self.connect = str(path), connect
        self._local = threading.local()

    def keep(self, db: sqlite3.Connection, ticket: int, card: dict, now: float) -> None:
        """After issuing ``ticket`` with ``card``: its holder, sealed."""
        holder = fields(card)
        if not holder["id_number"]:
            return
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, json.dumps(holder, ensure_ascii=False).encode("utf-8"),
                                            _aad(ticket))
        masked = {**holder, "name": mask_name(holder["name"]) or "", "id_number": mask_id(holder["id_number"]) or ""}
        db.execute("INSERT OR REPLACE INTO rating_holders (ticket, rating, sealed, shown, stored_ts) "
                   "VALUES (?, NULL, ?, ?, ?)", (ticket, sealed, json.dumps(masked, ensure_ascii=False), now))

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self.connect(self.path, isolation_level=None)
            db.execute("PRAGMA busy_timeout = 5000")
            self._local.db = db
        return db

    def holder(self, rating: int) -> dict:
        """The consented holder of ``rating`` in clear, or {} (anonymous)."""
        row = self._db().execute("SELECT ticket, sealed FROM rating_holders WHERE rating = ?", (rating,)).fetchone()
        if row is None:
            return {}
        ticket, sealed = row
        try:
            clear = self._aead.decrypt(bytes(sealed[:NONCE_BYTES]), bytes(sealed[NONCE_BYTES:]), _aad(ticket))
        except (InvalidTag, ValueError):
            log.warning("rating %d: its holder cannot be opened with this PC's holder key (copied from "
                        "another PC?); the rating goes anonymous", rating)
            return {}
        return json.loads(clear)

    def erase(self, rating: int) -> None:
        """The province has answered for good: the holder goes."""
        self._db().execute("DELETE FROM rating_holders WHERE rating = ?", (rating,))

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

