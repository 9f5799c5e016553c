"""``make demo COUNTY=1``: the demo hall as ``make demo`` runs it, plus a local PostgreSQL (in
.demo/county-pg, kept between runs) that the hall streams into through ``[hall.central]``, and
``hwd-central`` on it — the county's view of the one demo hall. Ctrl-C stops everything.

The demo config is not changed: a copy with ``[hall.central]`` appended is written to
.demo/county.toml (its relative paths made absolute), and .demo/central.toml for hwd-central
(password ``demo``)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hwd-county-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/demo.toml")
    parser.add_argument("--port", type=int, default=8080, help="hwd-ui's port")
    parser.add_argument("--central-port", type=int, default=8090)
    parser.add_argument("--night", action="store_true", help="as hwd.demo --night")
    args = parser.parse_args(argv)
    from werkzeug.security import generate_password_hash

    from hwd import demo
    from hwd.county.localpg import LocalPostgres, Unavailable

    config = Path(args.config).resolve()
    base = config.parent
    work = (base.parent / ".demo").resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        pg = LocalPostgres(work / "county-pg")
    except Unavailable as exc:
        print(f"demo: no local PostgreSQL: {exc}", file=sys.stderr)
        return 1
    pg.start()
    central_dsn, hall_dsn = county_as_documented(pg)
    text = config.read_text(encoding="utf-8").replace('"../.demo/', f'"{work}/').replace('ipc://../.demo/', f"ipc://{work}/")
    hall_cfg = work / "county.toml"
    hall_cfg.write_text(text + f'\n[hall.central]\ndsn = "{hall_dsn}"\nhall_id = "demo"\nheartbeat_s = 5\n',
                        encoding="utf-8")
    central_cfg = work / "central.toml"
    central_cfg.write_text(f'[central]\ndsn = "{central_dsn}"\npassword_hash = "{generate_password_hash("demo")}"\n'
                           f'port = {args.central_port}\nsecret_key_file = "{work / "central-secret"}"\n'
                           'api_networks = ["127.0.0.1"]\n',  # the demo's curl reads /api without a token
                           encoding="utf-8")
    central = subprocess.Popen([sys.executable, "-m", "central.cli", "--config", str(central_cfg)])
    time.sleep(1.0)
    print(f"\n  county dashboard (hwd-central)  http://127.0.0.1:{args.central_port}/   (password: demo)\n"
          f"  county database                 psql \"{central_dsn}\"\n", flush=True)
    try:
        return demo.main(["--config", str(hall_cfg), "--port", str(args.port), *(["--night"] if args.night else [])])
    finally:
        central.terminate()
        try:
            central.wait(10)
        except subprocess.TimeoutExpired:
            central.kill()
        pg.stop()


def county_as_documented(pg) -> tuple[str, str]:
    """docs/central.md's setup on the scratch server: hwd-central's role owns the database
    ``demo_county``, the demo hall writes with the role add-hall makes (kept between runs; the
    scratch server trusts its socket, so the dsn needs no password). Returns (central's, the hall's)."""
    import psycopg

    from hwd.county import roles, schema

    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'hwd_central'").fetchone() is None:
            conn.execute("CREATE ROLE hwd_central LOGIN CREATEROLE")
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = 'demo_county'").fetchone() is None:
            conn.execute("CREATE DATABASE demo_county OWNER hwd_central")
    central_dsn = f"host={pg.dir} port={pg.port} user=hwd_central dbname=demo_county"
    with psycopg.connect(central_dsn, autocommit=True) as conn:
        schema.migrate(conn)
        row = conn.execute("SELECT role_name FROM hall_roles WHERE hall_id = 'demo'").fetchone()
        role = row[0] if row else roles.add_hall(conn, "demo", name="演示大厅")[0]
    return central_dsn, f"host={pg.dir} port={pg.port} user={role} dbname=demo_county"


if __name__ == "__main__":
    sys.exit(main())
