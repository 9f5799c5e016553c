"""A ZeroMQ client of hwd: RPC with the Lazy Pirate pattern, and event subscription.

Used by hwctl, the pages (kiosk_ui), the tests and other hwd nodes. It never hangs: a daemon
that does not answer gives ``Unreachable`` after ``timeout × retries`` seconds. Each retry resends
the same request id with the same client id, and the daemon replays its first reply, so a
retried ``hall.issue_ticket`` never issues a second ticket.

A hall with two engine PCs (``[hall.standby]``, docs/standby.md) is reached through
``FailoverClient`` and ``FollowingSubscriber``: the engines' endpoints tried in order, moving on
when one does not answer or says it is not the active one (NOT_ACTIVE, naming the active one),
and the event subscription moved to whichever engine the heartbeats say is active. A retry sent
to the new active engine keeps its client and request id, so an issue the old one committed is
answered with that ticket, not a second one.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import zmq

from hwd import errors
from hwd.errors import HwdError


class RpcError(HwdError):
    """The daemon answered with an error."""


class Unreachable(HwdError):
    """The daemon did not answer in time."""

    code = errors.NODE_UNREACHABLE


def use_curve(sock: zmq.Socket, server_key: Path | None, client_key: Path | None) -> None:
    """Make ``sock`` a CURVE client of the server whose public certificate is ``server_key``, as
    ``client_key`` (a secret certificate); nothing when ``server_key`` is None (ipc, insecure)."""
    if server_key is None:
        return
    import zmq.auth

    server_public, _ = zmq.auth.load_certificate(str(server_key))
    if client_key is None:
        raise HwdError("a CURVE server key was given without a client key (hwctl keygen)")
    client_public, client_secret = zmq.auth.load_certificate(str(client_key))
    if client_secret is None:
        raise HwdError(f"{client_key} holds no secret key; give the .key_secret file")
    sock.curve_serverkey = server_public
    sock.curve_publickey = client_public
    sock.curve_secretkey = client_secret


def request_payload(method: str, params: dict | None, req_id: int, client: str | None = None) -> bytes:
    """One JSON-RPC request frame (``client`` lets the daemon replay its reply to a retry)."""
    request: dict[str, Any] = {"jsonrpc": "2.0", "id": req_id, "method": method}
    if client is not None:
        request["client"] = client
    if params is not None:
        request["params"] = params
    return json.dumps(request, ensure_ascii=False).encode()


def result_of(reply: dict) -> Any:
    """The result of a reply, or RpcError carrying the daemon's code, message and data."""
    if "error" in reply:
        err = reply["error"] or {}
        raise RpcError(err.get("message", "error"), err.get("code", errors.INTERNAL_ERROR), err.get("data"))
    return reply.get("result")


class Client:
    """Synchronous RPC client. Not thread-safe: give each thread its own (see ``ClientPool``)."""

    def __init__(self, endpoint: str, *, timeout: float = 2.5, retries: int = 2,
                 server_key: Path | None = None, client_key: Path | None = None,
                 context: zmq.Context | None = None):
        self.endpoint = endpoint
        self.timeout = timeout
        self.retries = max(1, retries)
        self.server_key, self.client_key = server_key, client_key
        self.context = context or zmq.Context.instance()
        self.client_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._ids = itertools.count(1)
        self._sock: zmq.Socket | None = None

    def _socket(self) -> zmq.Socket:
        if self._sock is None:
            sock = self.context.socket(zmq.DEALER)
            sock.linger = 0
            use_curve(sock, self.server_key, self.client_key)
            sock.connect(self.endpoint)
            self._sock = sock
        return self._sock

    def _reset(self) -> None:
        if self._sock is not None:
            self._sock.close(linger=0)
            self._sock = None

    def call(self, method: str, params: dict | None = None, *, timeout: float | None = None) -> Any:
        req_id = next(self._ids)
        payload = request_payload(method, params, req_id, self.client_id)
        return result_of(self.request_raw(payload, req_id, timeout=timeout))

    def request_raw(self, payload: bytes, req_id: Any = None, *, timeout: float | None = None) -> dict:
        """Send one frame as it is; return the decoded reply (for tests of malformed requests)."""
        wait = self.timeout if timeout is None else timeout
        for _attempt in range(self.retries):
            sock = self._socket()
            sock.send(payload)
            deadline = time.monotonic() + wait
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not sock.poll(int(left * 1000)):
                    break
                reply = json.loads(sock.recv())
                if req_id is None or reply.get("id") == req_id or reply.get("id") is None:
                    return reply
            self._reset()
        raise Unreachable(f"hwd at {self.endpoint} did not answer within {wait * self.retries:.1f} s "
                          "(is it running? systemctl status hwd)")

    def close(self) -> None:
        self._reset()


