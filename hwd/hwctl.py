"""The ``hwctl`` command: the field engineer's and the developer's client of a running hwd.

    hwctl [--config FILE | --rpc EP --events EP] devices [--json]
    hwctl call METHOD [JSON]          print the result as JSON; on error the message, exit 1
    hwctl events [PREFIX ...]         one JSON line per event (--count N, --timeout S)
    hwctl status | methods
    hwctl sim DEVICE ACTION [JSON]    act on an emulated device (place a card, paper out, ...)
    hwctl capture DEVICE [--seconds S] [-o FILE] [--hexdump]
                                      record the device's port both ways (docs/deploy.md)
    hwctl keygen DIR [--name NAME]    write a CURVE key pair
    hwctl outbox | workorders         the 好差评 upstream backlog and 差评 work orders
    hwctl alerts [--json]             the raised tidal-window alerts (潮汐窗口); exit 4 while any is raised
    hwctl tls DIR NAME|IP ...         a self-signed hall CA and a server certificate for hwd-ui
    hwctl hall-keys DIR               make the hall's key files (0600) if missing
    hwctl upstream preview RATING     what the province would get for a rating (secrets masked)
    hwctl standby status|promote|demote
                                      the hall's two engine PCs ([hall.standby], docs/standby.md)
    hwctl metrics [--textfile PATH]   the metrics in the Prometheus text format (node_exporter)
    hwctl locker status|open|deposit|deposits|alarms|clear
                                      the 24-hour area's locker (docs/hall.md)
    hwctl config apply FILE | history | show V | rollback [V] | get [PATH] | set PATH VALUE
                                      change the config live, audited and reversible (docs/hall.md)

It never hangs: a daemon that does not answer gives a clear message within a few seconds.
"""

from __future__ import annotations

import argparse
import errno
import json
import sys
import time
from pathlib import Path
from typing import Any

from hwd import config as configuration, errors, paths
from hwd.client import Client, FailoverClient, RpcError, Subscriber, Unreachable, for_hall
from hwd.errors import ConfigError, HwdError

EXTRA_COMMANDS: dict[str, str] = {
    # name -> "module:function(args, client)"; commands other parts add (print-test, doctor)
    "print-test": "drivers.printer.testpage:command",
    "doctor": "hwd.doctor:command",
    "outbox": "hwd.haocp_cli:outbox",
    "workorders": "hwd.haocp_cli:workorders",
    "metrics": "hwd.metrics_cli:command",
    "locker": "hwd.pickup_cli:command",
}


def _endpoints(args: argparse.Namespace) -> tuple[str, str, Path | None, Path | None]:
    server_key = Path(args.server_key) if args.server_key else None
    client_key = Path(args.client_key) if args.client_key else None
    if args.config:
        cfg = configuration.load(args.config)
        d = cfg.daemon
        if d.rpc.startswith("tcp://") and not d.insecure:
            server_key = server_key or d.server_key
            client_key = client_key or d.client_key
        return args.rpc or d.rpc, args.events or d.events, server_key, client_key
    return (args.rpc or paths.default_endpoint("rpc"), args.events or paths.default_endpoint("events"),
            server_key, client_key)


def _client(args: argparse.Namespace) -> Client:
    rpc, _, server_key, client_key = _endpoints(args)
    return Client(rpc, timeout=args.timeout_rpc, retries=2, server_key=server_key, client_key=client_key)


def _hall_client(args: argparse.Namespace) -> Client | FailoverClient:
    """The client of the hall engine: with [hall.standby] in --config (and no --rpc), whichever
    engine PC is active; else this PC's daemon, as _client."""
    if args.config and not args.rpc:
        cfg = configuration.load(args.config)
        if cfg.hall is not None and cfg.hall.standby is not None:
            return for_hall(cfg, timeout=args.timeout_rpc, retries=2)
    return _client(args)


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def cmd_devices(args: argparse.Namespace) -> int:
    rows = _client(args).call("devices.list")
    if args.json:
        _print_json(rows)
        return 0
    print(f"{'ID':<22} {'KIND':<8} {'DRIVER':<9} {'STATE':<8} DETAIL")
    for row in rows:
        extra = f" paper={row['paper']}" if row.get("paper") else ""
        print(f"{row['id']:<22} {row['kind']:<8} {row.get('driver', ''):<9} {row['state']:<8} "
              f"{row.get('detail') or ''}{extra}")
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    params = _parse_json(args.params) if args.params else None
    client = _hall_client(args) if args.method.startswith(("hall.", "outbox.")) else _client(args)
    _print_json(client.call(args.method, params, timeout=args.call_timeout))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    _print_json(_client(args).call("daemon.status"))
    return 0


