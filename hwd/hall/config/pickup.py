"""The ``[hall.pickup]`` table: the lockers (智能取件柜) results are deposited in and picked up
from (hwd.hall.pickup), checked into a typed object. Without the table, or with no ``lockers``,
the hall has no pickup: ``hall.deposit`` and ``hall.pickup`` are refused with a clear message.

Every key is documented in docs/hall.md ("The 24-hour self-service area").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hwd.config import device_ref
from hwd.schema import Field, check_table

PICKUP_FIELDS = (
    Field("lockers", list, [], items=str, doc="locker devices (kind locker) results are deposited in, in order of use"),
    Field("code_length", int, 8, min=6, max=12, doc="digits of a pickup code (typed on the kiosk's keypad)"),
    Field("open_alarm_s", int, 180, min=10, max=86400,
          doc="a door left open this long raises an alarm (admin page, county)"),
    Field("stale_days", int, 7, min=1, max=365,
          doc="an uncollected result this many days old is marked overdue on the admin page"),
    Field("help", str, "请联系大厅工作人员", doc="what the kiosk says when a door does not open (a phone number)"),
)


@dataclass(frozen=True)
class PickupConfig:
    lockers: list = field(default_factory=list)
    code_length: int = 8
    open_alarm_s: int = 180
    stale_days: int = 7
    help: str = "请联系大厅工作人员"

    @property
    def on(self) -> bool:
        return bool(self.lockers)


def load_pickup(table: Any, path: tuple, ctx: Any) -> PickupConfig:
    v = check_table(table, PICKUP_FIELDS, path, ctx.problems)
    lockers = []
    for i, dev in enumerate(v["lockers"]):
        if dev in lockers:
            ctx.problems.add(path + ("lockers", i), f"locker {dev!r} is listed twice")
        elif device_ref(ctx, path + ("lockers", i), dev, "locker"):
            lockers.append(dev)
    return PickupConfig(lockers=lockers, code_length=v["code_length"], open_alarm_s=v["open_alarm_s"],
                        stale_days=v["stale_days"], help=v["help"])
