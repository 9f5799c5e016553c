"""The deposits and the locker's alarms as the hall database keeps them (schema 8,
hwd.hall.store), and what each step leaves: a line in the action log and an outbox record for the
county (kinds ``deposit`` and ``locker_alarm``).

A deposit's states::

    loading ──(door shut)──► waiting ──(code or card at a kiosk: door opened)──► collecting ──(door shut)──► picked
       │                        └──(staff take it back: door opened)──► withdrawn
       └──(the door did not open)──► failed          (staff cancel before the door is shut)──► cancelled

Only ``waiting`` deposits can be picked up, so a code is worthless until the clerk has shut the
door on the result. The county's records carry the door, the ticket and the 办件编号, the staff
and the kiosk, never the code or the card.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hwd import outbox
from hwd.hall import views

ACTIVE = ("loading", "waiting", "collecting")     # a door holding (or about to hold) a result
ENDED = ("picked", "withdrawn", "failed", "cancelled")
DEPOSIT_KIND = "deposit"
ALARM_KIND = "locker_alarm"
ALARM_KINDS = {"left_open": "柜门未关", "forced": "柜门被强行打开", "jammed": "柜门打不开"}


def insert(db: Any, **values: Any) -> int:
    keys = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    return db.execute(f"INSERT INTO deposits ({keys}) VALUES ({marks})", tuple(values.values())).lastrowid


def update(db: Any, deposit: int, **values: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    db.execute(f"UPDATE deposits SET {sets} WHERE id = ?", tuple(values.values()) + (deposit,))


def one(store: Any, deposit: int) -> dict | None:
    return store.one("SELECT * FROM deposits WHERE id = ?", (deposit,))


def on_door(store: Any, device: str, door: int) -> dict | None:
    """The deposit a door holds now (loading, waiting or collecting), if any."""
    return store.one("SELECT * FROM deposits WHERE device = ? AND door = ? AND state IN ('loading', 'waiting', "
                     "'collecting') ORDER BY id DESC LIMIT 1", (device, door))


def busy_doors(store: Any) -> set[tuple[str, int]]:
    return {(r["device"], r["door"]) for r in store.all(
        "SELECT device, door FROM deposits WHERE state IN ('loading', 'waiting', 'collecting')")}


def by_code(store: Any, digest: str) -> dict | None:
    return store.one("SELECT * FROM deposits WHERE code_hash = ? AND state = 'waiting' ORDER BY id LIMIT 1",
                     (digest,))


def code_taken(store: Any, digest: str) -> bool:
    return store.one("SELECT id FROM deposits WHERE code_hash = ? AND state IN ('loading', 'waiting', 'collecting')",
                     (digest,)) is not None


def by_person(store: Any, person: str) -> list[dict]:
    return store.all("SELECT * FROM deposits WHERE person = ? AND state = 'waiting' ORDER BY id", (person,))


def step(store: Any, row: dict, action: str, ts: float, staff: str | None = None, window: str | None = None,
         detail: str | None = None) -> None:
    """One step of a deposit: the action log (and, through it, the county's ticket events) and
    the county's ``deposit`` record, in the caller's transaction."""
    where = f"{row['device']}:{row['door']}"
    store.log(ts, action, row["ticket"], window or row["window"], staff or row["staff"],
              f"deposit {row['id']} {where}" + (f" {detail}" if detail else ""))
    fresh = one(store, row["id"])
    outbox.put(store.db, DEPOSIT_KIND, f"{row['id']}:{action}:{ts:.6f}",
               {"deposit": public(fresh), "action": action, "at_ts": ts, "detail": detail}, ts)


def public(row: dict) -> dict:
    """A deposit as the county and the admin page may see it: no code, no card."""
    return {k: row.get(k) for k in ("id", "state", "device", "door", "ticket", "number", "case_no", "staff",
                                    "window", "created_ts", "deposited_ts", "opened_ts", "picked_ts", "ended_ts",
                                    "kiosk", "via")}


def view(row: dict, tz: dt.tzinfo, now: float, stale_days: int) -> dict:
    """A deposit for the admin page and ``hall.deposits`` (no code, no card)."""
    out = public(row)
    for key in ("created", "deposited", "opened", "picked", "ended"):
        out[f"{key}_at"] = views.iso(out.pop(f"{key}_ts"), tz)
    since = row["deposited_ts"] or row["created_ts"]
    out["age_s"] = round(max(0.0, now - since), 1)
    out["age_days"] = int(out["age_s"] // 86400)
    out["overdue"] = row["state"] == "waiting" and out["age_days"] >= stale_days
    out["by_card"] = row.get("person") is not None
    return out


def alarm_view(row: dict, tz: dt.tzinfo) -> dict:
    return {"id": row["id"], "device": row["device"], "door": row["door"], "kind": row["kind"],
            "text": text(row), "deposit": row["deposit"], "detail": row["detail"],
            "raised_at": views.iso(row["raised_ts"], tz), "cleared_at": views.iso(row["cleared_ts"], tz),
            "cleared_by": row["cleared_by"], "note": row["note"], "state": "cleared" if row["cleared_ts"] else "raised"}


def text(row: dict) -> str:
    what = ALARM_KINDS.get(row["kind"], row["kind"])
    door = f"{row['door']}号柜门" if row["door"] is not None else "取件柜"
    return f"{row['device']} {door}：{what}" + (f"（有待取件 #{row['deposit']}）" if row["deposit"] else "")


def alarm_record(store: Any, row: dict, state: str, ts: float) -> None:
    """The county's record of an alarm raised or cleared (in the caller's transaction)."""
    outbox.put(store.db, ALARM_KIND, f"{row['id']}:{state}",
               {"alarm": {k: row[k] for k in ("id", "device", "door", "kind", "deposit", "raised_ts", "cleared_ts",
                                                "cleared_by")},
                "state": state, "text": text(row), "at_ts": ts}, ts)
