"""Issuing with the kiosk's and the desk's I/O: a ticket taken at a kiosk (with an ID card, an
appointment code or nothing), at a guide desk, reprinted, or recovered after a crash; and the
service guide with its printed notice.

Each operation reads the card (hwd.hall.identity), runs one rule of hwd.hall.queue.core through the
engine (committed, then published) and prints (hwd.hall.devices.printing). Between the card
check and the commit there is no ``await``, so a card token cannot issue two tickets.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from hwd import errors
from hwd.errors import HwdError
from hwd.hall.queue import desk as desks
from hwd.hall.devices.printing import Printing
from hwd.hall.identity import CardTokens
from hwd.privacy import age_on, mask_name
from hwd.wording import Refusal


def _used(ticket: dict, code: str, tz: dt.tzinfo) -> Refusal:
    """Why a used appointment code gives no new ticket, in the citizen's words."""
    when = dt.datetime.fromtimestamp(ticket["issued_ts"], tz).strftime("%H:%M")
    what = {"done": "已办结", "no_show": "已过号", "expired": "已过期"}.get(ticket["state"], "已使用")
    return Refusal(errors.APPOINTMENT_USED, "checked_in",
                   {"code": code, "number": ticket["number"], "state": ticket["state"]},
                   time=when, number=ticket["number"], what=what)


