"""Links to other PCs' hwd (``[[node]]``): the main PC drives the devices attached to a window
PC through that PC's own RPC and hears its events.

A ``NodeLink`` keeps a DEALER socket for RPC (several calls in flight, matched by id) and a SUB
socket for events, both with CURVE when keys are configured. It polls ``devices.list`` to know
whether the node is reachable: when it is not, the node's devices are published as ``offline``
(and calls fail at once with NODE_UNREACHABLE, so callers can keep their content for later);
when it comes back, their real states are published and the ``on_up`` callbacks run (the hall
re-sends undelivered screen content). The node's ``keypad.*``, ``scanner.*``, ``idcard.*`` and ``locker.*`` events
(and device states, print jobs and announcements) are re-published on the local bus with ``node``
added, so a keypad on a window PC acts on its window like a local one and the hall display hears
when a speaker there has announced a call. Stale requests are never delivered late: a
request that timed out is dropped with its socket (zguide Lazy Pirate), and ``IMMEDIATE`` keeps
requests from queueing towards a node that is not connected.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from typing import Any, Callable

import zmq
import zmq.asyncio

from hwd import errors
from hwd.client import request_payload, result_of, use_curve
from hwd.errors import HwdError

log = logging.getLogger("hwd.nodes")

# speaker.announced/failed: the hall display holds each call while its speaker announces it
FORWARD = ("device.state", "keypad.", "scanner.", "idcard.", "printer.job", "locker.", "speaker.announced",
           "speaker.failed")
CALL_TIMEOUT = 5.0
POLL_S = 1.0
POLL_TIMEOUT = 1.5


async def connect_all(config: Any, manager: Any, publish: Callable[[str, dict], None],
                      on_up: Callable[[], None] | None = None) -> list["NodeLink"]:
    """Link to every ``[[node]]`` of ``config`` and register the links in ``manager.nodes``."""
    links = []
    for node in config.nodes:
        link = NodeLink(node, [d for d in config.devices if d.node == node.id], publish, on_up=on_up)
        manager.nodes[node.id] = link
        await link.start()
        links.append(link)
    return links


class NodeLink:
    def __init__(self, node: Any, devices: list[Any], publish: Callable[[str, dict], None],
                 on_up: Callable[[], None] | None = None, *, poll_s: float = POLL_S,
                 call_timeout: float = CALL_TIMEOUT):
        self.node = node
        self.id = node.id
        self.devices = {d.id: d for d in devices}
        self.publish = publish
        self.on_up: list[Callable[[], None]] = [on_up] if on_up else []
        self.poll_s = poll_s
        self.call_timeout = call_timeout
        self.up = False
        self.since = time.time()
        self.rows: dict[str, dict] = {}
        self.context = zmq.asyncio.Context()
        self._rpc: zmq.asyncio.Socket | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._tasks: list[asyncio.Task] = []
        self._reader: asyncio.Task | None = None
        self._sub: zmq.asyncio.Socket | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._open_rpc()
        sub = self.context.socket(zmq.SUB)
        sub.linger = 0
        self._keys(sub)
        for prefix in FORWARD:
            sub.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        sub.connect(self.node.events)
        self._sub = sub
        self._tasks = [asyncio.ensure_future(self._events()), asyncio.ensure_future(self._poll())]
        log.info("node %s: linking to %s (events %s)%s", self.id, self.node.rpc, self.node.events,
                 " with CURVE" if self.node.server_key else "")

    async def stop(self) -> None:
        for task in self._tasks + ([self._reader] if self._reader else []):
            task.cancel()
        await asyncio.gather(*self._tasks, *([self._reader] if self._reader else []), return_exceptions=True)
        for fut in self._waiting.values():
            if not fut.done():
                fut.cancel()
        self._close_rpc()
        if self._sub is not None:
            self._sub.close(linger=0)
        self.context.term()

    def _keys(self, sock: zmq.Socket) -> None:
        if self.node.server_key and not self.node.insecure:
            use_curve(sock, self.node.server_key, self.node.client_key)

    def _open_rpc(self) -> None:
        sock = self.context.socket(zmq.DEALER)
        sock.linger = 0
        sock.setsockopt(zmq.IMMEDIATE, 1)
        self._keys(sock)
        sock.connect(self.node.rpc)
        self._rpc = sock
        self._reader = asyncio.ensure_future(self._read_replies(sock))

    def _close_rpc(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None
        if self._rpc is not None:
            self._rpc.close(linger=0)
            self._rpc = None

    def _reset_rpc(self) -> None:
        self._close_rpc()
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(self._unreachable("link reset"))
        self._waiting.clear()
        self._open_rpc()

    # -- RPC -------------------------------------------------------------------------------------
    def _unreachable(self, why: str) -> HwdError:
        return HwdError(f"node {self.id} is unreachable ({why})", errors.NODE_UNREACHABLE, {"node": self.id})

    async def call(self, full_method: str, params: dict, timeout: float | None = None) -> Any:
        """Call a method on the node; raise HwdError (the node's own code, or NODE_UNREACHABLE)."""
        if self._rpc is None:
            raise self._unreachable("not started")
        req_id = next(self._ids)
        payload = request_payload(full_method, params, req_id)
        future = asyncio.get_running_loop().create_future()
        self._waiting[req_id] = future
        try:
            try:
                await self._rpc.send(payload, flags=zmq.NOBLOCK)
            except zmq.Again:
                self._mark(False, "not connected")
                raise self._unreachable("not connected") from None
            try:
                reply = await asyncio.wait_for(asyncio.shield(future), timeout or self.call_timeout)
            except asyncio.TimeoutError:
                self._mark(False, "no answer")
                self._reset_rpc()
                raise self._unreachable(f"no answer to {full_method}") from None
        finally:
            self._waiting.pop(req_id, None)
        return result_of(reply)

    async def _read_replies(self, sock: zmq.asyncio.Socket) -> None:
        while True:
            try:
                raw = await sock.recv()
            except (zmq.ZMQError, asyncio.CancelledError):
                return
            try:
                reply = json.loads(raw)
            except ValueError:
                log.warning("node %s: reply is not JSON", self.id)
                continue
            fut = self._waiting.get(reply.get("id"))
            if fut is not None and not fut.done():
                fut.set_result(reply)

    # -- health ----------------------------------------------------------------------------------
    async def _poll(self) -> None:
        while True:
            try:
                rows = await self.call("devices.list", {}, timeout=POLL_TIMEOUT)
            except HwdError as exc:
                if exc.code == errors.NODE_UNREACHABLE:
                    self._mark(False, str(exc))
                else:
                    log.warning("node %s: devices.list failed: %s", self.id, exc)
            else:
                self.rows = {r["id"]: r for r in rows if isinstance(r, dict) and "id" in r}
                self._mark(True)
            await asyncio.sleep(self.poll_s)

    def _mark(self, up: bool, why: str = "") -> None:
        if up == self.up:
            return
        self.up, self.since = up, time.time()
        if up:
            log.info("node %s is reachable", self.id)
        else:
            log.warning("node %s is unreachable: %s", self.id, why)
        for device_id in self.devices:
            row = self.describe_device(device_id)
            self.publish("device.state", {"device": device_id, "kind": row["kind"], "node": self.id,
                                          "state": row["state"], "detail": row.get("detail", ""),
                                          "since": row.get("since")})
        for callback in self.on_up if up else ():
            try:
                callback()
            except Exception:
                log.exception("node %s: on_up callback failed", self.id)

    def describe_device(self, device_id: str) -> dict | None:
        dc = self.devices.get(device_id)
        if dc is None:
            return None
        row = self.rows.get(device_id) if self.up else None
        if row is not None:
            return {**row, "node": self.id}
        detail = f"node {self.id} unreachable" if not self.up else f"node {self.id} has no device {device_id}"
        return {"id": device_id, "kind": dc.kind, "driver": dc.driver, "node": self.id, "state": "offline",
                "detail": detail, "since": self.since}

    # -- events ----------------------------------------------------------------------------------
    async def _events(self) -> None:
        while True:
            try:
                topic, payload = await self._sub.recv_multipart()
            except zmq.ZMQError:
                return
            try:
                event = json.loads(payload)
            except ValueError:
                continue
            topic_s = topic.decode(errors="replace")
            if "node" in event:  # relayed by that node from a third one: not its own device (two PCs
                continue         # that are each other's node would send it back and forth for ever)
            data = {k: v for k, v in event.items() if k not in ("seq", "ts", "topic")}
            data["node"] = self.id
            data["node_seq"] = event.get("seq")
            if topic_s == "device.state" and data.get("device") in self.rows:
                self.rows[data["device"]].update(state=data.get("state"), detail=data.get("detail", ""))
            self.publish(topic_s, data)
