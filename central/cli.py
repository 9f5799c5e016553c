"""``hwd-central --config FILE [--host H --port P]``: migrate the county database, then serve the
supervisors' pages with waitress (the same production server as hwd-ui).

Exit 2 with every problem listed (``FILE:LINE KEY: reason``) for a bad config; exit 1 when the
database cannot be reached or migrated at start (systemd restarts it)."""

from __future__ import annotations

import argparse
import logging
import sys

log = logging.getLogger("hwd.central")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hwd-central", description="The county's dashboard over every hall's records.")
    p.add_argument("--config", "-c", required=True, help="hwd-central's config file (its [central] section)")
    p.add_argument("--host", help="listen address (default [central] host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (default [central] port, 8090)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from hwd.errors import ConfigError

    from central import settings as central_settings

    try:
        s = central_settings.load(args.config)
    except ConfigError as exc:
        sys.stderr.write("\n".join(exc.problems) + "\n")
        return 2
    try:
        import psycopg

        from hwd.county import schema
        from hwd.county.sink import connect
    except ImportError as exc:
        sys.stderr.write(f"hwd-central needs psycopg 3 and psycopg_pool: pip install 'hwd[central]' ({exc})\n")
        return 2
    try:
        with connect(s.dsn) as conn:
            version = schema.migrate(conn)
    except (psycopg.Error, schema.SchemaError) as exc:
        sys.stderr.write(f"hwd-central: county database: {str(exc).strip()}\n")
        return 1
    log.info("county database at schema %d", version)
    from central.app import create_app

    app = create_app(s)
    import waitress

    host, port = args.host or s.host, args.port or s.port
    log.info("hwd-central on http://%s:%d/", host, port)
    # waitress drops forwarding headers unless told otherwise; with [central] trusted_proxies they
    # reach hwd.web.proxies, which believes them from those proxies only
    waitress.serve(app, host=host, port=port, threads=s.threads, ident="hwd-central",
                   clear_untrusted_proxy_headers=not s.trusted_proxies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