class ClientPool(threading.local):
    """One ``Client`` per thread, for threaded servers such as the pages."""

    def __init__(self, endpoint: str, **kwargs: Any):
        self.endpoint, self.kwargs = endpoint, kwargs
        self.client: Client | None = None

    def call(self, method: str, params: dict | None = None, **kwargs: Any) -> Any:
        if self.client is None:
            self.client = Client(self.endpoint, **self.kwargs)
        return self.client.call(method, params, **kwargs)


class Subscriber:
    """A SUB socket on hwd's events. ``recv`` returns ``(topic, event)`` or None on timeout."""

    def __init__(self, endpoint: str, prefixes: list[str] | tuple[str, ...] = ("",), *,
                 server_key: Path | None = None, client_key: Path | None = None,
                 context: zmq.Context | None = None):
        self.context = context or zmq.Context.instance()
        self.sock = self.context.socket(zmq.SUB)
        self.sock.linger = 0
        use_curve(self.sock, server_key, client_key)
        for prefix in prefixes or ("",):
            self.sock.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        self.sock.connect(endpoint)

    def recv(self, timeout: float | None = None) -> tuple[str, dict] | None:
        if timeout is not None and not self.sock.poll(int(timeout * 1000)):
            return None
        topic, payload = self.sock.recv_multipart()
        return topic.decode(), json.loads(payload)

    def __iter__(self) -> Iterator[tuple[str, dict]]:
        while True:
            item = self.recv()
            if item is not None:
                yield item

    def close(self) -> None:
        self.sock.close(linger=0)


# -- two engine PCs ([hall.standby]) -----------------------------------------------------------------
DOWN_S = 5.0  # an engine that did not answer is tried last for this long (its hints are not followed)


@dataclass(frozen=True)
class Endpoint:
    """One engine PC as clients reach it."""

    id: str
    rpc: str
    events: str
    server_key: Path | None = None
    client_key: Path | None = None


class Engines:
    """The engines a process's clients try, and which one answered as active last (shared by
    the threads of a process: the pages' RPC pool and their event subscription)."""

    def __init__(self, endpoints: list[Endpoint]):
        if not endpoints:
            raise ValueError("no engine endpoints")
        self.endpoints = list(endpoints)
        self.active = 0
        self.switches = 0
        self._down: dict[int, float] = {}
        self._lock = threading.Lock()

    def index(self, engine_id: str | None) -> int | None:
        return next((i for i, e in enumerate(self.endpoints) if e.id == engine_id), None)

    def order(self) -> list[int]:
        """Every engine once: the active one first, those that did not answer lately last."""
        n = len(self.endpoints)
        ring = [(self.active + k) % n for k in range(n)]
        now = time.monotonic()
        return sorted(ring, key=lambda i: self._down.get(i, 0) > now)

    def is_down(self, i: int) -> bool:
        return self._down.get(i, 0) > time.monotonic()

    def mark_down(self, i: int) -> None:
        """Engine ``i`` did not answer: try it last for a while, and start with the next one."""
        with self._lock:
            self._down[i] = time.monotonic() + DOWN_S
            if i == self.active:
                self.active = (i + 1) % len(self.endpoints)

    def set_active(self, i: int) -> None:
        with self._lock:
            self._down.pop(i, None)
            if i != self.active:
                self.active = i
                self.switches += 1


