"""``hwctl outbox`` and ``hwctl workorders``: the upstream backlog and the 差评 work orders from
a shell, for the field engineer who has no browser on the hall PC.

    hwctl outbox [--json]                      pending / sent / rejected / error, oldest pending
    hwctl outbox replay [--sink S] [--id N ...] [--from DAY] [--to DAY] [--rejected]
    hwctl workorders [--state S] [--overdue] [--json]
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def outbox(args: argparse.Namespace, client: Any) -> int:
    if args.action == "replay":
        params: dict[str, Any] = {"sink": args.sink,
                                  "states": ["rejected"] if args.rejected else ["sent", "rejected"]}
        if args.id:
            params["ids"] = args.id
        if args.day_from:
            params["from"] = args.day_from
        if args.day_to:
            params["to"] = args.day_to
        result = client.call("outbox.replay", params)
        print(f"{result['replayed']} records of {result['sink']} queued again (same idempotency keys)")
        return 0
    status = client.call("outbox.status")
    if args.json:
        print(json.dumps(status, ensure_ascii=False, indent=2))
        return 0
    if not status["sinks"]:
        print(f"no outbox sink configured ([hall.upstream] adapter = \"none\"): {status['records']} records kept "
              "in the hall database, none pending for delivery")
        return 0
    print(f"{'sink':<12} {'pending':>8} {'sent':>8} {'rejected':>8} {'error':>8}  oldest pending")
    for s in status["sinks"]:
        print(f"{s['sink']:<12} {s['pending']:>8} {s['sent']:>8} {s['rejected']:>8} {s['error']:>8}  "
              f"{s['oldest_pending'] or '-'}")
        if s["last_error"]:
            print(f"  last error (record {s['last_error_record']}): {s['last_error']}")
    return 0


def workorders(args: argparse.Namespace, client: Any) -> int:
    params: dict[str, Any] = {}
    if args.state:
        params["state"] = args.state
    if args.overdue:
        params["overdue"] = True
    rows = client.call("hall.workorders", params)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"{'id':>5} {'ticket':<8} {'case_no':<20} {'level':<6} {'state':<12} {'due':<10}  ")
    for w in rows:
        late = "OVERDUE" if w["overdue"] else ("CALLBACK OVERDUE" if w["callback_overdue"] else "")
        print(f"{w['id']:>5} {w['ticket'] or '':<8} {w['case_no'] or '-':<20} {w['level'] or '':<6} "
              f"{w['state']:<12} {w['due']:<10}  {late}")
    return 0


def add_parsers(sub: Any, extra: Any) -> None:
    s = sub.add_parser("outbox", help="the upstream backlog; 'replay' sends records again (补报)")
    s.add_argument("action", nargs="?", choices=("status", "replay"), default="status")
    s.add_argument("--json", action="store_true")
    s.add_argument("--sink", default="upstream")
    s.add_argument("--id", type=int, action="append", help="a record id (repeatable)")
    s.add_argument("--from", dest="day_from", help="first day (YYYY-MM-DD) of records to replay")
    s.add_argument("--to", dest="day_to", help="last day (YYYY-MM-DD)")
    s.add_argument("--rejected", action="store_true", help="only rejected records")
    s.set_defaults(func=extra("outbox"))
    s = sub.add_parser("workorders", help="差评 work orders; overdue ones are marked")
    s.add_argument("--state")
    s.add_argument("--overdue", action="store_true")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=extra("workorders"))
