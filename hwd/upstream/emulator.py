"""A provincial 好差评 receiver on loopback, the far end of ``push-json``. Test and benchmark code
(tests/, bench/haocp.py): nothing that hwd, hwd-ui or hwd-central runs imports it
(tests/core/test_imports.py checks), as no driver imports its emulator.

It checks each request's signature, keeps the first copy of every idempotency key (a repeated
key is answered ``{"ok": true, "duplicate": true}`` and counted), and misbehaves on demand the
ways a province does: down (connection refused), HTTP 500s, replies slower than the client's
timeout, rejections (``{"ok": false, "error": ...}``), and lost replies (the record is stored but
the connection closes before the answer, so the client must retry and the key must de-duplicate).

And the ways a hostile or broken endpoint does (the attacks on the outbox, docs/security.md): a redirect to
another host (``redirect``), a reply dripped one byte at a time for ever (``drip``), an endless
reply body (``flood``). ``tls=(cert, key)`` serves HTTPS instead of HTTP.

``Receiver`` is the far end of the payload profiles: it keeps each request as it came and answers
as the test scripts (a refusal inside a 200, then an acceptance).
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from hwd.upstream import signing


FLOOD_BLOCK = b'{"ok": true, "pad": "' + b"x" * 65500 + b'"}\n'


class Province:
    def __init__(self, secret: str, algorithm: str = "hmac-sha256", port: int = 0, key_field: str = "idempotency_key",
                 tls: tuple[str, str] | None = None):
        self.secret, self.algorithm, self.key_field = secret, algorithm, key_field
        self.records: dict[str, dict] = {}  # key -> first accepted body
        self.requests: list[tuple[str | None, str]] = []  # (key, what happened)
        self.duplicates = 0
        self.lock = threading.Lock()
        self._fail: list[int] = []  # statuses to answer next
        self._hang: list[float] = []  # seconds to sleep before answering next
        self._drop = 0
        self._hostile: list[tuple] = []  # ("redirect", status, location) | ("drip", interval) | ("flood", …)
        self.dripping = 0  # connections being dripped to now
        self.flooded = 0  # bytes of endless replies sent so far
        self._closing = threading.Event()
        self._tls = tls
        self._reject: Callable[[dict], str | None] = lambda body: None
        if port == 0:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        self.port = port
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}/hcp/evaluate"
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- running ------------------------------------------------------------------------------
    def up(self) -> "Province":
        if self._server is not None:
            return self
        province = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                province._handle(self)

        self._closing.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        if self._tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self._tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="province", daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        """Stop listening: the client's connections are refused (and drips and floods end)."""
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- faults -------------------------------------------------------------------------------
    def fail(self, n: int = 1, status: int = 500) -> None:
        with self.lock:
            self._fail += [status] * n

    def hang(self, n: int = 1, seconds: float = 2.0) -> None:
        with self.lock:
            self._hang += [seconds] * n

    def drop_replies(self, n: int = 1) -> None:
        with self.lock:
            self._drop += n

    def redirect(self, n: int = 1, status: int = 302, location: str = "http://127.0.0.1:9/elsewhere") -> None:
        """Answer the next ``n`` requests with a redirect to ``location`` (before any check)."""
        with self.lock:
            self._hostile += [("redirect", status, location)] * n

    def drip(self, n: int = 1, interval_s: float = 0.2) -> None:
        """Answer the next ``n`` requests one byte every ``interval_s``, never finishing (a status
        line, then one header line that never ends), until the client goes away."""
        with self.lock:
            self._hostile += [("drip", interval_s)] * n

    def flood(self, n: int = 1, status: int = 200, chunked: bool = False) -> None:
        """Answer the next ``n`` requests with an endless body as fast as the client reads it:
        ``Content-Length: 1 GiB`` (or chunked, without end), counted in ``flooded``."""
        with self.lock:
            self._hostile += [("flood", status, chunked)] * n

    def reject(self, rule: Callable[[dict], str | None]) -> None:
        """``rule(body)`` returns a reason to reject the record, or None to take it."""
        self._reject = rule

    # -- the receiving end --------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        key = h.headers.get("Idempotency-Key")
        with self.lock:
            hostile = self._hostile.pop(0) if self._hostile else None
        if hostile is not None:
            self._note(key, hostile[0])
            try:
                getattr(self, f"_{hostile[0]}")(h, *hostile[1:])
            except OSError:
                pass  # the client went away: what a hostile endpoint waits for
            h.close_connection = True
            return
        with self.lock:
            status = self._fail.pop(0) if self._fail else None
            delay = self._hang.pop(0) if self._hang and status is None else 0.0
        if status is not None:
            self._note(key, f"http {status}")
            return self._reply(h, status, {"ok": False, "error": "服务暂不可用"})
        alg, _, sig = (h.headers.get("X-HWD-Signature") or "").partition("=")
        if alg != self.algorithm or not signing.verify(alg, self.secret, h.headers.get("X-HWD-Timestamp", ""),
                                                       raw, sig):
            self._note(key, "bad signature")
            return self._reply(h, 401, {"ok": False, "error": "签名错误"})
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            return self._reply(h, 400, {"ok": False, "error": "not JSON"})
        if body.get(self.key_field) != key:
            return self._reply(h, 400, {"ok": False, "error": "idempotency key differs from the header"})
        reason = self._reject(body)
        if reason:
            self._note(key, "rejected")
            return self._reply(h, 200, {"ok": False, "error": reason})
        with self.lock:
            duplicate = key in self.records
            if duplicate:
                self.duplicates += 1
            else:
                self.records[key] = body
            drop = self._drop > 0
            if drop:
                self._drop -= 1
        self._note(key, "duplicate" if duplicate else "stored")
        if delay:
            time.sleep(delay)
        if drop:
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        self._reply(h, 200, {"ok": True, "duplicate": duplicate})

    @staticmethod
    def _redirect(h: BaseHTTPRequestHandler, status: int, location: str) -> None:
        h.send_response(status)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    def _drip(self, h: BaseHTTPRequestHandler, interval_s: float) -> None:
        with self.lock:
            self.dripping += 1
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Drip: ":
                if self._closing.wait(interval_s):
                    return
                h.connection.sendall(bytes([byte]))
            while not self._closing.wait(interval_s):
                h.connection.sendall(b"a")
        finally:
            with self.lock:
                self.dripping -= 1

    def _flood(self, h: BaseHTTPRequestHandler, status: int, chunked: bool) -> None:
        head = f"HTTP/1.1 {status} Flood\r\nContent-Type: application/json\r\n"
        head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {1 << 30}\r\n\r\n"
        h.connection.sendall(head.encode())
        block = (b"%x\r\n" % len(FLOOD_BLOCK) + FLOOD_BLOCK + b"\r\n") if chunked else FLOOD_BLOCK
        sent = 0
        while (chunked or sent < 1 << 30) and not self._closing.is_set():
            h.connection.sendall(block)
            sent += len(block)
            with self.lock:
                self.flooded += len(block)

    def _note(self, key: str | None, what: str) -> None:
        with self.lock:
            self.requests.append((key, what))

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json; charset=utf-8")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout): it will retry


