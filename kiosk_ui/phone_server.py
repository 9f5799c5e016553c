"""The phone server: ``/t/<token>`` for every citizen's phone, on its own asyncio listener inside
hwd-ui (``[ui] phone_port``), so 3,000 phones waiting at once cost sockets, not threads.

hwd-ui's pages run on waitress, one thread per live stream (kiosk_ui.cli), which is right for a
hall's 200 kiosks and screens but not for every phone in the hall. Here each phone holds one
Server-Sent-Events stream on an aiohttp server in one thread; the pages themselves are
pre-rendered by kiosk_ui.phones, so a request is a dict lookup and a write, and a call wakes only
the phones whose ticket changed. Phones without EventSource poll ``/state`` (ETag → 304, with
``?wait=`` to long-poll).

- ``GET /t/<token>``: the page (360×640 first; no external asset), with the ticket's state inline.
- ``GET /t/<token>/events``: SSE, one ``ticket`` event at once and on every change.
- ``GET /t/<token>/state``: the JSON, ``ETag``; ``If-None-Match`` → 304; ``?wait=S`` (≤ 30).
- ``POST /t/<token>/rate``: ``{"score": 1..5, "reasons": [...]}``, channel phone (hall.rate).

Against a script on the hall LAN (docs/ui.md, "The phone page"): an unknown token is a 404 that
looks the same for a malformed token, a token of another day and a guess; each address may miss
``phone_misses`` times per ``MISS_WINDOW_S`` and is then refused (429) for the rest of the window,
so 22 characters of HMAC are out of reach; a request is a lookup in a dict (hashed with the
process's random key), not a comparison a clock could measure. Each address holds at most
``phone_per_address`` requests at once (the hall's own machines excepted) and all phones at most
``phone_max_clients``; a body is at most ``MAX_BODY`` bytes.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import secrets
import threading
from typing import Any, Callable

from aiohttp import web

from kiosk_ui import clients, phone_pages, phone_words
from kiosk_ui.phone_pages import MAX_BODY, TOKEN, Misses
from kiosk_ui.phones import PhoneHub

log = logging.getLogger("kiosk_ui.phone_server")

MAX_WAIT_S = 30.0


class PhoneServer:
    def __init__(self, hub: PhoneHub, rate: Callable[[str, dict], dict], *, title: str = "",
                 max_clients: int = 5000, per_address: int = 8, misses: Misses | None = None, keepalive_s: float = 15.0,
                 exempt: Callable[[str], bool] = lambda addr: False):
        self.hub = hub
        self.rate_call = rate
        self.title = title
        self.max_clients = max_clients
        self.per_address = per_address
        self.misses = misses or Misses(20)
        self.keepalive_s = keepalive_s
        self.exempt = exempt
        self.active = 0
        self.by_address: collections.Counter = collections.Counter()  # requests being served
        self.connections: collections.Counter = collections.Counter()  # open sockets (not the hall's machines)
        self.waiters: dict[str, set[asyncio.Event]] = collections.defaultdict(set)
        self.refused = collections.Counter()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port: int | None = None
        self._runner = None
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
        app.router.add_route("*", "/{tail:.*}", self.elsewhere)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, keepalive_timeout=15)
        await self._runner.setup()
        site = _CappedSite(self._runner, host, port, self._admit, self._leave)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("phone server on http://%s:%d/t/<token>", host, self.port)

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
        self.misses.miss(clients.key(request.remote))
        self.refused["unknown token"] += 1
        if request.path.endswith(("/state", "/rate")):
            return _json({"error": phone_words.INVALID}, status=404, headers=phone_pages.headers())
        return web.Response(status=404, text=phone_pages.invalid_html(), content_type="text/html", charset="utf-8",
                            headers=phone_pages.headers())

    def _admit(self, addr: str) -> str | None:
        """A new connection: refused (closed at once) when its address holds ``2 × per_address``
        already, so idle keep-alive sockets, which no request counts, cannot pile up either.
        Returns what the connection is counted under ("" for the hall's machines), None to refuse."""
        if self.exempt(addr):
            return ""
        addr = clients.key(addr)
        if self.connections[addr] >= 2 * self.per_address:
            self.refused["connections per address"] += 1
            return None
        self.connections[addr] += 1
        return addr

    def _leave(self, addr: str) -> None:
        if addr in self.connections:
            self.connections[addr] -= 1
            if self.connections[addr] <= 0:
                del self.connections[addr]

    async def _limits(self, request, handler):
        addr = request.remote or ""
        exempt = self.exempt(addr)
        addr = clients.key(addr)
        if not exempt and self.misses.blocked(addr):
            return self._refuse(429, phone_words.BUSY, "too many unknown tokens")
        if self.active >= self.max_clients:
            return self._refuse(503, "服务器繁忙，请稍候", "max_clients")
        if not exempt and self.by_address[addr] >= self.per_address:
            return self._refuse(429, phone_words.BUSY, "per address")
        self.active += 1
        self.by_address[addr] += 1
        try:
            return await handler(request)
        finally:
            self.active -= 1
            self.by_address[addr] -= 1
            if self.by_address[addr] <= 0:
                del self.by_address[addr]

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
        html = phone_pages.page_html(token, entry, self.hub.hall or self.title, nonce)
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
        headers = {**phone_pages.headers(), "ETag": entry.etag, "Cache-Control": "no-cache"}
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
                                           "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        event = asyncio.Event()
        self.waiters[token].add(event)
        try:
            await resp.prepare(request)
            await resp.write(b"retry: 2000\n\n" + entry.sse)
            last = entry.version
            while True:
                try:
                    await asyncio.wait_for(event.wait(), self.keepalive_s)
                except asyncio.TimeoutError:
                    await resp.write(b": keepalive\n\n")
                    continue
                event.clear()
                entry = self.hub.get(token)
                if entry is None:
                    await resp.write(b"event: gone\ndata: {}\n\n")
                    break
                if entry.version != last:
                    await resp.write(entry.sse)
                    last = entry.version
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._unwait(token, event)
        return resp

    async def rate(self, request):
        token, entry = self._entry(request)
        if entry is None:
            return self._not_found(request)
        headers = phone_pages.headers()
        if request.content_type != "application/json":  # a cross-site form cannot send this type
            return _json({"error": "请求格式不正确"}, status=415, headers=headers)
        try:
            body = await request.json()
        except web.HTTPRequestEntityTooLarge:
            return _json({"error": "请求过大"}, status=413, headers=headers)
        except ValueError:
            return _json({"error": "请求格式不正确"}, status=400, headers=headers)
        params = phone_pages.rate_params(body)
        if params is None:
            return _json({"error": "请选择评价"}, status=400, headers=headers)
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(None, self.rate_call, token, params)
        except RateRefused as exc:
            return _json({"error": exc.message, "code": exc.code}, status=exc.status, headers=headers)
        self.hub.poke()
        return _json({"ok": True, "level": result.get("level")}, headers=headers)


def _json(obj: Any, status: int = 200, headers: dict | None = None):
    return web.json_response(obj, status=status, headers=headers,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False, separators=(",", ":")))


