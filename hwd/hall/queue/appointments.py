"""Appointments (预约办理): booked with a code (shown as a QR code to scan at the kiosk) and
optionally the citizen's ID number, checked in by code or by swiping the ID card.

The ID number is never stored: only an HMAC-SHA256 of it under the hall's ``appointment`` key,
a file outside the database (hwd.hall.hallkeys), so a card swipe can find the booking while a
copy of the database alone cannot be searched for ID numbers. Bookings made before the key
(salted SHA-256 with the salt in the database) are still found, and re-keyed when found. A check-in within the slot (from ``early_minutes`` before to ``late_minutes`` after)
gets the ``appointment`` priority class; outside it the ticket is a normal one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from hwd import errors
from hwd.hall import views
from hwd.wording import Refusal

if TYPE_CHECKING:
    from hwd.hall.queue.core import HallCore


class Appointments:
    def __init__(self, core: "HallCore", key: bytes):
        self.core = core
        self.store = core.store
        self.key = key

    def person_key(self, id_number: str) -> str:
        return "h1:" + hmac.new(self.key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()

    def _legacy_key(self, id_number: str) -> str | None:
        salt = self.store.meta("person_salt")
        return None if salt is None else hashlib.sha256(f"{salt}:{id_number.upper()}".encode()).hexdigest()

    def book(self, service: str, slot: dt.datetime, code: str | None = None, id_number: str | None = None,
             minutes: int | None = None) -> dict:
        core = self.core
        if service not in core.cfg.services:
            raise Refusal(errors.UNKNOWN_SERVICE, "", {"service": service})
        code = code.strip() if code is not None else self.new_code()
        if not code or len(code) > 64 or any(ch.isspace() or not ch.isprintable() for ch in code):
            raise Refusal(errors.INVALID_PARAMS, "appointment_code", {"code": code})
        end = slot + dt.timedelta(minutes=minutes or core.cfg.appt_slot_minutes)
        person = self.person_key(id_number) if id_number else None
        with self.store.tx():
            if self.store.one("SELECT code FROM appointments WHERE code = ?", (code,)):
                raise Refusal(errors.BAD_STATE, "appointment_exists", {"code": code}, code=code)
            self.store.db.execute("INSERT INTO appointments (code, service, slot_ts, slot_end, person, created_ts) "
                                  "VALUES (?, ?, ?, ?, ?, ?)", (code, service, slot.timestamp(), end.timestamp(),
                                                                person, core.clock.time()))
        return self.view(self.find(code=code))

    def new_code(self) -> str:
        """A code of ``[hall.appointments] code_alphabet`` (digits by default: the kiosk keypad)."""
        cfg = self.core.cfg
        return "".join(secrets.choice(cfg.appt_code_alphabet) for _ in range(cfg.appt_code_length))

    def find(self, code: str | None = None, id_number: str | None = None) -> dict:
        row = None
        if code:
            row = self.store.one("SELECT * FROM appointments WHERE code = ?", (code.strip(),))
        elif id_number:
            day_start = dt.datetime.combine(self.core.clock.now().date(), dt.time(), self.core.tz).timestamp()
            sql = ("SELECT * FROM appointments WHERE person = ? AND slot_ts >= ? AND slot_ts < ? "
                   "ORDER BY slot_ts LIMIT 1")
            key = self.person_key(id_number)
            row = self.store.one(sql, (key, day_start, day_start + 86400))
            legacy = self._legacy_key(id_number) if row is None else None
            if legacy is not None:
                row = self.store.one(sql, (legacy, day_start, day_start + 86400))
                if row is not None:
                    with self.store.tx():
                        self.store.db.execute("UPDATE appointments SET person = ? WHERE person = ?", (key, legacy))
                    row["person"] = key
        if row is None:
            raise Refusal(errors.UNKNOWN_APPOINTMENT)
        return row

    def in_slot(self, row: dict) -> bool:
        now = self.core.clock.time()
        cfg = self.core.cfg
        return row["slot_ts"] - cfg.appt_early_minutes * 60 <= now <= row["slot_end"] + cfg.appt_late_minutes * 60

    def mark(self, code: str, ticket_id: int) -> None:
        with self.store.tx():
            self.store.db.execute("UPDATE appointments SET ticket = ? WHERE code = ?", (ticket_id, code))

    def view(self, row: dict) -> dict:
        tz = self.core.tz
        return {"code": row["code"], "service": row["service"], "slot": views.iso(row["slot_ts"], tz),
                "slot_end": views.iso(row["slot_end"], tz), "ticket": row["ticket"]}
