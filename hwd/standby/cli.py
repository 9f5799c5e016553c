"""``hwctl standby status|promote|demote``: the field engineer's view of a hall's two engine PCs.

    hwctl -c /etc/hwd/hwd.toml standby status     which PC is active, is the other in sync
    hwctl -c /etc/hwd/hwd.toml standby promote    make THIS PC the active one (it must be in sync)
    hwctl -c /etc/hwd/hwd.toml standby demote     hand the hall to the other PC (it must be in sync)

``--force`` does it even when the other engine is not in sync (or is down: the hall then has no
engine until this PC campaigns again after ``holdoff_s``). Exit status: 0 done, 1 refused,
3 no engine answers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Callable

from hwd import config as configuration
from hwd.client import Engines, FailoverClient, engines_of
from hwd.errors import HwdError


def _engines(args: argparse.Namespace) -> tuple[Any, Engines]:
    if not args.config:
        raise HwdError("hwctl standby needs --config (the hall's [hall.standby] names the engines)")
    cfg = configuration.load(args.config)
    standby = cfg.hall.standby if cfg.hall is not None else None
    if standby is None:
        raise HwdError(f"{args.config} has no [hall.standby]: this hall has one engine PC")
    return standby, engines_of(standby, cfg.daemon.client_key)


def _one(engines: Engines, engine_id: str, timeout: float) -> FailoverClient:
    """A client of one engine only (promote and demote act on a given PC)."""
    e = engines.endpoints[engines.index(engine_id)]
    return FailoverClient(Engines([e]), timeout=timeout)


def _status(engines: Engines, timeout: float) -> dict:
    return FailoverClient(engines, timeout=timeout).call("standby.status")


def _when(ts: Any) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%m-%d %H:%M:%S") if ts else "-"


def print_status(st: dict, out: Any = sys.stdout) -> None:
    active = (st.get("active") or {}).get("engine")
    print(f"active engine: {active or 'NONE (taking over, or no quorum)'}", file=out)
    for e in st["engines"]:
        if e["id"] == active:
            state = "ACTIVE"
        elif not e["up"]:
            state = "DOWN"
        elif e.get("problem"):
            state = "CANNOT FOLLOW"
        else:
            state = "standby, " + ("in sync" if e["in_sync"] else f"behind by {e['lag']} entries")
        notes = []
        if e.get("problem"):
            notes.append(e["problem"])
        if not e.get("config_matches", True):
            notes.append("its [hall] config differs from this PC's")
        print(f"  {e['id']:<12} {state:<34} log {e['applied']:<8} {'; '.join(notes)}", file=out)
    print(f"this PC: {st['this']} ({st['role']}), lease {st['lease']['ttl_s']} s"
          + (f", active since {_when(st.get('active_since'))}" if st["role"] == "active" else ""), file=out)
    if st.get("etcd", {}).get("error"):
        print(f"etcd: {st['etcd']['error']}", file=out)


def cmd_status(args: argparse.Namespace) -> int:
    standby, engines = _engines(args)
    st = (_one(engines, standby.this, args.timeout_rpc).call("standby.status") if standby.this
          else _status(engines, args.timeout_rpc))
    if args.json:
        print(json.dumps(st, ensure_ascii=False, indent=2))
    else:
        print_status(st)
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    standby, engines = _engines(args)
    target = args.engine or standby.this
    if not target:
        raise HwdError("this PC is not an engine PC: give --engine ID (one of "
                       f"{', '.join(e.id for e in standby.engines)})")
    result = _one(engines, target, 4 * standby.lease_s + 10).call("standby.promote", {"force": args.force})
    print(f"{target} is the active engine" + (f" (was {result.get('from')})" if result.get("changed") else
                                               " (it already was)"))
    return 0


def _active_one(engines: Engines, timeout: float) -> str | None:
    """The engine that says itself it is active (another's view may be a second old)."""
    for e in engines.endpoints:
        try:
            if _one(engines, e.id, timeout).call("standby.status").get("role") == "active":
                return e.id
        except HwdError:
            continue
    return None


def cmd_demote(args: argparse.Namespace) -> int:
    standby, engines = _engines(args)
    active = _active_one(engines, args.timeout_rpc)
    if not active:
        raise HwdError("no engine is active now: nothing to demote")
    result = _one(engines, active, 15.0).call("standby.demote", {"force": args.force})
    if not result.get("changed"):
        raise HwdError(f"{active} is no longer active (now {result.get('role')}): see hwctl standby status")
    print(f"{active} handed the hall over (now {result['role']}; it will not take it back for "
          f"{result.get('holdoff_s', 0):.0f} s)")
    return 0


def cmd_certs(args: argparse.Namespace) -> int:
    from hwd.standby import certs

    members = []
    for item in args.members:
        name, _, address = item.partition("=")
        if not name or not address:
            raise HwdError(f"{item!r}: give NAME=ADDRESS, e.g. main-a=192.168.1.10")
        members.append((name, address))
    made = certs.make(Path(args.dir), members, args.hall)
    print(f"etcd CA (etcd_ca, --trusted-ca-file): {Path(args.dir) / 'hall-ca.pem'}")
    for (name, _), (cert, key) in zip(members, made):
        print(f"{name}: {cert} {key}")
    return 0


def add_parsers(sub: Any, run: Callable[[Callable[[argparse.Namespace], int]], Callable]) -> None:
    p = sub.add_parser("standby", help="the hall's two engine PCs: status, promote, demote (docs/standby.md)")
    cmds = p.add_subparsers(dest="standby_command", required=True)
    s = cmds.add_parser("status", help="which PC is active, and whether the other is in sync")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run(cmd_status))
    s = cmds.add_parser("promote", help="make this PC (or --engine) the active engine")
    s.add_argument("--engine", help="the engine PC to promote (default: this PC)")
    s.add_argument("--force", action="store_true", help="even if it is not in sync")
    s.set_defaults(func=run(cmd_promote))
    s = cmds.add_parser("demote", help="hand the hall to the other engine PC")
    s.add_argument("--force", action="store_true", help="even if the other one is not in sync or down")
    s.set_defaults(func=run(cmd_demote))
    s = cmds.add_parser("certs", help="a CA and a certificate per PC for the hall's etcd (TLS both ways)")
    s.add_argument("dir")
    s.add_argument("members", nargs="+", help="NAME=ADDRESS of each etcd PC, e.g. main-a=192.168.1.10")
    s.add_argument("--hall", default="hwd hall", help="the hall's name, for the CA's name")
    s.set_defaults(func=run(cmd_certs))

