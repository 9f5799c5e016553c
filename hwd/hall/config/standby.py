"""The ``[hall.standby]`` table: the two PCs that can run the hall engine, which of them this PC
is, and the etcd cluster that elects one and holds the replicated log (docs/standby.md; the
standby itself is hwd.standby, which the hall does not import).

Absent → None, and the hall runs exactly as without it: one engine, no etcd, no new process.
A PC whose config has ``[hall]`` and ``[hall.standby]`` but whose ``this`` names no engine runs
no engine at all: its hwd serves its own devices, and its hwd-ui and hwctl follow the active one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwd.schema import Field, check_table

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_URL = re.compile(r"^(https?)://([^/:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})/?$")
_ENDPOINT = re.compile(r"^(ipc://.+|tcp://[^:/]+:\d+)$")
_PREFIX = re.compile(r"^/[A-Za-z0-9_./-]{1,100}$")


def _id(value: str) -> str | None:
    return None if _ID.match(value) else "ids are 1-64 letters, digits, '_', '.' or '-'"


def _endpoint(value: str) -> str | None:
    return None if _ENDPOINT.match(value) else "expected ipc:///path or tcp://host:port"


def _prefix(value: str) -> str | None:
    return None if _PREFIX.match(value) else "a key prefix such as \"/hwd/hall\" (letters, digits, _ . / -)"


STANDBY_FIELDS = (
    Field("this", str, "", doc="which [[hall.standby.engine]] this PC is; empty: this PC runs no engine and "
                               "its hwd-ui and hwctl follow the active one"),
    Field("engine", list, doc="the two PCs that can run the hall engine, in order of preference for clients"),
    Field("etcd", list, [], items=str, doc="client URLs of the hall's etcd members (both engine PCs and a voter), "
                                           "e.g. https://192.168.1.10:2379; needed on the engine PCs"),
    Field("etcd_ca", str, None, doc="CA certificate of the etcd members (https)"),
    Field("etcd_cert", str, None, doc="this PC's etcd client certificate (https with client-cert-auth)"),
    Field("etcd_key", str, None, doc="the key of etcd_cert"),
    Field("insecure", bool, False, doc="allow http:// etcd URLs (no TLS): closed networks and tests only"),
    Field("prefix", str, "/hwd/hall", check=_prefix, doc="where the hall keeps its keys in etcd"),
    Field("lease_s", float, 3.0, min=2.0, max=60.0,
          doc="leadership lease: a cut-off active stops within it, the other takes over after it"),
    Field("holdoff_s", float, 30.0, min=0.0, max=3600.0,
          doc="after `hwctl standby demote` the old active waits this long before it campaigns again"),
    Field("log_keep", int, 200000, min=1000, max=10_000_000,
          doc="log entries kept in etcd for an engine that is behind; older ones are trimmed once both "
              "engines applied them, or when there are more than this (the laggard then needs a resync)"),
    Field("client_key", str, None, doc="CURVE secret certificate this PC uses to reach the engines; "
                                       "default [daemon] client_key"),
)
ENGINE_FIELDS = (
    Field("id", str, check=_id, doc="a name for the PC, e.g. main-a"),
    Field("rpc", str, check=_endpoint, doc="its hwd's RPC endpoint as the other PCs reach it"),
    Field("events", str, check=_endpoint, doc="its hwd's event endpoint"),
    Field("server_key", str, None, doc="its PUBLIC certificate (tcp endpoints)"),
    Field("insecure", bool, False, doc="tcp without CURVE (closed networks and tests only)"),
)


@dataclass
class Engine:
    id: str
    rpc: str
    events: str
    server_key: Path | None = None
    insecure: bool = False


@dataclass
class Standby:
    engines: list[Engine]
    this: str = ""
    etcd: list[str] = field(default_factory=list)
    etcd_ca: Path | None = None
    etcd_cert: Path | None = None
    etcd_key: Path | None = None
    insecure: bool = False
    prefix: str = "/hwd/hall"
    lease_s: float = 3.0
    holdoff_s: float = 30.0
    log_keep: int = 200000
    client_key: Path | None = None

    @property
    def me(self) -> Engine | None:
        """This PC's engine entry, or None on a PC that only follows."""
        return next((e for e in self.engines if e.id == self.this), None)

    def engine(self, engine_id: str) -> Engine | None:
        return next((e for e in self.engines if e.id == engine_id), None)


