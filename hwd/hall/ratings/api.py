"""The 好差评 RPC methods beyond ``hall.rate``: 办件编号, work orders, the reason list, the h5
page of a ticket, and the outbox (``outbox.*``, for hwctl and the admin page). Registered by
hwd.hall.api; documented in docs/api.md and docs/hall.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hwd import errors, outbox
from hwd.errors import HwdError
from hwd.hall import stats, views
from hwd.hall.ratings import workorders
from hwd.schema import Field

if TYPE_CHECKING:
    from hwd.hall.engine import HallEngine


def register(methods: Any, engine: "HallEngine") -> None:
    ratings = lambda: engine.core.ratings  # noqa: E731 - exists once the engine has started
    add = methods.add

    add("hall.case", lambda p: engine.run(ratings().attach_case, p["ticket"], p["case_no"], p["staff"], p["window"]),
        (Field("ticket", (int, str)), Field("case_no", str), Field("staff", str, None), Field("window", str, None)),
        "attach a 办件编号 to a ticket (and so to its rating); sent upstream again if already rated; with "
        "window, only a ticket served at that window")
    add("hall.workorders", lambda p: ratings().workorders.list(p["state"], p["overdue"], p["limit"]),
        (Field("state", str, None, choices=workorders.STATES), Field("overdue", bool, None),
         Field("limit", int, 500, min=1, max=5000)),
        "差评 work orders (newest first) with their steps and whether they are overdue", replay=False)
    add("hall.workorder", lambda p: engine.run(ratings().workorders.move, p["id"], p["step"], p["note"],
                                               p["verdict"], p["staff"]),
        (Field("id", int), Field("step", str, choices=workorders.STEPS), Field("note", str, None),
         Field("verdict", str, None, choices=workorders.VERDICTS), Field("staff", str, None)),
        "move a work order: callback, verify (verdict), rectify (note), close, appeal (note), review (verdict)")
    add("hall.reasons", lambda p: [{"code": r.code, "name": r.name} for r in engine.cfg.ratings.reasons], (),
        "the configured 差评 reasons", replay=False)
    add("hall.rating_url", lambda p: _rating_url(engine, p["ticket"]), (Field("ticket", (int, str)),),
        "h5 adapter: the provincial rating page of a ticket", replay=False)
    add("outbox.status", lambda p: _status(engine), (), "per sink: pending/sent/rejected/error, oldest pending",
        replay=False)
    add("outbox.records", lambda p: outbox.records(engine.store.db, _sink(engine, p["sink"]), p["state"], p["limit"]),
        (Field("sink", str, "upstream"), Field("state", str, None, choices=outbox.STATES),
         Field("limit", int, 100, min=1, max=5000)), "a sink's records, newest first", replay=False)
    add("outbox.replay", lambda p: _resend(engine, p),
        (Field("sink", str, "upstream"), Field("ids", list, None, items=int), Field("from", str, None),
         Field("to", str, None), Field("states", list, ["sent", "rejected"], items=str)),
        "补报: send records again (same idempotency keys); by id or by period of record time")


def _rating_url(engine: "HallEngine", ticket: Any) -> dict:
    engine.core.ratings.require_page()
    t = engine.core.ticket_lookup(ticket)
    return {"ticket": t["id"], "url": engine.core.ratings.h5_url(t)}


def _sinks(engine: "HallEngine") -> list:
    return engine.outbox.sinks if engine.outbox is not None else []


def _sink(engine: "HallEngine", name: str) -> str:
    if name not in [s.name for s in _sinks(engine)]:
        raise HwdError(f"no outbox sink {name!r}; configured: {', '.join(s.name for s in _sinks(engine)) or 'none'}",
                       errors.UNKNOWN_SINK, {"sink": name})
    return name


def _status(engine: "HallEngine") -> dict:
    rows = outbox.status(engine.store.db, _sinks(engine))
    for row in rows:
        row["oldest_pending"] = views.iso(row.pop("oldest_pending_ts"), engine.tz)
    total = engine.store.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    return {"records": total, "sinks": rows}


def _resend(engine: "HallEngine", p: dict) -> dict:
    sink = _sink(engine, p["sink"])
    bad = [s for s in p["states"] if s not in outbox.STATES]
    if bad:
        raise HwdError(f"unknown state {bad[0]!r}; known: {', '.join(outbox.STATES)}", errors.INVALID_PARAMS)
    since = until = None
    if p["from"] or p["to"]:
        since, until = stats.period(p["from"], p["to"], engine.tz, engine.clock.now().date())
    with engine.store.tx():
        n = outbox.resend(engine.store.db, sink, p["ids"], since, until, p["states"])
    engine.outbox.wake_all()
    return {"sink": sink, "replayed": n}
