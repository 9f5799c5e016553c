"""The ``hall.*`` RPC methods (docs/api.md and docs/hall.md): names, params and one line of doc
each, mapped onto the engine's parts. Registered by hwd.hall_wiring once the engine has started.
Params are checked by the RPC layer before any rule runs.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from hwd import errors
from hwd.clock import parse_time
from hwd.errors import HwdError
from hwd.hall import stats
from hwd.hall.pickup import api as pickup_api
from hwd.hall.queue import desk as desks
from hwd.hall.ratings import api as rating_api
from hwd.hall.ratings.rules import CHANNELS
from hwd.hall.config import PRIORITY_CLASSES
from hwd.schema import Field

if TYPE_CHECKING:
    from hwd.hall.engine import HallEngine

WINDOW = Field("window", str)
MATTER = Field("matter", str, None, doc="a [[hall.service.matter]] id of the ticket's service")
TICKET_STATES = ("waiting", "called", "serving", "done", "no_show", "expired", "cancelled")


def register(methods: Any, engine: "HallEngine") -> None:
    core = lambda: engine.core  # noqa: E731 - the core exists once the engine has started
    add = methods.add

    issuing, logins = engine.issuing, engine.logins
    add("hall.issue_ticket", lambda p, key: issuing.issue_ticket(p["service"], p["kiosk"], p["card_token"],
                                                                 p["priority"], p["appointment"], key),
        (Field("service", str), Field("kiosk", str, None), Field("card_token", str, None),
         Field("priority", str, None, choices=("normal",) + PRIORITY_CLASSES), Field("appointment", str, None)),
        "issue a ticket (printed at the kiosk's printer when given)", recover=issuing.recover_issue)
    add("hall.prioritize", lambda p: engine.run(core().prioritize, p["ticket"], p["priority"], p["staff"]),
        (Field("ticket", (int, str)), Field("priority", str, choices=("normal",) + PRIORITY_CLASSES),
         Field("staff", str, None)), "staff set the priority class of a waiting ticket")
    add("hall.call_next", lambda p: engine.run(core().call_next, p["window"]), (WINDOW,),
        "call the next ticket to a window (null when nobody waits)")
    for name, doc in (("recall", "call the current ticket again"),
                      ("no_show", "the called citizen did not come (per the no-show rule)")):
        add(f"hall.{name}", _window_op(engine, name), (WINDOW,), doc)
    for name, doc in (("start", "start serving the current ticket"),
                      ("finish", "finish the current ticket and invite a rating")):
        add(f"hall.{name}", _matter_op(engine, name), (WINDOW, MATTER),
            doc + "; matter: the matter (事项) handled, of the ticket's service (default: its first)")
    add("hall.transfer", lambda p: engine.run(core().transfer, p["window"], p["service"]),
        (WINDOW, Field("service", str)), "send the current ticket to another service, keeping its place")
    for name, doc in (("pause", "pause a window (its screen shows 暂停服务)"), ("resume", "resume a paused window")):
        add(f"hall.{name}", _pause_op(engine, name), (WINDOW, Field("reason", str, None)), doc)
    add("hall.login", lambda p: logins.login(p["window"], p["staff"], p["pin"], p["source"]),
        (WINDOW, Field("staff", str), Field("pin", str, None), Field("source", str, None)),
        "a clerk logs in to a window (AB岗: takes it over); wrong PINs lock the staff id and the source "
        "address (the page's client) with backoff")
    add("hall.set_pin", lambda p: logins.set_pin(p["staff"], p["pin"], p["source"]),
        (Field("staff", str), Field("pin", str), Field("source", str, None)),
        "a clerk whose PIN was reset (or who is new) sets a new one (4-12 digits) before logging in; "
        "stored only as its hash in the config file")
    add("hall.logout", lambda p: engine.run(core().logout, p["window"], p["staff"]),
        (WINDOW, Field("staff", str, None)), "a clerk logs out; the window closes")
    add("hall.rate", lambda p: engine.run(engine.channels.rate, p),
        (Field("score", int, min=1, max=5), Field("window", str, None), Field("ticket", (int, str), None),
         Field("channel", str, "rpc", choices=CHANNELS), Field("reason", str, None),
         Field("reasons", list, None, items=str), Field("pad", str, None),
         Field("secret", str, None), Field("token", str, None), Field("real_name", bool, False)),
        "rate the last service of a window (or a ticket): 5 非常满意 … 1 非常不满意; reasons: 差评 reason codes; "
        "a pad (pad+secret) rates only its window's last service, a phone gives the ticket's token; "
        "real_name: the citizen consented to 实名评价 (with [hall.upstream] real_name)")
    rating_api.register(methods, engine)
    pickup_api.register(methods, engine)
    add("hall.pad.enroll", lambda p: engine.run(engine.channels.enroll, p["window"]), (WINDOW,),
        "enrol a rating pad/page for a window: returns its secret once (replaces the window's old pad)")
    add("hall.pad.check", lambda p: _pad_check(engine, p),
        (Field("pad", str), Field("secret", str), WINDOW), "is this the window's enrolled pad?", replay=False)
    add("hall.pad.revoke", lambda p: engine.run(engine.channels.revoke, p["pad"]), (Field("pad", str),),
        "revoke a rating pad")
    add("hall.pad.list", lambda p: engine.channels.pads(), (), "enrolled rating pads (no secrets)", replay=False)
    add("hall.ticket_token", lambda p: _ticket_token(engine, p), (Field("ticket", (int, str)),),
        "the ticket's own token for rating from a phone (/t/<token>)", replay=False)
    add("hall.cancel", lambda p: engine.run(engine.channels.cancel, p["token"]), (Field("token", str),),
        "the citizen leaves the queue (取消排队) from the phone page: the ticket's own token, only while it waits")
    add("hall.phone_board", lambda p: engine.run(engine.phones.board, p["since"]), (Field("since", str, None),),
        "every ticket of the business day as its phone page sees it, keyed by token (for hwd-ui)", replay=False)
    add("hall.phone_view", lambda p: engine.run(engine.phones.view_of, p["token"]), (Field("token", str),),
        "one ticket as its phone page (/t/<token>) sees it", replay=False)
    add("hall.state", lambda p: engine.snapshot(), (), "snapshot: windows, queues, recent calls, seq", replay=False)
    add("hall.stats", lambda p: _stats(engine, p),
        (Field("from", str, None), Field("to", str, None), Field("group_by", str, "service", choices=stats.GROUPS)),
        "statistics rows over a period of issue dates", replay=False)
    add("hall.estimate", lambda p: _estimate(engine, p),
        (Field("service", str, None), Field("ticket", (int, str), None)),
        "the estimated wait of a waiting ticket, or of a ticket taken now in a service (暂无法估计 without data)",
        replay=False)
    add("hall.alerts", lambda p: engine.alerts.current(), (),
        "the raised tidal-window alerts (潮汐窗口): service, longest wait, queue, the windows that can serve it",
        replay=False)
    add("hall.hours", lambda p: core().calendar.status(engine.clock.now()), (),
        "whether tickets can be taken now, the next opening, today's hours and the calendar's coverage",
        replay=False)
    add("hall.report", lambda p: _report(engine, p),
        (Field("period", str, "day", choices=stats.PERIODS), Field("date", str, None), Field("from", str, None),
         Field("to", str, None)),
        "the admin's charts for a day, week, month, quarter (holding date) or custom from..to", replay=False)
    add("hall.desk_login", lambda p: logins.desk_login(p["desk"], p["staff"], p["pin"], p["source"]),
        (Field("desk", str), Field("staff", str), Field("pin", str, None), Field("source", str, None)),
        "a guide desk (导办台) staff login, checked like hall.login")
    add("hall.desk_issue", lambda p: issuing.desk_issue(p["desk"], p["service"], p["priority"], p["staff"],
                                                        p["verified"], p["assisted"]),
        (Field("desk", str), Field("service", str),
         Field("priority", str, "normal", choices=("normal",) + desks.CHECKED_CLASSES),
         Field("staff", str, None), Field("verified", bool, False), Field("assisted", bool, False)),
        "issue at a guide desk: a priority class after the documents were checked, or a 帮办代办 ticket")
    add("hall.services", lambda p: _services(engine), (), "services with today's quota and queue", replay=False)
    add("hall.guide", lambda p: issuing.guide(p["service"], p["kiosk"], p["print"], p["matter"]),
        (Field("service", str), Field("kiosk", str, None), Field("print", bool, False), MATTER),
        "the service guide (办事指南); print=true prints the 一次性告知单 at the kiosk")
    add("hall.tickets", lambda p: _tickets(engine, p),
        (Field("day", str, None), Field("service", str, None), Field("window", str, None),
         Field("state", str, None, choices=TICKET_STATES), Field("limit", int, 200, min=1, max=5000)),
        "tickets of a day (default today), filtered", replay=False)
    add("hall.ticket", lambda p: _ticket(engine, p["ticket"]),
        (Field("ticket", (int, str)),), "one ticket by id or number (today's first)", replay=False)
    add("hall.ratings", lambda p: _ratings(engine, p),
        (Field("from", str, None), Field("to", str, None), Field("bad", bool, None), Field("open", bool, False),
         Field("window", str, None), Field("staff", str, None), Field("limit", int, 500, min=1, max=5000)),
        "ratings over a period; bad=true for 差评, open=true for those whose work order waits for its 回访", replay=False)
    add("hall.followup", lambda p: engine.run(core().ratings.followup, p["rating"], p["note"], p["staff"]),
        (Field("rating", int, min=1, max=2 ** 63 - 1), Field("note", str), Field("staff", str, None)),
        "follow a bad rating up: the 回访 (callback) step of its work order, as hall.workorder does; "
        "returns the rating")
    add("hall.reprint", lambda p: issuing.reprint(p["ticket"], p["kiosk"], p["desk"]),
        (Field("ticket", (int, str)), Field("kiosk", str, None), Field("desk", str, None)),
        "print a ticket again (at a kiosk, or at a guide desk)")
    add("hall.checkin", lambda p, key: issuing.checkin(p["code"], p["card_token"], p["kiosk"], key),
        (Field("code", str, None), Field("card_token", str, None), Field("kiosk", str, None)),
        "check in an appointment by code or ID card; issues its ticket", recover=issuing.recover_issue)
    add("hall.book", lambda p: _book(engine, p),
        (Field("service", str), Field("slot", str), Field("code", str, None), Field("id_number", str, None),
         Field("minutes", int, None, min=5, max=600)), "book an appointment (for tests and a booking system)")
    add("hall.area", lambda p: engine.area.status(p["kiosk"]), (Field("kiosk", str, None),),
        "the 24-hour area's kiosk: are the windows open, when they open, the hours of the week ahead", replay=False)
    add("hall.slots", lambda p: engine.area.slots(p["service"]), (Field("service", str),),
        "the booking slots of the coming working days with the room left ([hall.appointments] per_slot)",
        replay=False)
    add("hall.book_slot", lambda p: engine.area.book(p["service"], p["slot"], p["kiosk"], p["card_token"]),
        (Field("service", str), Field("slot", str), Field("kiosk", str), Field("card_token", str, None)),
        "book an offered slot at a kiosk (the ID card on its own reader finds it at check-in); prints the code")
    add("hall.export", lambda p: _export(engine, p),
        (Field("what", str, "stats", choices=("stats", "tickets", "ratings")), Field("from", str, None),
         Field("to", str, None), Field("group_by", str, "service", choices=stats.GROUPS),
         Field("labels", str, "", choices=("", "zh"))),
        "CSV text of statistics, tickets or ratings; labels=zh: for people (Chinese headings, names, minutes, "
        "percentages, states in words)", replay=False)


def _pad_check(engine: "HallEngine", p: dict) -> dict:
    row = engine.channels.check_pad(p["pad"], p["secret"], p["window"])
    return {"pad": row["id"], "window": row["window"]}


def _ticket_token(engine: "HallEngine", p: dict) -> dict:
    row = engine.core.ticket_lookup(p["ticket"])
    return {"ticket": row["id"], "number": row["number"], "token": engine.channels.token(row["id"], row["day"]),
            "url": engine.links.phone_url(row)}


def _window_op(engine: "HallEngine", name: str):
    return lambda p: engine.run(getattr(engine.core, name), p["window"])


def _matter_op(engine: "HallEngine", name: str):
    return lambda p: engine.run(getattr(engine.core, name), p["window"], p["matter"])


def _pause_op(engine: "HallEngine", name: str):
    return lambda p: engine.run(getattr(engine.core, name), p["window"], p["reason"])


def _period(engine: "HallEngine", p: dict) -> tuple[float, float]:
    return stats.period(p.get("from"), p.get("to"), engine.tz, engine.clock.now().date())


def _stats(engine: "HallEngine", p: dict) -> list[dict]:
    start, end = _period(engine, p)
    return stats.compute(engine.store, start, end, p["group_by"], engine.tz)


def _report(engine: "HallEngine", p: dict) -> dict:
    today = engine.clock.now().date()
    try:
        anchor = dt.date.fromisoformat(p["date"]) if p["date"] else today
    except ValueError:
        raise HwdError(f"not a date: {p['date']!r} (YYYY-MM-DD)", errors.INVALID_PARAMS) from None
    first, last = stats.period_dates(p["period"], anchor, p["from"], p["to"])
    start, end = stats.period(first, last, engine.tz, today)
    if end <= start:
        raise HwdError("the period ends before it starts", errors.INVALID_PARAMS)
    out = stats.report(engine.store, start, end, engine.tz, engine.cfg.windows, engine.core.staff_required,
                       engine.clock.time())
    return {"period": p["period"], "from": first, "to": last, **out}


def _services(engine: "HallEngine") -> list[dict]:
    today = engine.core.today()
    counts = engine.store.queue_counts()
    out = []
    for s in engine.cfg.services.values():
        issued = engine.store.issued_count(s.id, today)
        out.append({"id": s.id, "name": s.name, "prefix": s.prefix, "department": s.department,
                    "quota": s.quota or None, "issued_today": issued,
                    "remaining": max(0, s.quota - issued) if s.quota else None,
                    "waiting": counts.get(s.id, {}).get("waiting", 0),
                    "windows": [w.id for w in engine.cfg.windows.values() if s.id in w.services]})
    return out


def _tickets(engine: "HallEngine", p: dict) -> list[dict]:
    where, args = ["day = ?"], [p["day"] or engine.core.today()]
    for key in ("service", "window", "state"):
        if p[key] is not None:
            where.append(f"{key} = ?")
            args.append(p[key])
    rows = engine.store.all(f"SELECT * FROM tickets WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
                            tuple(args) + (p["limit"],))
    return [engine.core.ticket_view(r) for r in rows]


def _ticket(engine: "HallEngine", ticket: Any) -> dict:
    row = engine.core.ticket_lookup(ticket)
    view = engine.core.ticket_view(row)
    if row["state"] == "waiting":
        estimate = engine.core.estimate(ticket=row["id"])
        view["waiting_ahead"] = estimate["waiting_ahead"]
        view["wait"] = {k: estimate[k] for k in ("wait_s", "minutes", "text")}
    view["qr"] = engine.links.qr_text(row)
    return view


def _ratings(engine: "HallEngine", p: dict) -> list[dict]:
    start, end = _period(engine, p)
    return engine.core.ratings.query(start, end, p["bad"], p["open"], p["window"], p["staff"], p["limit"])


def _estimate(engine: "HallEngine", p: dict) -> dict:
    if p["service"] is None and p["ticket"] is None:
        raise HwdError("give service or ticket", errors.INVALID_PARAMS)
    return engine.core.estimate(p["service"], p["ticket"])


def _book(engine: "HallEngine", p: dict) -> dict:
    slot = parse_time(p["slot"], engine.tz)
    stats.check_year(slot, p["slot"])
    try:  # year 9999 plus the slot's minutes, year 1 before the epoch: bad input, not a crash
        (slot + dt.timedelta(minutes=p["minutes"] or 600)).timestamp()
        slot.timestamp()
    except (OverflowError, ValueError, OSError):
        raise HwdError(f"slot out of range: {p['slot']!r}", errors.INVALID_PARAMS) from None
    return engine.appointments.book(p["service"], slot, p["code"], p["id_number"], p["minutes"])


def _export(engine: "HallEngine", p: dict) -> str:
    start, end = _period(engine, p)
    cfg = engine.cfg
    names = ({"window": {w.id: w.name for w in cfg.windows.values()},
              "service": {s.id: s.name for s in cfg.services.values()},
              "staff": {s.id: s.name for s in cfg.staff.values()}} if p["labels"] == "zh" else None)
    if p["what"] == "stats":
        return stats.to_csv(stats.compute(engine.store, start, end, p["group_by"], engine.tz), names)
    if p["what"] == "ratings":
        return stats.to_csv(engine.core.ratings.export(start, end), names)
    rows = engine.store.all("SELECT * FROM tickets WHERE issued_ts >= ? AND issued_ts < ? ORDER BY id", (start, end))
    keep = ("id", "day", "number", "service", "priority", "state", "window", "staff", "issued_at", "called_at",
            "started_at", "finished_at", "recalls", "transfers", "printed", "rating_state")
    return stats.to_csv([{k: engine.core.ticket_view(r)[k] for k in keep} for r in rows], names)


