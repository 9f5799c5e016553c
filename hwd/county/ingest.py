"""Outbox records into the county database: each stored once in ``records`` (hall + idempotency
key), then applied to the projection it belongs to, then the days they touch rolled again
(hwd.county.rollup) — all in the caller's transaction.

A record already stored is a duplicate (a retry after a lost reply, a 补报 replay): the ``records``
row stays one, and applying it again changes nothing — events are keyed by their hall-side id,
and projections keep the record id (``rec_id``) that last wrote them and take only the same or a
newer one — so nothing counts twice and records arriving late never roll a state back.
"""

from __future__ import annotations

import json
from typing import Any

from hwd.outbox import Record

TICKET_COLS = ("day", "issued_date", "service", "origin_service", "number", "priority", "state", "window_id",
               "staff", "holder", "issued_ts", "first_called_ts", "called_ts", "started_ts", "finished_ts",
               "recalls", "requeues", "transfers", "rating_state")


def _upsert(table: str, keys: tuple[str, ...], cols: tuple[str, ...], newer: bool = True) -> str:
    allcols = keys + cols
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols)
    guard = f" WHERE {table}.rec_id <= EXCLUDED.rec_id" if newer else ""
    return (f"INSERT INTO {table} ({', '.join(allcols)}) VALUES ({', '.join('%s' for _ in allcols)}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}{guard}")


SQL = {
    "workorder": _upsert("workorders", ("hall_id", "workorder_id"), ("rating_id", "state", "verdict", "due",
                                                                    "rec_id")),
    "step": "INSERT INTO workorder_steps (hall_id, step_id, workorder_id, step, from_state, to_state, staff, at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
    "window_event": "INSERT INTO window_events (hall_id, action_id, window_id, action, state, staff, reason, ts) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
    "window": _upsert("windows", ("hall_id", "window_id"), ("state", "staff", "reason", "since", "rec_id")),
    "device_event": "INSERT INTO device_events (hall_id, rec_id, device, kind, state, previous, detail, ts) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
    "device": _upsert("devices", ("hall_id", "device"), ("kind", "state", "detail", "since", "rec_id")),
    "deposit_event": "INSERT INTO deposit_events (hall_id, rec_id, deposit_id, action, state, device, door, ts) "
                     "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
    "deposit": _upsert("deposits", ("hall_id", "deposit_id"),
                       ("state", "device", "door", "ticket_id", "number", "case_no", "staff", "window_id", "kiosk",
                        "via", "created_ts", "deposited_ts", "picked_ts", "ended_ts", "rec_id")),
    "locker_alarm": _upsert("locker_alarms", ("hall_id", "alarm_id"),
                            ("device", "door", "kind", "deposit_id", "raised_ts", "cleared_ts", "cleared_by", "rec_id")),
}


RECORDS_MANY = ("INSERT INTO records (hall_id, key, rec_id, kind, ref, ts, payload) "
                # binary parameters (%b): text arrays of JSON would be escaped element by element
                "SELECT %b, k, r, kd, rf, t, p::jsonb FROM unnest(%b::text[], %b::bigint[], %b::text[], "
                "%b::text[], %b::float8[], %b::text[]) AS u(k, r, kd, rf, t, p) ON CONFLICT DO NOTHING RETURNING key")


def _many(table: str, cols: tuple[tuple[str, str], ...], conflict: str) -> str:
    """One INSERT of a batch's rows, given as one array per column (binary), the hall id once."""
    arrays = ", ".join(f"%b::{kind}[]" for _, kind in cols)
    return (f"INSERT INTO {table} (hall_id, {', '.join(c for c, _ in cols)}) "
            f"SELECT %b, u.* FROM unnest({arrays}) AS u {conflict}")


def _newer(table: str, keys: tuple[str, ...], cols: tuple[tuple[str, str], ...]) -> str:
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c, _ in cols if c not in keys)
    return f"ON CONFLICT (hall_id, {', '.join(keys)}) DO UPDATE SET {sets} WHERE {table}.rec_id <= EXCLUDED.rec_id"


TICKET_TYPES = dict(day="date", issued_date="date", issued_ts="float8", first_called_ts="float8",
                    called_ts="float8", started_ts="float8", finished_ts="float8", recalls="int4",
                    requeues="int4", transfers="int4")
