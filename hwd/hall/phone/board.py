"""What the citizen's phone shows of a ticket (``/t/<token>``), computed for every ticket of the
business day at once, so hwd-ui can serve thousands of phones from one snapshot.

``hall.phone_board`` returns ``{token: view}`` for today's tickets (with ``since``, only those
that changed after an earlier answer). Each view is what one phone
may see of its own ticket: number, service, state, how many are called before it (the
predicted calling order of ``selection.places``, in one pass for the hall), the wait estimate, the window once called,
the rating state after ``finish`` and whether the phone may still rate (its own window,
``phone_rating_timeout_s``), whether issuing is over for the day. No ticket id, no holder,
nothing of another ticket. The token is the ticket's HMAC (``RatingChannels.token``), so the
board itself is the lookup table; the board holds today's tickets and the day before's (so a
page says its ticket's end — 号票已失效 — and a late rating still reaches it); a token of an older
day is on no board, which is how a link expires.
"""

from __future__ import annotations

import collections
import secrets
from typing import TYPE_CHECKING, Any, Callable

from hwd.hall import views

if TYPE_CHECKING:
    from hwd.hall.queue.core import HallCore
    from hwd.hall.ratings.channels import RatingChannels

PRIORITY_TEXT = "优先办理"
HISTORY = 64  # board versions whose changes are kept for a hub that asks "since"
# what a phone's view needs of a ticket (the board reads thousands of rows on every change)
COLUMNS = ("id, day, number, service, origin_service, state, priority, window, recalls, transfers, requeues, "
           "rating_state, rating_deadline, finished_ts")


