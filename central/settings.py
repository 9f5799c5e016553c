"""The ``[central]`` section of hwd-central's config file, checked like the hall's config: every
problem as ``FILE:LINE KEY: reason`` (hwd.errors.ConfigError; the command exits 2)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwd.county.config import _dsn
from hwd.errors import ConfigError
from hwd.schema import Field, Problems, check_table, format_path, unknown_key_message
from hwd.tomlmap import LineMap

from kiosk_ui.settings import _check_hash, _check_host


def _token(value: str) -> str | None:
    return None if len(value) >= 16 and re.fullmatch(r"[\x21-\x7e]+", value) else \
        "an API token is at least 16 printable characters without spaces"


CENTRAL_FIELDS = (
    Field("dsn", str, check=_dsn, doc="libpq connection string of the county database"),
    Field("title", str, "县级政务服务监管", doc="shown at the top of every page"),
    Field("host", str, "127.0.0.1", check=_check_host, doc="address hwd-central listens on"),
    Field("port", int, 8090, min=1, max=65535),
    Field("threads", int, 16, min=1, max=256, doc="waitress threads"),
    Field("password_hash", str, None, check=_check_hash,
          doc="supervisors' login: a werkzeug hash (hwd-ui --hash-password)"),
    Field("password_file", str, None, doc="file holding that hash instead (e.g. a systemd credential)"),
    Field("api_token", str, None, check=_token, doc="bearer token for /api/* from other hosts "
                                                    "(127.0.0.1 reads without it)"),
    Field("secret_key_file", str, None, doc="session key file; default STATE_DIRECTORY/central-secret or "
                                            "next to the config"),
    Field("timezone", str, "Asia/Shanghai", doc="the county's time zone, for a hall that has not reported"),
    Field("pool_size", int, 4, min=1, max=64, doc="database connections held"),
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
    for key in ("password_file", "secret_key_file"):
        if v.get(key) and not Path(v[key]).is_absolute():
            v[key] = str(base / v[key])
    return CentralSettings(path=path, **{k: v[k] for k in v})
