"""Phone notices: the moments a citizen following a ticket must hear of, as outbox records
(kind ``phone_notice``) for a gateway that reaches phones beyond the hall's WiFi — WeChat, SMS,
an app. hwd has no such channel itself (halls and kiosks are offline); this is the hook, on when
``[hall.notify] url`` is set (hwd.hall.config.notify).

A notice is written when a ticket's phone view (hwd.hall.phone.board, the same board the phone page
shows) enters a moment it was not in: 即将叫号 (``alert_ahead`` or fewer ahead), the call with its
window, each recall, a transfer to another matter, a no-show, the rating open after ``finish``;
and, written by the locker (hwd.hall.pickup) when a result is shut in its door, ``pickup`` with
the pickup code.
(Tickets left at the day's end expire with the day's board and links: no notice.) One per moment, not one per change: a ticket that goes from 3 ahead to 0 gets one 即将叫号.
The record's ref is the day, the ticket's token and the moment, so a daemon restarted mid-day
that sees the same moments again writes nothing twice.

The record carries the ticket's phone token (the gateway maps it to whatever the citizen bound
it to) and its link: a capability to see and rate that ticket. So ``phone_notice`` is one of the
outbox's private kinds (hwd.outbox.PRIVATE_KINDS): it goes to the ``notify`` sink only, never to
the province or the county, whose kinds lists may not name it.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any, Callable

from hwd import outbox
from hwd.hall import views as hall_views

if TYPE_CHECKING:
    from hwd.hall.phone.board import PhoneBoard

log = logging.getLogger("hwd.hall.phone.notices")

KIND = "phone_notice"


def moment(view: dict, alert_ahead: int) -> tuple[str, str] | None:
    """(notice, key) of the moment this phone view is in, or None when nothing is to be told.
    The key changes exactly when a new notice is due (a recall, a transfer, a requeue)."""
    state = view["state"]
    again = f"{view['service']}:{view['transfers']}:{int(bool(view['requeued']))}"  # a new turn in a queue
    if state == "called":
        return ("recall" if view["recalls"] else "call"), f"call:{again}:{view['window']}:{view['recalls']}"
    if state == "waiting":
        if view["ahead"] is not None and view["ahead"] <= alert_ahead and not view.get("after_hours"):
            return "soon", f"soon:{again}"
        if view["transfers"]:
            return "transfer", f"transfer:{again}"
        return None
    if state == "done":
        return ("rate", "rate") if view["rating"] == "pending" else None
    if state == "no_show":
        return "no_show", "no_show"
    return None


def text(notice: str, view: dict, no_show_text: str) -> str:
    """What the citizen reads (Chinese, one line: an SMS gateway can send it as it is)."""
    number, window = view["number"], view.get("window_name") or ""
    if notice == "soon":
        ahead = view["ahead"]
        moved = f"已转到{view['service_name']}，" if view["transfers"] else ""
        return f"{number}号{moved}即将叫号：" + ("下一位就是您，请到窗口附近等候" if ahead == 0
                                              else f"前面还有{ahead}人，请留意叫号")
    if notice == "call":
        return f"请{number}号到{window}办理"
    if notice == "recall":
        return f"再次呼叫：请{number}号到{window}办理"
    if notice == "transfer":
        return f"{number}号已转到{view['service_name']}，前面还有{view['ahead']}人，请继续等候"
    if notice == "no_show":
        return f"{number}号已过号。{no_show_text}"
    return f"{number}号已办结，请为本次服务评价"  # rate


def pickup(db: sqlite3.Connection, ticket: dict, deposit: dict, code: str, token: str, url: str | None,
           core: Any, clock: Any) -> None:
    """The ``pickup`` notice: the ticket's result is in the locker, with its code (in the deposit's
    transaction; one per deposit)."""
    service = core.cfg.services.get(ticket["service"])
    number = ticket["number"]
    payload = {"notice": "pickup", "text": f"{number}号的办理结果已存入智能取件柜，取件码{code}，"
                                           "请到24小时自助服务区的自助机输入取件码或刷身份证取件",
               "day": ticket["day"], "token": token, "url": url,
               "at": hall_views.iso(clock.time(), clock.tz), "number": number, "service": ticket["service"],
               "service_name": service.name if service else ticket["service"], "door": deposit["door"],
               "code": code}
    outbox.put(db, KIND, f"pickup:{deposit['id']}", payload, clock.time())


class Notices:
    def __init__(self, board: "PhoneBoard", alert_ahead: int, url_of: Callable[[str], str | None]):
        self.board, self.alert_ahead, self.url_of = board, alert_ahead, url_of
        self._day: str | None = None
        self._told: dict[str, str] = {}  # token → the key of the last moment written

    def check(self) -> int:
        """Write a notice for every ticket that entered a new moment; returns how many."""
        core = self.board.core
        day = core.today()
        if day != self._day:
            self._day, self._told = day, {}
        due = []
        for token, view in self.board.views().items():
            found = moment(view, self.alert_ahead)
            if found is None or self._told.get(token) == found[1]:
                continue
            self._told[token] = found[1]
            due.append((token, view, *found))
        if not due:
            return 0
        now = core.clock.now()
        written = 0
        with core.store.tx() as db:
            for token, view, notice, key in due:
                payload = {"notice": notice, "text": text(notice, view, core.cfg.no_show_text), "day": day,
                           "token": token, "url": self.url_of(token), "at": hall_views.iso(now.timestamp(), core.tz),
                           **{k: view.get(k) for k in ("number", "service", "service_name", "window", "window_name",
                                                       "ahead", "wait_minutes", "recalls")}}
                try:
                    outbox.put(db, KIND, f"{day}:{token}:{key}", payload, now.timestamp())
                    written += 1
                except sqlite3.IntegrityError:  # written before a restart: told already
                    pass
        if written:
            log.debug("%d phone notices", written)
        return written

