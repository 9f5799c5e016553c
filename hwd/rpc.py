"""JSON-RPC 2.0 over a ZeroMQ ROUTER socket (docs/api.md).

One request is one frame of UTF-8 JSON; the reply goes back with the same envelope, so DEALER
and REQ clients both work. Oversized, non-JSON and wrongly shaped requests get an error reply
and the server goes on. A request that carries ``"client"`` (a client id) is remembered with
its ``id`` for a few minutes: a retry of it (Lazy Pirate) gets the first reply again instead of
being executed twice. (JSON-RPC notifications are answered too, with ``id`` null, so that a REQ
client is never left waiting.)

Two checks hold for every method, in one place each: the caller of a method declared
``card_data`` must be named in ``[daemon] card_data_clients`` (hwd.access, checked here before
anything else runs), and params may hold only text and shapes that hwd can store and send on
(hwd.rpctext, checked by ``MethodTable.invoke``).
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import json
import logging
import time
from dataclasses import dataclass

import zmq
from typing import Any, Callable, Sequence

from hwd import access, errors, replay as replays, rpctext
from hwd.errors import HwdError
from hwd.histogram import Histograms
from hwd.schema import Field, Problems, check_table, format_path

log = logging.getLogger("hwd.rpc")

REPLAY_SECONDS = replays.REPLAY_SECONDS
MAX_REQUEST_BYTES = 262144  # [daemon] max_request_bytes
REPLAY_MAX_BYTES = 32 * 1024 * 1024  # [daemon] replay_max_bytes


@dataclass
class Method:
    name: str
    handler: Callable[..., Any]  # handler(params), or handler(params, request_key) with recover
    params: Sequence[Field] | None
    doc: str = ""
    replay: bool = True  # False for reads: a retry may run them again, so keep no copy of the reply
    recover: Callable[[str], Any] | None = None  # answers a retry whose first run a crash interrupted
    card_data: bool = False  # yields full ID-card data: only callers in [daemon] card_data_clients
    max_text: int = rpctext.MAX_TEXT_CHARS  # longest string anywhere in its params (hwd.rpctext)
    config_file: bool = False  # reads or changes the config file: local callers and [daemon] config_clients


class MethodTable:
    def __init__(self) -> None:
        self.methods: dict[str, Method] = {}

    def add(self, name: str, handler: Callable[..., Any], params: Sequence[Field] | None = (),
            doc: str = "", *, replay: bool = True, recover: Callable[[str], Any] | None = None,
            card_data: bool = False, max_text: int = rpctext.MAX_TEXT_CHARS, config_file: bool = False) -> None:
        """Register ``handler(params) -> result`` (sync or async). ``params=None`` skips checking.
        ``replay=False`` for methods that change nothing: their replies are not kept for retries.
        ``recover(request_key)`` returns the result of a first run that a crash cut off (or None
        when nothing of it was committed, so running it again is safe); such a method records its
        request key with what it commits, so its handler is called ``handler(params, request_key)``
        (the key is None for in-process calls and requests without a client and id). ``card_data=True``: the
        reply holds full ID-card data, so only ``card_data_clients`` may call it over RPC (in-process
        callers such as the hall engine are not checked) and the reply is never kept for a retry.
        ``max_text``: the longest string its params may hold (hwd.rpctext; 4096 unless a method needs more).
        ``config_file=True``: it reads or changes the config file, so over tcp:// only ``config_clients`` may call it."""
        if name in self.methods:
            raise ValueError(f"method {name} registered twice")
        self.methods[name] = Method(name, handler, params, doc or (handler.__doc__ or "").strip(),
                                    replay and not card_data, recover, card_data, max_text, config_file)

    def describe(self) -> list[dict]:
        """Every method with its first doc line, its params, whether it yields card data and the
        longest string its params may hold."""
        return [{"name": m.name, "doc": (m.doc.splitlines() or [""])[0], "card_data": m.card_data,
                 "max_text": m.max_text,
                 "params": None if m.params is None else [_describe_field(f) for f in m.params]}
                for m in sorted(self.methods.values(), key=lambda m: m.name)]

    def check_params(self, method: Method, params: dict) -> dict:
        if method.params is None or (not method.params and not params):
            return params
        return check_params(params, method.params)

    def invoke(self, name: str, params: Any, request_key: str | None = None) -> Any:
        """Check and run a method; return its result, or an awaitable of it for async handlers.
        ``request_key`` (hwd.replay.request_key) goes to the handler of a method with ``recover``."""
        method = self.methods.get(name)
        if method is None:
            raise HwdError(f"unknown method {name!r}", errors.METHOD_NOT_FOUND)
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise HwdError("params must be an object (named parameters)", errors.INVALID_PARAMS)
        problem = rpctext.params_problem(params, method.max_text)
        if problem:
            raise HwdError(problem, errors.INVALID_PARAMS)
        checked = self.check_params(method, params)
        if method.recover is not None:
            return method.handler(checked, request_key)
        return method.handler(checked)

    async def call(self, name: str, params: Any) -> Any:
        result = self.invoke(name, params)
        if inspect.isawaitable(result):
            result = await result
        return result


