"""好差评, one rating per service (一次一评): the first score within the timeout after ``finish``,
with its 差评 reasons; ``unrated`` when none comes (never a default score); the 办件编号 a clerk
attaches during or after the service. Every change writes its upstream record to the outbox in
the same transaction, and a 差评 opens its work order (hwd.hall.ratings.workorders).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from hwd import errors, outbox
from hwd.clock import Deadlines
from hwd.errors import HwdError
from hwd.hall import views
from hwd.hall.ratings import holders, store as rs, workorders
from hwd.hall.ratings.store import RatingContext
from hwd.wording import Refusal

log = logging.getLogger("hwd.hall.ratings.rules")
BAD_SCORE = 2  # 不满意 and worse
CHANNELS = ("keypad", "pad", "page", "phone", "rpc")
CASE_NO = re.compile(r"^[0-9A-Za-z_.:/-]{1,64}$")


class Ratings:
    def __init__(self, ctx: RatingContext):
        self.ctx = ctx
        self.store = ctx.store
        self.workorders = workorders.WorkOrders(ctx)
        self.deadlines = Deadlines(ctx.clock)  # rating timeouts, on monotonic time
        for t in self.store.all("SELECT id, rating_deadline FROM tickets WHERE rating_state = 'pending'"):
            self.deadlines.restore(t["id"], t["rating_deadline"] or 0.0, ctx.cfg.rating_timeout_s)

    def requested(self, ticket_id: int) -> None:
        """The rating of ``ticket_id`` is asked for now (``finish``); it times out on its own."""
        self.deadlines.add(ticket_id, self.ctx.cfg.rating_timeout_s)

    def check_reasons(self, score: int, reasons: list | None) -> list[str]:
        if not reasons:
            return []
        names = self.ctx.cfg.ratings.reason_names()
        if score > BAD_SCORE:
            raise Refusal(errors.REASONS_NOT_ASKED, "", {"score": score})
        out: list[str] = []
        for code in reasons:
            if not isinstance(code, str) or code not in names:
                raise Refusal(errors.UNKNOWN_REASON, "unknown", {"reason": code, "known": list(names)}, reason=code)
            if code not in out:
                out.append(code)
        return out

    def rate(self, score: int, window: str | None = None, ticket: Any = None, channel: str = "rpc",
             reason: str | None = None, reasons: list | None = None, real_name: bool = False) -> dict:
        """``real_name``: the citizen consented, on this rating's screen, to the province getting their
        name and ID number with it (实名评价, only with ``[hall.upstream] real_name``)."""
        ctx, store = self.ctx, self.store
        if score not in views.LEVELS:
            raise Refusal(errors.INVALID_PARAMS, "score")
        codes = self.check_reasons(score, reasons)
        now = ctx.clock.time()
        with store.tx():
            if ticket is not None:
                t = ctx.ticket(ticket)
            elif window is not None:
                w = ctx.window(window)
                t = store.ticket(w["last_done"]) if w["last_done"] else None
                if t is None:
                    raise Refusal(errors.NO_CURRENT_TICKET, "rating", {"window": window})
            else:
                raise HwdError("give window or ticket", errors.INVALID_PARAMS)
            if t["rating_state"] == "rated":
                raise Refusal(errors.ALREADY_RATED, "", {"ticket": t["id"]})
            if t["rating_state"] == "pending" and self.deadlines.passed(t["id"]):
                self._unrated(t)
                t = store.ticket(t["id"])
            if t["rating_state"] != "pending" and not (channel == "phone" and self.phone_open(t, now)):
                raise Refusal(errors.NO_CURRENT_TICKET, "rating_timed_out",
                              {"ticket": t["id"], "rating_state": t["rating_state"]})
            bad = score <= BAD_SCORE
            day = ctx.clock.now().date()
            due = ctx.calendar.add_working_days(day, ctx.cfg.followup_days).isoformat() if bad else None
            m = rs.matter_of(ctx.cfg, t["service"], t["matter_id"])  # the matter handled (事项)
            rid = rs.insert_rating(
                store, ticket=t["id"], number=t["number"], score=score, window=t["window"], staff=t["staff"],
                service=t["service"], channel=channel, ts=now, day=day.isoformat(), bad=int(bad), reason=reason,
                followup_due=due, region_code=(m.region if m else "") or ctx.cfg.region_code,
                service_start=t["started_ts"] or t["called_ts"], service_end=t["finished_ts"],
                labels=json.dumps(codes), matter_code=m.matter_code if m else "",
                impl_code=m.impl_code if m else "", matter_version=m.matter_version if m else "",
                matter_id=m.id if m else None, matter_name=m.name if m else None, case_no=t["case_no"])
            store.update_ticket(t["id"], rating_state="rated")
            holders.settle(store.db, t["id"], rid if real_name else None)
            self.deadlines.discard(t["id"])
            store.log(now, "rate", t["id"], t["window"], t["staff"], str(score))
            row = rs.rating(store, rid)
            outbox.put(store.db, "rating", str(rid), rs.rating_record(ctx, row), now)
            if bad:
                self.workorders.open(row, due)
            view = rs.rating_view(ctx, row)
            ctx.emit("hall.rating", view)
        if bad:
            log.info("bad rating %d for ticket %s at window %s (%d reasons); work order due %s", score, t["number"],
                     t["window"], len(codes), due)
        return view

    def attach_case(self, ticket: Any, case_no: str, staff: str | None = None, window: str | None = None) -> dict:
        """The clerk gives the ticket its 办件编号 (the window system's case number), during the
        service or later; a rating already made (or timed out) is sent again with it. With
        ``window`` (the clerk's window: the counter page always gives it) only a ticket served
        at that window is accepted."""
        ctx, store = self.ctx, self.store
        case_no = (case_no or "").strip()
        if not CASE_NO.match(case_no):
            raise Refusal(errors.BAD_CASE_NO, "", {"case_no": case_no})
        now = ctx.clock.time()
        with store.tx():
            t = ctx.ticket(ticket)
            if window is not None:
                ctx.window(window)
                if t["window"] != window:
                    log.warning("window %s tried to attach a case number to ticket %s of window %s: refused",
                                window, t["number"], t["window"])
                    raise Refusal(errors.NOT_THIS_WINDOW, "case", {"ticket": t["id"], "window": window})
            previous = t["case_no"]
            out = {"ticket": t["id"], "number": t["number"], "case_no": case_no, "previous": previous,
                   "rating": None, "sent": False}
            r = rs.rating_of_ticket(store, t["id"])
            out["rating"] = r["id"] if r else None
            if previous == case_no:
                return out
            store.update_ticket(t["id"], case_no=case_no)
            store.log(now, "case", t["id"], t["window"], staff, case_no)
            if r is not None:
                store.db.execute("UPDATE ratings SET case_no = ? WHERE id = ?", (case_no, r["id"]))
            if t["rating_state"] in ("rated", "unrated"):
                n = store.one("SELECT COUNT(*) AS n FROM actions WHERE ticket = ? AND action = 'case'", (t["id"],))["n"]
                base = rs.rating_record(ctx, rs.rating(store, r["id"])) if r else \
                    rs.unrated_record(ctx, store.ticket(t["id"]))
                outbox.put(store.db, "case", f"{t['id']}:{n}",
                           dict(base, previous_case_no=previous, attached_by=staff, attached_at=views.iso(now, ctx.tz)),
                           now)
                out["sent"] = True
            ctx.emit("hall.case", {"ticket": t["id"], "number": t["number"], "case_no": case_no,
                                   "rating": out["rating"]})
        return out

    def phone_until(self, t: dict) -> float | None:
        """Until when a phone may rate this finished ticket (``phone_rating_timeout_s`` after
        ``finish``, its own window beside the pad's), or None: not finished, rated, or the
        province rates on its own page."""
        if t["state"] != "done" or t["rating_state"] not in ("pending", "unrated") or not t["finished_ts"] \
                or self.ctx.rating_page is not None:
            return None
        until = t["finished_ts"] + self.ctx.cfg.phone_rating_timeout_s
        if t["rating_state"] == "pending" and t["rating_deadline"]:
            until = max(until, t["rating_deadline"])
        return until

    def phone_open(self, t: dict, now: float) -> bool:
        until = self.phone_until(t)
        return until is not None and now <= until

    def expire_due(self) -> int:
        """Mark pending ratings whose time is up as unrated."""
        due = self.deadlines.due()
        rows = [t for t in map(self.store.ticket, due) if t is not None and t["rating_state"] == "pending"]
        for key in due:
            self.deadlines.discard(key)
        if rows:
            with self.store.tx():
                for t in rows:
                    self._unrated(t)
        return len(rows)

    def _unrated(self, t: dict) -> None:
        self.deadlines.discard(t["id"])
        now = self.ctx.clock.time()
        self.store.update_ticket(t["id"], rating_state="unrated")
        holders.forget(self.store.db, t["id"])
        self.store.log(now, "unrated", t["id"], t["window"], t["staff"])
        outbox.put(self.store.db, "unrated", str(t["id"]), rs.unrated_record(self.ctx, t), now)
        self.ctx.emit("hall.rating.unrated", {"ticket": t["id"], "number": t["number"], "window": t["window"]})

    def followup(self, rating_id: int, note: str, staff: str | None = None) -> dict:
        """``hall.followup`` (kept for its callers): the 回访 step of the rating's work order, the one
        follow-up path — a 差评 followed up here is no longer 待回访 anywhere. A 差评 without a work
        order (rated before work orders existed) gets one first. Returns the rating."""
        store = self.store
        with store.tx():
            row = rs.rating(store, rating_id)
            if row is None:
                raise Refusal(errors.NOT_FOUND, "rating", {"rating": rating_id})
            if not row["bad"]:
                raise Refusal(errors.BAD_STATE, "followup_not_bad", {"rating": rating_id})
            wo = rs.workorder_of_rating(store, rating_id)
            if wo is None:
                due = row["followup_due"] or self.ctx.calendar.add_working_days(
                    self.ctx.clock.now().date(), self.ctx.cfg.followup_days).isoformat()
                wo_id = self.workorders.open(row, due)
            else:
                wo_id = wo["id"]
            self.workorders.move(wo_id, "callback", note=note, staff=staff)
            view = rs.rating_view(self.ctx, rs.rating(store, rating_id))
            self.ctx.emit("hall.rating.followup", view)
        return view

    def query(self, start: float | None, end: float | None, bad: bool | None = None, open_only: bool = False,
              window: str | None = None, staff: str | None = None, limit: int = 500) -> list[dict]:
        where, args = [], []
        if start is not None:
            where.append("ts >= ?")
            args.append(start)
        if end is not None:
            where.append("ts < ?")
            args.append(end)
        if bad is not None:
            where.append("bad = ?")
            args.append(int(bad))
        if open_only:  # not yet followed up: its work order still waits for the 回访
            where.append("id IN (SELECT rating FROM workorders WHERE state = 'open')")
        for key, value in (("window", window), ("staff", staff)):
            if value is not None:
                where.append(f"{key} = ?")
                args.append(value)
        sql = "SELECT * FROM ratings" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY ts DESC LIMIT ?"
        return [rs.rating_view(self.ctx, r) for r in self.store.all(sql, tuple(args) + (limit,))]

    def export(self, start: float, end: float) -> list[dict]:
        """Ratings as flat CSV rows: labels joined, the work order's state and due date as columns."""
        out = []
        for view in self.query(start, end, limit=1_000_000):
            wo = view.pop("workorder", None) or {}
            view["reasons"] = ",".join(view["reasons"])
            view["reason_names"] = "、".join(view["reason_names"])
            view.update(workorder=wo.get("id"), workorder_state=wo.get("state"), workorder_due=wo.get("due"))
            out.append(view)
        return out

    def request_extras(self, t: dict) -> dict:
        """Fields the rating request event carries besides the ticket: the reason list, and for
        the h5 adapter the provincial page to open; ``real_name`` when the page may ask the citizen
        to consent to 实名评价 (the ticket was taken with an ID card and the hall sends it)."""
        out: dict[str, Any] = {}
        rules = self.ctx.cfg.ratings
        if rules.ask_reasons:
            out["reasons"] = [{"code": r.code, "name": r.name} for r in rules.reasons]
        if self.ctx.rating_page is not None:
            out["h5_url"] = self.h5_url(t)
        if self.ctx.cfg.upstream.real_name and holders.held(self.store.db, t["id"]):
            out["real_name"] = True
        return out

    def require_page(self) -> None:
        """BAD_STATE unless the province rates on its own page (``[hall.upstream] adapter = "h5"``)."""
        if self.ctx.rating_page is None:
            raise Refusal(errors.BAD_STATE, "no_h5")

    def h5_url(self, t: dict) -> str:
        """The province's own rating page of ticket row ``t``."""
        self.require_page()
        return self.ctx.rating_page(self.ctx, t)
