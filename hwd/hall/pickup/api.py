"""The locker's ``hall.*`` methods (docs/api.md, docs/hall.md): names, params and one line of doc
each, mapped onto hwd.hall.pickup.flow. Registered with the hall's other methods
(hwd.hall.api.register)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hwd.hall.pickup import records
from hwd.schema import Field

if TYPE_CHECKING:
    from hwd.hall.engine import HallEngine

STATES = records.ACTIVE + records.ENDED


def register(methods: Any, engine: "HallEngine") -> None:
    pickup = engine.pickup
    add = methods.add
    add("hall.deposit", lambda p: pickup.deposit(p["ticket"], p["case_no"], p["staff"], p["window"], p["id_number"]),
        (Field("ticket", (int, str), None), Field("case_no", str, None), Field("staff", str, None),
         Field("window", str, None), Field("id_number", str, None)),
        "deposit a result (证照、批文) in a free locker door for a ticket or a 办件编号: {device, door, code}; "
        "recorded when the door is shut; id_number lets the citizen's ID card pick it up (kept as a keyed hash)")
    add("hall.pickup", lambda p: pickup.pickup(p["code"], p["card_token"], p["kiosk"], p["source"]),
        (Field("code", str, None), Field("card_token", str, None), Field("kiosk", str),
         Field("source", str, None)),
        "open the doors of the waiting results a pickup code or the ID card on the kiosk's reader names; "
        "wrong codes are throttled per kiosk machine (source) and per kiosk")
    add("hall.deposits", lambda p: pickup.listing(p["state"], p["limit"]),
        (Field("state", str, None, choices=STATES), Field("limit", int, 200, min=1, max=5000)),
        "deposits, the oldest uncollected first (default: every result still in a door); never the code",
        replay=False)
    add("hall.deposit_cancel", lambda p: pickup.cancel(p["deposit"], p["staff"]),
        (Field("deposit", int, min=1, max=2 ** 63 - 1), Field("staff", str, None)),
        "staff take a result back: a door not yet shut is forgotten, a waiting one is opened for them")
    add("hall.locker_alarms", lambda p: _alarms(engine, p["all"], p["limit"]),
        (Field("all", bool, False), Field("limit", int, 100, min=1, max=5000)),
        "the locker's alarms raised now (all=true: the latest, cleared ones too)", replay=False)
    add("hall.locker_alarm_clear", lambda p: engine.run(pickup.clear_alarm, p["alarm"], p["staff"], p["note"]),
        (Field("alarm", int, min=1, max=2 ** 63 - 1), Field("staff", str, None), Field("note", str, None)),
        "staff clear a locker alarm after looking at the door (a forced door is cleared only so)")
    add("hall.pickup_state", lambda p: pickup.summary(), (),
        "the lockers for the admin page: doors in use, results waiting and overdue, alarms raised", replay=False)


def _alarms(engine: "HallEngine", everything: bool, limit: int) -> list[dict]:
    alarms = engine.pickup.alarms
    rows = alarms.recent(limit) if everything else alarms.raised()
    return [records.alarm_view(r, engine.clock.tz) for r in rows]
