"""The phone server: ``/t/<token>`` for every citizen's phone, on its own asyncio listener inside
hwd-ui (``[ui] phone_port``), so 3,000 phones waiting at once cost sockets, not threads.

hwd-ui's pages run on waitress, one thread per live stream (kiosk_ui.cli), which is right for a
hall's 200 kiosks and screens but not for every phone in the hall. Here each phone holds one
Server-Sent-Events stream on an aiohttp server in one thread; the pages themselves are
pre-rendered by kiosk_ui.phones, so a request is a dict lookup and a write, and a call wakes only
the phones whose ticket changed. Phones without EventSource poll ``/state`` (ETag → 304, with
``?wait=`` to long-poll).

- ``GET /t/<token>``: the page (360×640 first; no external asset), with the ticket's state inline.
- ``GET /t/<token>/events``: SSE, one ``ticket`` event at once and on every change (its id
  ``<boot>-<version>``), and a ``ping`` (data: the version it stands at) after ``keepalive_s``
  without one, so the page can tell a live stream from a deaf one.
- ``GET /t/<token>/state``: the JSON, ``ETag``; ``If-None-Match`` → 304; ``?wait=S`` (≤ 30).
- ``POST /t/<token>/rate``: ``{"score": 1..5, "reasons": [...]}``, channel phone (hall.rate).
- ``POST /t/<token>/cancel``: ``{}``, the citizen leaves the queue (hall.cancel, after the page's
  confirmation); only that ticket, only while it waits.

Against a script on the hall LAN (docs/ui.md, "The phone page"): an unknown token is a 404 that
looks the same for a malformed token, a token of another day and a guess; each address may miss
``phone_misses`` times per ``MISS_WINDOW_S`` and is then refused (429) for the rest of the window,
so 22 characters of HMAC are out of reach; a request is a lookup in a dict (hashed with the
process's random key), not a comparison a clock could measure. The same rules as hwd-ui's main
port hold the connections (hwd.web.conncap): each address holds at most ``phone_per_address``
requests at once and twice that in open sockets (the hall's own machines excepted), all phones
at most ``phone_max_clients`` requests and twice that in sockets, the last
``reserved_connections`` sockets kept for the hall's machines; a request head must be in within
``header_timeout_s`` of the connection's opening (with TLS, the handshake too) or of its first
byte; a body is at most ``MAX_BODY`` bytes. Every phone on a hall's WiFi shares one IPv6 /64:
there each phone's own address meets these per-address limits and the /64 the looser
``phone_per_64`` and ``phone_misses_per_64``. With ``phone_tls_certificate`` the port speaks
HTTPS (a certificate the phones trust: a public CA's, not the hall CA of ``hwctl tls``).
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import secrets
import socket
import ssl
import threading
from typing import Any, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from hwd.audit import AUDIT
from hwd.web import framing
from hwd.web.conncap import ConnectionCap, Refused, Slot
from kiosk_ui import phone_pages, phone_words
from kiosk_ui.phone_pages import MAX_BODY, TOKEN, Misses
from kiosk_ui.phones import PhoneHub

log = logging.getLogger("kiosk_ui.phone_server")


class _MalformedRequests(logging.Filter):
    """aiohttp logs each request its parser refuses with a whole traceback: a script on the WiFi
    could fill the journal with them. One audit line per address a minute instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            AUDIT.warning(f"bad-request:{remote}", "phone server: refused a malformed request from %s: %s", remote,
                          str(exc.message if hasattr(exc, "message") else exc).splitlines()[0][:200])
            return False
        return True


_http_log = logging.getLogger("kiosk_ui.phone_server.http")
_http_log.addFilter(_MalformedRequests())

MAX_WAIT_S = 30.0


