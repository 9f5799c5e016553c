"""``hwctl config``: the config file changed from the command line exactly as the admin page
changes it, through hwd's ``config.*`` methods (docs/hall.md "Changing the hall's config").

    hwctl config apply FILE [--note N] [--at-night]   check, show the diff, apply live
    hwctl config history [--limit N] [--json]         the applied versions
    hwctl config show VERSION                         one version's text and diff
    hwctl config rollback [VERSION]                   back to a version (default: the one before)
    hwctl config get [PATH]                           the file, or one key (secrets left out)
    hwctl config set PATH VALUE                       one key; PATH like hall.window[w3].services,
                                                      VALUE in TOML (["bdc", "sb"], "text", 3)
    hwctl config import-matters FILE [--dry-run]      a matter catalogue (JSON or CSV) into the
                                                      services' matters: the preview, then applied
    hwctl config county-matters [--dry-run]           the same with the catalogue the county pushed

Invalid: every problem as ``FILE:LINE KEY: reason`` and exit 2, nothing applied.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import tomllib
from pathlib import Path
from typing import Any, Callable

from hwd import configedit, errors
from hwd.client import RpcError
from hwd.errors import HwdError

INVALID = 2


def _who() -> dict:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {"by": user, "source": "hwctl"}


def _report(reply: dict, client: Any, at_night: bool) -> int:
    if reply.get("unchanged"):
        print(f"no change: version {reply['version']} runs already")
        return 0
    if reply.get("diff"):
        sys.stdout.write(reply["diff"] if reply["diff"].endswith("\n") else reply["diff"] + "\n")
    print(f"version {reply['version']} applied")
    if reply["live"]:
        print("live now: " + ", ".join(reply["live"]))
    if reply["restart"]:
        print("after a restart of hwd: " + ", ".join(reply["restart"]))
        if at_night:
            plan = client.call("config.restart", {"at": "night"})
            print(f"restart planned at {plan['at']}")
    return 0


def _problems(path: str, problems: list[dict]) -> int:
    for p in problems:
        print(f"{path}:{p['line']} {p['key']}: {p['reason']}", file=sys.stderr)
    print(f"hwctl: {len(problems)} problem(s) in {path}; nothing was applied", file=sys.stderr)
    return INVALID


def _changing(fn: Callable[[], dict], path: str) -> dict | int:
    try:
        return fn()
    except RpcError as exc:
        if exc.code == errors.CONFIG_INVALID and isinstance(exc.data, dict):
            return _problems(path, exc.data.get("problems", []))
        raise


def cmd_apply(args: argparse.Namespace, client: Any) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HwdError(f"cannot read {args.file}: {exc}") from None
    problems = client.call("config.check", {"text": text})["problems"]
    if problems:
        return _problems(args.file, problems)
    reply = _changing(lambda: client.call("config.apply", {"text": text, "note": args.note, **_who()}), args.file)
    return reply if isinstance(reply, int) else _report(reply, client, args.at_night)


def cmd_history(args: argparse.Namespace, client: Any) -> int:
    versions = client.call("config.history", {"limit": args.limit})["versions"]
    if args.json:
        print(json.dumps(versions, ensure_ascii=False, indent=2))
        return 0
    for v in versions:
        restart = f"  (restart: {', '.join(v['restart'])})" if v["restart"] else ""
        note = f"  “{v['note']}”" if v["note"] else ""
        print(f"{v['version']:>4}  {v['at']}  {v['by']} ({v['source']})  {v['summary'] or '-'}{note}{restart}")
    return 0


def cmd_show(args: argparse.Namespace, client: Any) -> int:
    v = client.call("config.show", {"version": args.version})
    sys.stdout.write(v["diff"] if args.diff else v["text"])
    return 0


def cmd_rollback(args: argparse.Namespace, client: Any) -> int:
    params = {"note": args.note, **_who()}
    if args.version is not None:
        params["version"] = args.version
    reply = _changing(lambda: client.call("config.rollback", params), f"version {args.version or 'previous'}")
    return reply if isinstance(reply, int) else _report(reply, client, args.at_night)


def cmd_get(args: argparse.Namespace, client: Any) -> int:
    got = client.call("config.get")
    if not args.path:
        sys.stdout.write(got["text"])
        return 0
    value = configedit.lookup(got["config"], configedit.dotted(args.path))
    print(json.dumps(value, ensure_ascii=False, indent=2 if isinstance(value, (dict, list)) else None))
    return 0


def toml_value(text: str) -> Any:
    """VALUE as TOML writes it: ``["bdc", "sb"]``, ``"text"``, ``3``, ``true``; a bare word is a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        if text and "\n" not in text and not any(c in text for c in "[]{}\"'="):
            return text
        raise HwdError(f"not a TOML value: {text!r} (strings in quotes, arrays as [\"a\", \"b\"])") from None