class _Capped(asyncio.Protocol):
    """aiohttp's protocol behind a gate that counts open connections per peer address."""

    def __init__(self, inner: asyncio.Protocol, admit: Callable[[str], str | None], leave: Callable[[str], None]):
        self.inner, self.admit, self.leave, self.addr = inner, admit, leave, None

    def connection_made(self, transport) -> None:
        self.addr = self.admit(str((transport.get_extra_info("peername") or ("",))[0]))
        if self.addr is None:
            transport.abort()
            return
        self.inner.connection_made(transport)

    def connection_lost(self, exc) -> None:
        if self.addr is not None:
            self.leave(self.addr)
            self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self):
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class _CappedSite(web.TCPSite):
    """TCPSite whose connections pass the per-address gate (``_Capped``)."""

    def __init__(self, runner, host, port, admit, leave):
        super().__init__(runner, host, port, backlog=4096, reuse_address=True)
        self._admit, self._leave = admit, leave

    async def start(self) -> None:
        await web.BaseSite.start(self)
        factory = self._runner.server
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _Capped(factory(), self._admit, self._leave), self._host, self._port,
            backlog=self._backlog, reuse_address=self._reuse_address)


class RateRefused(Exception):
    def __init__(self, message: str, code: int | None, status: int = 409):
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def link_rate(link: Any) -> Callable[[str, dict], dict]:
    """``hall.rate`` by token through hwd-ui's RPC link; refusals as RateRefused (Chinese)."""
    from hwd.client import RpcError, Unreachable
    from kiosk_ui.hwdlink import message_for

    def rate(token: str, params: dict) -> dict:
        try:
            return link.call("hall.rate", {"token": token, **params})
        except Unreachable as exc:
            raise RateRefused(message_for(exc), None, 503) from None
        except RpcError as exc:
            raise RateRefused(message_for(exc), getattr(exc, "code", None)) from None
    return rate


def start(link: Any, settings: Any, host: str) -> PhoneServer | None:
    """The hub and the phone server of one hwd-ui process (None when ``[ui] phone_port = 0``)."""
    if not settings.phone_port:
        return None
    from kiosk_ui import clients

    hub = PhoneHub(lambda since: link.call("hall.phone_board", {"since": since} if since else {}, timeout=10),
                   alert_ahead=settings.phone_alert_ahead)
    link.live().listeners.append(hub.poke)
    server = PhoneServer(hub, link_rate(link), title=link.title, max_clients=settings.phone_max_clients,
                         per_address=settings.phone_per_address, misses=phone_pages.misses_of(link),
                         keepalive_s=max(5.0, settings.keepalive_s),
                         exempt=lambda addr: clients.configured(link, addr))
    server.start(host, settings.phone_port)
    hub.start()
    hub.poke()
    link.remember("phone_server", server)
    return server