class PhoneBoard:
    def __init__(self, core: "HallCore", channels: "RatingChannels"):
        self.core = core
        self.channels = channels
        self._epoch = f"{secrets.token_hex(4)}"  # a restarted daemon never answers an old version
        self._day: str | None = None
        self._views: dict[str, dict] = {}
        self._version = 0
        self._history: collections.deque = collections.deque(maxlen=HISTORY)  # (version, tokens changed)
        # ticket ids → what the locker holds for them (hwd.hall.pickup: the code while waiting)
        self.pickups: Callable[[list[int]], dict[int, dict]] | None = None

    def board(self, since: str | None = None) -> dict:
        """The whole board, or with ``since`` (the ``version`` of an earlier answer) only the views
        changed after it (``full: false``, ``removed``: tokens gone): a call changes a few hundred
        of the day's thousands, and the hub then decodes only those. Today's tickets and the day
        before's (their end words, a late rating by phone)."""
        views = {**self.views(self.channels.days()[1:]), **self.views()}
        day = self.core.today()
        if day != self._day:
            self._day, self._views, self._version = day, {}, 0
            self._history.clear()
        changed = {t for t, v in views.items() if self._views.get(t) != v} | (set(self._views) - set(views))
        if changed:
            self._version += 1
            self._history.append((self._version, changed))
            self._views = views
        version = f"{self._epoch}:{day}:{self._version}"
        out = {**self.context(), "version": version, "full": True, "tickets": views}
        head, _, number = str(since or "").rpartition(":")
        if head == f"{self._epoch}:{day}" and number.isdigit():
            n = int(number)
            later = [tokens for v, tokens in self._history if v > n]
            if n == self._version or (later and len(later) == self._version - n):
                touched = set().union(*later) if later else set()
                out.update(full=False, tickets={t: views[t] for t in touched if t in views},
                           removed=sorted(t for t in touched if t not in views))
        return out

    def views(self, days: list[str] | None = None) -> dict[str, dict]:
        """Token → view of every ticket of the business day (or of ``days``)."""
        core, store = self.core, self.core.store
        out: dict[str, dict] = {}
        now = core.clock.time()
        hours = self.hours()
        for day in days if days is not None else [core.today()]:
            rows = store.all(f"SELECT {COLUMNS} FROM tickets WHERE day = ? ORDER BY id", (day,))
            tokens = self.channels.tokens(day)
            places = core.places() if any(r["state"] == "waiting" for r in rows) else {}
            held = self.pickups([r["id"] for r in rows if r["state"] == "done"]) if self.pickups else {}
            for row in rows:
                place = places.get(row["id"]) if row["state"] == "waiting" else None
                out[tokens[row["id"]]] = self.view(row, place, now, hours, held.get(row["id"]))
        return out

    def hours(self) -> dict:
        """Whether issuing is over for the business day (``after_hours``: tickets already taken
        are still called while a window serving them is open) and the services some open window
        serves now (``calling``)."""
        core = self.core
        now = core.clock.now()
        cal = core.calendar
        minute = now.hour * 60 + now.minute
        later_today = any(start - cal.hours.early_minutes > minute for start, _ in cal.ranges_on(now.date()))
        after = not cal.hours.always_open and not cal.can_issue(now) and \
            (not later_today or core.today() != now.date().isoformat())
        calling = set()
        for w in core.cfg.windows.values():
            row = core.store.window(w.id)
            if row is not None and row["state"] == "open":
                calling.update(w.services)
        return {"after_hours": after, "calling": calling}

    def context(self) -> dict:
        """What every ticket's page shares: the hall, the windows open per service, the reasons."""
        core, store = self.core, self.core.store
        rules = core.cfg.ratings
        windows = {w.id: store.window(w.id) for w in core.cfg.windows.values()}
        serving = {s: [w.name for w in core.cfg.windows.values() if s in w.services
                       and (windows[w.id] or {}).get("state") not in ("closed", None)] for s in core.cfg.services}
        return {"day": core.today(), "hall": core.cfg.name, "rating_timeout_s": core.cfg.rating_timeout_s,
                "service_windows": serving, "no_show_text": core.cfg.no_show_text, "expire_at": core.cfg.expire_at,
                "reasons": [{"code": r.code, "name": r.name} for r in rules.reasons] if rules.ask_reasons else []}

    def view_of(self, token: str) -> dict:
        """One ticket's view by its token, with the context (BAD_RATING_TOKEN, "链接无效或已过期",
        for any other token)."""
        row = self.channels.ticket_for_token(token)
        place = self.core.places().get(row["id"]) if row["state"] == "waiting" else None
        held = self.pickups([row["id"]]).get(row["id"]) if self.pickups else None
        return {**self.context(), "ticket": self.view(row, place, self.core.clock.time(), self.hours(), held)}

    def view(self, row: dict, place: Any, now: float, hours: dict, pickup: dict | None = None) -> dict:
        cfg, core = self.core.cfg, self.core
        ahead = place.ahead if place is not None else None
        wait = core.estimator.estimate(row["service"], place) if place is not None else None
        service = cfg.services.get(row["service"])
        wid = row["window"]
        if row["state"] in ("waiting",) or not wid:
            wid = None
        window = cfg.windows.get(wid) if wid else None
        out: dict[str, Any] = {
            "number": row["number"], "service": row["service"],
            "service_name": service.name if service else row["service"], "state": row["state"],
            "priority": row["priority"] != "normal", "ahead": ahead,
            "wait_minutes": wait["minutes"] if wait else None, "wait_text": wait["text"] if wait else None,
            "window": wid, "window_name": window.name if window else None, "recalls": row["recalls"],
            "transfers": row["transfers"], "requeued": bool(row.get("requeues")),
            "rating": row["rating_state"],
        }
        if row["state"] == "waiting" and hours["after_hours"]:
            out["after_hours"] = True                      # no more issuing today: never 即将叫号
            out["calling"] = row["service"] in hours["calling"]
        if row["priority"] != "normal":
            out["priority_text"] = PRIORITY_TEXT
        if row.get("origin_service") and row["origin_service"] != row["service"]:
            origin = cfg.services.get(row["origin_service"])
            out["from_service_name"] = origin.name if origin else row["origin_service"]
        if row["rating_state"] == "pending" and row.get("rating_deadline"):
            out["rating_deadline"] = views.iso(row["rating_deadline"], self.core.tz)
        until = core.ratings.phone_until(row)
        if until is not None and now <= until:
            out["can_rate"] = True                         # the phone's own window (phone_rating_timeout_s)
            out["rate_until"] = views.iso(until, self.core.tz)
        if pickup is not None:
            out["pickup"] = pickup
        return out
