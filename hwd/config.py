"""The configuration: TOML read with ``tomllib`` into typed, validated objects (docs/config.md).

Every problem is collected and reported at once as ``FILE:LINE KEY: reason``; nothing is opened
before the whole file is valid. Sections other than ``[daemon]``, ``[[device]]`` and
``[[node]]`` are checked by the part that owns them and registers them (hwd.sections: ``[hall]``
by the hall, ``[ui]`` by the pages), so each part states its keys once and the core names none
of them. hwd-central's file is read by the same code (``load_file``).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwd import audit, clock, paths, registry, rpc, sections as registered, url as urls
from hwd.errors import ConfigError
from hwd.schema import REQUIRED, Field, Problems, check_table, format_path, settings, unknown_key_message
from hwd.tomlmap import LineMap

CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
FIXED_SECTIONS = ("daemon", "device", "node")  # the core's own; the rest are registered (hwd.sections)


def _check_id(value: str) -> str | None:
    return None if ID_RE.match(value) else "ids are 1-64 letters, digits, '_', '.' or '-'"


def _check_endpoint(value: str) -> str | None:
    if value.startswith("ipc://") and len(value) > 6:
        return None
    if re.match(r"^tcp://[^:/]+:\d+$", value):
        return None
    return "expected ipc:///path or tcp://host:port"


def check_timezone(value: str) -> str | None:
    """Why ``value`` is not an IANA time zone (``Asia/Shanghai``), or None."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {value!r}"
    return None


def _check_iso_time(value: str) -> str | None:
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return "expected a local ISO date-time such as 2026-11-23T08:00:00"
    return None


DAEMON_FIELDS = (
    Field("rpc", str, None, check=_check_endpoint, doc="RPC endpoint (ROUTER); default ipc://RUNTIME_DIR/rpc (/run/hwd/rpc under systemd)"),
    Field("events", str, None, check=_check_endpoint, doc="event endpoint (PUB); default ipc://RUNTIME_DIR/events"),
    Field("state_dir", str, None, doc="where SQLite files and emulator output live; default /var/lib/hwd (STATE_DIRECTORY)"),
    Field("insecure", bool, False, doc="allow tcp:// endpoints without CURVE"),
    Field("server_key", str, None, doc="CURVE secret certificate of this daemon (tcp endpoints)"),
    Field("clients_dir", str, None, doc="directory of allowed client public certificates"),
    Field("client_key", str, None, doc="CURVE secret certificate used by hwctl/hwd-ui/other nodes"),
    Field("log_level", str, "info", choices=("debug", "info", "warning", "error")),
    Field("max_request_bytes", int, rpc.MAX_REQUEST_BYTES, min=1024, max=16 * 1024 * 1024, doc="larger requests get error -32000"),
    Field("heartbeat_s", float, 2.0, min=0.1, max=60, doc="seconds between daemon.heartbeat events"),
    Field("timezone", str, clock.TIMEZONE, check=check_timezone, doc="the hall's time zone (hours, business days, printed times)"),
    Field("test_clock", bool, False, doc="allow clock.set over RPC (tests and training only)"),
    Field("test_clock_start", str, None, check=_check_iso_time,
          doc="with test_clock: the test clock runs from this local ISO time from the start, before the hall opens"),
    Field("clock_jump_s", float, clock.JUMP_THRESHOLD_S, min=1, max=86400,
          doc="a wall-clock step back by more than this is a clock jump: warned, published as daemon.clock"),
    Field("replay_max_bytes", int, rpc.REPLAY_MAX_BYTES, min=65536, max=1024 * 1024 * 1024,
          doc="memory for replies kept for retries (bytes, not entries); oldest go first"),
    Field("card_data_clients", list, [], items=str,
          doc="RPC clients allowed the methods that yield full card data (`idcard.read`, `idcard.resolve`): "
              "local user names (ipc) or CURVE certificate names (tcp); on a kiosk PC whose reader serves "
              "another PC's hall, that PC's certificate name; every call is logged without the data"),
    Field("config_clients", list, [], items=str,
          doc="CURVE certificate names (tcp) allowed the config.* methods (the config file, with its hashes "
              "and credentials, read and changed); local callers over ipc:// (hwd-ui, hwctl) always are"),
    Field("night_restart_at", str, "03:00", check=lambda v: None if re.match(r"^([01]\d|2[0-3]):[0-5]\d$", v)
          else "expected HH:MM (24-hour), e.g. \"03:00\"",
          doc="when a restart planned for the night happens (config.restart, hwctl config apply --at-night): "
              "hwd exits with status 75 and systemd starts it again"),
    Field("audit_keep_days", int, audit.KEEP_DAYS, min=180, max=3650,
          doc="daily audit files (logins, admin actions) kept in STATE_DIR/audit by hwd and hwd-ui "
              "(等保: at least 180 days)"),
)

