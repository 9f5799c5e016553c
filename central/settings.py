"""The ``[central]`` section of hwd-central's config file, checked like the hall's config: every
problem as ``FILE:LINE KEY: reason`` (hwd.errors.ConfigError; the command exits 2)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwd.audit import KEEP_DAYS
from hwd.hall.config.central import check_dsn
from hwd.errors import ConfigError
from hwd.lockout import LOGIN_FAILURES, LOGIN_LOCK_S
from hwd.schema import Field, Problems, check_table, format_path, unknown_key_message
from hwd.tomlmap import LineMap
from hwd.web import checks


def _token(value: str) -> str | None:
    return None if len(value) >= 16 and re.fullmatch(r"[\x21-\x7e]+", value) else \
        "an API token is at least 16 printable characters without spaces"


CENTRAL_FIELDS = (
    Field("dsn", str, check=check_dsn, doc="libpq connection string of the county database"),
    Field("title", str, "县级政务服务监管", doc="shown at the top of every page"),
    Field("host", str, "127.0.0.1", check=checks.host, doc="address hwd-central listens on"),
    Field("port", int, 8090, min=1, max=65535),
    Field("threads", int, 16, min=1, max=256, doc="waitress threads"),
    Field("password_hash", str, None, check=checks.password_hash,
          doc="supervisors' login: a werkzeug hash (hwd-ui --hash-password)"),
    Field("password_file", str, None, doc="file holding that hash instead (e.g. a systemd credential)"),
    Field("api_token", str, None, check=_token, doc="bearer token for /api/* (every host needs it, this "
                                                    "one too, unless it is in api_networks)"),
    Field("api_networks", list, [], items=str, check=checks.networks,
          doc="addresses (or networks) that read /api/* without the token; none by default: a reverse "
              "proxy on this host would make 127.0.0.1 everyone"),
    Field("trusted_proxies", list, [], items=str, check=checks.networks,
          doc="reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed; from anyone "
              "else they are ignored"),
    Field("session_idle_s", int, 600, min=1, max=86400, doc="a login unused this long ends (等保: 10 min)"),
    Field("session_hours", float, 12.0, min=0.1, max=720, doc="a login lasts at most this long"),
    Field("login_failures", int, LOGIN_FAILURES, min=1, max=100,
          doc="wrong passwords from one address before that address is refused"),
    Field("login_lock_s", int, int(LOGIN_LOCK_S), min=1, max=86400,
          doc="how long it is then refused, after each further failure"),
    Field("audit_dir", str, None, doc="where the daily audit files go; default STATE_DIRECTORY/audit or "
                                      "audit/ next to the config"),
    Field("audit_keep_days", int, KEEP_DAYS, min=180, max=3650,
          doc="daily audit files kept (等保: at least 180 days)"),
    Field("secret_key_file", str, None, doc="session key file; default STATE_DIRECTORY/central-secret or "
                                            "next to the config"),
    Field("timezone", str, "Asia/Shanghai", doc="the county's time zone, for a hall that has not reported"),
    Field("pool_size", int, 4, min=1, max=64, doc="database connections held"),
    Field("refresh_s", int, 30, min=1, max=3600,
          doc="the all-halls page reloads itself this often (the reload does not keep a login alive)"),
)


@dataclass
class CentralSettings:
    path: Path
    dsn: str
    title: str = "县级政务服务监管"
    host: str = "127.0.0.1"
    port: int = 8090
    threads: int = 16
    password_hash: str | None = None
    password_file: str | None = None
    api_token: str | None = None
    secret_key_file: str | None = None
    timezone: str = "Asia/Shanghai"
    pool_size: int = 4
    refresh_s: int = 30
    api_networks: list = field(default_factory=list)
    trusted_proxies: list = field(default_factory=list)
    session_idle_s: int = 600
    session_hours: float = 12.0
    login_failures: int = LOGIN_FAILURES
    login_lock_s: int = int(LOGIN_LOCK_S)
    audit_dir: str | None = None
    audit_keep_days: int = KEEP_DAYS

    def stored_hash(self) -> str | None:
        if self.password_hash:
            return self.password_hash
        if self.password_file:
            try:
                return Path(self.password_file).read_text(encoding="utf-8").strip() or None
            except OSError:
                return None
        return None


def load(path: str | Path) -> CentralSettings:
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    try:
        raw = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        raise ConfigError([f"{path}:{match.group(1) if match else 1} syntax: {exc}"]) from None
    problems = Problems()
    for key in raw:
        if key != "central":
            problems.add((key,), unknown_key_message(key, ("central",)) + " (hwd-central reads only [central])")
    if "central" not in raw:
        problems.add(("central",), "required section [central] is missing")
    v = check_table(raw.get("central", {}), CENTRAL_FIELDS, ("central",), problems)
    if v.get("timezone"):
        try:
            import zoneinfo
            zoneinfo.ZoneInfo(v["timezone"])
        except Exception:
            problems.add(("central", "timezone"), f"unknown time zone {v['timezone']!r}")
    if problems:
        lines = LineMap(source)
        raise ConfigError([f"{path}:{lines.line_of(p)} {format_path(p)}: {msg}"
                           for p, msg in sorted(problems.items, key=lambda item: lines.line_of(item[0]))])
    base = path.resolve().parent
    for key in ("password_file", "secret_key_file", "audit_dir"):
        if v.get(key) and not Path(v[key]).is_absolute():
            v[key] = str(base / v[key])
    return CentralSettings(path=path, **{k: v[k] for k in v})
