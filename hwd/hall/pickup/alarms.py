"""The locker's alarms: a door left open (``left_open``), a door found open that no command
opened (``forced``), a door told to open that stayed shut (``jammed``).

One alarm per door and kind while it is raised; each is kept (``locker_alarms``), logged,
published (``hall.locker.alarm``, for the admin page) and recorded for the county (kind
``locker_alarm``) when it is raised and when it is cleared. A door shut clears its ``left_open``
alarm, and a door that opens on command clears its ``jammed`` one; a ``forced`` door is cleared
only by staff (``hall.locker_alarm_clear``, with their note), since somebody must look at what
was in it. Every method runs in the caller's transaction.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from hwd.hall.pickup import records

log = logging.getLogger("hwd.hall.pickup.alarms")
AUTO_CLEARED = {"left_open": "门已关", "jammed": "门已打开"}


class Alarms:
    def __init__(self, store: Any, clock: Any, emit: Callable[[str, dict], None]):
        self.store, self.clock, self.emit = store, clock, emit

    def current(self, device: str, door: int | None, kind: str) -> dict | None:
        return self.store.one("SELECT * FROM locker_alarms WHERE device = ? AND door IS ? AND kind = ? AND "
                              "cleared_ts IS NULL", (device, door, kind))

    def raise_(self, device: str, door: int | None, kind: str, deposit: int | None = None,
               detail: str | None = None) -> dict | None:
        """Raise an alarm unless the same one is raised already; the alarm, or None."""
        if self.current(device, door, kind) is not None:
            return None
        ts = self.clock.time()
        aid = self.store.db.execute("INSERT INTO locker_alarms (device, door, kind, deposit, raised_ts, detail) "
                                    "VALUES (?, ?, ?, ?, ?, ?)", (device, door, kind, deposit, ts, detail)).lastrowid
        row = self.store.one("SELECT * FROM locker_alarms WHERE id = ?", (aid,))
        self.store.log(ts, "locker_alarm", None, None, None, f"{kind} {device}:{door}" + (f" {detail}" if detail else ""))
        records.alarm_record(self.store, row, "raised", ts)
        log.warning("locker %s door %s: %s%s", device, door, kind, f" ({detail})" if detail else "")
        self.emit("hall.locker.alarm", records.alarm_view(row, self.clock.tz))
        return row

    def clear(self, row: dict, by: str, note: str | None = None) -> dict:
        ts = self.clock.time()
        self.store.db.execute("UPDATE locker_alarms SET cleared_ts = ?, cleared_by = ?, note = ? WHERE id = ?",
                              (ts, by, note, row["id"]))
        row = self.store.one("SELECT * FROM locker_alarms WHERE id = ?", (row["id"],))
        self.store.log(ts, "locker_alarm_cleared", None, None, None if by == "auto" else by,
                       f"{row['kind']} {row['device']}:{row['door']}" + (f" {note}" if note else ""))
        records.alarm_record(self.store, row, "cleared", ts)
        self.emit("hall.locker.alarm", records.alarm_view(row, self.clock.tz))
        return row

    def clear_kind(self, device: str, door: int, kind: str) -> None:
        """The door itself settled the alarm (shut, or opened on command)."""
        row = self.current(device, door, kind)
        if row is not None:
            self.clear(row, "auto", AUTO_CLEARED.get(kind))

    def raised(self) -> list[dict]:
        return self.store.all("SELECT * FROM locker_alarms WHERE cleared_ts IS NULL ORDER BY id")

    def recent(self, limit: int) -> list[dict]:
        return self.store.all("SELECT * FROM locker_alarms ORDER BY id DESC LIMIT ?", (limit,))