DEVICE_FIELDS = (
    Field("id", str, check=_check_id, doc="unique; letters, digits, _ . -"),
    Field("kind", str, choices=registry.KINDS),
    Field("driver", str, None, doc="required unless node is set; see Driver options"),
    Field("url", str, None, doc="how the device is reached (Device URLs, below), e.g. serial:///dev/serial/by-id/..., sim://"),
    Field("enabled", bool, True, doc="false: never opened, state disabled"),
    Field("node", str, None, doc="the device is attached to this other hwd node"),
    Field("description", str, "", doc="free text for people"),
)

NODE_FIELDS = (
    Field("id", str, check=_check_id, doc="named by devices' node key"),
    Field("rpc", str, check=_check_endpoint, doc="the node's RPC endpoint"),
    Field("events", str, check=_check_endpoint, doc="the node's event endpoint"),
    Field("server_key", str, None, doc="the node's public certificate"),
    Field("client_key", str, None, doc="our secret certificate for this node"),
    Field("insecure", bool, False, doc="tcp without CURVE (closed networks only)"),
)


@settings(DAEMON_FIELDS)
class DaemonConfig:
    rpc: str = REQUIRED  # the loader's default: ipc://RUNTIME_DIR/rpc (hwd.paths)
    events: str = REQUIRED
    state_dir: Path = REQUIRED
    insecure: bool
    server_key: Path | None
    clients_dir: Path | None
    client_key: Path | None
    log_level: str
    max_request_bytes: int
    heartbeat_s: float
    timezone: str
    test_clock: bool
    test_clock_start: str | None
    clock_jump_s: float
    replay_max_bytes: int
    card_data_clients: list
    config_clients: list
    night_restart_at: str
    audit_keep_days: int


@dataclass
class DeviceConfig:
    id: str
    kind: str
    driver: str
    url: urls.DeviceUrl
    options: dict = field(default_factory=dict)
    enabled: bool = True
    node: str | None = None
    description: str = ""
    path: tuple = ()


@settings(NODE_FIELDS)
class NodeConfig:
    id: str
    rpc: str
    events: str
    server_key: Path | None
    client_key: Path | None
    insecure: bool


@dataclass
class Config:
    path: Path
    daemon: DaemonConfig
    devices: list[DeviceConfig]
    nodes: list[NodeConfig] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)  # registered sections' values, by name
    raw: dict = field(default_factory=dict)

    def device(self, device_id: str) -> DeviceConfig | None:
        return next((d for d in self.devices if d.id == device_id), None)

    # shorthands for the two sections a hall PC's file has (hwd.hall's and kiosk_ui's values)
    @property
    def hall(self) -> Any:
        return self.sections.get("hall")

    @property
    def ui(self) -> Any:
        return self.sections.get("ui")


@dataclass
class LoadContext:
    """Handed to section loaders so they can resolve paths and references."""

    path: Path
    base_dir: Path
    problems: Problems
    devices: dict[str, DeviceConfig]
    raw: dict

    def resolve(self, value: str | None) -> Path | None:
        return None if value is None else (self.base_dir / value).resolve() if not Path(value).is_absolute() else Path(value)


