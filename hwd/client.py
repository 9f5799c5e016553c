"""A ZeroMQ client of hwd: RPC with the Lazy Pirate pattern, and event subscription.

Used by hwctl, the pages (kiosk_ui), the tests and other hwd nodes. It never hangs: a daemon
that does not answer gives ``Unreachable`` after ``timeout × retries`` seconds. Each retry resends
the same request id with the same client id, and the daemon replays its first reply, so a
retried ``hall.issue_ticket`` never issues a second ticket.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
import uuid
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


def _curve(sock: zmq.Socket, server_key: Path | None, client_key: Path | None) -> None:
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
            _curve(sock, self.server_key, self.client_key)
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
        _curve(self.sock, server_key, client_key)
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


def for_config(config: Any, **kwargs: Any) -> Client:
    """A client for the daemon described by a loaded config (its endpoints and keys)."""
    daemon = config.daemon
    server_key = None
    if daemon.rpc.startswith("tcp://") and daemon.server_key:
        server_key = daemon.server_key
    return Client(daemon.rpc, server_key=server_key, client_key=daemon.client_key, **kwargs)
