"""A small client of etcd's v3 API through its documented JSON gateway (``/v3/kv/range``,
``/v3/kv/txn``, ``/v3/lease/*``, ``/v3/watch``), on the standard library's http.client.

Why not a client library: the Python ones either speak gRPC (a large compiled dependency whose
maintained forks do not agree) or wrap this same gateway with ``requests``; the hall needs six
calls, per-call timeouts it controls, and keep-alive connections per thread. The gateway is
etcd's own, documented for clients without gRPC (etcd.io, "Why gRPC gateway"); Debian 12's
etcd 3.4 serves it under ``/v3/``.

Keys and values are bytes, base64 in JSON; 64-bit numbers come back as strings. Every call goes
to the member that answered last, and on a connection error, a timeout or "no leader" to the
next one; ``Unavailable`` means none answered. A call that timed out may still have been
applied: callers that write make their writes safe to repeat (hwd.standby.log fences them).
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

log = logging.getLogger("hwd.standby.etcd")


class EtcdError(Exception):
    """etcd answered with an error (``code`` is the gRPC status code)."""

    def __init__(self, message: str, code: int = 0):
        super().__init__(message)
        self.code = code


class Unavailable(EtcdError):
    """No member answered in time (or none has a leader): the outcome of a write is unknown."""


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def unb64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def prefix_end(prefix: bytes) -> bytes:
    """The range end that covers every key starting with ``prefix`` (etcd's ``--prefix``)."""
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\0"


def _int(value: Any) -> int:
    return int(value or 0)


# -- transaction parts (the gateway's JSON for Compare and RequestOp) ----------------------------
def cmp_create(key: bytes, revision: int) -> dict:
    """True when ``key`` was created at ``revision`` (0: the key does not exist)."""
    return {"key": b64(key), "target": "CREATE", "result": "EQUAL", "create_revision": str(revision)}


def cmp_value(key: bytes, value: bytes) -> dict:
    return {"key": b64(key), "target": "VALUE", "result": "EQUAL", "value": b64(value)}


def op_put(key: bytes, value: bytes, lease: int = 0) -> dict:
    body: dict[str, Any] = {"key": b64(key), "value": b64(value)}
    if lease:
        body["lease"] = str(lease)
    return {"request_put": body}


def op_range(key: bytes, range_end: bytes | None = None) -> dict:
    body = {"key": b64(key)}
    if range_end is not None:
        body["range_end"] = b64(range_end)
    return {"request_range": body}


def op_delete(key: bytes, range_end: bytes | None = None) -> dict:
    body = {"key": b64(key)}
    if range_end is not None:
        body["range_end"] = b64(range_end)
    return {"request_delete_range": body}


class KV:
    """One key-value as etcd returns it."""

    __slots__ = ("key", "value", "create_revision", "mod_revision", "lease")

    def __init__(self, raw: dict):
        self.key = unb64(raw.get("key"))
        self.value = unb64(raw.get("value"))
        self.create_revision = _int(raw.get("create_revision"))
        self.mod_revision = _int(raw.get("mod_revision"))
        self.lease = _int(raw.get("lease"))

    def __repr__(self) -> str:
        return f"KV({self.key!r}, rev {self.create_revision}/{self.mod_revision})"


def kvs_of(result: dict) -> list[KV]:
    return [KV(kv) for kv in result.get("kvs") or []]


class Etcd:
    """Calls to an etcd cluster; safe to use from several threads (one connection per thread
    and member)."""

    def __init__(self, endpoints: list[str], *, ca: Path | None = None, cert: Path | None = None,
                 key: Path | None = None, timeout: float = 2.0):
        if not endpoints:
            raise ValueError("no etcd endpoints")
        self.endpoints = [urlsplit(e) for e in endpoints]
        self.timeout = timeout
        self._ssl: ssl.SSLContext | None = None
        if any(e.scheme == "https" for e in self.endpoints):
            self._ssl = ssl.create_default_context(cafile=str(ca) if ca else None)
            if cert is not None:
                self._ssl.load_cert_chain(str(cert), str(key) if key else None)
        self._local = threading.local()
        self._preferred = 0

    # -- plumbing ------------------------------------------------------------------------------
    def _connection(self, index: int, timeout: float) -> http.client.HTTPConnection:
        conns = self._local.__dict__.setdefault("conns", {})
        conn = conns.get(index)
        if conn is None:
            url = self.endpoints[index]
            if url.scheme == "https":
                conn = http.client.HTTPSConnection(url.hostname, url.port, timeout=timeout, context=self._ssl)
            else:
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
            conns[index] = conn
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _drop(self, index: int) -> None:
        conn = self._local.__dict__.get("conns", {}).pop(index, None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close this thread's connections."""
        for index in list(self._local.__dict__.get("conns", {})):
            self._drop(index)

    def call(self, path: str, body: dict, timeout: float | None = None, deadline: float | None = None) -> dict:
        """POST ``body`` to ``/v3/<path>`` at the preferred member, then the others, until one
        answers or ``deadline`` (monotonic) passes; returns the decoded answer."""
        wait = self.timeout if timeout is None else timeout
        end = deadline if deadline is not None else time.monotonic() + wait * len(self.endpoints)
        data = json.dumps(body).encode()
        last: Exception | None = None
        start = self._preferred
        for attempt in range(len(self.endpoints) * 2):
            left = end - time.monotonic()
            if left <= 0:
                break
            index = (start + attempt) % len(self.endpoints)
            try:
                reply = self._post(index, "/v3/" + path, data, min(wait, left))
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out
                self._drop(index)
                last = exc
                continue
            except Unavailable as exc:  # this member has no leader (a minority): ask another
                last = exc
                continue
            self._preferred = index
            return reply
        raise Unavailable(f"no etcd member answered /v3/{path}: {last}", 14)

    def _post(self, index: int, path: str, data: bytes, timeout: float) -> dict:
        conn = self._connection(index, timeout)
        conn.request("POST", path, data, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        raw = resp.read()
        try:
            out = json.loads(raw) if raw else {}
        except ValueError:
            raise EtcdError(f"etcd answered {resp.status} with non-JSON: {raw[:200]!r}") from None
        if "error" in out and isinstance(out["error"], dict):  # a streaming call's error
            out = out["error"]
        elif "result" in out and isinstance(out["result"], dict):  # a streaming call's first answer
            out = out["result"]
        if resp.status >= 400 or ("message" in out and "header" not in out):
            code = _int(out.get("code") or out.get("grpc_code"))
            message = out.get("message") or out.get("error") or f"HTTP {resp.status}"
            if code == 14 or resp.status == 503:
                raise Unavailable(f"etcd {self.endpoints[index].netloc}: {message}", 14)
            raise EtcdError(f"etcd {self.endpoints[index].netloc}: {message}", code)
        return out

    # -- key-value ------------------------------------------------------------------------------
    def range(self, key: bytes, range_end: bytes | None = None, *, limit: int = 0, revision: int = 0,
              keys_only: bool = False, timeout: float | None = None,
              deadline: float | None = None) -> tuple[int, list[KV], bool]:
        """(revision of the answer, key-values sorted by key, more left beyond ``limit``)."""
        body: dict[str, Any] = {"key": b64(key)}
        if range_end is not None:
            body["range_end"] = b64(range_end)
        if limit:
            body["limit"] = str(limit)
        if revision:
            body["revision"] = str(revision)
        if keys_only:
            body["keys_only"] = True
        out = self.call("kv/range", body, timeout, deadline)
        return _int(out.get("header", {}).get("revision")), kvs_of(out), bool(out.get("more"))

    def get(self, key: bytes, timeout: float | None = None) -> KV | None:
        kvs = self.range(key, timeout=timeout)[1]
        return kvs[0] if kvs else None

    def put(self, key: bytes, value: bytes, lease: int = 0, timeout: float | None = None) -> int:
        body: dict[str, Any] = {"key": b64(key), "value": b64(value)}
        if lease:
            body["lease"] = str(lease)
        return _int(self.call("kv/put", body, timeout).get("header", {}).get("revision"))

    def delete(self, key: bytes, range_end: bytes | None = None, timeout: float | None = None) -> int:
        body = {"key": b64(key)}
        if range_end is not None:
            body["range_end"] = b64(range_end)
        return _int(self.call("kv/deleterange", body, timeout).get("deleted"))

    def txn(self, compare: list[dict], success: list[dict], failure: list[dict] | None = None,
            timeout: float | None = None, deadline: float | None = None) -> tuple[bool, int, list[dict]]:
        """(succeeded, revision, the responses of the branch that ran)."""
        out = self.call("kv/txn", {"compare": compare, "success": success, "failure": failure or []},
                        timeout, deadline)
        return bool(out.get("succeeded")), _int(out.get("header", {}).get("revision")), out.get("responses") or []

    def compact(self, revision: int, timeout: float | None = None) -> None:
        self.call("kv/compaction", {"revision": str(revision)}, timeout)

    # -- leases ---------------------------------------------------------------------------------
    def grant(self, ttl: float, timeout: float | None = None) -> tuple[int, int]:
        """A new lease: (id, granted TTL in seconds)."""
        out = self.call("lease/grant", {"TTL": str(max(1, round(ttl)))}, timeout)
        if out.get("error"):
            raise EtcdError(f"lease grant: {out['error']}")
        return _int(out.get("ID")), _int(out.get("TTL"))

    def keepalive(self, lease: int, timeout: float | None = None, deadline: float | None = None) -> int:
        """Refresh a lease; its TTL, or 0 when it is gone (expired or revoked)."""
        out = self.call("lease/keepalive", {"ID": str(lease)}, timeout, deadline)
        return max(0, _int(out.get("TTL")))

    def revoke(self, lease: int, timeout: float | None = None) -> None:
        try:
            self.call("lease/revoke", {"ID": str(lease)}, timeout)
        except EtcdError as exc:
            if "not found" not in str(exc):
                raise

    # -- cluster ---------------------------------------------------------------------------------
    def status(self, index: int, timeout: float = 1.0) -> dict:
        """One member's own status (``/v3/maintenance/status``): version, leader, db size."""
        return self._post(index, "/v3/maintenance/status", b"{}", timeout)

    def members(self, timeout: float | None = None) -> list[dict]:
        return self.call("cluster/member/list", {}, timeout).get("members") or []

    # -- watch ----------------------------------------------------------------------------------
    def watch(self, key: bytes, range_end: bytes | None, start_revision: int, wait: float) -> Iterator[dict]:
        """Events on the range from ``start_revision`` on, for at most ``wait`` seconds; each is
        ``{"type": "PUT"|"DELETE", "kv": KV}``. Ends quietly at the time limit or on a broken
        connection (the caller reads the range again: a watch only wakes it up early)."""
        body: dict[str, Any] = {"create_request": {"key": b64(key), "start_revision": str(start_revision)}}
        if range_end is not None:
            body["create_request"]["range_end"] = b64(range_end)
        url = self.endpoints[self._preferred]
        end = time.monotonic() + wait
        try:
            if url.scheme == "https":
                conn = http.client.HTTPSConnection(url.hostname, url.port, timeout=min(wait, self.timeout),
                                                   context=self._ssl)
            else:
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=min(wait, self.timeout))
            conn.request("POST", "/v3/watch", json.dumps(body).encode(), {"Content-Type": "application/json"})
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException):
            self._preferred = (self._preferred + 1) % len(self.endpoints)
            return
        try:
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    return
                conn.sock.settimeout(left)
                try:
                    line = resp.readline()
                except (socket.timeout, TimeoutError):
                    return
                if not line:
                    return
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                result = msg.get("result") or {}
                if msg.get("error") or result.get("canceled") or result.get("compact_revision"):
                    return
                for event in result.get("events") or []:
                    yield {"type": event.get("type", "PUT"), "kv": KV(event.get("kv") or {})}
        except (OSError, http.client.HTTPException):
            return
        finally:
            conn.close()