class Issuing:
    def __init__(self, cfg: Any, core: Any, appointments: Any, cards: CardTokens, printing: Printing,
                 run: Callable[..., Any], publish: Callable[[str, dict], None], holders: Any = None):
        self.cfg, self.core, self.appointments = cfg, core, appointments
        self.holders = holders  # 实名评价 opt-in: the card holder sealed for the province (hwd.hall.ratings.holders)
        self.cards, self.printing, self.run, self.publish = cards, printing, run, publish
        self.store, self.clock = core.store, core.clock

    async def issue_ticket(self, service: str, kiosk: str | None = None, card_token: str | None = None,
                           priority: str | None = None, appointment: str | None = None,
                           request_key: str | None = None) -> dict:
        """``hall.issue_ticket``: a card gives the holder's masked name and, by age, the elderly class."""
        if appointment:
            return await self.checkin(code=appointment, kiosk=kiosk, request_key=request_key)
        holder = card = None
        chosen = priority or "normal"
        if card_token:
            card = await self.cards.card(card_token, kiosk)
            holder = mask_name(card.get("name"))
            age = age_on(card.get("birth"), self.clock.now().date())
            if chosen == "normal" and age is not None and age >= self.cfg.priority_age \
                    and "elderly" in self.cfg.priority_classes:
                chosen = "elderly"
        with self.cards.using(card_token):  # no await between the check above and the commit
            ticket = self.run(self.core.issue, service, kiosk, chosen, holder, request_key=request_key)
        if card and self.holders is not None:
            self.run(self._keep_holder, ticket["id"], card)
        return await self.printing.ticket(ticket, kiosk)

    def _keep_holder(self, ticket: int, card: dict) -> None:
        with self.store.tx():
            self.holders.keep(self.store.db, ticket, card, self.clock.time())

    async def desk_issue(self, desk_id: str, service: str, priority: str = "normal", staff: str | None = None,
                         verified: bool = False, assisted: bool = False) -> dict:
        """A ticket issued at a guide desk (导办台), printed at the desk's printer."""
        ticket = self.run(desks.issue, self.core, desk_id, service, priority, staff, verified, assisted)
        return await self.printing.ticket(ticket, None, desk=self.cfg.desks[desk_id])

    async def checkin(self, code: str | None = None, card_token: str | None = None, kiosk: str | None = None,
                      request_key: str | None = None) -> dict:
        """``hall.checkin``: an appointment by code or by the ID card it was booked with."""
        if not code and not card_token:
            raise HwdError("give code or card_token", errors.INVALID_PARAMS)
        id_number = None
        use_token = card_token if card_token and not code else None
        if use_token:
            id_number = (await self.cards.card(card_token, kiosk)).get("id_number")
        appt = self.appointments.find(code=code, id_number=id_number)
        if appt["ticket"]:
            existing = self.store.ticket(appt["ticket"])
            if existing and existing["state"] in ("waiting", "called", "serving"):
                # checked in before: the same ticket again, announced like a check-in so the kiosk shows it
                self.publish("hall.checkin", {"code": appt["code"], "ticket": existing["id"],
                                              "number": existing["number"], "kiosk": kiosk, "again": True})
                view = dict(self.core.ticket_view(existing), checked_in=True, qr=self.printing.qr_text(existing))
                if existing["state"] == "waiting":   # the same ticket screen as a new one: place and wait
                    estimate = self.core.estimate(ticket=existing["id"])
                    view.update(waiting_ahead=estimate["waiting_ahead"],
                                wait={k: estimate[k] for k in ("wait_s", "minutes", "text")})
                return view
            if existing:
                raise _used(existing, appt["code"], self.clock.tz)
        in_slot = self.appointments.in_slot(appt)
        priority = "appointment" if in_slot and "appointment" in self.cfg.priority_classes else "normal"
        with self.cards.using(use_token):
            ticket = self.run(self.core.issue, appt["service"], kiosk, priority, None, appt["code"], not in_slot,
                              request_key=request_key)
        self.appointments.mark(appt["code"], ticket["id"])
        self.publish("hall.checkin", {"code": appt["code"], "ticket": ticket["id"], "number": ticket["number"],
                                      "kiosk": kiosk, "in_slot": in_slot})
        return await self.printing.ticket(dict(ticket, in_slot=in_slot), kiosk)

    def recover_issue(self, request_key: str) -> dict | None:
        """The ticket a request issued before a crash cut off its reply (hwd.replay), or None
        when that request committed nothing (then it simply runs)."""
        row = self.store.one("SELECT * FROM tickets WHERE request_key = ?", (request_key,))
        if row is None:
            return None
        view = self.core.ticket_view(row)
        view["waiting_ahead"] = self.core.waiting_ahead(row)
        view["qr"] = self.printing.qr_text(row)
        return view

    async def reprint(self, ticket: Any, kiosk: str | None, desk: str | None = None) -> dict:
        """Print a ticket again, at a kiosk or at a guide desk (where a citizen whose ticket did
        not print is sent: only a ticket still waiting or called is reprinted there)."""
        at_desk = desks.desk_or_error(self.core, desk) if desk else None
        row = self.core.ticket_lookup(ticket)
        if at_desk is not None and row["state"] not in ("waiting", "called"):
            raise Refusal(errors.BAD_STATE, "reprint_gone", {"state": row["state"]}, number=row["number"])
        view = self.core.ticket_view(row)
        view["waiting_ahead"] = self.core.waiting_ahead(row)
        count = self.store.one("SELECT COUNT(*) AS n FROM actions WHERE ticket = ? AND action = 'reprint'",
                               (row["id"],))["n"] + 1
        with self.store.tx():
            self.store.log(self.clock.time(), "reprint", row["id"], detail=desk or kiosk)
        if at_desk is not None:
            return await self.printing.ticket(view, None, reprint=count, desk=at_desk)
        return await self.printing.ticket(view, kiosk or row["kiosk"], reprint=count)

    async def guide(self, service: str, kiosk: str | None = None, print_notice: bool = False,
                    matter: str | None = None) -> dict:
        """``hall.guide``: the guide (办事指南) of a matter of the service (default: its first);
        printed as the 一次性告知单 on request."""
        svc = self.cfg.services.get(service)
        if svc is None:
            raise Refusal(errors.UNKNOWN_SERVICE, "", {"service": service})
        if matter is not None and not svc.has_matter(matter):
            raise Refusal(errors.UNKNOWN_SERVICE, "matter", {"matter": matter}, matter=matter)
        m = svc.matter(matter)
        out = {"service": svc.id, "matter": m.name, "matter_id": m.id, "matter_code": m.matter_code,
               "name": svc.name, "department": m.department, "materials": list(m.materials),
               "conditions": m.conditions, "time_limit": m.time_limit, "fees": m.fees,
               "matters": [{"id": x.id, "name": x.name, "matter_code": x.matter_code} for x in svc.matters]}
        if print_notice:
            k = self.cfg.kiosks.get(kiosk) if kiosk else None
            if k is None:
                raise Refusal(errors.UNKNOWN_KIOSK, "kiosk", {"kiosk": kiosk}, kiosk=kiosk)
            if not k.printer:
                out.update(printed=False, print_error="该取号机没有打印机")
                return out
            printed, error = await self.printing.notice(out, k.printer)
            out["printed"] = printed
            if error:
                out["print_error"] = error
        return out