def _one_line(text: str) -> str:
    """A problem stays one line: control characters (from quoted keys or values) are escaped."""
    return CONTROL_RE.sub(lambda m: repr(m.group())[1:-1], text)


def read(path: str | Path) -> str:
    """A config file's text; a file that cannot be read is a ConfigError naming it."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text: {exc}"]) from None


def parse(source: str, path: Path) -> dict:
    """The TOML of ``source``; a syntax error is a ConfigError with its line."""
    try:
        return tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = match.group(1) if match else "1"
        reason = re.sub(r' *[(]at line.*', '', str(exc))
        raise ConfigError([f"{path}:{line} syntax: {reason}"], [(int(line), "syntax", reason)]) from None


def raise_problems(problems: Problems, source: str, path: Path) -> None:
    """Every problem at once, in file order, each one line ``FILE:LINE KEY: reason``."""
    if problems:
        lines = LineMap(source)
        items = [(lines.line_of(p), _one_line(format_path(p) or "-"), _one_line(msg))
                 for p, msg in sorted(problems.items, key=lambda item: lines.line_of(item[0]))]
        raise ConfigError([f"{path}:{line} {key}: {reason}" for line, key, reason in items], items)


def load(path: str | Path) -> Config:
    """Read and check a hall PC's config file; raise ConfigError listing every problem."""
    return loads(read(path), path)


def loads(source: str, path: str | Path = "<config>") -> Config:
    path = Path(path)
    raw = parse(source, path)
    problems = Problems()
    ctx = LoadContext(path, path.resolve().parent, problems, {}, raw)
    known = FIXED_SECTIONS + registered.names()
    owned: dict[str, registered.Section] = {}
    for key in raw:
        if key in FIXED_SECTIONS:
            continue
        if key not in known:
            hint = "" if registered.names() else "; no section is registered: install hwd (pip install -e .)"
            problems.add((key,), unknown_key_message(key, known) + f" (not a section hwd knows{hint})")
            continue
        try:
            section = registered.get(key)
        except registered.Unavailable as exc:
            problems.add((key,), f"this installation of hwd cannot check this section ({exc})")
            continue
        if section.reader != registered.HALL_FILE:
            problems.add((key,), f"[{key}] belongs in {section.reader}'s own config file, not in hwd's")
            continue
        owned[key] = section
    daemon = _load_daemon(raw.get("daemon", {}), ctx)
    nodes = _load_nodes(raw.get("node", []), ctx)
    devices = _load_devices(raw.get("device", []), ctx, {n.id for n in nodes})
    values = {name: section.load(raw[name], ctx) for name, section in owned.items()}
    raise_problems(problems, source, path)
    return Config(path, daemon, devices, nodes, values, raw)


def load_file(path: str | Path, *owned: registered.Section) -> dict[str, Any]:
    """Read and check a file made of the given sections only, each one required (hwd-central's
    file is its ``[central]``); every problem reported at once as ``load`` does. Returns each
    section's value by name."""
    path = Path(path)
    source = read(path)
    raw = parse(source, path)
    problems = Problems()
    ctx = LoadContext(path, path.resolve().parent, problems, {}, raw)
    names = [s.name for s in owned]
    for key in raw:
        if key not in names:
            problems.add((key,), unknown_key_message(key, names) + " (this file has only "
                         + ", ".join(f"[{n}]" for n in names) + ")")
    values = {}
    for section in owned:
        if section.name in raw:
            values[section.name] = section.load(raw[section.name], ctx)
        else:
            problems.add((section.name,), f"required section [{section.name}] is missing")
    raise_problems(problems, source, path)
    return values