def _hint(reply_error: dict, engines: Engines) -> int | None:
    """The engine a NOT_ACTIVE reply names as active, if it is one of ours."""
    data = reply_error.get("data") or {}
    active = data.get("active") if isinstance(data, dict) else None
    return engines.index(active.get("engine")) if isinstance(active, dict) else None


class FailoverClient:
    """RPC to whichever engine PC is active. Not thread-safe: one per thread (``FailoverPool``).

    A call goes to the engine that answered last; when it does not answer (``timeout``) or says
    it is not the active one, the same request (same client and id) goes to the next engine, or
    to the one the NOT_ACTIVE reply names. ``retries`` rounds over the engines at most."""

    def __init__(self, engines: Engines, *, timeout: float = 2.5, retries: int = 1,
                 context: zmq.Context | None = None):
        self.engines = engines
        self.timeout = timeout
        self.retries = max(1, retries)
        self.client_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._ids = itertools.count(1)
        self.clients = [Client(e.rpc, timeout=timeout, retries=1, server_key=e.server_key, client_key=e.client_key,
                               context=context) for e in engines.endpoints]
        for c in self.clients:
            c.client_id = self.client_id

    @property
    def endpoint(self) -> str:
        return self.engines.endpoints[self.engines.active].rpc

    def call(self, method: str, params: dict | None = None, *, timeout: float | None = None) -> Any:
        req_id = next(self._ids)
        payload = request_payload(method, params, req_id, self.client_id)
        return result_of(self.request_raw(payload, req_id, timeout=timeout))

    def request_raw(self, payload: bytes, req_id: Any = None, *, timeout: float | None = None) -> dict:
        engines = self.engines
        queue = engines.order() * self.retries
        last: dict | None = None
        seen_hint: set[int] = set()
        while queue:
            i = queue.pop(0)
            reply = self._ask(i, payload, req_id, self.timeout if timeout is None else timeout)
            if reply is None:
                engines.mark_down(i)
                continue
            err = reply.get("error") or {}
            if err.get("code") == errors.NOT_ACTIVE:
                last = reply
                hint = _hint(err, engines)
                if hint is not None and hint != i and hint not in seen_hint and not engines.is_down(hint):
                    seen_hint.add(hint)
                    queue.insert(0, hint)
                continue
            engines.set_active(i)
            return reply
        if last is not None:
            return last
        names = ", ".join(e.rpc for e in engines.endpoints)
        raise Unreachable(f"no hall engine answered ({names}); is hwd running on the engine PCs?")

    def _ask(self, i: int, payload: bytes, req_id: Any, wait: float) -> dict | None:
        """One engine's reply, or None when it does not answer within ``wait`` — or when another
        thread of this process (the event subscription) finds it gone meanwhile."""
        client = self.clients[i]
        was_down = self.engines.is_down(i)
        sock = client._socket()
        sock.send(payload)
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (not was_down and self.engines.is_down(i)):
                client._reset()  # a late reply must not be read as the next request's
                return None
            if sock.poll(int(min(left, 0.25) * 1000)):
                reply = json.loads(sock.recv())
                if req_id is None or reply.get("id") == req_id or reply.get("id") is None:
                    return reply

    def close(self) -> None:
        for c in self.clients:
            c.close()


class FailoverPool(threading.local):
    """One ``FailoverClient`` per thread, all following the same ``Engines``."""

    def __init__(self, engines: Engines, **kwargs: Any):
        self.engines, self.kwargs = engines, kwargs
        self.client: FailoverClient | None = None

    def call(self, method: str, params: dict | None = None, **kwargs: Any) -> Any:
        if self.client is None:
            self.client = FailoverClient(self.engines, **self.kwargs)
        return self.client.call(method, params, **kwargs)