def load_standby(raw: Any, path: tuple, ctx: Any) -> Standby | None:
    """Check ``[hall.standby]`` (problems go to ``ctx.problems``); None when it is absent."""
    if raw is None:
        return None
    problems = ctx.problems
    v = check_table(raw, STANDBY_FIELDS, path, problems)
    engines: list[Engine] = []
    for i, table in enumerate(v.get("engine") or []):
        p = path + ("engine", i)
        e = check_table(table, ENGINE_FIELDS, p, problems)
        if not all(k in e for k in ("id", "rpc", "events")):
            continue
        if any(x.id == e["id"] for x in engines):
            problems.add(p + ("id",), f"duplicate engine id {e['id']!r}")
            continue
        engine = Engine(e["id"], e["rpc"], e["events"], ctx.resolve(e["server_key"]), e["insecure"])
        if engine.rpc.startswith("tcp://") and not engine.insecure and engine.server_key is None:
            problems.add(p + ("server_key",), "a tcp:// engine needs its public certificate (server_key), "
                                              "or insecure = true on a closed network")
        elif engine.server_key is not None and not engine.server_key.is_file():
            problems.add(p + ("server_key",), f"no such file: {engine.server_key}")
        engines.append(engine)
    given = v.get("engine")
    if isinstance(given, list) and len(given) != 2:
        problems.add(path + ("engine",), f"a hall has exactly two engine PCs ([[hall.standby.engine]]), "
                                         f"not {len(given)}")
    cfg = Standby(engines, this=v["this"], etcd=list(v["etcd"]), etcd_ca=ctx.resolve(v["etcd_ca"]),
                  etcd_cert=ctx.resolve(v["etcd_cert"]), etcd_key=ctx.resolve(v["etcd_key"]),
                  insecure=v["insecure"], prefix=v["prefix"].rstrip("/"), lease_s=float(v["lease_s"]),
                  holdoff_s=float(v["holdoff_s"]), log_keep=v["log_keep"], client_key=ctx.resolve(v["client_key"]))
    if cfg.this and engines and cfg.me is None:
        problems.add(path + ("this",), f"{cfg.this!r} is not one of the engines: "
                                       f"{', '.join(e.id for e in engines)} (or \"\" on a PC that runs no engine)")
    if cfg.this and not cfg.etcd:
        problems.add(path + ("etcd",), "an engine PC needs the etcd members' client URLs")
    for j, url in enumerate(cfg.etcd):
        m = _URL.match(url)
        if m is None:
            problems.add(path + ("etcd", j), f"{url!r}: expected http(s)://host:port, e.g. https://192.168.1.10:2379")
        elif m.group(1) == "http" and not cfg.insecure:
            problems.add(path + ("etcd", j), "etcd without TLS lets anyone on the LAN rewrite the hall: use "
                                             "https:// with etcd_ca, etcd_cert and etcd_key, or insecure = true "
                                             "on a closed network")
    if any(u.startswith("https://") for u in cfg.etcd):
        if cfg.etcd_ca is None:
            problems.add(path + ("etcd_ca",), "https:// etcd URLs need the members' CA certificate")
        if (cfg.etcd_cert is None) != (cfg.etcd_key is None):
            problems.add(path + ("etcd_cert",), "give etcd_cert and etcd_key together")
    daemon_key = (ctx.raw.get("daemon") or {}).get("client_key") if isinstance(ctx.raw, dict) else None
    if cfg.client_key is None and not daemon_key and any(
            e.rpc.startswith("tcp://") and not e.insecure for e in engines):
        problems.add(path + ("client_key",), "this PC reaches the engines over tcp:// with CURVE: give client_key "
                                             "here or in [daemon] (hwctl keygen)")
    for key in ("etcd_ca", "etcd_cert", "etcd_key", "client_key"):
        value = getattr(cfg, key)
        if value is not None and not value.is_file():
            problems.add(path + (key,), f"no such file: {value}")
    return cfg