def check_params(params: dict, fields: Sequence[Field]) -> dict:
    """``params`` checked against ``fields`` with defaults filled in; INVALID_PARAMS listing every
    problem otherwise."""
    problems = Problems()
    checked = check_table(params, fields, (), problems)
    if problems:
        raise HwdError("; ".join(f"{format_path(p) or 'params'}: {m}" for p, m in problems.items),
                       errors.INVALID_PARAMS)
    return checked


_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}


def _describe_field(f: Field) -> dict:
    types = f.type if isinstance(f.type, tuple) else (f.type,)
    out: dict[str, Any] = {"name": f.name, "type": [_JSON_TYPES.get(t, t.__name__) for t in types],
                           "required": f.required}
    if not f.required:
        out["default"] = f.default
    for key in ("choices", "min", "max"):
        value = getattr(f, key)
        if value is not None:
            out[key] = list(value) if key == "choices" else value
    if f.items is not None:
        items = f.items if isinstance(f.items, tuple) else (f.items,)
        out["items"] = [_JSON_TYPES.get(t, t.__name__) for t in items]
    return out


def error_reply(req_id: Any, code: int, message: str, data: Any = None) -> dict:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "id": req_id, "error": err}


def _dumps(reply: dict) -> bytes:
    try:
        return json.dumps(reply, ensure_ascii=False, default=str).encode()
    except UnicodeEncodeError:  # a lone surrogate (e.g. echoed from a request's "\ud800"): escape it
        return json.dumps(reply, ensure_ascii=True, default=str).encode()


def is_local(frame: Any) -> bool:
    """Whether a request frame came over ipc:// from a process of this PC (no CURVE user, a
    "localhost:UID:GID:PID" peer)."""
    try:
        if frame.get("User-Id"):
            return False
    except (zmq.ZMQError, AttributeError):  # no CURVE user on this connection
        pass
    try:
        return str(frame.get("Peer-Address")).startswith("localhost:")
    except (zmq.ZMQError, AttributeError):
        return False


def caller_of(frame: Any) -> str | None:
    """Who sent a request frame: the CURVE client's certificate name (tcp), else the local user
    of the peer process (ipc: libzmq gives "localhost:UID:GID:PID" as Peer-Address)."""
    import pwd

    try:
        user = frame.get("User-Id")
    except (zmq.ZMQError, AttributeError):
        user = None
    if user:
        return str(user)
    try:
        peer = frame.get("Peer-Address")
    except (zmq.ZMQError, AttributeError):
        return None
    parts = str(peer).split(":")
    if len(parts) == 4 and parts[0] == "localhost" and parts[1].isdigit():
        try:
            return pwd.getpwuid(int(parts[1])).pw_name
        except KeyError:
            return f"uid:{parts[1]}"
    return None