def cmd_methods(args: argparse.Namespace) -> int:
    for row in _client(args).call("daemon.methods"):
        print(f"{row['name']:<24} {row['doc']}")
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    params = _parse_json(args.params) if args.params else {}
    _print_json(_client(args).call("sim.control", {"device": args.device, "action": args.action, "params": params}))
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    _, events, server_key, client_key = _endpoints(args)
    sub = Subscriber(events, args.prefixes or [""], server_key=server_key, client_key=client_key)
    deadline = time.monotonic() + args.timeout if args.timeout else None
    seen = 0
    try:
        while args.count is None or seen < args.count:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            item = sub.recv(timeout=min(left, 0.5) if left is not None else 0.5)
            if item is None:
                continue
            print(json.dumps(item[1], ensure_ascii=False), flush=True)
            seen += 1
    except KeyboardInterrupt:
        pass
    finally:
        sub.close()
    return 0 if args.count is None or seen >= args.count else 1


ALERTS_RAISED = 4  # hwctl alerts: a raised alert is no error (1) but a script must see it


def cmd_alerts(args: argparse.Namespace) -> int:
    """hall.alerts: one line per raised alert (since when, and what it says); exit 0 when none,
    ALERTS_RAISED while any is raised, so cron or a monitoring check can act on it."""
    rows = _hall_client(args).call("hall.alerts")
    if args.json:
        _print_json(rows)
    elif not rows:
        print("no tidal-window alerts")
    for row in [] if args.json else rows:
        print(f"{str(row.get('since') or '')[11:16]}  {row['text']}")
    return ALERTS_RAISED if rows else 0


def cmd_keygen(args: argparse.Namespace) -> int:
    from hwd.keys import keygen

    public, secret = keygen(args.dir, args.name)
    print(f"public key (give to the other side): {public}")
    print(f"secret key (keep here, mode 0600):   {secret}")
    return 0


def cmd_tls(args: argparse.Namespace) -> int:
    from hwd.tlsca import make_server

    cert, key = make_server(Path(args.dir), args.names, args.hall)
    print(f"hall CA (install in the hall's browsers): {Path(args.dir) / 'hall-ca.pem'}")
    print(f"[ui] tls_certificate = \"{cert}\"")
    print(f"[ui] tls_key = \"{key}\"")
    return 0


def cmd_hall_keys(args: argparse.Namespace) -> int:
    from hwd.hall import hallkeys

    made = hallkeys.ensure(Path(args.dir))
    for path in made:
        print(f"made {path}")
    if not made:
        print(f"all hall keys present in {args.dir}")
    return 0


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise HwdError(f"params are not JSON: {exc}") from None


def _extra(name: str):
    def run(args: argparse.Namespace) -> int:
        from hwd.sim import load_class

        try:
            fn = load_class(EXTRA_COMMANDS[name])
        except (ModuleNotFoundError, AttributeError):
            raise HwdError(f"'{name}' is not available in this version") from None
        try:
            client = _hall_client(args) if name in ("outbox", "workorders", "locker") else _client(args)
        except ConfigError:
            if name != "doctor":
                raise
            client = None  # the doctor reports the config's problems itself
        return fn(args, client)
    return run


