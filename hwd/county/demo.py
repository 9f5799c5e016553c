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
    text = config.read_text(encoding="utf-8").replace('"../.demo/', f'"{work}/').replace('ipc://../.demo/', f"ipc://{work}/")
    hall_cfg = work / "county.toml"
    hall_cfg.write_text(text + f'\n[hall.central]\ndsn = "{pg.dsn}"\nhall_id = "demo"\nheartbeat_s = 5\n',
                        encoding="utf-8")
    central_cfg = work / "central.toml"
    central_cfg.write_text(f'[central]\ndsn = "{pg.dsn}"\npassword_hash = "{generate_password_hash("demo")}"\n'
                           f'port = {args.central_port}\nsecret_key_file = "{work / "central-secret"}"\n'
                           'api_networks = ["127.0.0.1"]\n',  # the demo's curl reads /api without a token
                           encoding="utf-8")
    central = subprocess.Popen([sys.executable, "-m", "central.cli", "--config", str(central_cfg)])
    time.sleep(1.0)
    print(f"\n  county dashboard (hwd-central)  http://127.0.0.1:{args.central_port}/   (password: demo)\n"
          f"  county database                 psql \"{pg.dsn}\"\n", flush=True)
    try:
        return demo.main(["--config", str(hall_cfg), "--port", str(args.port)])
    finally:
        central.terminate()
        try:
            central.wait(10)
        except subprocess.TimeoutExpired:
            central.kill()
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
