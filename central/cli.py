"""``hwd-central --config FILE [--host H --port P]``: migrate the county database, then serve the
supervisors' pages with waitress (the same production server as hwd-ui).

``hwd-central --config FILE county add-hall ID`` (and ``remove-hall ID``, ``list-halls``): the
halls' database roles (hwd.county.roles) — add-hall makes the hall's login role, which PostgreSQL
keeps to that hall's rows, and prints the ``[hall.central]`` section for the hall's config.
``county push-matters ID FILE`` stores a matter catalogue for the hall to preview and import
(hwd.county.catalogue).

Exit 2 with every problem listed (``FILE:LINE KEY: reason``) for a bad config or a refused
command; exit 1 when the database cannot be reached or migrated (systemd restarts it)."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("hwd.central")


def build_parser() -> argparse.ArgumentParser:
    # --config and --log-level are taken before or after the command
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", "-c", default=argparse.SUPPRESS,
                        help="hwd-central's config file (its [central] section)")
    common.add_argument("--log-level", default=argparse.SUPPRESS, choices=("debug", "info", "warning", "error"))
    p = argparse.ArgumentParser(prog="hwd-central", parents=[common],
                                description="The county's dashboard over every hall's records.")
    p.add_argument("--host", help="listen address (default: [central] host)")
    p.add_argument("--port", type=int, help="listen port (default: [central] port)")
    sub = p.add_subparsers(dest="command", metavar="county")
    county = sub.add_parser("county", parents=[common], help="the halls' database roles")
    cmds = county.add_subparsers(dest="county_command", required=True, metavar="add-hall|remove-hall|list-halls")
    add = cmds.add_parser("add-hall", parents=[common],
                          help="a database role for a hall, which may write that hall's rows only; "
                               "prints the hall's [hall.central] section (with its password)")
    add.add_argument("hall_id", metavar="ID")
    add.add_argument("--name", help="the hall's name on the dashboard until it reports its own")
    add.add_argument("--role", help="the role's name (default hall_<ID>, lower case)")
    add.add_argument("--county-host", help="the county database's address as the halls reach it "
                                           "(default: the host of [central] dsn)")
    add.add_argument("--county-port", type=int, help="its port (default: the port of [central] dsn)")
    add.add_argument("--sslmode", default="verify-full", help="libpq sslmode for the hall (default verify-full)")
    add.add_argument("--sslrootcert", default="/etc/hwd/county-ca.pem",
                     help="the county's CA certificate on the hall PC (verify-ca/verify-full)")
    rm = cmds.add_parser("remove-hall", parents=[common], help="drop a hall's role (its rows stay)")
    rm.add_argument("hall_id", metavar="ID")
    cmds.add_parser("list-halls", parents=[common], help="the halls, their roles and last reports")
    push = cmds.add_parser("push-matters", parents=[common],
                           help="store a matter catalogue (JSON or CSV) for a hall to preview and import")
    push.add_argument("hall_id")
    push.add_argument("file")
    push.add_argument("--format", choices=("auto", "json", "csv"), default="auto")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = getattr(args, "log_level", None) or ("warning" if args.command else "info")
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not getattr(args, "config", None):
        sys.stderr.write("hwd-central: --config FILE is required\n")
        return 2
    from hwd.errors import ConfigError, HwdError

    from central import settings as central_settings

    try:
        s = central_settings.load(args.config)
    except ConfigError as exc:
        sys.stderr.write("\n".join(exc.problems) + "\n")
        return 2
    try:
        import psycopg

        from hwd.county import roles, schema
        from hwd.county.sink import connect
    except ImportError as exc:
        sys.stderr.write(f"hwd-central needs psycopg 3 and psycopg_pool: pip install 'hwd[central]' ({exc})\n")
        return 2
    try:
        with connect(s.dsn) as conn:
            version = schema.migrate(conn)
            if args.command == "county":
                return county(conn, args)
            if roles.group_exists(conn):
                try:
                    roles.grant(conn)  # a table a newer migration added is granted too
                except psycopg.errors.InsufficientPrivilege as exc:
                    log.warning("county database: cannot renew the halls' grants (%s): hwd-central's role "
                                "should own the tables (docs/central.md)", str(exc).strip())
    except (roles.RoleError, HwdError, OSError, UnicodeDecodeError) as exc:  # HwdError: a catalogue it cannot read
        sys.stderr.write(f"hwd-central county {args.county_command}: {exc}\n")
        return 2
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


def county(conn: Any, args: argparse.Namespace) -> int:
    """The ``county`` commands; their output goes to stdout."""
    from hwd.county import roles

    out = sys.stdout
    if args.county_command == "add-hall":
        role, password = roles.add_hall(conn, args.hall_id, args.role, args.name)
        dsn = roles.hall_dsn(args.county_host or conn.info.host, args.county_port or conn.info.port,
                             conn.info.dbname, role, password, args.sslmode, args.sslrootcert)
        out.write(f"# hall {args.hall_id}: role {role} (member of {roles.GROUP}), which may write the rows of "
                  f"hall_id {args.hall_id!r} only.\n# The password is shown once: put this section in the "
                  "hall's config (mode 0600) or the password in its libpq passfile.\n"
                  f"[hall.central]\ndsn = {json.dumps(dsn)}\nhall_id = {json.dumps(args.hall_id)}\n")
    elif args.county_command == "remove-hall":
        role, dropped = roles.remove_hall(conn, args.hall_id)
        out.write(f"hall {args.hall_id}: role {role} dropped; its rows stay\n" if dropped else
                  f"hall {args.hall_id}: role {role} may no longer log in, read or write; it still owns objects of "
                  f"an open session, drop it later (DROP ROLE {role}); the hall's rows stay\n")
    elif args.county_command == "push-matters":
        from hwd.county import catalogue as county_catalogue

        path = Path(args.file)
        text = path.read_text(encoding="utf-8-sig")
        number = county_catalogue.push(conn, args.hall_id, text, path.name, getpass.getuser(), args.format)
        out.write(f"hall {args.hall_id}: matter catalogue {number} ({path.name}) stored; the hall previews and "
                  "imports it (admin page, or hwctl config county-matters)\n")
    else:
        for h in roles.list_halls(conn):
            seen = h["last_report"].isoformat(timespec="seconds") if h["last_report"] else "never"
            role = h["role"] or "(no role)"
            out.write(f"{h['hall_id']}\t{role}\t{'login' if h['login'] else 'no login'}\t{seen}\t{h['name'] or ''}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