class RpcServer:
    def __init__(self, socket: Any, methods: MethodTable, max_request_bytes: int = MAX_REQUEST_BYTES,
                 journal: replays.Journal | None = None, replay_max_bytes: int = REPLAY_MAX_BYTES,
                 card_access: access.CardDataAccess | None = None, config_access: access.ConfigAccess | None = None):
        self.socket = socket
        self.methods = methods
        self.card_access = card_access or access.CardDataAccess(())  # nobody, unless configured
        self.config_access = config_access or access.ConfigAccess(())  # local callers only, unless configured
        self.max_request_bytes = max_request_bytes
        self.replies = replays.MemoryCache(replay_max_bytes)
        self.journal = journal
        self.counters = collections.Counter()
        self.latency = Histograms()  # run time per registered method, for /metrics (hwd.metrics)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self) -> None:
        """Serve until cancelled. The socket's FD is edge-triggered: on every wake-up, drain
        every waiting message (a bounded batch, then yield to the loop so a flood cannot starve it)."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        fd = self.socket.getsockopt(zmq.FD)
        loop.add_reader(fd, self._drain)
        loop.call_soon(self._drain)
        try:
            await loop.create_future()
        finally:
            loop.remove_reader(fd)

    def _drain(self) -> None:
        for _ in range(256):
            try:
                frames = self.socket.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:  # drained; reading until EAGAIN also re-arms the FD's edge
                return
            self._receive(frames)
        self._loop.call_soon(self._drain)

    def _receive(self, frames: list) -> None:
        self.counters["requests"] += 1
        if len(frames) < 2:
            self.counters["malformed_envelope"] += 1
            return
        envelope, last = [f.bytes for f in frames[:-1]], frames[-1]
        payload = last.bytes
        try:
            reply = self.handle_bytes(payload, lambda: caller_of(last), lambda: is_local(last))
        except Exception as exc:  # a request must never stop the server
            log.exception("request could not be handled")
            reply = _dumps(error_reply(None, errors.INTERNAL_ERROR, f"internal error: {type(exc).__name__}"))
        if isinstance(reply, bytes):
            self._send(envelope, reply)
        elif reply.done():
            self._send(envelope, reply.result())
        else:
            reply.add_done_callback(lambda fut: self._send_later(envelope, fut))

    def _send_later(self, envelope: list, future: asyncio.Future) -> None:
        if not future.cancelled():
            self._send(envelope, future.result())
        self._loop.call_soon(self._drain)  # a send can swallow the FD's edge for waiting requests

    def _send(self, envelope: list, reply: bytes) -> None:
        try:
            self.socket.send_multipart(envelope + [reply], zmq.NOBLOCK)
        except zmq.Again:
            self.counters["dropped_replies"] += 1
            log.warning("reply dropped: the client's queue is full")
        except zmq.ZMQError as exc:
            log.warning("cannot send reply: %s", exc)

    def handle(self, payload: bytes) -> dict | asyncio.Future:
        """One request frame to its reply as a dict (or a future of the encoded reply); for tests."""
        reply = self.handle_bytes(payload)
        return json.loads(reply) if isinstance(reply, bytes) else reply

    def handle_bytes(self, payload: bytes, caller: Callable[[], str | None] = lambda: None,
                     local: Callable[[], bool] = lambda: True) -> bytes | asyncio.Future:
        """Turn one request frame into an encoded reply, or a future of one. ``caller()`` names
        the client (for card-data methods, hwd.access); ``local()``: it came over ipc:// from this PC."""
        if len(payload) > self.max_request_bytes:
            self.counters["too_large"] += 1
            return _dumps(error_reply(None, errors.REQUEST_TOO_LARGE,
                                      f"request of {len(payload)} bytes is over the limit of {self.max_request_bytes}"))
        try:
            request = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            self.counters["parse_errors"] += 1
            return _dumps(error_reply(None, errors.PARSE_ERROR, f"not UTF-8 JSON: {exc}"))
        if not isinstance(request, dict):
            self.counters["invalid"] += 1
            return _dumps(error_reply(None, errors.INVALID_REQUEST,
                                      "a request is a JSON object (batches are not supported)"))
        req_id = request.get("id")
        if not isinstance(req_id, (str, int, type(None))) or isinstance(req_id, bool):
            return _dumps(error_reply(None, errors.INVALID_REQUEST, "id must be a string, a number or null"))
        method = request.get("method")
        if request.get("jsonrpc") != "2.0" or not isinstance(method, str):
            self.counters["invalid"] += 1
            return _dumps(error_reply(req_id, errors.INVALID_REQUEST,
                                      'expected {"jsonrpc": "2.0", "method": ..., "id": ...}'))
        client = request.get("client")
        for name, value in (("id", req_id), ("client", client)):  # both go into the replay journal
            problem = rpctext.text_problem(value) if isinstance(value, str) else None
            if problem:
                self.counters["invalid"] += 1
                return _dumps(error_reply(req_id, errors.INVALID_REQUEST, f"{name}: {problem}"))
        params = request.get("params")
        known = self.methods.methods.get(method)
        try:
            if known is not None and known.card_data:
                self.card_access.check(method, caller(), params if isinstance(params, dict) else {})
            if known is not None and known.config_file:
                self.config_access.check(method, caller(), local())
        except HwdError as exc:
            return _dumps({"jsonrpc": "2.0", "id": req_id, "error": exc.to_json()})
        if known is None or not known.replay or not isinstance(client, str) or req_id is None:
            return self._execute(req_id, method, params)
        key = replays.request_key(client, req_id)
        fp = replays.fingerprint(method, params)
        earlier = self._earlier(key, fp, req_id, method)
        if earlier is not None:
            return earlier
        if self.journal is not None:
            self.journal.begin(key, fp, method)
        reply = self._execute(req_id, method, params, key)
        self._remember(key, fp, reply)
        return reply

    def _earlier(self, key: str, fp: str, req_id: Any, method: str) -> bytes | asyncio.Future | None:
        """The reply a retry gets (the first one), a refusal of a reused id, or None: run it."""
        cached = self.replies.get(key)
        if cached is not None:
            if cached[1] != fp:
                return self._mismatch(req_id, method)
            self.counters["replayed"] += 1
            return cached[2]
        if self.journal is None:
            return None
        stored = self.journal.get(key)
        if stored is None:
            return None
        stored_fp, stored_method, reply = stored
        if stored_fp != fp:
            return self._mismatch(req_id, method)
        if reply is not None:
            self.counters["replayed"] += 1
            self.replies.put(key, fp, reply, len(reply))
            return reply
        recover = self.methods.methods[stored_method].recover
        result = recover(key) if recover is not None else None
        if result is not None:
            self.counters["recovered"] += 1
            out = _dumps({"jsonrpc": "2.0", "id": req_id, "result": result})
            self.journal.finish(key, out)
            self.replies.put(key, fp, out, len(out))
            return out
        if recover is not None:
            return None  # nothing of the first run was committed: running it now is its only run
        self.counters["interrupted"] += 1
        return _dumps(error_reply(req_id, errors.REQUEST_INTERRUPTED,
                                  f"the first attempt of this {method} was cut off by a restart and is not run "
                                  "again; check the state, then send a new request (new id)"))

    def _mismatch(self, req_id: Any, method: str) -> bytes:
        self.counters["replay_mismatch"] += 1
        return _dumps(error_reply(req_id, errors.REPLAY_MISMATCH,
                                  f"request id {req_id!r} of this client was already used for a different "
                                  f"request; use a new id for {method}"))

    def _remember(self, key: str, fp: str, reply: bytes | asyncio.Future) -> None:
        if isinstance(reply, bytes):
            self.replies.put(key, fp, reply, len(reply))
            if self.journal is not None:
                self.journal.finish(key, reply)
            return
        self.replies.put(key, fp, reply, 1024)

        def done(fut: asyncio.Future) -> None:
            if fut.cancelled():
                return
            out = fut.result()
            self.replies.resize(key, out)
            if self.journal is not None:
                self.journal.finish(key, out)
        reply.add_done_callback(done)

    def _execute(self, req_id: Any, method: str, params: Any, request_key: str | None = None) -> bytes | asyncio.Future:
        """Run the method; sync handlers answer at once, async ones through a future."""
        started = time.monotonic()
        try:
            result = self.methods.invoke(method, params, request_key)
        except Exception as exc:
            self._timed(method, started)
            return _dumps(self._error(req_id, method, exc))
        if inspect.isawaitable(result):
            return asyncio.ensure_future(self._finish_async(req_id, method, result, started))
        self._timed(method, started)
        return _dumps({"jsonrpc": "2.0", "id": req_id, "result": result})

    async def _finish_async(self, req_id: Any, method: str, awaitable: Any, started: float) -> bytes:
        try:
            result = await awaitable
        except Exception as exc:
            return _dumps(self._error(req_id, method, exc))
        finally:
            self._timed(method, started)
        return _dumps({"jsonrpc": "2.0", "id": req_id, "result": result})

    def _timed(self, method: str, started: float) -> None:
        if method in self.methods.methods:  # a caller's made-up method names never become labels
            self.latency.observe(method, time.monotonic() - started)

    @staticmethod
    def _error(req_id: Any, method: str, exc: Exception) -> dict:
        if isinstance(exc, HwdError):
            return {"jsonrpc": "2.0", "id": req_id, "error": exc.to_json()}
        log.error("method %s failed", method, exc_info=exc)
        return error_reply(req_id, errors.INTERNAL_ERROR, f"internal error in {method}: {type(exc).__name__}: {exc}")