def cmd_capture(args: argparse.Namespace) -> int:
    from hwd import capture

    result = _client(args).call("devices.capture", {"device": args.device, "seconds": args.seconds},
                                timeout=args.seconds + 10)
    out = Path(args.output or f"{args.device}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl")
    try:
        capture.write_private(out, capture.dump(result["header"], result["records"]))
    except OSError as exc:
        why = "it is a symlink (refused: captures are written only to a file of their own)" \
            if exc.errno == errno.ELOOP else (exc.strerror or str(exc))
        raise HwdError(f"cannot write {out}: {why}") from None
    print(f"{len(result['records'])} records, {result['bytes']} bytes from {args.device} in {out}"
          + (" (truncated: the size limit was reached)" if result["truncated"] else ""), file=sys.stderr)
    if args.hexdump:
        _, records = capture.load(out)
        sys.stdout.write(capture.hexdump(records))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hwctl", description="client of a running hwd")
    p.add_argument("--config", "-c", help="the daemon's config (for its endpoints and keys)")
    p.add_argument("--rpc", help="RPC endpoint, e.g. ipc:///run/hwd/rpc or tcp://10.0.0.2:5555")
    p.add_argument("--events", help="event endpoint")
    p.add_argument("--server-key", help="the daemon's public certificate (tcp)")
    p.add_argument("--client-key", help="our secret certificate (tcp)")
    p.add_argument("--timeout-rpc", type=float, default=2.0, help="seconds per try (2 tries)")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("devices", help="list devices and their states")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_devices)
    s = sub.add_parser("call", help="call an RPC method")
    s.add_argument("method")
    s.add_argument("params", nargs="?", help="JSON object")
    s.add_argument("--call-timeout", type=float, default=None, help="seconds per try for slow methods")
    s.set_defaults(func=cmd_call)
    s = sub.add_parser("events", help="print events as JSON lines")
    s.add_argument("prefixes", nargs="*")
    s.add_argument("--count", type=int)
    s.add_argument("--timeout", type=float)
    s.set_defaults(func=cmd_events)
    sub.add_parser("status", help="daemon status").set_defaults(func=cmd_status)
    sub.add_parser("methods", help="list RPC methods").set_defaults(func=cmd_methods)
    s = sub.add_parser("sim", help="act on an emulated device")
    s.add_argument("device")
    s.add_argument("action")
    s.add_argument("params", nargs="?", help="JSON object")
    s.set_defaults(func=cmd_sim)
    s = sub.add_parser("capture", help="record a device's port, both directions, with timestamps")
    s.add_argument("device")
    s.add_argument("--seconds", type=float, default=10.0, help="how long to record (at most 600)")
    s.add_argument("--output", "-o", help="file to write (JSON lines); default DEVICE-TIME.jsonl")
    s.add_argument("--hexdump", action="store_true", help="also print it as a hexdump (spy:// layout)")
    s.set_defaults(func=cmd_capture)
    s = sub.add_parser("alerts", help="the raised tidal-window alerts (潮汐窗口); exit 4 while any is raised")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_alerts)
    s = sub.add_parser("keygen", help="write a CURVE key pair")
    s.add_argument("dir")
    s.add_argument("--name", default="hwd")
    s.set_defaults(func=cmd_keygen)
    s = sub.add_parser("tls", help="make a self-signed hall CA and a server certificate for hwd-ui")
    s.add_argument("dir")
    s.add_argument("names", nargs="+", help="the hwd-ui PC's host names and IP addresses")
    s.add_argument("--hall", default="hwd hall", help="the hall's name, for the CA's name")
    s.set_defaults(func=cmd_tls)
    s = sub.add_parser("hall-keys", help="make the hall's key files (0600) if missing")
    s.add_argument("dir", help="[hall] keys_dir, default STATE_DIR/keys")
    s.set_defaults(func=cmd_hall_keys)
    s = sub.add_parser("print-test", help="print a test page")
    s.add_argument("device")
    s.set_defaults(func=_extra("print-test"))
    s = sub.add_parser("doctor", help="check this PC and say what to fix")
    s.set_defaults(func=_extra("doctor"))
    from hwd import config_cli, haocp_cli, metrics_cli, pickup_cli
    from hwd.standby import cli as standby_cli
    from hwd.upstream import preview

    haocp_cli.add_parsers(sub, _extra)
    metrics_cli.add_parser(sub, _extra)
    pickup_cli.add_parser(sub, _extra)
    preview.add_parsers(sub)
    standby_cli.add_parsers(sub, lambda fn: fn)
    config_cli.add_parsers(sub, lambda fn: lambda args: fn(args, _client(args)))
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    except Unreachable as exc:
        print(f"hwctl: {exc}", file=sys.stderr)
        return 3
    except RpcError as exc:
        print(f"error {exc.code} {errors.name_of(exc.code)}: {exc}", file=sys.stderr)
        if exc.data is not None:
            print(json.dumps(exc.data, ensure_ascii=False), file=sys.stderr)
        return 1
    except HwdError as exc:
        print(f"hwctl: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into head: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
