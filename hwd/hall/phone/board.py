"""What the citizen's phone shows of a ticket (``/t/<token>``), computed for every ticket of the
business day at once, so hwd-ui can serve thousands of phones from one snapshot.

``hall.phone_board`` returns ``{token: view}`` for today's tickets (with ``since``, only those
that changed after an earlier answer). Each view is what one phone
may see of its own ticket: number, service, state, how many are called before it (the
predicted calling order of ``selection.places``, in one pass for the hall), the wait estimate, the window once called,
the rating state after ``finish``. No ticket id, no holder, nothing of another ticket. The token
is the ticket's HMAC (``RatingChannels.token``), so the board itself is the lookup table; a token
of another day is on no board, which is how a link expires with the business day.
"""

from __future__ import annotations

import collections
import secrets
from typing import TYPE_CHECKING, Any

from hwd.hall import views

if TYPE_CHECKING:
    from hwd.hall.queue.core import HallCore
    from hwd.hall.ratings.channels import RatingChannels

PRIORITY_TEXT = "优先办理"
HISTORY = 64  # board versions whose changes are kept for a hub that asks "since"
# what a phone's view needs of a ticket (the board reads thousands of rows on every change)
COLUMNS = ("id, number, service, origin_service, state, priority, window, recalls, transfers, requeues, "
           "rating_state, rating_deadline")


class PhoneBoard:
    def __init__(self, core: "HallCore", channels: "RatingChannels"):
        self.core = core
        self.channels = channels
        self._epoch = f"{secrets.token_hex(4)}"  # a restarted daemon never answers an old version
        self._day: str | None = None
        self._views: dict[str, dict] = {}
        self._version = 0
        self._history: collections.deque = collections.deque(maxlen=HISTORY)  # (version, tokens changed)

    def board(self, since: str | None = None) -> dict:
        """The whole board, or with ``since`` (the ``version`` of an earlier answer) only the views
        changed after it (``full: false``, ``removed``: tokens gone): a call changes a few hundred
        of the day's thousands, and the hub then decodes only those."""
        views = self.views()
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

    def views(self) -> dict[str, dict]:
        """Token → view of every ticket of the business day."""
        core, store = self.core, self.core.store
        day = core.today()
        rows = store.all(f"SELECT {COLUMNS} FROM tickets WHERE day = ? ORDER BY id", (day,))
        tokens = self.channels.tokens(day)
        places = core.places() if any(r["state"] == "waiting" for r in rows) else {}
        out = {}
        for row in rows:
            token = tokens[row["id"]]
            place = places.get(row["id"]) if row["state"] == "waiting" else None
            wait = core.estimator.estimate(row["service"], place) if place is not None else None
            out[token] = self.view(row, place.ahead if place is not None else None, wait)
        return out

    def context(self) -> dict:
        """What every ticket's page shares: the hall, the windows open per service, the reasons."""
        core, store = self.core, self.core.store
        rules = core.cfg.ratings
        windows = {w.id: store.window(w.id) for w in core.cfg.windows.values()}
        serving = {s: [w.name for w in core.cfg.windows.values() if s in w.services
                       and (windows[w.id] or {}).get("state") not in ("closed", None)] for s in core.cfg.services}
        return {"day": core.today(), "hall": core.cfg.name, "rating_timeout_s": core.cfg.rating_timeout_s,
                "service_windows": serving, "no_show_text": core.cfg.no_show_text,
                "reasons": [{"code": r.code, "name": r.name} for r in rules.reasons] if rules.ask_reasons else []}

    def view_of(self, token: str) -> dict:
        """One ticket's view by its token, with the context (BAD_RATING_TOKEN, "链接无效或已过期",
        for any other token)."""
        row = self.channels.ticket_for_token(token)
        place = self.core.places().get(row["id"]) if row["state"] == "waiting" else None
        wait = self.core.estimator.estimate(row["service"], place) if place is not None else None
        return {**self.context(), "ticket": self.view(row, place.ahead if place is not None else None, wait)}

    def view(self, row: dict, ahead: int | None, wait: dict | None) -> dict:
        cfg = self.core.cfg
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
        if row["priority"] != "normal":
            out["priority_text"] = PRIORITY_TEXT
        if row.get("origin_service") and row["origin_service"] != row["service"]:
            origin = cfg.services.get(row["origin_service"])
            out["from_service_name"] = origin.name if origin else row["origin_service"]
        if row["rating_state"] == "pending" and row.get("rating_deadline"):
            out["rating_deadline"] = views.iso(row["rating_deadline"], self.core.tz)
        return out

