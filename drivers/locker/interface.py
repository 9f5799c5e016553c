"""What every locker is to the rest of hwd: the ``locker.*`` RPC methods and their params.

The kind owns this contract, not its drivers: a board on an RS-485 bus, or any later controller,
answers ``locker.open {device, door}`` and ``locker.status {device}`` with these params and
publishes ``locker.door {device, door, state}`` with ``state`` ``opened`` (a door it was told
to open is open), ``closed`` (a door was shut) or ``forced`` (a door found open that no command
opened). A door told to open that stays shut is ``locker.fault {device, door, fault: "jammed"}``.
Doors are numbered from 1, as the boards number their channels. See docs/drivers/locker.md.
"""

from __future__ import annotations

from hwd.device import Device, MethodSpec
from hwd.schema import Field

MAX_DOORS = 255      # a channel is one byte
DOOR_EVENTS = ("opened", "closed", "forced")


class Locker(Device):
    kind = "locker"
    methods = (
        MethodSpec("open", (Field("door", int, min=1, max=MAX_DOORS, doc="the door (channel) to open, from 1"),),
                   doc="Open one door: {device, door, opened, state}; opened false with jammed true when "
                       "the board reports the door still shut (its lock did not release)."),
        MethodSpec("status", read_only=True,
                   doc="Every door as the board reports it now: {device, doors: [{door, state: "
                       "open/closed/unknown}], open: [doors], jammed: [doors]}."),
    )