class FollowingSubscriber:
    """Events of the active engine PC. Its heartbeats say whether it is the active one (and which
    is): on a standby's heartbeat, or when no event came for ``silence_s``, the subscription
    moves (to the named active engine, else the next one). The receiver sees the new engine's
    ``seq`` and ``boot_id``, so it resyncs as after a restart."""

    def __init__(self, engines: Engines, prefixes: list[str] | tuple[str, ...] = ("",), *, silence_s: float = 3.0,
                 context: zmq.Context | None = None):
        self.engines = engines
        self.prefixes = tuple(prefixes or ("",))
        self.silence_s = silence_s
        self.context = context or zmq.Context.instance()
        self.current = -1
        self.sub: Subscriber | None = None
        self.last_event = time.monotonic()
        self._connect(engines.active)

    def _connect(self, i: int) -> None:
        if self.sub is not None:
            self.sub.close()
        e = self.engines.endpoints[i]
        # heartbeats always, whatever the caller filters: they tell where the active engine is
        prefixes = self.prefixes if "" in self.prefixes else self.prefixes + ("daemon.heartbeat",)
        self.sub = Subscriber(e.events, prefixes, server_key=e.server_key, client_key=e.client_key,
                              context=self.context)
        self.current = i
        self.last_event = time.monotonic()

    def recv(self, timeout: float | None = None) -> tuple[str, dict] | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.engines.active != self.current and not self.engines.is_down(self.engines.active):
                self._connect(self.engines.active)  # the RPC side found the active engine
            wait = self.silence_s if deadline is None else max(0.0, min(self.silence_s, deadline - time.monotonic()))
            item = self.sub.recv(timeout=wait)
            now = time.monotonic()
            if item is not None:
                self.last_event = now
                topic, event = item
                standby = event.get("standby") if topic == "daemon.heartbeat" else None
                if isinstance(standby, dict) and standby.get("role") != "active":
                    target = self.engines.index((standby.get("active") or {}).get("engine"))
                    if target is not None and target != self.current:
                        self.engines.set_active(target)
                        self._connect(target)
                    continue  # a standby's heartbeat is not the hall's
                if topic == "daemon.heartbeat" and topic not in self.prefixes and "" not in self.prefixes:
                    continue
                return item
            if now - self.last_event >= self.silence_s:  # the engine is gone: try the next one
                self.engines.mark_down(self.current)
                self._connect(self.engines.order()[0] if self.engines.order()[0] != self.current
                              else (self.current + 1) % len(self.engines.endpoints))
            if deadline is not None and now >= deadline:
                return None

    def __iter__(self) -> Iterator[tuple[str, dict]]:
        while True:
            item = self.recv()
            if item is not None:
                yield item

    def close(self) -> None:
        if self.sub is not None:
            self.sub.close()


def engines_of(standby: Any, fallback_client_key: Path | None = None) -> Engines:
    """The engines of a loaded ``[hall.standby]`` with the keys this PC reaches them with."""
    key = standby.client_key or fallback_client_key
    return Engines([Endpoint(e.id, e.rpc, e.events,
                             e.server_key if e.rpc.startswith("tcp://") and not e.insecure else None,
                             key if e.rpc.startswith("tcp://") and not e.insecure else None)
                    for e in standby.engines])


def for_config(config: Any, **kwargs: Any) -> Client:
    """A client for the daemon described by a loaded config (its endpoints and keys)."""
    daemon = config.daemon
    server_key = None
    if daemon.rpc.startswith("tcp://") and daemon.server_key:
        server_key = daemon.server_key
    return Client(daemon.rpc, server_key=server_key, client_key=daemon.client_key, **kwargs)


def for_hall(config: Any, **kwargs: Any) -> Client | FailoverClient:
    """A client for the hall engine of a loaded config: the active one of ``[hall.standby]``'s
    engines, else this config's own daemon."""
    hall = config.hall if hasattr(config, "hall") else None
    standby = getattr(hall, "standby", None)
    if standby is None:
        return for_config(config, **kwargs)
    return FailoverClient(engines_of(standby, config.daemon.client_key), **kwargs)