class PhoneServer:
    def __init__(self, hub: PhoneHub, act: Callable[[str, str, dict], dict], *, title: str = "",
                 max_clients: int = 5000, per_address: int = 8, per_64: int | None = 2000,
                 reserved_connections: int = 200, header_timeout_s: float = 10.0, tls: ssl.SSLContext | None = None,
                 misses: Misses | None = None, keepalive_s: float = 15.0,
                 exempt: Callable[[str], bool] = lambda addr: False):
        self.hub = hub
        self.act = act  # (method, token, params): hall.rate / hall.cancel by the ticket's token
        self.title = title
        self.misses = misses or Misses(20)
        self.keepalive_s = keepalive_s
        self.exempt = exempt
        self.header_timeout_s = header_timeout_s
        self.tls = tls
        # requests and streams being served; open sockets (idle keep-alive ones too)
        self.requests = ConnectionCap(per_address, max_clients, 0, exempt, per_64=per_64, what=None)
        self.connections = ConnectionCap(2 * per_address, 2 * max_clients, reserved_connections, exempt,
                                         per_64=None if per_64 is None else 2 * per_64, what="phone connection")
        self.waiters: dict[str, set[asyncio.Event]] = collections.defaultdict(set)
        self.refused = collections.Counter()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port: int | None = None
        self._runner = None
        self._listener: socket.socket | None = None
        self._tasks: set[asyncio.Task] = set()  # the loop keeps only weak references to tasks
        self._thread: threading.Thread | None = None
        hub.listeners.append(self._changed)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, host: str, port: int) -> "PhoneServer":
        """Listen on ``host:port`` in a thread of its own; raises OSError when the port is taken."""
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self.loop = loop
            try:
                loop.run_until_complete(self._listen(host, port))
            except BaseException as exc:  # bind failed: report it to start()
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            try:
                loop.run_forever()
            finally:
                self._listener.close()
                for task in list(self._tasks):
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*self._tasks, return_exceptions=True))
                loop.run_until_complete(self._runner.cleanup())
                loop.close()

        self._thread = threading.Thread(target=run, name="hwd-ui-phone-server", daemon=True)
        self._thread.start()
        started.wait(10)
        if failure:
            raise OSError(f"phone server cannot listen on {host}:{port}: {failure[0]}")
        return self

    def stop(self) -> None:
        if self.loop is not None and self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)

    async def _listen(self, host: str, port: int) -> None:
        @web.middleware
        async def limits(request, handler):
            return await self._limits(request, handler)

        app = web.Application(middlewares=[limits], client_max_size=MAX_BODY)
        app.router.add_get("/t/{token}", self.page)
        app.router.add_get("/t/{token}/state", self.state)
        app.router.add_get("/t/{token}/events", self.events)
        app.router.add_post("/t/{token}/rate", self.rate)
        app.router.add_post("/t/{token}/cancel", self.cancel)
        app.router.add_route("*", "/{tail:.*}", self.elsewhere)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, keepalive_timeout=15,
                                     max_line_size=framing.MAX_LINE, max_field_size=framing.MAX_LINE,
                                     max_headers=framing.MAX_FIELDS, logger=_http_log)
        await self._runner.setup()
        self._listener = _listen_socket(host, port)
        self.port = self._listener.getsockname()[1]
        self._keep(self._accept())
        log.info("phone server on %s://%s:%d/t/<token>", "https" if self.tls else "http", host, self.port)

    async def _accept(self) -> None:
        """Count each socket at accept (before any TLS handshake), then hand it to aiohttp."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                sock, addr = await loop.sock_accept(self._listener)
            except OSError as exc:  # out of descriptors, say: the connections open go on
                log.warning("phone server: accept failed: %s", exc)
                await asyncio.sleep(0.1)
                continue
            try:
                slot = self.connections.admit(str(addr[0]))
            except Refused as exc:
                self.refused["connections" if exc.reason == "full" else "connections per address"] += 1
                sock.close()
                continue
            self._keep(self._open(sock, slot, loop.time() + self.header_timeout_s))

    def _keep(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open(self, sock: socket.socket, slot: Slot, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        gate = _Gate(self._runner.server(), self, slot, deadline)
        try:
            await loop.connect_accepted_socket(lambda: gate, sock, ssl=self.tls,
                                               ssl_handshake_timeout=max(0.1, deadline - loop.time())
                                               if self.tls else None)
        except (OSError, asyncio.TimeoutError) as exc:  # the handshake failed or took too long
            log.debug("phone server: connection from %s dropped before its first request: %s", slot.host, exc)
            self.connections.release(slot)
            sock.close()

    # -- changes from the hub (refresher thread) -------------------------------------------------
    def _changed(self, tokens: set[str]) -> None:
        if self.loop is not None and not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self._wake, tokens)
            except RuntimeError:  # the server stopped meanwhile
                pass

    def _wake(self, tokens: set[str]) -> None:
        for token in tokens:
            for event in self.waiters.get(token, ()):
                event.set()

    # -- limits -----------------------------------------------------------------------------------
    def _refuse(self, status: int, text: str, reason: str):
        self.refused[reason] += 1
        return web.Response(status=status, text=text, content_type="text/plain", charset="utf-8",
                            headers={**phone_pages.headers(), "Retry-After": "30"})

    def _not_found(self, request):
        self.misses.miss(request.remote)
        self.refused["unknown token"] += 1
        if request.path.endswith(("/state", "/rate", "/cancel")):
            return _json({"error": phone_words.INVALID}, status=404, headers=phone_pages.headers())
        return web.Response(status=404, text=phone_pages.invalid_html(), content_type="text/html", charset="utf-8",
                            headers=phone_pages.headers())

    async def _limits(self, request, handler):
        gate = request.transport.get_protocol() if request.transport is not None else None
        if isinstance(gate, _Gate):
            gate.head_done()
        try:
            addr = request.remote or ""
            if not self.exempt(addr) and self.misses.blocked(addr):
                return self._refuse(429, phone_words.BUSY, "too many unknown tokens")
            try:
                slot = self.requests.admit(addr)
            except Refused as exc:
                if exc.reason == "full":
                    return self._refuse(503, "服务器繁忙，请稍候", "max_clients")
                return self._refuse(429, phone_words.BUSY, "per address")
            try:
                return await handler(request)
            finally:
                self.requests.release(slot)
        finally:
            if isinstance(gate, _Gate):
                gate.request_done()

    def _entry(self, request):
        token = request.match_info["token"]
        entry = self.hub.get(token) if TOKEN.match(token) else None
        return token, entry

    # -- handlers ---------------------------------------------------------------------------------
    async def page(self, request):
        token, entry = self._entry(request)
        if entry is None:
            if not self.hub.ready:
                return self._refuse(503, "正在连接排队系统，请稍候刷新", "not ready")
            return self._not_found(request)
        nonce = secrets.token_urlsafe(12)
        html = phone_pages.page_html(token, entry, self.hub.hall or self.title, nonce, keepalive_s=self.keepalive_s)
        return web.Response(text=html, content_type="text/html", charset="utf-8",
                            headers=phone_pages.headers(nonce))

    async def elsewhere(self, request):
        """Any other path is a miss like an unknown token (a scan of the port learns nothing)."""
        return self._not_found(request)

    async def state(self, request):
        token, entry = self._entry(request)
        if entry is None:
            return self._not_found(request)
        try:
            wait = min(MAX_WAIT_S, max(0.0, float(request.query.get("wait", "0"))))
        except ValueError:
            wait = 0.0
        seen = request.headers.get("If-None-Match")
        if seen == entry.etag and wait > 0:
            await self._wait_change(token, wait)
            entry = self.hub.get(token)
            if entry is None:
                return self._not_found(request)
        headers = {**phone_pages.headers(), "ETag": entry.etag}  # the page sends it back itself
        if seen == entry.etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=entry.body, content_type="application/json", charset="utf-8", headers=headers)

    async def _wait_change(self, token: str, timeout: float) -> None:
        event = asyncio.Event()
        self.waiters[token].add(event)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            self._unwait(token, event)

    def _unwait(self, token: str, event: asyncio.Event) -> None:
        waiting = self.waiters.get(token)
        if waiting is not None:
            waiting.discard(event)
            if not waiting:
                del self.waiters[token]

    async def events(self, request):
        token, entry = self._entry(request)
        if entry is None:
            return self._not_found(request)
        resp = web.StreamResponse(headers={**phone_pages.headers(),
                                           "Content-Type": "text/event-stream; charset=utf-8",
                                           "X-Accel-Buffering": "no"})
        event = asyncio.Event()
        self.waiters[token].add(event)
        try:
            await resp.prepare(request)
            await resp.write(b"retry: 2000\n\n" + entry.sse)
            last = entry.version
            while True:
                try:
                    await asyncio.wait_for(event.wait(), self.keepalive_s)
                    idle = False
                except asyncio.TimeoutError:
                    idle = True  # look at the entry anyway (a lost wake-up heals), then ping
                event.clear()
                entry = self.hub.get(token)
                if entry is None:
                    await resp.write(b"event: gone\ndata: {}\n\n")
                    break
                if entry.version != last:
                    await resp.write(entry.sse)
                    last = entry.version
                elif idle:
                    await resp.write(_ping(entry))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._unwait(token, event)
        return resp

    async def _body(self, request) -> tuple[Any, Any]:
        """(the JSON body, None) or (None, the refusal): JSON only, which a cross-site form cannot send."""
        headers = phone_pages.headers()
        if request.content_type != "application/json":
            return None, _json({"error": "请求格式不正确"}, status=415, headers=headers)
        try:
            return await request.json(), None
        except web.HTTPRequestEntityTooLarge:
            return None, _json({"error": "请求过大"}, status=413, headers=headers)
        except ValueError:
            return None, _json({"error": "请求格式不正确"}, status=400, headers=headers)

    async def _act(self, method: str, token: str, params: dict) -> tuple[dict | None, Any]:
        try:
            return await asyncio.get_running_loop().run_in_executor(None, self.act, method, token, params), None
        except ActRefused as exc:
            return None, _json({"error": exc.message, "code": exc.code}, status=exc.status,
                               headers=phone_pages.headers())

    async def rate(self, request):
        token, entry = self._entry(request)
        if entry is None:
            return self._not_found(request)
        body, refused = await self._body(request)
        if refused is not None:
            return refused
        params = phone_pages.rate_params(body)
        if params is None:
            return _json({"error": "请选择评价"}, status=400, headers=phone_pages.headers())
        result, refused = await self._act("hall.rate", token, params)
        if refused is not None:
            return refused
        self.hub.poke()
        return _json({"ok": True, "level": result.get("level")}, headers=phone_pages.headers())

    async def cancel(self, request):
        """取消排队: the page asked the citizen to confirm first; the token names the one ticket."""
        token, entry = self._entry(request)
        if entry is None:
            return self._not_found(request)
        _, refused = await self._body(request)
        if refused is not None:
            return refused
        result, refused = await self._act("hall.cancel", token, {})
        if refused is not None:
            return refused
        self.hub.poke()
        return _json({"ok": True, "state": result.get("state")}, headers=phone_pages.headers())


def _ping(entry) -> bytes:
    """The keep-alive a page can see (a comment line reaches no script): the version the stream
    stands at, so a page that holds an older one knows it missed an update and fetches it."""
    return b"event: ping\ndata: %s\n\n" % entry.etag.strip('"').encode()


def _json(obj: Any, status: int = 200, headers: dict | None = None):
    return web.json_response(obj, status=status, headers=headers,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False, separators=(",", ":")))


class _Gate(asyncio.Protocol):
    """aiohttp's protocol for one connection, with its slot of the connection cap and the
    deadline of the request head it waits for: the connection's first one from its accept (the
    TLS handshake included), each later one from its first byte."""

    def __init__(self, inner: asyncio.Protocol, server: PhoneServer, slot: Slot, deadline: float):
        self.inner, self.server, self.slot = inner, server, slot
        self.transport: asyncio.Transport | None = None
        self.in_request = False
        self.pending = 0  # bytes in while no request has reached the handlers
        self.timer: asyncio.TimerHandle | None = None
        self.deadline = deadline

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.inner.connection_made(transport)
        self.timer = asyncio.get_running_loop().call_at(self.deadline, self._expired)

    def _expired(self) -> None:
        self.timer = None
        if self.transport is not None and not self.in_request:
            AUDIT.warning(f"head-timeout:{self.slot.keys[0] if self.slot.keys else self.slot.host}",
                          "closed a phone connection from %s: no complete request head within %g s",
                          self.slot.host, self.server.header_timeout_s)
            self.transport.abort()

    def head_done(self) -> None:
        """A request reached the handlers: its head is in."""
        self.in_request, self.pending = True, 0
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def request_done(self) -> None:
        self.in_request, self.pending = False, 0  # the next byte starts the next head's deadline

    def connection_lost(self, exc) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.transport = None
        self.server.connections.release(self.slot)
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self.in_request:
            # aiohttp holds each line to MAX_LINE and the fields to MAX_FIELDS, but not the head
            # as a whole: that is held here (with room for a small body sent along)
            self.pending += len(data)
            if self.pending > framing.MAX_HEAD + MAX_BODY:
                log.info("phone server: closed a connection from %s: request head over %d bytes", self.slot.host,
                         framing.MAX_HEAD)
                self.transport.abort()
                return
            if self.timer is None:
                loop = asyncio.get_running_loop()
                self.timer = loop.call_at(loop.time() + self.server.header_timeout_s, self._expired)
        self.inner.data_received(data)

    def eof_received(self):
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


def _listen_socket(host: str, port: int) -> socket.socket:
    """The listening socket (non-blocking, backlog 4096) of ``host:port``."""
    family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(4096)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class ActRefused(Exception):
    def __init__(self, message: str, code: int | None, status: int = 409):
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def link_act(link: Any) -> Callable[[str, str, dict], dict]:
    """``hall.rate`` / ``hall.cancel`` by token through hwd-ui's RPC link; refusals as
    ActRefused (Chinese)."""
    from hwd.client import RpcError, Unreachable
    from kiosk_ui.hwdlink import message_for

    def act(method: str, token: str, params: dict) -> dict:
        try:
            return link.call(method, {"token": token, **params})
        except Unreachable as exc:
            raise ActRefused(message_for(exc), None, 503) from None
        except RpcError as exc:
            raise ActRefused(message_for(exc), getattr(exc, "code", None)) from None
    return act


def start(link: Any, settings: Any, host: str) -> PhoneServer | None:
    """The hub and the phone server of one hwd-ui process (None when ``[ui] phone_port = 0``)."""
    if not settings.phone_port:
        return None
    from kiosk_ui import clients

    tls = None
    if settings.phone_tls:
        from kiosk_ui.tls import server_context

        tls = server_context(str(settings.phone_tls_certificate), str(settings.phone_tls_key))
    hub = PhoneHub(lambda since: link.call("hall.phone_board", {"since": since} if since else {}, timeout=10),
                   alert_ahead=settings.phone_alert_ahead)
    link.live().listeners.append(hub.poke)
    server = PhoneServer(hub, link_act(link), title=link.title, max_clients=settings.phone_max_clients,
                         per_address=settings.phone_per_address, per_64=settings.phone_per_64,
                         reserved_connections=settings.reserved_connections, header_timeout_s=settings.header_timeout_s,
                         tls=tls, misses=phone_pages.misses_of(link), keepalive_s=max(5.0, settings.keepalive_s),
                         exempt=lambda addr: clients.configured(link, addr))
    server.start(host, settings.phone_port)
    hub.start()
    hub.poke()
    link.remember("phone_server", server)
    return server
