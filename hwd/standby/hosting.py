"""The hall engine as an engine PC runs it while it is the active one: opened on a replicated
database after the log is applied, closed at once when leadership ends — its ``hall.*``
methods, bus subscriptions and node callbacks removed with it, so the next promotion starts
clean. Also what the active engine writes about the pair: the hall's log id in the database,
and each engine PC's state for the county.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, Callable

from hwd import hall_wiring
from hwd.county import feed as county_feed
from hwd.hall.store import Store
from hwd.standby.replica import Replicator, connector

log = logging.getLogger("hwd.standby")


class SchemaOnly(Store):
    """The hall database opened only to bring its schema up to date: a standby makes no id of its
    own (the hall's comes from the log)."""

    def _database_id(self) -> str:
        return self.meta("db_id") or ""


class EngineBus:
    """The event bus as the engine sees it: its subscriptions end when the engine is closed."""

    def __init__(self, bus: Any):
        self.bus = bus
        self.live = True

    @property
    def seq(self) -> int:
        return self.bus.seq

    def publish(self, topic: str, data: dict) -> None:
        self.bus.publish(topic, data)

    def subscribe(self, prefix: str, callback: Callable[[str, dict], None]) -> None:
        def call(topic: str, event: dict) -> None:
            if self.live:
                callback(topic, event)
        self.bus.subscribe(prefix, call)


class Hosted:
    """One run of the hall engine on this PC (``open`` after winning, ``close`` when it ends)."""

    def __init__(self, config: Any, manager: Any, bus: Any, methods: Any, clock: Any, replicator: Replicator,
                 engine_id: str):
        self.config, self.manager, self.methods, self.engine_id = config, manager, methods, engine_id
        self.bus = EngineBus(bus)
        self.engine = hall_wiring.engine(config, manager, self.bus, methods, clock, connect=connector(replicator))
        self._methods: set[str] = set()
        self._on_up = {node_id: list(link.on_up) for node_id, link in manager.nodes.items()}
        self._told: dict[str, tuple[str, str]] = {}  # engine PC -> the state last written for the county

    @property
    def store(self) -> Store | None:
        return self.engine.store

    async def open(self) -> None:
        """Start the engine; on failure everything it registered is removed again (and it raises)."""
        before = set(self.methods.methods)
        try:
            await hall_wiring.start(self.engine)
        finally:
            self._methods = set(self.methods.methods) - before
        self._wrap_recover()

    async def close(self) -> None:
        self.bus.live = False
        try:
            await self.engine.stop()
        except Exception:
            log.exception("standby %s: stopping the hall engine failed", self.engine_id)
        self.engine.core = None  # its timers and clock listeners do nothing any more
        for name in self._methods:
            self.methods.methods.pop(name, None)
        self._methods = set()
        for node_id, callbacks in self._on_up.items():
            link = self.manager.nodes.get(node_id)
            if link is not None:
                link.on_up[:] = callbacks

    def _wrap_recover(self) -> None:
        """A retry that reaches this engine after a failover (same client and request id) finds
        what the old active committed for it (the ticket's ``request_key`` is replicated)
        instead of issuing again."""
        for name in self._methods:
            method = self.methods.methods.get(name)
            if method is None or method.recover is None:
                continue
            handler, recover = method.handler, method.recover

            def first_run(params: dict, key: str | None, handler: Callable = handler,
                          recover: Callable = recover) -> Any:
                found = recover(key) if key is not None else None
                return found if found is not None else handler(params, key)
            method.handler = first_run

    def mark_hall(self, hall: str | None) -> None:
        """Put the hall's log id (genesis) in the database through the log, so every copy of it can
        tell later that it belongs to this hall's log."""
        store = self.store
        if not hall or store is None or store.meta("standby_hall") == hall:
            return
        try:
            with store.tx():
                store.set_meta("standby_hall", hall)
        except sqlite3.Error as exc:
            log.warning("standby %s: cannot mark the database with the hall's log id: %s", self.engine_id, exc)

    def record(self, engines: list[dict], first: bool) -> None:
        """For the county (``[hall.central]``): each engine PC as a device of kind ``engine`` —
        ``online`` 当前主机 / 备机已同步, ``fault`` 备机落后 or cannot follow, ``offline`` — written
        like every device state (hwd.county.feed), when it changes. hwd-central shows them with
        the hall's devices, and counts a standby that is down or behind as a faulted device.
        ``first`` (just promoted): also every node device as this engine finds it (a dead PC's:
        offline)."""
        engine = self.engine
        if engine.store is None or engine.cfg.central is None:
            return
        feed = county_feed.Feed(engine.store, engine.clock)
        if first:
            for link in self.manager.nodes.values():
                for device_id in link.devices:
                    row = link.describe_device(device_id) or {}
                    feed.device_state({"device": device_id, "kind": row.get("kind"), "state": row.get("state"),
                                       "detail": row.get("detail", "")})
        for e in engines:
            if e["id"] == self.engine_id:
                state, detail = "online", "当前主机"
            elif not e["up"]:
                state, detail = "offline", "备机离线"
            elif e.get("problem"):
                state, detail = "fault", f"备机无法同步：{e['problem']}"[:200]
            elif e["in_sync"]:
                state, detail = "online", "备机，已同步"
            else:
                state, detail = "fault", "备机，正在同步"
            if self._told.get(e["id"]) == (state, detail):
                continue
            self._told[e["id"]] = (state, detail)
            feed.device_state({"device": f"engine:{e['id']}", "kind": "engine", "state": state, "detail": detail,
                               "previous": None})
        if engine.outbox is not None:
            engine.outbox.notify()
