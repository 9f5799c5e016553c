"""好差评, one rating per service (一次一评): the rating request after ``finish``, the first score
within the timeout, ``unrated`` when none comes (never a default score), and the follow-up of
bad ratings (不满意, 非常不满意) with a deadline counted in working days.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from hwd import errors
from hwd.clock import Deadlines
from hwd.errors import HwdError
from hwd.hall import views

if TYPE_CHECKING:
    from hwd.hall.core import HallCore

log = logging.getLogger("hwd.hall.ratings")
BAD_SCORE = 2  # 不满意 and worse


class Ratings:
    def __init__(self, core: "HallCore"):
        self.core = core
        self.store = core.store
        self.deadlines = Deadlines(core.clock)  # rating timeouts, on monotonic time
        for t in self.store.all("SELECT id, rating_deadline FROM tickets WHERE rating_state = 'pending'"):
            self.deadlines.restore(t["id"], t["rating_deadline"] or 0.0, core.cfg.rating_timeout_s)

    def requested(self, ticket_id: int) -> None:
        """The rating of ``ticket_id`` is asked for now (``finish``); it times out on its own."""
        self.deadlines.add(ticket_id, self.core.cfg.rating_timeout_s)

    def rate(self, score: int, window: str | None = None, ticket: Any = None, channel: str = "rpc",
             reason: str | None = None) -> dict:
        core, store = self.core, self.store
        if score not in views.LEVELS:
            raise HwdError("评价分值应为1到5", errors.INVALID_PARAMS)
        now = core.clock.time()
        with store.tx():
            if ticket is not None:
                t = core.ticket_lookup(ticket)
            elif window is not None:
                w = core._window(window)
                t = store.ticket(w["last_done"]) if w["last_done"] else None
                if t is None:
                    raise HwdError("当前没有待评价的服务", errors.NO_CURRENT_TICKET, {"window": window})
            else:
                raise HwdError("give window or ticket", errors.INVALID_PARAMS)
            if t["rating_state"] == "rated":
                raise HwdError("该次服务已评价，感谢您的参与", errors.ALREADY_RATED, {"ticket": t["id"]})
            if t["rating_state"] == "pending" and self.deadlines.passed(t["id"]):
                self._unrated(t)
                t = store.ticket(t["id"])
            if t["rating_state"] != "pending":
                raise HwdError("当前没有待评价的服务（评价已超时）", errors.NO_CURRENT_TICKET,
                               {"ticket": t["id"], "rating_state": t["rating_state"]})
            bad = score <= BAD_SCORE
            day = core.clock.now().date()
            due = core.calendar.add_working_days(day, core.cfg.followup_days).isoformat() if bad else None
            rid = store.db.execute(
                "INSERT INTO ratings (ticket, number, score, window, staff, service, channel, ts, day, bad, "
                "reason, followup_due, followup_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (t["id"], t["number"], score, t["window"], t["staff"], t["service"], channel, now, day.isoformat(),
                 int(bad), reason, due, "open" if bad else None)).lastrowid
            store.update_ticket(t["id"], rating_state="rated")
            self.deadlines.discard(t["id"])
            store.log(now, "rate", t["id"], t["window"], t["staff"], str(score))
            view = views.rating(store.one("SELECT * FROM ratings WHERE id = ?", (rid,)), core.tz)
            core.emit("hall.rating", view)
        if bad:
            log.info("bad rating %d for ticket %s at window %s; follow up by %s", score, t["number"], t["window"], due)
        return view

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
        self.store.update_ticket(t["id"], rating_state="unrated")
        self.store.log(self.core.clock.time(), "unrated", t["id"], t["window"], t["staff"])
        self.core.emit("hall.rating.unrated", {"ticket": t["id"], "number": t["number"], "window": t["window"]})

    def followup(self, rating_id: int, note: str, staff: str | None = None) -> dict:
        store = self.store
        with store.tx():
            row = store.one("SELECT * FROM ratings WHERE id = ?", (rating_id,))
            if row is None:
                raise HwdError("没有找到该评价", errors.NOT_FOUND, {"rating": rating_id})
            if not row["bad"]:
                raise HwdError("只有差评需要整改回访", errors.BAD_STATE, {"rating": rating_id})
            store.db.execute("UPDATE ratings SET followup_state = 'done', followup_note = ?, followup_ts = ?, "
                             "followup_by = ? WHERE id = ?", (note, self.core.clock.time(), staff, rating_id))
            view = views.rating(store.one("SELECT * FROM ratings WHERE id = ?", (rating_id,)), self.core.tz)
            self.core.emit("hall.rating.followup", view)
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
        if open_only:
            where.append("followup_state = 'open'")
        for key, value in (("window", window), ("staff", staff)):
            if value is not None:
                where.append(f"{key} = ?")
                args.append(value)
        sql = "SELECT * FROM ratings" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY ts DESC LIMIT ?"
        return [views.rating(r, self.core.tz) for r in self.store.all(sql, tuple(args) + (limit,))]