TICKET_ROW = (("ticket_id", "int8"),) + tuple((c, TICKET_TYPES.get(c, "text")) for c in TICKET_COLS) \
    + (("rec_id", "int8"),)
EVENT_ROW = (("action_id", "int8"), ("ticket_id", "int8"), ("action", "text"), ("state", "text"),
             ("window_id", "text"), ("staff", "text"), ("ts", "float8"))
RATING_ROW = (("rating_id", "int8"), ("ticket_id", "int8"), ("score", "int4"), ("window_id", "text"),
              ("staff", "text"), ("service", "text"), ("channel", "text"), ("rated_at", "timestamptz"),
              ("rated_date", "date"), ("labels", "jsonb"), ("excluded", "bool"), ("rec_id", "int8"))
MANY = {
    "ticket": _many("tickets", TICKET_ROW, _newer("tickets", ("ticket_id",), TICKET_ROW)),
    "ticket_event": _many("ticket_events", EVENT_ROW, "ON CONFLICT DO NOTHING"),
    "rating": _many("ratings", RATING_ROW, _newer("ratings", ("rating_id",), RATING_ROW)),
}
FLOATS = {i for i, (_, kind) in enumerate(TICKET_ROW) if kind == "float8"}


def _float(x: Any) -> Any:
    """JSON may carry a whole-second time as an int; one array takes one type."""
    return float(x) if isinstance(x, int) and not isinstance(x, bool) else x


def _columns(rows: list[tuple]) -> list[list]:
    return [list(col) for col in zip(*rows)]


def store_many(conn: Any, hall_id: str, records: list[Record]) -> set[str]:
    """Keep and apply ``records`` and roll again the days they touch, in the caller's transaction;
    returns the keys the county did not have yet.

    One statement stores them all in ``records``; one statement each then writes the batch's
    tickets, their steps, its ratings and the tickets' scores (arrays per column through
    ``unnest``: a 2,000-record batch is a handful of round trips), the other kinds go one by one,
    the rollup last (hwd.county.rollup). A ticket (or rating) changed
    by several records of the batch is written once, with its newest record — what applying them
    one by one under the ``rec_id`` guard would leave — and every step still goes to ticket_events."""
    from hwd.county import rollup

    cols = ([r.key for r in records], [r.id for r in records], [r.kind for r in records], [r.ref for r in records],
            [r.ts for r in records], [json.dumps(r.payload, ensure_ascii=False) for r in records])
    fresh = {row[0] for row in conn.execute(RECORDS_MANY, (hall_id, *cols)).fetchall()}
    tickets: dict[int, tuple] = {}
    events: list[tuple] = []
    ratings: dict[int, tuple] = {}
    scores: dict[int, int] = {}  # ticket → the rating whose score it takes (the batch's last)
    rest: list[Record] = []
    for r in records:
        p = r.payload
        if r.kind == "ticket":
            t = p["ticket"]
            if t["id"] not in tickets or tickets[t["id"]][-1] < r.id:
                row = (t["id"], *(t.get(c) for c in TICKET_COLS), r.id)
                tickets[t["id"]] = tuple(_float(v) if i in FLOATS else v for i, v in enumerate(row))
            events.append((p["action_id"], t["id"], p["action"], t.get("state"), p.get("window"),
                           p.get("staff"), _float(p["at_ts"])))
        elif r.kind in RATING_KINDS and p.get("rating_id") is not None:
            if p["rating_id"] not in ratings or ratings[p["rating_id"]][-1] < r.id:
                ratings[p["rating_id"]] = (
                    p["rating_id"], p.get("ticket_id"), p["score"], p.get("window"), p.get("staff"),
                    p.get("service"), p.get("channel"), p.get("rated_at"), (p.get("rated_at") or "")[:10] or None,
                    json.dumps(p.get("labels") or []), bool(p.get("excluded")), r.id)
            if p.get("ticket_id") is not None:
                scores.pop(p["ticket_id"], None)
                scores[p["ticket_id"]] = p["rating_id"]
        else:
            rest.append(r)
    with conn.cursor() as cur:
        for kind, rows in (("ticket", tickets.values()), ("ticket_event", events), ("rating", ratings.values())):
            if rows:
                cur.execute(MANY[kind], (hall_id, *_columns(list(rows))))
        if scores:
            cur.execute(SCORE, ([hall_id] * len(scores), list(scores.values()), list(scores)))
        for record in rest:
            apply(cur, hall_id, record)
        rollup.reroll(cur, hall_id, touched(records))
    return fresh


