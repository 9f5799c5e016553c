"""``hwctl locker``: the 24-hour area's locker from a shell, for the clerk without a counter page
and the field engineer checking a board.

    hwctl locker status DEVICE                    every door as the board reports it
    hwctl locker open DEVICE DOOR                 open one door (an engineer's test; logged by the board)
    hwctl locker deposit (--ticket N | --case NO) [--window W] [--staff S] [--id-number ID]
                                                  open a free door for a result: door and pickup code
    hwctl locker deposits [--state S] [--json]    results in the doors, oldest first
    hwctl locker alarms [--all] [--json]          doors left open, forced, jammed; exit 4 while any is raised
    hwctl locker clear ALARM [--note TEXT]        clear an alarm after looking at the door
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from hwd.errors import HwdError


def command(args: argparse.Namespace, client: Any) -> int:
    action = args.action
    if action == "status":
        status = client.call("locker.status", {"device": _need(args.device, "DEVICE")})
        if args.json:
            return _json(status)
        print(f"{status['device']}: open {status['open'] or '-'}, jammed {status['jammed'] or '-'}")
        for d in status["doors"]:
            print(f"  {d['door']:>3}  {d['state']}")
        return 0
    if action == "open":
        got = client.call("locker.open", {"device": _need(args.device, "DEVICE"), "door": int(_need(args.door, "DOOR"))})
        print(f"{got['device']} door {got['door']}: " + ("open" if got["opened"] else f"NOT opened ({got.get('detail')})"))
        return 0 if got["opened"] else 1
    if action == "deposit":
        params: dict[str, Any] = {k: v for k, v in (("ticket", args.ticket), ("case_no", args.case),
                                                    ("window", args.window), ("staff", args.staff),
                                                    ("id_number", args.id_number)) if v}
        got = client.call("hall.deposit", params, timeout=20)
        if args.json:
            return _json(got)
        what = " ".join(x for x in (got.get("number"), got.get("case_no")) if x)
        print(f"{got['device']} door {got['door']} is open for {what}: put the result in and shut the door. "
              f"Pickup code {got['code']}")
        return 0
    if action == "deposits":
        rows = client.call("hall.deposits", {"state": args.state} if args.state else {})
        if args.json:
            return _json(rows)
        print(f"{'id':>5} {'door':<14} {'ticket':<8} {'case_no':<20} {'state':<10} {'age':>5}")
        for r in rows:
            print(f"{r['id']:>5} {r['device'] + ':' + str(r['door']):<14} {r['number'] or '-':<8} "
                  f"{r['case_no'] or '-':<20} {r['state']:<10} {r['age_days']:>4}d" + ("  OVERDUE" if r["overdue"] else ""))
        return 0
    if action == "alarms":
        rows = client.call("hall.locker_alarms", {"all": bool(args.all)})
        if args.json:
            _json(rows)
        else:
            for a in rows:
                print(f"{a['id']:>5} {a['state']:<8} {a['raised_at']}  {a['text']}")
        return 4 if any(a["state"] == "raised" for a in rows) else 0
    if action == "clear":
        got = client.call("hall.locker_alarm_clear", {"alarm": int(_need(args.device, "ALARM")), "note": args.note,
                                                      "staff": args.staff})
        print(f"alarm {got['id']} cleared: {got['text']}")
        return 0
    raise HwdError(f"unknown action {action!r}")


def _need(value: Any, name: str) -> Any:
    if value is None:
        raise HwdError(f"hwctl locker {name.lower()}: give {name}")
    return value


def _json(value: Any) -> int:
    print(json.dumps(value, ensure_ascii=False, indent=2))
    return 0


def add_parser(sub: Any, extra: Any) -> None:
    s = sub.add_parser("locker", help="the 24-hour area's locker: doors, deposits, alarms")
    s.add_argument("action", choices=("status", "open", "deposit", "deposits", "alarms", "clear"))
    s.add_argument("device", nargs="?", help="the locker device (status, open), or the alarm id (clear)")
    s.add_argument("door", nargs="?", type=int, help="the door (open)")
    s.add_argument("--ticket", help="deposit for this ticket (id or number)")
    s.add_argument("--case", help="deposit for this 办件编号")
    s.add_argument("--window")
    s.add_argument("--staff")
    s.add_argument("--id-number", dest="id_number", help="the applicant's ID number: the card picks it up too")
    s.add_argument("--state")
    s.add_argument("--note")
    s.add_argument("--all", action="store_true")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=extra("locker"))
