"""The 24-hour self-service area's kiosk (``[[hall.kiosk]] area = "24h"``): what it says when the
windows are closed, and the bookings it takes then.

A kiosk of the area follows the windows' hours, not ``always_open`` (hwd.hall.queue.hours
``in_hours``): while they are closed it issues no queue ticket (hwd.hall.queue.core ``issue``
refuses it) and says plainly why and when they open (``hall.area``); it still shows the guide and
prints the 一次性告知单, books a slot of the coming working days in the appointment store that
check-in uses (``hall.slots``, ``hall.book_slot``: the slot's code printed, the ID card on the
kiosk's own reader kept as the appointments keep it), and opens the locker (hwd.hall.pickup).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from hwd import errors
from hwd.clock import parse_time
from hwd.hall import views
from hwd.hall.queue.hours import WEEKDAYS_ZH
from hwd.wording import Refusal

log = logging.getLogger("hwd.hall.area")
LEAD_MINUTES = 30        # a slot that starts sooner than this is not offered
MAX_SLOTS_PER_DAY = 48   # a day cut into more slots than this is offered in its first 48


class Area:
    def __init__(self, cfg: Any, core: Any, appointments: Any, cards: Any, outputs: Any):
        self.cfg, self.core, self.appointments, self.cards, self.outputs = cfg, core, appointments, cards, outputs
        self.calendar, self.clock = core.calendar, core.clock

    def status(self, kiosk: str | None = None) -> dict:
        """``hall.area``: are the windows open, when do they open next, the hours of the days ahead."""
        if kiosk is not None and kiosk not in self.cfg.kiosks:
            raise Refusal(errors.UNKNOWN_KIOSK, "kiosk", {"kiosk": kiosk}, kiosk=kiosk)
        now = self.clock.now()
        open_now = self.calendar.in_hours(now)
        nxt = self.calendar.next_opening(now)
        days = []
        for offset in range(7):
            day = now.date() + dt.timedelta(days=offset)
            kind, name = self.calendar.day_kind(day)
            days.append({"date": day.isoformat(), "weekday": f"周{WEEKDAYS_ZH[day.weekday()]}",
                         "hours": self.calendar.texts_on(day), "holiday": name})
        k = self.cfg.kiosks.get(kiosk) if kiosk else None
        return {"now": now.isoformat(timespec="seconds"), "open": open_now,
                "message": "" if open_now else self.calendar.closed_message(now),
                "opens_at": nxt.isoformat(timespec="seconds") if nxt else None, "days": days,
                "area": k.area if k is not None else None, "pickup": self.cfg.pickup.on,
                "booking": bool(self.cfg.services)}

    # -- booking at the kiosk ----------------------------------------------------------------
    def slots(self, service: str) -> list[dict]:
        """``hall.slots``: the slots of the next ``book_days`` working days, with the room left."""
        if service not in self.cfg.services:
            raise Refusal(errors.UNKNOWN_SERVICE, "", {"service": service})
        now = self.clock.now()
        step = dt.timedelta(minutes=self.cfg.appt_slot_minutes)
        earliest = now + dt.timedelta(minutes=LEAD_MINUTES)
        out: list[dict] = []
        day = now.date()
        for _ in range(60):
            if len(out) >= self.cfg.appt_book_days:
                break
            ranges = self.calendar.ranges_on(day)
            slots = []
            for start, end in ranges:
                at = dt.datetime.combine(day, dt.time(start // 60, start % 60), now.tzinfo)
                stop = dt.datetime.combine(day, dt.time(0), now.tzinfo) + dt.timedelta(minutes=end)
                while at + step <= stop and len(slots) < MAX_SLOTS_PER_DAY:
                    if at >= earliest:
                        slots.append(self._slot(service, at, at + step))
                    at += step
            if slots:
                out.append({"date": day.isoformat(), "weekday": f"周{WEEKDAYS_ZH[day.weekday()]}", "slots": slots})
            day += dt.timedelta(days=1)
        return out

    def _slot(self, service: str, start: dt.datetime, end: dt.datetime) -> dict:
        booked = self.core.store.one("SELECT COUNT(*) AS n FROM appointments WHERE service = ? AND slot_ts = ?",
                                     (service, start.timestamp()))["n"]
        per = self.cfg.appt_per_slot
        return {"start": start.isoformat(timespec="minutes"), "end": end.isoformat(timespec="minutes"),
                "label": f"{start:%H:%M}-{end:%H:%M}", "booked": booked,
                "left": None if per == 0 else max(0, per - booked)}

    async def book(self, service: str, slot: str, kiosk: str, card_token: str | None = None) -> dict:
        """``hall.book_slot``: book one of the offered slots at a kiosk; the code is printed there.
        With the ID card on that kiosk's reader, the booking is also found by the card at check-in."""
        k = self.cfg.kiosks.get(kiosk)
        if k is None:
            raise Refusal(errors.UNKNOWN_KIOSK, "kiosk", {"kiosk": kiosk}, kiosk=kiosk)
        start = parse_time(slot, self.core.tz)
        offered = {s["start"]: s for d in self.slots(service) for s in d["slots"]}
        chosen = offered.get(start.isoformat(timespec="minutes"))
        if chosen is None:
            raise Refusal(errors.BAD_SLOT, "")
        if chosen["left"] == 0:
            raise Refusal(errors.BAD_SLOT, "full")
        id_number = None
        if card_token:
            id_number = (await self.cards.card(card_token, kiosk)).get("id_number")
        booked = self.appointments.book(service, start, None, id_number, self.cfg.appt_slot_minutes)
        with self.core.store.tx():
            self.core.store.log(self.clock.time(), "book", None, None, None, f"{service} {chosen['label']} at {kiosk}")
        out = dict(booked, service_name=self.cfg.services[service].name, label=chosen["label"],
                   date=start.date().isoformat(), by_card=id_number is not None)
        if not k.printer:
            return dict(out, printed=False, print_error="该自助机没有打印机，请记下预约码")
        printed, error = await self.outputs.print(k.printer, None, {}, f"book-{booked['code']}",
                                                  self.cfg.print_wait_ms, document=self.slip(out))
        return dict(out, printed=printed, **({"print_error": error} if error else {}))

    def slip(self, booking: dict) -> dict:
        """The booking slip: the hall, the matter, the day and time, the code (also as a QR for the
        kiosk's scanner at check-in)."""
        start = dt.datetime.fromisoformat(booking["slot"])
        when = f"{start.month}月{start.day}日（周{WEEKDAYS_ZH[start.weekday()]}）{booking['label']}"
        return {"lines": [
            {"text": self.cfg.name, "align": "center", "bold": True},
            {"text": "预约凭条", "size": 2, "align": "center", "bold": True},
            {"text": f"办理事项：{booking['service_name']}"},
            {"text": f"预约时间：{when}"},
            {"text": f"预约码：{booking['code']}", "size": 2, "bold": True},
            {"qr": booking["code"], "size": 6, "align": "center"},
            {"text": "请在预约时段到大厅自助机扫码或输入预约码签到", "align": "center"},
            {"text": f"打印时间：{views.iso(self.clock.time(), self.core.tz)}"},
            {"cut": "partial"},
        ]}
