"""SQL and record shapes of 好差评: ratings, work orders and their append-only steps, and the
records the upstream receives (one per change, written to the outbox in the change's transaction).

Kept apart from the rules (hwd.hall.ratings.rules, hwd.hall.ratings.workorders) so both share one statement of
the tables, and apart from hwd.hall.queue.core so neither imports the other: the rules get what they
need from the hall through ``RatingContext``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from hwd.clock import Clock
from hwd.hall import views
from hwd.hall.config import HallConfig, Matter
from hwd.hall.store import Store

if TYPE_CHECKING:  # the queue's calendar (hwd.hall.queue imports the ratings, not the other way)
    from hwd.hall.queue.hours import Calendar


@dataclass
class RatingContext:
    """What the rating rules use of the hall (given by HallCore, so they never import it)."""

    store: Store
    cfg: HallConfig
    clock: Clock
    calendar: Calendar
    emit: Callable[[str, dict], None]
    ticket: Callable[[Any], dict]  # by id or number; raises UNKNOWN_TICKET
    window: Callable[[str], dict]  # the window's row; raises UNKNOWN_WINDOW
    # the province's own rating page of a ticket row (the h5 adapter, given by whoever runs the hall)
    rating_page: Callable[["RatingContext", dict], str] | None = None

    @property
    def tz(self) -> dt.tzinfo:
        return self.clock.tz


# -- ratings ---------------------------------------------------------------------------------
def insert_rating(store: Store, **values: Any) -> int:
    keys = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    return store.db.execute(f"INSERT INTO ratings ({keys}) VALUES ({marks})", tuple(values.values())).lastrowid


def rating(store: Store, rating_id: int) -> dict | None:
    return store.one("SELECT * FROM ratings WHERE id = ?", (rating_id,))


def rating_of_ticket(store: Store, ticket_id: int) -> dict | None:
    return store.one("SELECT * FROM ratings WHERE ticket = ?", (ticket_id,))


def labels(row: dict) -> list[str]:
    return json.loads(row["labels"]) if row.get("labels") else []


# -- work orders -----------------------------------------------------------------------------
def insert_workorder(store: Store, rating_id: int, ts: float, due: str, callback_due: str | None) -> int:
    return store.db.execute("INSERT INTO workorders (rating, state, opened_ts, due, callback_due) "
                            "VALUES (?, 'open', ?, ?, ?)", (rating_id, ts, due, callback_due)).lastrowid


def workorder(store: Store, wo_id: int) -> dict | None:
    return store.one("SELECT * FROM workorders WHERE id = ?", (wo_id,))


def workorder_of_rating(store: Store, rating_id: int) -> dict | None:
    return store.one("SELECT * FROM workorders WHERE rating = ?", (rating_id,))


def workorders(store: Store, state: str | None = None, limit: int = 500) -> list[dict]:
    if state:
        return store.all("SELECT * FROM workorders WHERE state = ? ORDER BY id DESC LIMIT ?", (state, limit))
    return store.all("SELECT * FROM workorders ORDER BY id DESC LIMIT ?", (limit,))


def update_workorder(store: Store, wo_id: int, **values: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    store.db.execute(f"UPDATE workorders SET {sets} WHERE id = ?", tuple(values.values()) + (wo_id,))


def append_step(store: Store, wo_id: int, step: str, from_state: str, to_state: str, ts: float,
                verdict: str | None = None, note: str | None = None, staff: str | None = None) -> int:
    """One step of a work order; the table refuses UPDATE and DELETE (triggers)."""
    return store.db.execute("INSERT INTO workorder_steps (workorder, step, from_state, to_state, verdict, note, "
                            "staff, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (wo_id, step, from_state, to_state, verdict, note, staff, ts)).lastrowid


def steps(store: Store, wo_id: int) -> list[dict]:
    return store.all("SELECT * FROM workorder_steps WHERE workorder = ? ORDER BY id", (wo_id,))


# -- what the upstream receives --------------------------------------------------------------
def matter_of(cfg: HallConfig, service_id: str | None, matter_id: str | None) -> Matter | None:
    """The matter a ticket was handled for (the service's first when none was picked)."""
    s = cfg.services.get(service_id) if service_id else None
    return s.matter(matter_id) if s else None


def _service_fields(cfg: HallConfig, service_id: str | None, matter_id: str | None = None) -> dict:
    s = cfg.services.get(service_id) if service_id else None
    m = s.matter(matter_id) if s else None
    return {"service": service_id, "matter": m.id if m else matter_id, "matter_name": m.name if m else service_id,
            "matter_code": m.matter_code if m else "", "impl_code": m.impl_code if m else "",
            "matter_version": m.matter_version if m else "", "department": m.department if m else "",
            # the province's data of the service and of its matter, over [hall.upstream] province
            "province_fields": {**(s.province if s else {}), **(m.province if m else {})}}


def _people(cfg: HallConfig, window: str | None, staff: str | None) -> dict:
    w = cfg.windows.get(window) if window else None
    p = cfg.staff.get(staff) if staff else None
    return {"window": window, "window_name": w.name if w else window, "staff": staff,
            "staff_name": p.name if p else staff}


def rating_record(ctx: RatingContext, row: dict) -> dict:
    """A rating as the upstream gets it (names documented in docs/hall.md, 好差评)."""
    names = ctx.cfg.ratings.reason_names()
    codes = labels(row)
    return {"rating_id": row["id"], "ticket_id": row["ticket"], "ticket": row["number"],
            "case_no": row["case_no"], "score": row["score"], "level": views.LEVELS[row["score"]],
            "labels": codes, "label_names": [names.get(c, c) for c in codes], "text": row["reason"] or "",
            "region_code": row["region_code"] or "", "hall": ctx.cfg.name,
            **_service_fields(ctx.cfg, row["service"], row["matter_id"]),
            "matter_code": row["matter_code"] or "", "impl_code": row["impl_code"] or "",
            "matter_version": row["matter_version"] or "",
            **({"matter_name": row["matter_name"]} if row["matter_name"] else {}),
            **_people(ctx.cfg, row["window"], row["staff"]),
            "service_start": views.iso(row["service_start"], ctx.tz),
            "service_end": views.iso(row["service_end"], ctx.tz), "channel": row["channel"],
            "rated_at": views.iso(row["ts"], ctx.tz), "excluded": bool(row["excluded"])}


def _region(cfg: HallConfig, ticket: dict) -> str:
    m = matter_of(cfg, ticket["service"], ticket.get("matter_id"))
    return (m.region if m else "") or cfg.region_code


def unrated_record(ctx: RatingContext, ticket: dict) -> dict:
    """A service nobody rated: sent as such, with no score (hwd never invents one)."""
    return {"rating_id": None, "ticket_id": ticket["id"], "ticket": ticket["number"], "case_no": ticket.get("case_no"),
            "score": None, "level": "未评价", "labels": [], "label_names": [], "text": "",
            "region_code": _region(ctx.cfg, ticket), "hall": ctx.cfg.name,
            **_service_fields(ctx.cfg, ticket["service"], ticket.get("matter_id")),
            **_people(ctx.cfg, ticket["window"], ticket["staff"]),
            "service_start": views.iso(ticket["started_ts"] or ticket["called_ts"], ctx.tz),
            "service_end": views.iso(ticket["finished_ts"], ctx.tz), "channel": None, "rated_at": None,
            "excluded": False}


def step_record(ctx: RatingContext, wo: dict, step: dict, rating_row: dict) -> dict:
    return {"workorder_id": wo["id"], "step_id": step["id"], "rating_id": rating_row["id"],
            "ticket": rating_row["number"], "case_no": rating_row["case_no"], "step": step["step"],
            "from_state": step["from_state"], "state": step["to_state"], "verdict": step["verdict"],
            "note": step["note"] or "", "staff": step["staff"], "at": views.iso(step["ts"], ctx.tz),
            "due": wo["due"], "region_code": rating_row["region_code"] or ""}


# -- views -----------------------------------------------------------------------------------
def workorder_view(ctx: RatingContext, wo: dict, with_steps: bool = True) -> dict:
    today = ctx.clock.now().date().isoformat()
    r = rating(ctx.store, wo["rating"])
    open_ = wo["state"] != "closed"
    out = {"id": wo["id"], "rating": wo["rating"], "ticket": r["number"] if r else None,
           "case_no": r["case_no"] if r else None, "score": r["score"] if r else None,
           "level": views.LEVELS.get(r["score"]) if r else None, "reasons": labels(r) if r else [],
           "text": (r["reason"] or "") if r else "", "window": r["window"] if r else None,
           "staff": r["staff"] if r else None, "state": wo["state"], "verdict": wo["verdict"],
           "opened_at": views.iso(wo["opened_ts"], ctx.tz), "due": wo["due"], "callback_due": wo["callback_due"],
           "closed_at": views.iso(wo["closed_ts"], ctx.tz), "excluded": bool(r["excluded"]) if r else False,
           "overdue": open_ and today > wo["due"],
           "callback_overdue": wo["state"] == "open" and bool(wo["callback_due"]) and today > wo["callback_due"]}
    if with_steps:
        out["steps"] = [{"id": s["id"], "step": s["step"], "from": s["from_state"], "to": s["to_state"],
                         "verdict": s["verdict"], "note": s["note"], "staff": s["staff"],
                         "at": views.iso(s["ts"], ctx.tz)} for s in steps(ctx.store, wo["id"])]
    return out


def rating_view(ctx: RatingContext, row: dict) -> dict:
    out = views.rating(row, ctx.tz)
    names = ctx.cfg.ratings.reason_names()
    out.update(case_no=row["case_no"], reasons=labels(row), reason_names=[names.get(c, c) for c in labels(row)],
               text=row["reason"] or "",
               excluded=bool(row["excluded"]), matter_code=row["matter_code"] or "",
               region_code=row["region_code"] or "")
    wo = workorder_of_rating(ctx.store, row["id"])
    if wo is not None:
        out["workorder"] = {k: v for k, v in workorder_view(ctx, wo, with_steps=False).items()
                            if k in ("id", "state", "verdict", "due", "callback_due", "overdue", "callback_overdue")}
        out.update(followup_of(ctx, wo))
    return out


def followup_of(ctx: RatingContext, wo: dict) -> dict:
    """A 差评's follow-up as its work order has it (the one record: ``hall.followup`` is its 回访
    step): ``followup_state`` open until the 回访, then done, with that step's note, time and staff."""
    callback = ctx.store.one("SELECT * FROM workorder_steps WHERE workorder = ? AND step = 'callback' "
                             "ORDER BY id LIMIT 1", (wo["id"],))
    if callback is None:
        return {"followup_state": "open", "followup_note": None, "followup_at": None, "followup_by": None}
    return {"followup_state": "done", "followup_note": callback["note"], "followup_at": views.iso(callback["ts"], ctx.tz),
            "followup_by": callback["staff"]}
