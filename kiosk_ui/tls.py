"""HTTPS for hwd-ui (``[ui] tls_certificate`` / ``tls_key``): cheroot with its built-in ssl
adapter, made to hold on the hall LAN, under the same rules as plain HTTP (hwd.web.waitress_guard).

cheroot gives every new connection a worker thread, which reads the request with the idle timeout
per read: a client that sends a byte now and then, or never shakes hands, holds a thread for as
long as it likes, and the hall's kiosks wait for a free one. Here:

- the socket is wrapped without the handshake (``do_handshake_on_connect=False``): OpenSSL
  completes it on the first read, in the worker, so cheroot's accept loop never waits on one;
- every connection passes ``hwd.web.conncap.ConnectionCap`` at accept (per address, and the last
  ``reserved_connections`` for the configured machines); as a connection being read holds a
  thread, the reserve is that many threads more than ``threads``, and the cap's total is the
  thread count when that is lower than ``max_connections``;
- the handshake, request line and headers must be in within ``header_timeout_s`` of the worker's
  first read: each read waits only for what is left of that time (``_HallSocket``);
- the head is read strictly (``hwd.web.framing``), as over plain HTTP.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from typing import Callable

from cheroot import errors, server, wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from hwd.audit import AUDIT
from hwd.web import framing
from hwd.web.conncap import ConnectionCap, Refused, Slot

log = logging.getLogger("kiosk_ui")


def server_context(certificate: str, private_key: str) -> ssl.SSLContext:
    """A server-side TLS 1.2+ context (also the phone server's, kiosk_ui.phone_server)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificate, private_key)
    return context


class _HallSocket(ssl.SSLSocket):
    """A TLS socket whose reads stop at the head deadline while one is set."""

    slot: Slot | None = None
    idle_timeout_s: float | None = None
    head_deadline: float | None = None
    deadline_bound = False  # the last read waited for the deadline, not for the idle timeout
    head_expired = False

    def recv_into(self, buffer, nbytes=None, flags=0):
        if self.head_deadline is not None:
            left = self.head_deadline - time.monotonic()
            self.deadline_bound = self.idle_timeout_s is None or left <= self.idle_timeout_s
            if left <= 0:
                raise socket.timeout("timed out")
            self.settimeout(min(left, self.idle_timeout_s or left))
        return super().recv_into(buffer, nbytes, flags)


class HallSSLAdapter(BuiltinSSLAdapter):
    def __init__(self, certificate: str, private_key: str, cap: ConnectionCap, idle_timeout_s: float):
        super().__init__(certificate, private_key)
        self.context = server_context(certificate, private_key)
        self.context.sslsocket_class = _HallSocket
        self.cap, self.idle_timeout_s = cap, idle_timeout_s

    def wrap(self, sock):
        try:
            host = sock.getpeername()[0]
        except OSError as exc:  # gone before it was accepted
            raise errors.FatalSSLAlert(*exc.args) from exc
        try:
            slot = self.cap.admit(host)
        except Refused as exc:
            sock.close()
            raise errors.FatalSSLAlert(f"{host}: {exc}") from None
        try:
            tls = self.context.wrap_socket(sock, do_handshake_on_connect=False, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.cap.release(slot)
            raise errors.FatalSSLAlert(*exc.args) from exc
        tls.slot, tls.idle_timeout_s = self.cap.watch(tls, slot), self.idle_timeout_s
        # the cipher is not known before the handshake; the pages need only the scheme
        return tls, {"wsgi.url_scheme": "https", "HTTPS": "on"}


class StrictHeaderReader(server.HeaderReader):
    """cheroot's header reader behind ``hwd.web.framing``'s checks."""

    def __init__(self, version: tuple[int, int]):
        self.version = version

    def __call__(self, rfile, hdict=None):
        hdict = {} if hdict is None else hdict
        fields = []
        while True:
            line = rfile.readline()
            if not line:
                raise ValueError("Illegal end of headers.")
            if line == server.CRLF:
                break
            if not line.endswith(server.CRLF):
                raise ValueError("HTTP requires CRLF terminators")
            try:
                name, value = framing.field(line[:-2])
            except framing.BadHead as exc:
                raise ValueError(str(exc)) from None
            fields.append((name, value))
            if len(fields) > framing.MAX_FIELDS:
                raise ValueError(f"more than {framing.MAX_FIELDS} header fields")
            key = self._transform_key(line.split(b":", 1)[0])
            existing = hdict.get(key) if key in server.comma_separated_headers else None
            hdict[key] = b", ".join((existing, value)) if existing else value
        try:
            framing.framing(fields, self.version)
        except framing.BadHead as exc:
            raise ValueError(str(exc)) from None
        return hdict


class HallRequest(server.HTTPRequest):
    """A request whose head must be in by the deadline, read strictly."""

    def parse_request(self):
        sock = self.conn.socket
        if isinstance(sock, _HallSocket):
            sock.head_deadline = time.monotonic() + self.server.head_timeout_s
        try:
            super().parse_request()
        except socket.timeout:
            if isinstance(sock, _HallSocket) and sock.deadline_bound and sock.slot is not None:
                sock.head_expired = True
                AUDIT.warning(f"head-timeout:{sock.slot.keys[0] if sock.slot.keys else sock.slot.host}",
                              "closed a TLS connection from %s: no complete request head within %g s",
                              sock.slot.host, self.server.head_timeout_s)
            raise
        finally:
            if isinstance(sock, _HallSocket) and sock.head_deadline is not None:
                sock.head_deadline = None
                try:
                    sock.settimeout(sock.idle_timeout_s)
                except OSError:
                    pass

    def read_request_headers(self):
        version = (1, 1) if self.response_protocol == "HTTP/1.1" else (1, 0)  # the lower of ours and the client's
        self.header_reader = StrictHeaderReader(version)
        return super().read_request_headers()

    def send_headers(self):
        # cheroot drains an unread Content-Length body but not a chunked one, whose bytes would be
        # read as the next request: close the connection instead
        if self.chunked_read and not getattr(self.rfile, "closed", True):
            self.close_connection = True
        return super().send_headers()


class HallConnection(server.HTTPConnection):
    RequestHandlerClass = HallRequest

    def _conditional_error(self, req, response):
        if getattr(self.socket, "head_expired", False):
            return  # writing would go on with a handshake the client never finishes: just close
        try:
            super()._conditional_error(req, response)
        except OSError:  # the peer is gone, or never finished its handshake: nothing to tell it
            pass

    def close(self):
        try:
            super().close()
        finally:
            slot = getattr(self.socket, "slot", None)
            if slot is not None:
                self.server.ssl_adapter.cap.release(slot)


class HallServer(wsgi.Server):
    ConnectionClass = HallConnection
    head_timeout_s = 10.0
    max_request_header_size = framing.MAX_HEAD


def serve_tls(app, host: str, port: int, threads: int, settings, exempt: Callable[[str], bool]) -> None:
    """HTTPS with cheroot and the adapter above (TLS 1.2+)."""
    # a connection being read holds a thread here: the reserve is threads of its own
    threads += settings.reserved_connections
    cap = ConnectionCap(settings.connections_per_address, min(settings.max_connections, threads),
                        settings.reserved_connections, exempt, what="TLS connection")
    log.info("hwd-ui on https://%s:%d/ with %d threads (TLS), at most %d connections (%d kept for the hall's "
             "machines)", host, port, threads, cap.total, cap.reserved)
    srv = HallServer((host, port), app, numthreads=threads, server_name="hwd-ui", timeout=settings.idle_timeout_s,
                     accepted_queue_size=max(16, cap.total // 4), request_queue_size=1024)  # listen backlog
    srv.head_timeout_s = settings.header_timeout_s
    srv.max_request_body_size = app.config.get("MAX_CONTENT_LENGTH") or 1024 * 1024
    srv.ssl_adapter = HallSSLAdapter(str(settings.tls_certificate), str(settings.tls_key), cap,
                                     settings.idle_timeout_s)
    try:
        srv.start()
    finally:
        srv.stop()
