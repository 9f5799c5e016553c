"""The hall's rules, synchronous and without I/O beyond SQLite: issuing, calling, windows, the
no-show rule, transfers and the day rollover.

Each operation runs in one transaction and queues the events it causes in ``self.pending``; the
engine publishes them (and drives the devices) only after the transaction has committed. Rule
violations raise ``HwdError`` with a code of hwd.errors and a Chinese message a kiosk or the
counter page can show as it is. Property tests drive this class directly.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable

from hwd import errors
from hwd.clock import Clock
from hwd.errors import HwdError
from hwd.hall import views
from hwd.hall.queue import selection
from hwd.hall.config import HallConfig
from hwd.hall.queue.estimate import WaitEstimator
from hwd.hall.queue.hours import Calendar
from hwd.hall.ratings.store import RatingContext
from hwd.hall.ratings.rules import Ratings
from hwd.hall.store import Store
from hwd.wording import Refusal

log = logging.getLogger("hwd.hall.queue.core")

OPEN_STATES = ("waiting", "called")


class HallCore:
    def __init__(self, cfg: HallConfig, store: Store, clock: Clock,
                 rating_page: Callable[[RatingContext, dict], str] | None = None):
        self.cfg = cfg
        self.store = store
        self.clock = clock
        self.tz = clock.tz
        self.calendar = Calendar(cfg.hours)
        self.pending: list[tuple[str, dict]] = []
        self.staff_required = bool(cfg.staff)
        self.ratings = Ratings(RatingContext(store, cfg, clock, self.calendar, self.emit, self.ticket_lookup,
                                             self.window_row, rating_page))
        self.day: str | None = None  # the business day the hall is in; set by the first roll()
        self._high = 0.0  # the latest wall time seen on this day (a backward jump is measured from it)
        self._last_key = 0.0  # the latest sort key handed out today: issue order survives a jump back
        self.jump_threshold_s = float(getattr(clock, "jump_threshold_s", 300.0))
        self.estimator = WaitEstimator(store, cfg, clock)
        with store.tx():
            for wid in cfg.windows:
                if store.window(wid) is None:
                    store.save_window({"id": wid, "state": "closed" if self.staff_required else "open",
                                       "staff": None, "current": None, "reason": None, "streak": 0,
                                       "since": clock.time(), "last_done": None})

    # -- a new config (hwd.configstore: applied live) -------------------------------------------
    def reconfigure(self, cfg: HallConfig) -> None:
        """Run by ``cfg`` from now on; the queue, the windows' tickets and logins stay. A window
        removed while it holds a ticket stays, retiring, until that ticket is finished and rated
        (``retire``); a removed service with waiting tickets stays, retiring, until they are served."""
        old = self.cfg
        for wid, window in old.windows.items():
            if wid not in cfg.windows and self._holds(wid):
                window.retiring = True
                cfg.windows[wid] = window
        waiting = {r["service"] for r in self.store.all("SELECT DISTINCT service FROM tickets WHERE state IN "
                                                        "('waiting', 'called', 'serving')")}
        for sid, service in old.services.items():
            if sid not in cfg.services and sid in waiting:
                service.retiring = True
                cfg.services[sid] = service
        with self.store.tx():
            self._mark_pin_resets(old, cfg)
        self.cfg = cfg
        self.calendar = Calendar(cfg.hours)
        self.staff_required = bool(cfg.staff)
        self.ratings.ctx.cfg, self.ratings.ctx.calendar = cfg, self.calendar
        self.estimator.cfg = cfg
        with self.store.tx():
            for wid in cfg.windows:
                if self.store.window(wid) is None:
                    self.store.save_window({"id": wid, "state": "closed" if self.staff_required else "open",
                                       "staff": None, "current": None, "reason": None, "streak": 0,
                                       "since": self.clock.time(), "last_done": None})

    def _mark_pin_resets(self, old: HallConfig, cfg: HallConfig) -> None:
        """A clerk whose ``pin_hash`` was removed (a PIN reset), or who was added without one in a
        hall whose clerks have PINs, must set a new PIN at the next login (``pin_reset``); one
        with a PIN again is cleared."""
        pins_used = any(p.pin_hash for p in cfg.staff.values()) or any(p.pin_hash for p in old.staff.values())
        now = self.clock.time()
        for sid, person in cfg.staff.items():
            before = old.staff.get(sid)
            if person.pin_hash:
                self.store.db.execute("DELETE FROM pin_resets WHERE staff = ?", (sid,))
            elif (before is not None and before.pin_hash) or (before is None and pins_used):
                self.store.db.execute("INSERT OR IGNORE INTO pin_resets (staff, ts) VALUES (?, ?)", (sid, now))
                log.info("staff %s: sets a new PIN at the next login", sid)

    def pin_reset(self, staff: str) -> bool:
        """Must this clerk set a new PIN before logging in?"""
        person = self.cfg.staff.get(staff)
        return bool(person is not None and not person.pin_hash and self.store.one(
            "SELECT 1 AS x FROM pin_resets WHERE staff = ?", (staff,)))

    def _holds(self, wid: str) -> bool:
        """Has window ``wid`` a ticket called or served, or a rating still to come?"""
        row = self.store.window(wid)
        if row is None:
            return False
        if row["current"]:
            return True
        last = self.store.ticket(row["last_done"]) if row["last_done"] else None
        return bool(last and last.get("rating_state") == "pending")

    def retire(self) -> list[str]:
        """Drop the retiring windows and services that are done; their ids."""
        if not any(w.retiring for w in self.cfg.windows.values()) and not any(
                sv.retiring for sv in self.cfg.services.values()):
            return []
        gone = [wid for wid, w in self.cfg.windows.items() if w.retiring and not self._holds(wid)]
        for wid in gone:
            del self.cfg.windows[wid]
            log.info("window %s: removed from the config, its last ticket finished: retired", wid)
        open_services = {r["service"] for r in self.store.all(
            "SELECT DISTINCT service FROM tickets WHERE state IN ('waiting', 'called', 'serving')")}
        done = [sid for sid, s in self.cfg.services.items() if s.retiring and sid not in open_services]
        for sid in done:
            del self.cfg.services[sid]
            log.info("service %s: removed from the config, its queue served: retired", sid)
        return gone + done

    # -- helpers -----------------------------------------------------------------------------
    def emit(self, topic: str, data: dict) -> None:
        self.pending.append((topic, data))

    def drain(self) -> list[tuple[str, dict]]:
        out, self.pending = self.pending, []
        return out

    def ticket_view(self, row: dict) -> dict:
        return views.ticket(row, self.cfg, self.tz)

    def window_view(self, wid: str) -> dict:
        row = self.store.window(wid)
        current = self.store.ticket(row["current"]) if row["current"] else None
        return views.window(row, self.cfg, current, self.tz)

    def window_row(self, wid: str) -> dict:
        if wid not in self.cfg.windows:
            raise Refusal(errors.UNKNOWN_WINDOW, "window", {"window": wid}, window=wid)
        return self.store.window(wid)

    def _usable(self, row: dict) -> None:
        if row["state"] == "closed":
            if self.staff_required:
                raise Refusal(errors.NOT_LOGGED_IN, "window", {"window": row["id"]})
            raise Refusal(errors.WINDOW_CLOSED, "", {"window": row["id"]})

    def _current(self, row: dict, states: tuple[str, ...]) -> dict:
        self._usable(row)
        ticket = self.store.ticket(row["current"]) if row["current"] else None
        if ticket is None:
            raise Refusal(errors.NO_CURRENT_TICKET, "", {"window": row["id"]})
        if ticket["state"] not in states:
            raise Refusal(errors.BAD_STATE, "ticket", {"window": row["id"], "state": ticket["state"]},
                          number=ticket["number"])
        return ticket

    def _save_window(self, row: dict, changed_state: bool = True) -> None:
        if changed_state:
            row["since"] = self.clock.time()
        self.store.save_window(row)
        self.emit("hall.window.state", self.window_view(row["id"]))

    def business_day(self, now: dt.datetime | None = None) -> str:
        """The day a ticket issued at ``now`` is numbered in. Days change at ``expire_at``: a ticket
        taken after an evening expiry time belongs to the next day (24-hour halls), one taken
        before an early-morning expiry time to the previous day."""
        now = now or self.clock.now()
        h, m = map(int, self.cfg.expire_at.split(":"))
        boundary = now.replace(hour=h, minute=m, second=0, microsecond=0)
        day = now.date()
        if h >= 12 and now >= boundary:
            day += dt.timedelta(days=1)
        elif h < 12 and now < boundary:
            day -= dt.timedelta(days=1)
        return day.isoformat()

    def today(self) -> str:
        """The business day the hall is in (after the last rollover)."""
        return self.day or self.business_day()

    # -- day rollover ------------------------------------------------------------------------
    def roll(self) -> int:
        """Keep the hall on the clock's business day; returns how many tickets expired.

        The hall leaves its day when the clock reaches a later business day, or an earlier one by a
        backward jump of more than the clock's ``jump_threshold_s`` (a drift of a few seconds back
        over the boundary does not take the hall back a day). Leaving a day, whichever way, expires
        every ticket of another day still waiting or called: after the rollover only the current
        day's tickets are live, so numbers (counted per service and day, never reused) cannot
        clash and no earlier day's ticket can be called. On the first call (start) the hall takes
        the clock's day at once.
        """
        now = self.clock.now()
        ts = now.timestamp()
        day = self.business_day(now)
        previous = self.day
        if previous == day:
            self._high = max(self._high, ts)
            return 0
        if previous is not None and day < previous and ts >= self._high - self.jump_threshold_s:
            return 0  # a small drift backwards over the boundary: stay on the day
        with self.store.tx():
            rows = self.store.all("SELECT * FROM tickets WHERE state IN ('waiting', 'called') AND day != ?", (day,))
            for t in rows:
                self.store.update_ticket(t["id"], state="expired", finished_ts=ts)
                self.store.log(ts, "expire", t["id"], t["window"])
            expired = {t["id"] for t in rows}
            for wid in self.cfg.windows:
                w = self.store.window(wid)
                if w["current"] in expired:
                    w["current"] = None
                    self._save_window(w)
        self.day, self._high = day, ts
        self._last_key = self.store.max_sort_key(day)
        if previous is not None or rows:
            direction = "back" if previous is not None and day < previous else "forward"
            log.log(logging.WARNING if direction == "back" else logging.INFO,
                    "business day %s -> %s (%s, clock %s): %d unserved tickets expired",
                    previous, day, direction, now.isoformat(timespec="seconds"), len(rows))
            self.emit("hall.day.rollover", {"at": now.isoformat(timespec="seconds"), "from": previous, "day": day,
                                            "direction": direction, "expired": len(rows)})
        return len(rows)

    # -- issuing -----------------------------------------------------------------------------
    def issue(self, service: str, kiosk: str | None = None, priority: str = "normal",
              holder: str | None = None, appointment: str | None = None, check_hours: bool = True,
              request_key: str | None = None) -> dict:
        """A new ticket. ``request_key``: the RPC request that asked for it (hwd.replay), recorded
        with the ticket so a retry after a crash finds it (``recover``)."""
        if service not in self.cfg.services or self.cfg.services[service].retiring:
            raise Refusal(errors.UNKNOWN_SERVICE, "", {"service": service})
        if kiosk is not None and kiosk not in self.cfg.kiosks:
            raise Refusal(errors.UNKNOWN_KIOSK, "kiosk", {"kiosk": kiosk}, kiosk=kiosk)
        if priority != "normal" and priority not in self.cfg.priority_classes:
            raise HwdError(f"unknown priority class {priority!r}; known: normal, "
                           f"{', '.join(self.cfg.priority_classes)}", errors.INVALID_PARAMS)
        self.roll()
        now = self.clock.now()
        # a kiosk of the 24-hour area never issues while the windows are closed (not even an
        # appointment's ticket, not even in an always_open hall)
        after_hours = kiosk is not None and self.cfg.kiosks[kiosk].after_hours and not self.calendar.in_hours(now)
        if after_hours or (check_hours and not self.calendar.can_issue(now)):
            nxt = self.calendar.next_opening(now)
            key, details = self.calendar.closed(now)
            raise Refusal(errors.OUTSIDE_HOURS, key, {"opens_at": nxt.isoformat() if nxt else None}, **details)
        svc = self.cfg.services[service]
        day = self.today()
        ts = now.timestamp()
        key = max(ts, self._last_key + 1e-6)  # after a jump back, still behind everyone already waiting
        with self.store.tx():
            if svc.quota and self.store.issued_count(service, day) >= svc.quota:
                raise Refusal(errors.QUOTA_REACHED, "", {"service": service, "quota": svc.quota})
            seq = self.store.next_seq(service, day)
            number = f"{svc.prefix}{seq:03d}"
            tid = self.store.insert_ticket(day=day, service=service, seq=seq, number=number, priority=priority,
                                           state="waiting", sort_key=key, issued_ts=ts, kiosk=kiosk, origin_service=service,
                                           holder=holder, appointment=appointment,
                                           request_key=request_key)
            self.store.log(ts, "issue", tid, detail=kiosk)
            row = self.store.ticket(tid)
            view = self.ticket_view(row)
            place = self.places().get(tid)
            view["waiting_ahead"] = place.ahead if place else 0
            view["wait"] = self.estimator.estimate(service, place)
            self.emit("hall.ticket.issued", {k: v for k, v in view.items() if k != "holder"})
        self._last_key = key
        return view

    def prioritize(self, ticket: Any, priority: str, staff: str | None = None) -> dict:
        """Staff set the priority class of a waiting ticket (disabled, pregnant, ... seen at the desk)."""
        if priority != "normal" and priority not in self.cfg.priority_classes:
            raise HwdError(f"unknown priority class {priority!r}; known: normal, "
                           f"{', '.join(self.cfg.priority_classes)}", errors.INVALID_PARAMS)
        with self.store.tx():
            t = self.ticket_lookup(ticket)
            if t["state"] != "waiting":
                raise Refusal(errors.BAD_STATE, "not_waiting", {"state": t["state"]}, number=t["number"])
            self.store.update_ticket(t["id"], priority=priority)
            self.store.log(self.clock.time(), "prioritize", t["id"], staff=staff, detail=priority)
            view = self.ticket_view(self.store.ticket(t["id"]))
            self.emit("hall.ticket.updated", _public(view))
        return view

    # -- calling -----------------------------------------------------------------------------
    def call_next(self, wid: str) -> dict | None:
        self.roll()
        with self.store.tx():
            w = self.window_row(wid)
            self._ready_to_call(w)
            if self.cfg.windows[wid].retiring and not w["current"]:
                raise Refusal(errors.WINDOW_CLOSED, "", {"window": wid, "retired": True})
            caller = self._caller(wid, w)
            heads = self._heads(caller.services)
            picked = selection.pick(caller, heads, self.cfg.fairness)
            if picked is None:
                return None
            w["streak"] = selection.next_streak(w["streak"], picked, selection.normal_waiting(caller, heads))
            now = self.clock.time()
            t = self.store.ticket(picked.id)
            self.store.update_ticket(t["id"], state="called", window=wid, staff=w["staff"], called_ts=now,
                                     first_called_ts=t["first_called_ts"] or now)
            w["current"] = t["id"]
            self.store.log(now, "call", t["id"], wid, w["staff"])
            self._save_window(w)
            view = self.ticket_view(self.store.ticket(t["id"]))
            self.emit("hall.ticket.called", {**_public(view), "recall": False})
        return view

    def recall(self, wid: str) -> dict:
        with self.store.tx():
            w = self.window_row(wid)
            t = self._current(w, ("called",))
            now = self.clock.time()
            self.store.update_ticket(t["id"], recalls=t["recalls"] + 1, called_ts=now)
            self.store.log(now, "recall", t["id"], wid, w["staff"])
            view = self.ticket_view(self.store.ticket(t["id"]))
            self.emit("hall.ticket.called", {**_public(view), "recall": True})
        return view

    def _matter(self, ticket: dict, matter: str | None) -> dict:
        """The ticket's fields for the matter a clerk picked (none: nothing changes)."""
        if matter is None:
            return {}
        svc = self.cfg.services.get(ticket["service"])
        if svc is None or not svc.has_matter(matter):
            known = [m.id for m in svc.matters] if svc else []
            raise Refusal(errors.UNKNOWN_SERVICE, "matter", {"matter": matter, "known": known}, matter=matter)
        return {"matter_id": matter}

    def start(self, wid: str, matter: str | None = None) -> dict:
        with self.store.tx():
            w = self.window_row(wid)
            t = self._current(w, ("called",))
            now = self.clock.time()
            self.store.update_ticket(t["id"], state="serving", started_ts=now, staff=w["staff"],
                                     **self._matter(t, matter))
            self.store.log(now, "start", t["id"], wid, w["staff"])
            view = self.ticket_view(self.store.ticket(t["id"]))
            self.emit("hall.ticket.started", _public(view))
            self._save_window(w, changed_state=False)
        return view

    def finish(self, wid: str, matter: str | None = None) -> dict:
        with self.store.tx():
            w = self.window_row(wid)
            t = self._current(w, ("called", "serving"))
            now = self.clock.time()
            deadline = now + self.cfg.rating_timeout_s
            self.store.update_ticket(t["id"], state="done", finished_ts=now, started_ts=t["started_ts"] or t["called_ts"],
                                     staff=w["staff"], rating_state="pending", rating_deadline=deadline,
                                     **self._matter(t, matter))
            self.store.log(now, "finish", t["id"], wid, w["staff"])
            self.estimator.served(t["service"], t["called_ts"], now)
            self.ratings.requested(t["id"])
            w["current"], w["last_done"] = None, t["id"]
            self._save_window(w)
            view = self.ticket_view(self.store.ticket(t["id"]))
            self.emit("hall.ticket.done", {**_public(view), "outcome": "done"})
            self.emit("hall.rating.requested", {"window": wid, "ticket": t["id"], "number": t["number"],
                                                "timeout_s": self.cfg.rating_timeout_s,
                                                "deadline": views.iso(deadline, self.tz),
                                                **self.ratings.request_extras(self.store.ticket(t["id"]))})
        return view

    def no_show(self, wid: str) -> dict:
        with self.store.tx():
            w = self.window_row(wid)
            t = self._current(w, ("called",))
            if t["recalls"] < self.cfg.min_recalls:
                raise Refusal(errors.BAD_STATE, "recall_first", {"window": wid, "recalls": t["recalls"]},
                              times=self.cfg.min_recalls)
            now = self.clock.time()
            if self.cfg.requeue_after and t["requeues"] == 0:
                key = self.store.key_behind(t["service"], self.cfg.requeue_after, now)
                self.store.update_ticket(t["id"], state="waiting", window=None, sort_key=key, requeues=1)
                self.store.log(now, "requeue", t["id"], wid, w["staff"])
                outcome = "requeued"
            else:
                self.store.update_ticket(t["id"], state="no_show", finished_ts=now)
                self.store.log(now, "no_show", t["id"], wid, w["staff"])
                outcome = "no_show"
            self.estimator.served(t["service"], t["called_ts"], now)
            w["current"] = None
            self._save_window(w)
            view = self.ticket_view(self.store.ticket(t["id"]))
            self.emit("hall.ticket.done" if outcome == "no_show" else "hall.ticket.requeued",
                      {**_public(view), "outcome": outcome, "window": wid})
        return view

    def transfer(self, wid: str, service: str) -> dict:
        with self.store.tx():
            w = self.window_row(wid)
            if service not in self.cfg.services:
                raise Refusal(errors.UNKNOWN_SERVICE, "", {"service": service})
            t = self._current(w, ("called", "serving"))
            if t["day"] != self.today():  # served across the rollover: its number may be today's too
                raise Refusal(errors.BAD_STATE, "transfer_day_over", {"window": wid}, number=t["number"])
            now = self.clock.time()
            self.store.update_ticket(t["id"], state="waiting", service=service, window=None,
                                     transfers=t["transfers"] + 1, started_ts=None)
            self.store.log(now, "transfer", t["id"], wid, w["staff"], f"{t['service']}->{service}")
            w["current"] = None
            self._save_window(w)
            view = self.ticket_view(self.store.ticket(t["id"]))
            view["from_window"] = wid
            self.emit("hall.ticket.transferred", {**_public(view), "from_service": t["service"]})
        return view

    def cancel(self, ticket_id: int, by: str = "phone") -> dict:
        """The citizen leaves the queue (取消排队: ``hall.cancel`` with the ticket's phone token):
        only a waiting ticket; it is then ``cancelled``, like a final no-show but by choice."""
        with self.store.tx():
            t = self.store.ticket(ticket_id)
            if t is None:
                raise Refusal(errors.UNKNOWN_TICKET, "", {"ticket": ticket_id})
            if t["state"] != "waiting":
                raise Refusal(errors.BAD_STATE, "cancel_not_waiting", {"state": t["state"]}, number=t["number"])
            now = self.clock.time()
            self.store.update_ticket(t["id"], state="cancelled", finished_ts=now)
            self.store.log(now, "cancel", t["id"], detail=by)
            view = self.ticket_view(self.store.ticket(t["id"]))
            self.emit("hall.ticket.cancelled", _public(view))
        return view

    # -- by number, from a caller keypad's digits ------------------------------------------------
    def call_number(self, wid: str, digits: str) -> dict:
        """选择叫号: call the waiting ticket with this number (its digits, leading zeros or not:
        "23" and "023" both call B023) of one of the window's services, from the window's most
        preferred service; within one service (a transferred ticket keeps its number) the oldest.
        The queue's order and its fairness streak are left as they are."""
        self.roll()
        with self.store.tx():
            w = self.window_row(wid)
            self._ready_to_call(w)
            services = self.cfg.windows[wid].services
            rows = self.store.all(f"SELECT * FROM tickets WHERE state = 'waiting' AND day = ? AND seq = ? AND service "
                                  f"IN ({', '.join('?' * len(services))}) ORDER BY sort_key, id",
                                  (self.today(), int(digits), *services)) if _number(digits) else []
            if not rows:
                raise Refusal(errors.UNKNOWN_TICKET, "not_waiting_here", {"window": wid, "digits": digits},
                              digits=digits)
            t = min(rows, key=lambda r: services.index(r["service"]))
            now = self.clock.time()
            self.store.update_ticket(t["id"], state="called", window=wid, staff=w["staff"], called_ts=now,
                                     first_called_ts=t["first_called_ts"] or now)
            w["current"] = t["id"]
            self.store.log(now, "call", t["id"], wid, w["staff"], "by number")
            self._save_window(w)
            view = self.ticket_view(self.store.ticket(t["id"]))
            self.emit("hall.ticket.called", {**_public(view), "recall": False})
        return view

    def _ready_to_call(self, w: dict) -> None:
        """A call needs an open window without a ticket of its own."""
        self._usable(w)
        if w["state"] == "paused":
            raise Refusal(errors.WINDOW_PAUSED, "", {"window": w["id"]})
        if w["current"]:
            cur = self.store.ticket(w["current"])
            raise Refusal(errors.BAD_STATE, "finish_first", {"window": w["id"], "current": cur["number"]},
                          number=cur["number"])

    def transfer_number(self, wid: str, digits: str) -> dict:
        """Transfer the window's ticket to the service whose ``code`` is this number."""
        code = int(digits) if _number(digits) else None
        service = next((s.id for s in self.cfg.services.values() if code is not None and s.code == code), None)
        if service is None:
            raise Refusal(errors.UNKNOWN_SERVICE, "code" if digits else "code_missing",
                          {"window": wid, "code": digits}, code=digits)
        return self.transfer(wid, service)

    # -- windows -----------------------------------------------------------------------------
    def pause(self, wid: str, reason: str | None = None) -> dict:
        with self.store.tx():
            w = self.window_row(wid)
            self._usable(w)
            w["state"], w["reason"] = "paused", reason
            self.store.log(self.clock.time(), "pause", None, wid, w["staff"], reason)
            self._save_window(w)
        return self.window_view(wid)

    def resume(self, wid: str, reason: str | None = None) -> dict:
        with self.store.tx():
            w = self.window_row(wid)
            self._usable(w)
            w["state"], w["reason"] = "open", None
            self.store.log(self.clock.time(), "resume", None, wid, w["staff"], reason)
            self._save_window(w)
        return self.window_view(wid)

    def authenticate(self, staff: str, pin: str | None, place: dict, verified: bool = False) -> Any:
        """The one staff id + PIN check of every login (counter windows, guide desks).
        ``verified``: the engine has checked the PIN already (off the event loop, throttled)."""
        from hwd.hall import pin as pins

        person = self.cfg.staff.get(staff)
        if person is None or (person.pin_hash and not verified
                              and (pin is None or not pins.verify(pin, person.pin_hash))):
            raise Refusal(errors.LOGIN_FAILED, "", place)
        if person.disabled:  # checked after the PIN: a guess learns nothing about the account
            raise Refusal(errors.LOGIN_FAILED, "disabled", place)
        if self.pin_reset(staff):
            raise Refusal(errors.LOGIN_FAILED, "set_pin", {**place, "set_pin": True, "staff": staff})
        return person

    def login(self, wid: str, staff: str, pin: str | None = None, verified: bool = False) -> dict:
        with self.store.tx():
            w = self.window_row(wid)
            if self.staff_required:
                person = self.authenticate(staff, pin, {"window": wid}, verified)
                if "counter" not in person.roles:
                    raise Refusal(errors.LOGIN_FAILED, "role_counter", {"window": wid})
                if person.windows and wid not in person.windows:
                    raise Refusal(errors.LOGIN_FAILED, "window_not_allowed", {"window": wid})
            previous = w["staff"]
            w["staff"] = staff
            changed = w["state"] == "closed"
            if changed:
                w["state"], w["reason"] = "open", None
            detail = f"takeover from {previous}" if previous and previous != staff else None
            self.store.log(self.clock.time(), "login", None, wid, staff, detail)
            self._save_window(w, changed_state=changed)
        return self.window_view(wid)

    def logout(self, wid: str, staff: str | None = None) -> dict:
        with self.store.tx():
            w = self.window_row(wid)
            if self.staff_required and staff is not None and w["staff"] != staff:
                raise Refusal(errors.NOT_LOGGED_IN, "not_at_window", {"window": wid})
            if w["current"]:
                cur = self.store.ticket(w["current"])
                raise Refusal(errors.BAD_STATE, "finish_first", {"window": wid}, number=cur["number"])
            self.store.log(self.clock.time(), "logout", None, wid, w["staff"])
            w["state"], w["staff"], w["reason"] = "closed", None, None
            self._save_window(w)
        return self.window_view(wid)

    # -- reading -----------------------------------------------------------------------------
    def waiting_ahead(self, row: dict) -> int:
        """How many tickets the windows serving this one's service call before it, in the stated
        calling order of ``selection`` (``places``); 0 once called."""
        if row["state"] != "waiting":
            return 0
        place = self.places().get(row["id"])
        return place.ahead if place is not None else 0

    def places(self, extra: selection.Ticket | None = None) -> dict[int, selection.Place]:
        """Every waiting ticket's place (``selection.places``), with ``extra`` as if it waited too
        (a ticket taken now)."""
        windows, busy = [], set()
        for wid, window in self.cfg.windows.items():
            row = self.store.window(wid)
            state = row["state"] if row["state"] in ("paused", "closed") else "open"
            if window.retiring:  # removed from the config: it finishes its ticket and calls none
                state = "closed"
            if row["current"]:
                busy.add(wid)
            windows.append(selection.WindowNow(wid, tuple(window.services), self._prefers(window), row["streak"],
                                               state, bool(row["current"]), row["since"] or 0.0))
        callers = selection.rotation(windows, self.cfg.services)
        tickets = [selection.Ticket(r["id"], r["service"], r["priority"], r["sort_key"]) for r in self.store.waiting()]
        if extra is not None:
            tickets.append(extra)
        opened = {w.id for w in windows if w.state == "open"}
        return selection.places(callers, tickets, self.cfg.fairness, opened, busy)

    def _prefers(self, window: Any) -> str | None:
        cls = selection.KIND_CLASS.get(window.kind)
        return cls if cls in self.cfg.priority_classes else None

    def _caller(self, wid: str, row: dict) -> selection.Caller:
        window = self.cfg.windows[wid]
        return selection.Caller(wid, tuple(window.services), self._prefers(window), row["streak"])

    def _heads(self, services: tuple[str, ...]) -> dict[str, dict[str, selection.Ticket]]:
        """The oldest waiting ticket of each class of each service."""
        out: dict[str, dict[str, selection.Ticket]] = {}
        for service in services:
            for r in self.store.heads(service):
                out.setdefault(service, {})[r["priority"]] = selection.Ticket(r["id"], service, r["priority"],
                                                                              r["sort_key"])
        return out

    def call_view(self, row: dict) -> dict:
        """A recent call: the ticket, named with the window it was called to (a requeued or
        transferred ticket keeps no window of its own)."""
        view = _public(self.ticket_view(row))
        wid = self.store.called_window(row["id"]) or row["window"]
        window = self.cfg.windows.get(wid) if wid else None
        if window is not None:
            view["window"], view["window_name"] = window.id, window.name
        return view

    def snapshot(self) -> dict:
        counts = self.store.queue_counts()
        queues = [{"service": s.id, "name": s.name, "prefix": s.prefix,
                   **counts.get(s.id, {"waiting": 0, "priority": 0})} for s in self.cfg.services.values()]
        recent = self.store.all("SELECT * FROM tickets WHERE called_ts IS NOT NULL ORDER BY called_ts DESC "
                                "LIMIT ?", (self.cfg.recent_calls,))
        now = self.clock.now()
        return {"name": self.cfg.name, "now": now.isoformat(timespec="seconds"), "day": self.today(),
                "issuing": self.calendar.can_issue(now),
                "windows": [self.window_view(wid) for wid in self.cfg.windows],
                "queues": queues, "recent_calls": [self.call_view(t) for t in recent]}

    def estimate(self, service: str | None = None, ticket: Any = None) -> dict:
        """The wait of a waiting ticket (its place now), or of a ticket taken now in ``service``."""
        if ticket is not None:
            t = self.ticket_lookup(ticket)
            if t["state"] != "waiting":
                return {"ticket": t["id"], "state": t["state"], "waiting_ahead": 0, "wait_s": None, "minutes": None,
                        "text": ""}
            place = self.places().get(t["id"])
            return {"ticket": t["id"], "service": t["service"], "state": "waiting",
                    "waiting_ahead": place.ahead if place else 0, **self.estimator.estimate(t["service"], place)}
        if service not in self.cfg.services:
            raise Refusal(errors.UNKNOWN_SERVICE, "", {"service": service})
        place = self.places(selection.Ticket(-1, service, selection.NORMAL, float("inf"))).get(-1)
        return {"service": service, "waiting_ahead": place.ahead if place else 0,
                **self.estimator.estimate(service, place)}

    def ticket_lookup(self, ticket: Any) -> dict:
        row = None
        if isinstance(ticket, str) and ticket.isdigit() and not (ticket.isascii() and ticket.isdecimal()):
            raise HwdError(f"not a ticket id or number: {ticket!r}", errors.INVALID_PARAMS)  # "²", "٣"
        if isinstance(ticket, int) or (isinstance(ticket, str) and ticket.isdigit()):
            if not -2 ** 63 <= int(ticket) < 2 ** 63:
                raise HwdError(f"ticket id out of range: {ticket}", errors.INVALID_PARAMS)
            row = self.store.ticket(int(ticket))
        elif isinstance(ticket, str):
            row = self.store.ticket_by_number(ticket, self.today()) or self.store.ticket_by_number(ticket)
        if row is None:
            raise Refusal(errors.UNKNOWN_TICKET, "", {"ticket": ticket})
        return row


def _number(digits: str) -> bool:
    """Digits a caller keypad typed: 1 to 12 ASCII digits."""
    return 0 < len(digits) <= 12 and digits.isascii() and digits.isdigit()


def _public(view: dict) -> dict:
    """A ticket as events carry it: no holder, even masked."""
    return {k: v for k, v in view.items() if k != "holder"}
