"""``hwd-ui --config FILE [--host H --port P]``: serve the pages with waitress.

waitress is a pure-Python production WSGI server with a fixed thread pool. Each live page (SSE)
holds one thread for as long as it is open, so the pool is sized from ``[ui] max_streams``
(default 400 streams + 32 threads for ordinary requests); the app answers a stream beyond
``max_streams`` with 503 + Retry-After, so the pool never runs dry and the server never hangs.
The poll()-based loop lifts select()'s 1024-descriptor limit. See docs/ui.md for measurements.

Limits against a few machines taking the pages down (docs/security.md), the same over plain
HTTP (waitress, hwd.web.waitress_guard) and with ``[ui] tls_certificate``/``tls_key`` over HTTPS
(cheroot, kiosk_ui.tls; waitress has no TLS): ``[ui] connections_per_address`` open connections
per address, the last ``reserved_connections`` of ``max_connections`` kept for the hall's
configured machines, a request head in within ``header_timeout_s``, idle connections closed
after ``idle_timeout_s``, strict request heads (hwd.web.framing).

``hwd-ui --hash-password`` reads a password (twice) and prints its hash for
``[ui] admin_password_hash`` or ``kiosk_pin_hash``.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from typing import Callable

from werkzeug.security import generate_password_hash

HASH_METHOD = "pbkdf2:sha256:600000"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hwd-ui", description="The hall's pages: kiosk, counter, display, rating, admin.")
    p.add_argument("--config", "-c", help="the hwd config file (its [ui] section holds the page settings)")
    p.add_argument("--host", help="listen address (default: [ui] host)")
    p.add_argument("--port", type=int, help="listen port (default: [ui] port)")
    p.add_argument("--phone-port", type=int, help="phone server port (default: [ui] phone_port; 0 = off)")
    p.add_argument("--threads", type=int, help="server threads (default [ui] max_streams + 32)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.add_argument("--hash-password", action="store_true", help="print a password hash for [ui] and exit")
    return p


def hash_password(stdin_text: str | None = None) -> str:
    """Read a password (twice, from the terminal, or one line from stdin) and return its hash."""
    if stdin_text is not None:
        password = stdin_text.rstrip("\n")
    else:
        password = getpass.getpass("密码 / password: ")
        if getpass.getpass("再输一次 / again: ") != password:
            raise SystemExit("the two passwords differ")
    if len(password) < 4:
        raise SystemExit("a password needs at least 4 characters")
    return generate_password_hash(password, method=HASH_METHOD)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.hash_password:
        text = None if sys.stdin.isatty() else sys.stdin.readline()
        sys.stdout.write(hash_password(text) + "\n")
        return 0
    if not args.config:
        sys.stderr.write("hwd-ui: --config FILE is required\n")
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from hwd.errors import ConfigError

    from kiosk_ui import create_app

    try:
        app = create_app(args.config)
    except ConfigError as exc:
        sys.stderr.write("\n".join(exc.problems) + "\n")
        return 2
    link = app.extensions["hwd"]
    settings = link.settings
    host = args.host or settings.host
    port = args.port or settings.port
    threads = args.threads or settings.server_threads
    if args.phone_port is not None:
        settings.phone_port = args.phone_port
    link.live()  # subscribe now, so the ring holds events before the first page connects
    raise_open_files()
    try:
        from kiosk_ui import phone_server  # aiohttp: the [ui] extra

        phone_server.start(link, settings, settings.phone_host or host)
    except (OSError, ImportError) as exc:  # the hall's pages matter more than the phones': serve them anyway
        logging.getLogger("kiosk_ui").error("no phone pages: %s (set [ui] phone_port)", exc)
    from kiosk_ui import clients

    def exempt(addr: str) -> bool:
        return clients.configured(link, addr)

    if settings.tls:
        from kiosk_ui import tls

        tls.serve_tls(app, host, port, threads, settings, exempt)
    else:
        serve(app, host, port, threads, settings, exempt)
    return 0


def raise_open_files() -> None:
    """Thousands of phones are thousands of sockets: lift the soft limit on open files to the
    hard one (systemd's LimitNOFILE sets the hard one for the service)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))
        except (ValueError, OSError):
            logging.getLogger("kiosk_ui").warning("cannot raise the open-file limit from %d", soft)


def serve(app, host: str, port: int, threads: int, settings, exempt: Callable[[str], bool]) -> None:
    """The pages over plain HTTP: waitress under hwd.web.waitress_guard, until interrupted."""
    import waitress

    from hwd.web import framing, waitress_guard
    from hwd.web.conncap import ConnectionCap

    cap = ConnectionCap(settings.connections_per_address, settings.max_connections,
                        settings.reserved_connections, exempt)
    logging.getLogger("kiosk_ui").info(
        "hwd-ui on http://%s:%d/ with %d threads, at most %d live streams, %d connections (%d kept for the hall's "
        "machines)", host, port, threads, settings.max_streams, cap.total, cap.reserved)
    body = app.config.get("MAX_CONTENT_LENGTH") or 1024 * 1024
    server = waitress.create_server(app, host=host, port=port, threads=threads,
                                    connection_limit=cap.total + 16,  # the cap refuses first
                                    channel_timeout=settings.idle_timeout_s, cleanup_interval=5,
                                    max_request_header_size=framing.MAX_HEAD, max_request_body_size=body + 1,
                                    asyncore_use_poll=True, ident="hwd-ui", clear_untrusted_proxy_headers=True)
    waitress_guard.guard(server, cap, settings.header_timeout_s)
    server.run()


if __name__ == "__main__":
    raise SystemExit(main())