RATING_KINDS = ("rating", "exclusion", "case")
# a ticket takes its rating's score as the rating row stands (a redelivered older record changed
# nothing). The hall id comes as an array column, one per row, not as a constant: for a hall newer
# than the table's statistics the planner takes "hall_id = 'h43'" for one row and scans all of
# that hall's tickets and ratings for every batch (seconds per batch, growing as the hall loads);
# joined on the whole keys it looks each row up by its primary key whatever the statistics say
SCORE = ("UPDATE tickets t SET score = r.score, rating_excluded = r.excluded "
         "FROM unnest(%b::text[], %b::int8[], %b::int8[]) AS u(hall_id, rating_id, ticket_id) "
         "JOIN ratings r ON r.hall_id = u.hall_id AND r.rating_id = u.rating_id "
         "WHERE t.hall_id = u.hall_id AND t.ticket_id = u.ticket_id")


def touched(records: list[Record]) -> list[int]:
    """The hall's tickets whose rows (state, times, score) these records change."""
    out = []
    for r in records:
        if r.kind == "ticket":
            out.append(r.payload["ticket"]["id"])
        elif r.kind in RATING_KINDS and r.payload.get("ticket_id") is not None:
            out.append(r.payload["ticket_id"])
    return out


def apply(cur: Any, hall_id: str, record: Record) -> None:
    """A record of the kinds a batch does not gather (work orders, windows, devices, the locker's
    deposits and alarms)."""
    p, rid = record.payload, record.id
    if record.kind == "workorder":
        cur.execute(SQL["workorder"], (hall_id, p["workorder_id"], p.get("rating_id"), p["state"], p.get("verdict"),
                                       p.get("due"), rid))
        cur.execute(SQL["step"], (hall_id, p["step_id"], p["workorder_id"], p["step"], p.get("from_state"),
                                  p["state"], p.get("staff"), p.get("at")))
    elif record.kind == "window":
        if p.get("action_id") is not None:  # None: the state at the hall's start, no session step
            cur.execute(SQL["window_event"], (hall_id, p["action_id"], p["window"], p["action"], p["state"],
                                              p.get("staff"), p.get("reason"), p["at_ts"]))
        cur.execute(SQL["window"], (hall_id, p["window"], p["state"], p.get("staff"), p.get("reason"), p["at_ts"],
                                    rid))
    elif record.kind == "device":
        cur.execute(SQL["device_event"], (hall_id, rid, p["device"], p.get("device_kind"), p["state"],
                                          p.get("previous"), p.get("detail"), record.ts))
        cur.execute(SQL["device"], (hall_id, p["device"], p.get("device_kind"), p["state"], p.get("detail"),
                                    record.ts, rid))
    elif record.kind == "deposit":
        d = p["deposit"]
        cur.execute(SQL["deposit_event"], (hall_id, rid, d["id"], p["action"], d.get("state"), d.get("device"),
                                           d.get("door"), p["at_ts"]))
        cur.execute(SQL["deposit"], (hall_id, d["id"], d["state"], d.get("device"), d.get("door"), d.get("ticket"),
                                     d.get("number"), d.get("case_no"), d.get("staff"), d.get("window"),
                                     d.get("kiosk"), d.get("via"), d.get("created_ts"), d.get("deposited_ts"),
                                     d.get("picked_ts"), d.get("ended_ts"), rid))
    elif record.kind == "locker_alarm":
        a = p["alarm"]
        cur.execute(SQL["locker_alarm"], (hall_id, a["id"], a.get("device"), a.get("door"), a["kind"],
                                          a.get("deposit"), a.get("raised_ts"), a.get("cleared_ts"),
                                          a.get("cleared_by"), rid))
    # other kinds ("unrated", future ones) are kept in ``records`` only