def cmd_set(args: argparse.Namespace, client: Any) -> int:
    op = {"op": "set", "path": configedit.dotted(args.path), "value": toml_value(args.value)}
    base = client.call("config.get")["digest"]
    reply = _changing(lambda: client.call("config.edit", {"ops": [op], "base": base, "note": args.note,
                                                          **_who()}), args.path)
    return reply if isinstance(reply, int) else _report(reply, client, args.at_night)


def cmd_import_matters(args: argparse.Namespace, client: Any) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise HwdError(f"cannot read {args.file}: {exc}") from None
    params = {"catalogue": text, "format": args.format, "note": args.note or f"matter catalogue {Path(args.file).name}",
              **_who()}
    return _import(client, "config.import_matters", params, args.file, args.dry_run)


def cmd_county_matters(args: argparse.Namespace, client: Any) -> int:
    params = {"note": args.note, "by": _who()["by"]}
    return _import(client, "config.county_matters", params, "the county's catalogue", args.dry_run)


def _import(client: Any, method: str, params: dict, what: str, dry_run: bool) -> int:
    preview = client.call(method, {**params, "apply": False})
    if "catalogue" in preview:
        c = preview["catalogue"]
        print(f"county catalogue {c['id']} ({c['name']}), pushed {c['pushed_at']} by {c['pushed_by']}")
    s = preview["summary"]
    print(f"{len(s['added'])} matter(s) added, {len(s['updated'])} updated, {len(s['unchanged'])} unchanged")
    if s["unknown_services"]:
        print("not imported, no such service in this hall: " + ", ".join(s["unknown_services"]), file=sys.stderr)
    if preview.get("unchanged"):
        return 0
    if preview["problems"]:  # lines of the config file as the import would make it
        return _problems("(config after the import)", preview["problems"])
    if dry_run:
        sys.stdout.write(preview["diff"])
        return 0
    reply = _changing(lambda: client.call(method, {**params, "apply": True, "base": preview["base"]}), what)
    return reply if isinstance(reply, int) else _report(reply, client, False)


def add_parsers(sub: Any, run: Callable[[Callable[[argparse.Namespace, Any], int]], Callable]) -> None:
    """``hwctl config …``; ``run(fn)`` gives ``fn`` the client of this PC's hwd."""
    p = sub.add_parser("config", help="change hwd's config file live, list and roll back its versions")
    cmds = p.add_subparsers(dest="config_command", required=True)
    s = cmds.add_parser("apply", help="check a whole config file, show the diff and apply it live")
    s.add_argument("file")
    s.add_argument("--note", default="")
    s.add_argument("--at-night", action="store_true", help="restart hwd at night for keys that need it")
    s.set_defaults(func=run(cmd_apply))
    s = cmds.add_parser("history", help="the applied versions, newest first")
    s.add_argument("--limit", type=int, default=50)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run(cmd_history))
    s = cmds.add_parser("show", help="one version's text (--diff: its diff)")
    s.add_argument("version", type=int)
    s.add_argument("--diff", action="store_true")
    s.set_defaults(func=run(cmd_show))
    s = cmds.add_parser("rollback", help="go back to a version (default: the one before the latest)")
    s.add_argument("version", type=int, nargs="?")
    s.add_argument("--note", default="")
    s.add_argument("--at-night", action="store_true")
    s.set_defaults(func=run(cmd_rollback))
    s = cmds.add_parser("get", help="the config file, or the value at PATH (e.g. hall.window[w3].services)")
    s.add_argument("path", nargs="?")
    s.set_defaults(func=run(cmd_get))
    s = cmds.add_parser("set", help="set the key at PATH to VALUE (TOML), checked and applied live")
    s.add_argument("path")
    s.add_argument("value")
    s.add_argument("--note", default="")
    s.add_argument("--at-night", action="store_true")
    s.set_defaults(func=run(cmd_set))
    s = cmds.add_parser("import-matters", help="a matter catalogue (JSON or CSV) into the services' matters")
    s.add_argument("file")
    s.add_argument("--format", choices=("auto", "json", "csv"), default="auto")
    s.add_argument("--dry-run", action="store_true", help="only show what would change")
    s.add_argument("--note", default="")
    s.set_defaults(func=run(cmd_import_matters))
    s = cmds.add_parser("county-matters", help="the matter catalogue the county pushed to this hall: preview, import")
    s.add_argument("--dry-run", action="store_true", help="only show what would change")
    s.add_argument("--note", default="")
    s.set_defaults(func=run(cmd_county_matters))
