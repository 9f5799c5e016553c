"""``make demo``: run the demo hall — hwd with every device emulated, and the pages — and tell a
newcomer where to look. Ctrl-C stops both. A child that dies is started again with a backoff,
as systemd's ``Restart=on-failure`` does on a hall PC (hwd.supervise), so killing hwd shows the
pages recovering by themselves.

Emulator output (receipt PNGs, screen PNGs, announcement WAVs) lands under the demo's state dir.

``make demo NIGHT=1`` (``--night``) runs the hall's clock from 20:00 today, so the 24-hour area's
kiosk is after hours whenever the demo is tried: the config is not changed, a copy with
``[daemon] test_clock_start`` is written beside the demo's state (.demo/night.toml, its relative
paths made absolute, the same state and sockets, so ``hwctl --config config/demo.toml`` reaches it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import signal
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

from hwd import config as configuration
from hwd.client import Client, Unreachable
from hwd.errors import ConfigError
from hwd.supervise import Supervisor


def _wait_ready(client: Client, proc: subprocess.Popen, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            client.call("daemon.status")
            return True
        except Unreachable:
            continue
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hwd-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/demo.toml")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--no-ui", action="store_true")
    parser.add_argument("--night", action="store_true",
                        help="run the hall's clock from 20:00 today: the 24-hour kiosk is after hours")
    args = parser.parse_args(argv)
    try:
        cfg = configuration.load(args.config)
        if args.night:
            args.config = str(night_config(Path(args.config), cfg.daemon.timezone))
            cfg = configuration.load(args.config)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    sup = Supervisor(say=lambda text: print(text, file=sys.stderr, flush=True))
    hwd = sup.add("hwd", [sys.executable, "-m", "hwd", "--config", args.config])
    sup.start(hwd)
    client = Client(cfg.daemon.rpc, timeout=0.5, retries=1)
    if not _wait_ready(client, hwd.proc):
        print("demo: hwd did not start; see the messages above", file=sys.stderr)
        sup.stop()
        return 1
    deadline = time.monotonic() + 5  # let the devices connect before showing their states
    while time.monotonic() < deadline and any(r["state"] != "online" for r in client.call("devices.list")):
        time.sleep(0.2)
    ui = not args.no_ui and importlib.util.find_spec("kiosk_ui.cli") is not None and cfg.hall is not None
    if ui:
        sup.start(sup.add("hwd-ui", [sys.executable, "-m", "kiosk_ui.cli", "--config", args.config,
                                     "--host", args.host, "--port", str(args.port)]))
    _print_guide(cfg, args, client, ui)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        while not stop["now"] and not sup.all_done():
            sup.check()  # a child that died is started again, as systemd's Restart=on-failure would
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    sup.stop()
    return 0


def night_config(config: Path, timezone: str, out: Path | None = None) -> Path:
    """A copy of the demo config whose test clock runs from 20:00 today (the hall's closed windows
    without waiting for the evening); its relative paths made absolute, as the county demo does.
    Written to ``out``, by default .demo/night.toml."""
    config = config.resolve()
    work = (config.parent.parent / ".demo").resolve()
    text = (config.read_text(encoding="utf-8").replace('"../.demo/', f'"{work}/')
            .replace("ipc://../.demo/", f"ipc://{work}/"))
    start = dt.datetime.now(zoneinfo.ZoneInfo(timezone)).replace(tzinfo=None, hour=20, minute=0, second=0, microsecond=0).isoformat()
    text = text.replace("[daemon]\n", f'[daemon]\ntest_clock = true\ntest_clock_start = "{start}"\n', 1)
    night = out or work / "night.toml"
    night.parent.mkdir(parents=True, exist_ok=True)
    night.write_text(text, encoding="utf-8")
    return night


def _print_guide(cfg, args, client: Client, ui: bool) -> None:
    base = f"http://{args.host}:{args.port}"
    rel = os.path.relpath(args.config)
    lines = ["", "hwd demo hall is running. Every device is emulated (sim://).", ""]
    try:
        for row in client.call("devices.list"):
            lines.append(f"  {row['kind']:<8} {row['id']:<20} {row['state']}")
    except Unreachable:
        pass
    lines.append("")
    if ui:
        hall = cfg.hall
        kiosk = next(iter(hall.kiosks), "k1")
        window = next(iter(hall.windows), "1")
        lines += [f"  kiosk (take a ticket)  {base}/kiosk/{kiosk}",
                  f"  counter (clerk)        {base}/counter/{window}",
                  f"  hall display           {base}/display",
                  f"  rating page            {base}/rate/{window}   (enrol it once: {base}/rate/{window}/enroll"
                  " after the admin login)",
                  *([f"  guide desk (导办台)    {base}/desk/{next(iter(hall.desks))}"] if hall.desks else []),
                  f"  admin                  {base}/admin   (password: demo)",
                  f"  statistics (charts)    {base}/admin/stats",
                  f"  virtual hall           {base}/admin/hall", ""]
        area = [k for k, v in hall.kiosks.items() if v.after_hours]
        if area and hall.pickup.on:
            lockers = ", ".join(hall.pickup.lockers)
            lines += [f"  24-hour kiosk (取件·预约) {base}/kiosk/{area[0]}"
                      "   (after the windows' hours; make demo NIGHT=1 for 20:00 today)",
                      f"  deposit a result       {base}/counter/{window}   (存入取件柜: a door of {lockers} opens)",
                      f"  shut a door by hand    .venv/bin/hwctl --config {rel} sim "
                      f"{hall.pickup.lockers[0]} shut '{{\"door\": 1}}'",
                      f"  results and alarms     {base}/admin/pickup", ""]
    lines += [f"  .venv/bin/hwctl --config {rel} devices",
              f"  .venv/bin/hwctl --config {rel} events",
              f"  .venv/bin/hwctl --config {rel} methods",
              f"  emulator output (receipts, screens, announcements): {Path(cfg.daemon.state_dir) / 'sim'}",
              "", "Ctrl-C stops the demo.", ""]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
