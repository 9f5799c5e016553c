"""Driver ``board``: a lock-control board (锁控板) at an address on an RS-485 bus, speaking the
``WKLY`` frames (``protocol = "wkly"``, drivers/locker/protocol.py).

The board answers each command with a reply at its address; on its own it uploads every change
of a door (0x85: the channel and the door's new state). The driver also asks for every door's
state (0x84) every ``poll_ms``, so a change whose upload was lost (a garbled frame, a board that
does not upload) is still seen, and a board that stops answering goes offline.

What a change means is decided here, once for every caller: a door that opens within
``open_window_s`` of a ``locker.open`` of it is ``opened``; a door found open that no command
opened is ``forced``; a door that shuts is ``closed`` (``locker.door`` events). A door told to
open that the board reports still shut (or whose command the board answers with the failure
status FF) is ``jammed``: ``locker.fault`` and ``locker.open`` answers ``opened: false``.

Every device on a port shares one ``SharedPort`` (hwd/sharedport.py) with one reader, which
decodes every frame on the bus and hands this board the frames at its address: several boards
(and window screens, keypads) on one bus each get only their own. A command and its reply is one
transaction of the port. See docs/drivers/locker.md.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from drivers.locker import protocol as wkly
from drivers.locker.interface import Locker
from hwd.errors import DeviceLost, HwdError, INVALID_PARAMS
from hwd.schema import Field
from hwd.sharedport import Inbox, Listener

PROTOCOLS = ("wkly",)


class LockerBoard(Locker):
    driver = "board"
    schemes = ("serial", "tcp")
    requires = (("serial", "pyserial"),)
    emulator = "drivers.locker.emulator:LockerBusEmulator"
    poll_interval = 1.0
    options = (
        Field("protocol", str, "wkly", choices=PROTOCOLS, doc="the board's frames: wkly (57 4B 4C 59 …)"),
        Field("address", int, 0, min=0, max=31, doc="the board's address (its DIP switches, 0-31)"),
        Field("doors", int, 24, min=1, max=255, doc="doors (channels) wired to this board, numbered from 1"),
        Field("baudrate", int, 9600, min=1200, max=115200),
        Field("poll_ms", int, 1000, min=100, max=60000, doc="how often every door's state is asked (0x84)"),
        Field("reply_timeout_ms", int, 300, min=20, max=5000),
        Field("retries", int, 1, min=0, max=5, doc="re-sends of a command that got a bad or no reply"),
        Field("max_silence", int, 3, min=1, max=100, doc="unanswered polls in a row before offline"),
        Field("open_window_s", float, 20.0, min=1, max=600,
              doc="a door that opens this long after locker.open of it was opened by the command, not forced"),
    )

    def __init__(self, config, ctx):
        super().__init__(config, ctx)
        self.address = self.opts["address"]
        self.doors = self.opts["doors"]
        self.poll_interval = self.opts["poll_ms"] / 1000
        self.shared = None
        self.silence = 0
        self.states: dict[int, str] = {d: "unknown" for d in range(1, self.doors + 1)}
        self.jammed: set[int] = set()
        self.commanded: dict[int, float] = {}   # door → until when an opening is the command's
        self.inbox = Inbox(self)
        self._state_lock = threading.Lock()
        self.ear = Listener(self.id, ("wkly",), wkly.check, self.address, wkly.address_of, self._take,
                            on_bad=self._take, what="lock board frame")

    # -- link --------------------------------------------------------------------------------
    def open(self) -> None:
        self.shared = self.ctx.ports.open_shared(self.url, self.opts["baudrate"], self.id)
        self.shared.attach(self.ear)
        self.shared.ensure_open()
        self.silence = 0
        found = self.query_all()
        if found is None:
            raise DeviceLost(f"lock board at address {self.address} does not answer; check its address "
                             "(DIP switches), wiring and baud rate")
        self._observe_all(found)

    def close(self) -> None:
        if self.shared is not None:
            self.shared.detach(self.ear)
            self.ctx.ports.release(self.shared, self.id)
            self.shared = None

    def info(self) -> dict:
        with self._state_lock:
            return {"doors": self.doors, "open": sorted(d for d, s in self.states.items() if s == "open"),
                    "jammed": sorted(self.jammed)}

    def describe(self) -> dict:
        shared = self.shared
        return {**super().describe(), "address": self.address,
                **({"port": shared.describe()} if shared is not None else {})}

    def _take(self, item: Any) -> None:
        """A frame at this board's address, or a rejected frame while it holds the port (reader
        thread): queued; an upload wakes the worker, which publishes it at once."""
        upload = isinstance(item, wkly.Frame) and item.cmd == wkly.UPLOAD
        self.inbox.put(item, self._serve if upload else None)

    def _serve(self) -> None:
        if self.shared is not None:
            self._take_uploads()

    # -- the wire ----------------------------------------------------------------------------
    def _take_uploads(self) -> None:
        """The frames the reader handed over since the last look: uploads are applied; anything
        else (a late reply, a garbled frame) is dropped."""
        for item in self.inbox.drain():
            if isinstance(item, wkly.Frame):
                self._upload(item)

    def _upload(self, frame: wkly.Frame) -> bool:
        """Apply a 0x85 upload; False for any other frame."""
        if frame.cmd != wkly.UPLOAD:
            return False
        got = wkly.door_reply(frame)
        if got is None:
            self.count("bad_uploads")
            return True
        self.count("uploads")
        self._observe(got.channel, got.door)
        return True

    def exchange(self, frame: bytes, cmd: int, channel: int | None = None) -> wkly.Frame | None:
        """Send one command to this board and return its reply (None: no valid reply after
        ``1 + retries`` tries). ``channel``: the reply must be about that door."""
        if self.shared is None:
            raise DeviceLost("port closed")
        with self.shared.transaction(self.ear) as port:
            for _ in range(1 + self.opts["retries"]):
                self._take_uploads()
                port.write(frame)
                port.flush()
                self.count("frames")
                reply = self._wait_reply(cmd, channel)
                if reply is not None:
                    return reply
        return None

    def _wait_reply(self, cmd: int, channel: int | None) -> wkly.Frame | None:
        deadline = time.monotonic() + self.opts["reply_timeout_ms"] / 1000
        while True:
            item = self.inbox.next(deadline)
            if item is None:
                return None                       # no reply, or a garbled one: ask again
            if self._upload(item):
                continue                          # the board told of a change meanwhile
            if item.cmd != cmd:
                continue                          # a late reply to an earlier command
            if channel is not None and (len(item.data) < 2 or item.data[1] != channel):
                continue
            return item

    def query_all(self) -> list[str] | None:
        """Every door's state (0x84), or None when the board does not answer."""
        reply = self.exchange(wkly.query_all(self.address), wkly.STATUS_ALL)
        parsed = wkly.all_doors(reply) if reply is not None else None
        if parsed is None:
            return None
        status, states = parsed
        if status != wkly.SUCCESS:
            self.count("failed_replies")
            return None
        return [wkly.DOOR_STATES.get(s, "unknown") for s in states]

    # -- what the doors do -------------------------------------------------------------------
    def _observe_all(self, found: list[str]) -> None:
        for door in range(1, self.doors + 1):
            self._observe(door, found[door - 1] if door <= len(found) else "unknown")

    def _observe(self, door: int, state: str) -> None:
        """The board says ``door`` is ``state`` now: publish what changed, once."""
        if not 1 <= door <= self.doors or state == "unknown":
            return
        with self._state_lock:
            before = self.states.get(door, "unknown")
            if before == state:
                return
            self.states[door] = state
            commanded = self.commanded.get(door, 0.0) >= time.monotonic()
            if state == "open":
                self.jammed.discard(door)
                self.commanded.pop(door, None)
        if state == "closed":
            if before == "open":
                self.publish("locker.door", door=door, state="closed")
            return
        what = "opened" if commanded else "forced"
        self.log.log(logging.INFO if commanded else logging.WARNING, "door %d %s", door, what)
        self.publish("locker.door", door=door, state=what, **({"initial": True} if before == "unknown" else {}))

    def poll(self) -> None:
        self.shared.ensure_open()    # a port its reader lost is reopened, or this board is offline
        self._take_uploads()
        found = self.query_all()
        if found is None:
            self.silence += 1
            if self.silence >= self.opts["max_silence"]:
                raise DeviceLost(f"lock board at address {self.address} stopped answering")
            return
        self.silence = 0
        self._observe_all(found)

    def _door(self, params: dict) -> int:
        door = params["door"]
        if door > self.doors:
            raise HwdError(f"locker {self.id} has doors 1-{self.doors}; no door {door}", INVALID_PARAMS)
        return door

    def _jammed(self, door: int, detail: str) -> dict:
        with self._state_lock:
            self.jammed.add(door)
            self.commanded.pop(door, None)
        self.log.warning("door %d did not open: %s", door, detail)
        self.publish("locker.fault", door=door, fault="jammed", detail=detail)
        return {"device": self.id, "door": door, "opened": False, "jammed": True,
                "state": self.states.get(door, "unknown"), "detail": detail}

    # -- RPC (drivers/locker/interface.py) ---------------------------------------------------
    def rpc_open(self, params: dict) -> dict:
        door = self._door(params)
        with self._state_lock:
            self.commanded[door] = time.monotonic() + self.opts["open_window_s"]
        reply = self.exchange(wkly.open_door(self.address, door), wkly.OPEN, door)
        if reply is None:
            with self._state_lock:
                self.commanded.pop(door, None)
            raise DeviceLost(f"lock board at address {self.address} did not answer the open command for door {door}")
        got = wkly.door_reply(reply)
        if got is None or got.status != wkly.SUCCESS:
            return self._jammed(door, "the board answered failure (FF)")
        if got.door != "open":
            return self._jammed(door, f"the board reports the door {got.door} after the open command")
        self._observe(door, "open")
        return {"device": self.id, "door": door, "opened": True, "state": "open"}

    def rpc_status(self, params: dict) -> dict:
        found = self.query_all()
        if found is None:
            raise DeviceLost(f"lock board at address {self.address} did not answer the status query")
        self._observe_all(found)
        with self._state_lock:
            doors = [{"door": d, "state": self.states[d]} for d in range(1, self.doors + 1)]
            return {"device": self.id, "doors": doors, "open": [d["door"] for d in doors if d["state"] == "open"],
                    "jammed": sorted(self.jammed)}
