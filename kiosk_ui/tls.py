"""HTTPS for hwd-ui (``[ui] tls_certificate`` / ``tls_key``): cheroot's built-in ssl adapter, made
to hold on the hall LAN.

cheroot's adapter runs the TLS handshake inside its accept loop, bounded only by the idle
timeout: one script that opens a TCP connection and sends nothing stalls every new connection
for 30 s, then does it again. Here the socket is wrapped without the handshake
(``do_handshake_on_connect=False``); OpenSSL completes it on the first read, in a worker thread,
like any slow request, and the accept loop goes straight on.

And as waitress does for plain HTTP (kiosk_ui.cli.limit_per_address), an address that holds
``[ui] connections_per_address`` open connections has its next one closed at accept (IPv6 counted
per /64, kiosk_ui.clients.key); the hall's configured machines and this PC are not capped.
"""

from __future__ import annotations

import ssl
import threading
import weakref
from typing import Callable

from cheroot import errors
from cheroot.ssl.builtin import BuiltinSSLAdapter

from hwd.audit import AUDIT
from kiosk_ui import clients

MAX_TRACKED = 4096  # addresses followed before the ones with nothing open are dropped


class HallSSLAdapter(BuiltinSSLAdapter):
    def __init__(self, certificate: str, private_key: str, per_address: int,
                 exempt: Callable[[str], bool] = lambda host: False):
        super().__init__(certificate, private_key)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.per_address, self.exempt = per_address, exempt
        self._open: dict[str, weakref.WeakSet] = {}
        self._lock = threading.Lock()

    def held(self, key: str) -> int:
        """Connections of this address (key) not closed yet."""
        with self._lock:
            return sum(1 for s in list(self._open.get(key, ())) if s.fileno() != -1)

    def wrap(self, sock):
        try:
            host = sock.getpeername()[0]
        except OSError as exc:  # gone before it was accepted
            raise errors.FatalSSLAlert(*exc.args) from exc
        key = clients.key(host)
        if not self.exempt(host):
            held = self.held(key)
            if held >= self.per_address:
                AUDIT.warning(f"conn-limit:{key}", "refused a TLS connection from %s: it holds %d already", host,
                              held)
                sock.close()
                raise errors.FatalSSLAlert(f"{host} holds {held} connections already")
        try:
            tls = self.context.wrap_socket(sock, do_handshake_on_connect=False, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            raise errors.FatalSSLAlert(*exc.args) from exc
        with self._lock:
            if key not in self._open and len(self._open) >= MAX_TRACKED:
                for stale in [k for k, socks in self._open.items() if not any(s.fileno() != -1 for s in socks)]:
                    del self._open[stale]
            self._open.setdefault(key, weakref.WeakSet()).add(tls)
        # the cipher is not known before the handshake; the pages need only the scheme
        return tls, {"wsgi.url_scheme": "https", "HTTPS": "on"}


def serve_tls(app, host: str, port: int, threads: int, settings, exempt: Callable[[str], bool]) -> None:
    """HTTPS with cheroot and the adapter above (TLS 1.2+)."""
    import logging

    from cheroot import wsgi

    logging.getLogger("kiosk_ui").info("hwd-ui on https://%s:%d/ with %d threads (TLS)", host, port, threads)
    server = wsgi.Server((host, port), app, numthreads=threads, server_name="hwd-ui",
                         timeout=settings.idle_timeout_s, accepted_queue_size=max(16, settings.max_connections // 4))
    server.ssl_adapter = HallSSLAdapter(str(settings.tls_certificate), str(settings.tls_key),
                                        settings.connections_per_address, exempt)
    try:
        server.start()
    finally:
        server.stop()
