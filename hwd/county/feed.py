"""What a hall puts in its outbox for the county, in the transaction of the change itself.

Two hooks, both central: every action the hall store logs (hwd.hall.store ``Store.log`` — issue,
call, recall, start, finish, no-show, requeue, transfer, expire, rate, … and a window's login,
logout, pause, resume) becomes one record, and every ``device.state`` event becomes one. Ratings
and work-order steps are already outbox records (hwd.hall.ratings.rules, hwd.hall.ratings.workorders); the
county sink takes those too. Records carry what the hall keeps: a ticket's holder only as the
masked name the hall stores, never an ID number.

Kinds: ``ticket`` (ref ``<ticket id>:<action id>``: the ticket row after the change, the action
and its time), ``window`` (ref ``<action id>``: window, staff, action, resulting state, reason)
and ``device`` (ref ``<device>:<n>``); at start, each window's and device's state as it is
(window ref ``start:<n>:<window>``, no action id).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from typing import Any

from hwd import outbox
from hwd.hall.devices.names import device_names

log = logging.getLogger("hwd.county.feed")

SINK_NAME = "central"
WINDOW_STATES = {"pause": "paused", "resume": "open", "logout": "closed"}
TICKET_FIELDS = ("id", "day", "service", "origin_service", "number", "priority", "state", "window", "staff",
                 "holder", "issued_ts", "first_called_ts", "called_ts", "started_ts", "finished_ts", "recalls",
                 "requeues", "transfers", "rating_state")


def ticket_payload(row: dict, tz: dt.tzinfo) -> dict:
    out = {k: row.get(k) for k in TICKET_FIELDS}
    out["window_id"] = out.pop("window")
    out["issued_date"] = dt.datetime.fromtimestamp(row["issued_ts"], tz).date().isoformat()
    return out


class Feed:
    """Installed on the hall store (``store.on_log``) and the event bus by ``attach``."""

    def __init__(self, store: Any, clock: Any):
        self.store, self.clock = store, clock
        self.tz = clock.tz

    def on_log(self, action_id: int, ts: float, action: str, ticket: int | None, window: str | None,
               staff: str | None, detail: str | None) -> None:
        db = self.store.db
        if ticket is not None:
            row = self.store.ticket(ticket)
            if row is None:
                return
            outbox.put(db, "ticket", f"{ticket}:{action_id}",
                       {"ticket": ticket_payload(row, self.tz), "action": action, "action_id": action_id,
                        "at_ts": ts, "window": window, "staff": staff}, ts)
        elif window is not None and action in ("login", "logout", "pause", "resume"):
            current = self.store.window(window)
            state = WINDOW_STATES.get(action) or ("open" if current is None or current["state"] == "closed"
                                                 else current["state"])
            outbox.put(db, "window", str(action_id),
                       {"window": window, "staff": staff, "action": action, "state": state,
                        "reason": detail if action in ("pause", "resume") else None, "detail": detail,
                        "action_id": action_id, "at_ts": ts}, ts)

    def windows_now(self) -> None:
        """Each window's state as the hall starts (a window open without a login never logs one)."""
        with self.store.tx():
            n = int(self.store.meta("county_window_snapshot", "0")) + 1
            self.store.set_meta("county_window_snapshot", str(n))
            for row in self.store.all("SELECT * FROM windows ORDER BY id"):
                outbox.put(self.store.db, "window", f"start:{n}:{row['id']}",
                           {"window": row["id"], "staff": row["staff"], "action": "start", "state": row["state"],
                            "reason": row["reason"], "detail": None, "action_id": None,
                            "at_ts": self.clock.time()}, self.clock.time())

    def device_state(self, event: dict) -> None:
        """A device changed state: one record in its own transaction (the change is the driver's)."""
        device = event.get("device")
        if not device or not event.get("state"):
            return
        try:
            with self.store.tx():
                n = int(self.store.meta(f"county_device_seq:{device}", "0")) + 1
                self.store.set_meta(f"county_device_seq:{device}", str(n))
                outbox.put(self.store.db, "device", f"{device}:{n}",
                           {"device": device, "device_kind": event.get("kind"), "state": event["state"],
                            "previous": event.get("previous"), "detail": event.get("detail") or ""},
                           self.clock.time())
        except sqlite3.Error:
            log.exception("cannot record the state of device %s for the county", device)


def attach(engine: Any) -> list:
    """The county sink for the hall engine (a sink factory of hwd.hall.engine, given by hwd.hall_wiring),
    with the hooks installed; [] without [hall.central]."""
    cfg = engine.cfg.central
    if cfg is None:
        return []
    from hwd.county.sink import PostgresSink

    feed = Feed(engine.store, engine.clock)
    engine.store.on_log = feed.on_log
    feed.windows_now()
    engine.bus.subscribe("device.state", lambda topic, event: (feed.device_state(event),
                                                                  engine.outbox and engine.outbox.notify()))
    for dev in getattr(engine.manager, "devices", {}).values():  # the state each device has now
        feed.device_state({"device": dev.id, "kind": dev.kind, "state": dev.state, "detail": dev.detail})
    return [PostgresSink(cfg, engine.database, engine.clock, engine.cfg.name, SINK_NAME, names=names_of(engine))]


def names_of(engine: Any) -> dict[str, dict[str, str]]:
    """What the county's pages call the hall's ids: its windows, services, staff and devices
    (hwd.hall.devices.names), reported with the hall's name."""
    hall = engine.cfg
    return {"window": {w.id: w.name for w in hall.windows.values()},
            "service": {s.id: s.name for s in hall.services.values()},
            "staff": {s.id: s.name for s in hall.staff.values()},
            "device": device_names(engine.config.devices, hall)}