def _load_daemon(table: Any, ctx: LoadContext) -> DaemonConfig:
    v = check_table(table, DAEMON_FIELDS, ("daemon",), ctx.problems)
    v.update({key: ctx.resolve(v[key]) for key in ("server_key", "clients_dir", "client_key")})
    cfg = DaemonConfig(**{
        **v, "rpc": _resolve_ipc(v["rpc"] or paths.default_endpoint("rpc"), ctx),
        "events": _resolve_ipc(v["events"] or paths.default_endpoint("events"), ctx),
        "state_dir": ctx.resolve(v["state_dir"]) or paths.state_dir(),
        "heartbeat_s": float(v["heartbeat_s"]), "clock_jump_s": float(v["clock_jump_s"])})
    if cfg.test_clock_start and not cfg.test_clock:
        ctx.problems.add(("daemon", "test_clock_start"), "needs test_clock = true")
    tcp = [k for k in ("rpc", "events") if getattr(cfg, k).startswith("tcp://")]
    if tcp and not cfg.insecure:
        if not cfg.server_key:
            ctx.problems.add(("daemon", tcp[0]), "a tcp:// endpoint needs CURVE keys: set server_key and "
                             "clients_dir (hwctl keygen), or insecure = true on a closed network")
        if not cfg.clients_dir:
            ctx.problems.add(("daemon", tcp[0]), "a tcp:// endpoint needs clients_dir, the directory of "
                             "allowed client public keys")
    for key in ("server_key", "client_key"):
        p = getattr(cfg, key)
        if p is not None and not p.is_file():
            ctx.problems.add(("daemon", key), f"no such file: {p}")
    if cfg.clients_dir is not None and not cfg.clients_dir.is_dir():
        ctx.problems.add(("daemon", "clients_dir"), f"no such directory: {cfg.clients_dir}")
    return cfg


def _resolve_ipc(endpoint: str, ctx: LoadContext) -> str:
    if endpoint.startswith("ipc://") and not endpoint.startswith("ipc:///"):
        return f"ipc://{ctx.base_dir / endpoint[6:]}"
    return endpoint


def _as_list(value: Any, name: str, ctx: LoadContext) -> list:
    if isinstance(value, list):
        return value
    ctx.problems.add((name,), f"write [[{name}]] tables (an array of tables)")
    return []


def _load_nodes(items: Any, ctx: LoadContext) -> list[NodeConfig]:
    nodes: list[NodeConfig] = []
    seen: set[str] = set()
    for i, table in enumerate(_as_list(items, "node", ctx)):
        path = ("node", i)
        v = check_table(table, NODE_FIELDS, path, ctx.problems)
        if "id" not in v or "rpc" not in v or "events" not in v:
            continue
        if v["id"] in seen:
            ctx.problems.add(path + ("id",), f"duplicate node id {v['id']!r}")
        seen.add(v["id"])
        node = NodeConfig(v["id"], _resolve_ipc(v["rpc"], ctx), _resolve_ipc(v["events"], ctx),
                          ctx.resolve(v.get("server_key")), ctx.resolve(v.get("client_key")),
                          v.get("insecure", False))
        if node.rpc.startswith("tcp://") and not node.insecure and not (node.server_key and node.client_key):
            ctx.problems.add(path + ("rpc",), "a tcp:// node needs server_key and client_key, or insecure = true")
        nodes.append(node)
    return nodes