class ProvincePage:
    """The province's H5 rating page for the ``h5`` adapter: decodes the base64x2 parameters the
    pad brings (gtmap HcpServiceImpl's shape) and shows them, remembering each visit."""

    def __init__(self, port: int = 0):
        if port == 0:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        self.port = port
        self.base = f"http://127.0.0.1:{port}/hcp/pj/"
        self.visits: list[dict] = []
        page = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                from html import escape

                from hwd.upstream import h5

                try:
                    fields = h5.decode("http://127.0.0.1:%d%s" % (page.port, self.path), page.base)
                except ValueError:
                    self.send_error(400)
                    return
                page.visits.append(fields)
                rows = "".join(f"<li id='f-{escape(k)}'>{escape(k)}={escape(v)}</li>" for k, v in fields.items())
                data = f"<!doctype html><meta charset=utf-8><title>省好差评</title><h1>请评价</h1><ul>{rows}</ul>"
                body = data.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="province-page", daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Receiver:
    """A province's endpoint for the payload profiles (hwd.haocp.profiles): keeps every
    request as it came (path, headers, raw body) and answers what the test scripts — by default
    ``reply`` (a JSON object, HTTP 200), or the next of ``queue(status, body)``."""

    def __init__(self, reply: dict | None = None):
        self.requests: list[dict] = []
        self.reply = reply if reply is not None else {"ok": True}
        self._queued: list[tuple[int, dict]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": raw})
                    status, body = receiver._queued.pop(0) if receiver._queued else (200, receiver.reply)
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, name="province-receiver", daemon=True).start()

    def queue(self, status: int, body: dict) -> None:
        """Answer the next request with ``status`` and ``body`` (before falling back to ``reply``)."""
        with self.lock:
            self._queued.append((status, body))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