def _load_devices(items: Any, ctx: LoadContext, node_ids: set[str]) -> list[DeviceConfig]:
    devices: list[DeviceConfig] = []
    first_seen: dict[str, int] = {}
    for i, table in enumerate(_as_list(items, "device", ctx)):
        path = ("device", i)
        if not isinstance(table, dict):
            ctx.problems.add(path, "expected a table")
            continue
        common = {f.name for f in DEVICE_FIELDS}
        kind, driver = table.get("kind"), table.get("driver")
        cls = None
        broken = None
        if isinstance(kind, str) and kind in registry.KINDS and isinstance(driver, str):
            try:
                cls = registry.driver_class(kind, driver)
            except Exception as exc:
                broken = f"driver {driver!r} cannot be loaded: {type(exc).__name__}: {exc}"
        # keys other than the common ones are the driver's options, checked by the driver's fields
        v = check_table(table, DEVICE_FIELDS, path, ctx.problems, ignore=[k for k in table if k not in common])
        device_id = v.get("id")
        if device_id:
            if device_id in first_seen:
                ctx.problems.add(path + ("id",), f"duplicate device id {device_id!r} (also [[device]] number {first_seen[device_id] + 1})")
            first_seen.setdefault(device_id, i)
        node = v.get("node")
        if node is not None:
            if node not in node_ids:
                ctx.problems.add(path + ("node",), f"unknown node {node!r}; declare it in a [[node]] table")
            if "id" in v and "kind" in v:
                cfg = DeviceConfig(v["id"], v["kind"], driver or "remote", urls.DeviceUrl("remote://", "remote"),
                                   {}, v.get("enabled", True), node, v.get("description", ""), path)
                devices.append(cfg)
                ctx.devices.setdefault(cfg.id, cfg)
            continue
        if "kind" in v and v["kind"] in registry.KINDS:
            if driver is None:
                ctx.problems.add(path + ("driver",), "required key is missing")
            elif broken:
                ctx.problems.add(path + ("driver",), broken)
            elif isinstance(driver, str) and cls is None:
                known = ", ".join(sorted(registry.drivers_of(v["kind"]))) or "none yet"
                ctx.problems.add(path + ("driver",), f"unknown driver {driver!r} for kind {v['kind']}; known: {known}")
        parsed = None
        if v.get("url") is None and node is None:
            ctx.problems.add(path + ("url",), "required key is missing")
        elif v.get("url") is not None:
            try:
                parsed = urls.parse(v["url"])
            except urls.UrlError as exc:
                ctx.problems.add(path + ("url",), str(exc))
        options: dict = {}
        if cls is not None:
            options = check_table({k: table[k] for k in table if k not in common}, cls.options, path, ctx.problems)
            cls.validate(options, ctx.problems, path)
            if parsed is not None and parsed.scheme != "sim" and parsed.scheme not in cls.schemes and not (
                    parsed.is_serial_like and "serial" in cls.schemes):
                ctx.problems.add(path + ("url",), f"driver {driver} does not take {parsed.scheme}:// URLs; "
                                 f"use one of: {', '.join(s + '://' for s in cls.schemes + ('sim',))}")
            if parsed is not None and parsed.scheme == "sim" and not cls.emulator:
                ctx.problems.add(path + ("url",), f"driver {driver} has no emulator, so sim:// is not available")
            missing = registry.missing_requirements(cls)
            if missing and v.get("enabled", True):
                ctx.problems.add(path + ("driver",), f"driver {driver} needs the Python package "
                                 f"{', '.join(missing)} (pip install 'hwd[{v['kind']}]')")
        if device_id and "kind" in v and cls is not None and parsed is not None:
            cfg = DeviceConfig(device_id, v["kind"], driver, parsed, options, v.get("enabled", True), None,
                               v.get("description", ""), path)
            devices.append(cfg)
            ctx.devices.setdefault(device_id, cfg)
    return devices


def device_ref(ctx: LoadContext, path: tuple, value: Any, kind: str | tuple[str, ...]) -> str | None:
    """Check that a section's reference names a device of the right kind; used by section loaders."""
    if value is None:
        return None
    if not isinstance(value, str):
        ctx.problems.add(path, "expected a device id (a string)")
        return None
    kinds = (kind,) if isinstance(kind, str) else kind
    dev = ctx.devices.get(value)
    if dev is None:
        ctx.problems.add(path, f"unknown device {value!r}; declare it in a [[device]] table")
        return None
    if dev.kind not in kinds:
        ctx.problems.add(path, f"device {value!r} is a {dev.kind}, expected {' or '.join(kinds)}")
        return None
    return value
