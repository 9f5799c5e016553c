"""The ``[central]`` section of hwd-central's config file, read by hwd's own config loader
(hwd.config.load_file): every problem as ``FILE:LINE KEY: reason`` (hwd.errors.ConfigError; the
command exits 2). ``SECTION`` is also registered (hwd.sections) for docs/config.md and so that
hwd refuses a ``[central]`` put in a hall PC's file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hwd import clock
from hwd.audit import KEEP_DAYS
from hwd.config import LoadContext, check_timezone, load_file
from hwd.hall.config.central import check_dsn
from hwd.schema import Field, check_table, settings
from hwd.sections import Section
from hwd.web import checks, fields, passwords


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
    *fields.login_keys("the supervisors' password"),
    Field("audit_dir", str, None, doc="where the daily audit files go; default STATE_DIRECTORY/audit or "
                                      "audit/ next to the config"),
    Field("audit_keep_days", int, KEEP_DAYS, min=180, max=3650,
          doc="daily audit files kept (等保: at least 180 days)"),
    Field("secret_key_file", str, None, doc="session key file; default STATE_DIRECTORY/central-secret or "
                                            "next to the config"),
    Field("timezone", str, clock.TIMEZONE, check=check_timezone, doc="the county's time zone, for a hall that has not reported"),
    Field("pool_size", int, 4, min=1, max=64, doc="database connections held"),
    Field("refresh_s", int, 30, min=1, max=3600,
          doc="the all-halls page reloads itself this often (the reload does not keep a login alive)"),
)


@settings(CENTRAL_FIELDS)
class CentralSettings:
    path: Path
    dsn: str
    title: str
    host: str
    port: int
    threads: int
    password_hash: str | None
    password_file: str | None
    api_token: str | None
    secret_key_file: str | None
    timezone: str
    pool_size: int
    refresh_s: int
    api_networks: list
    trusted_proxies: list
    session_idle_s: int
    session_hours: float
    login_failures: int
    login_lock_s: int
    audit_dir: str | None
    audit_keep_days: int

    def stored_hash(self) -> str | None:
        """The supervisors' password hash, from the config or from ``password_file``."""
        return passwords.stored_hash(self.password_hash, self.password_file)

def load_section(raw: Any, ctx: LoadContext) -> CentralSettings:
    """Check ``[central]`` (problems go to ``ctx.problems``); relative paths are the file's."""
    v = check_table(raw, CENTRAL_FIELDS, ("central",), ctx.problems)
    for key in ("password_file", "secret_key_file", "audit_dir"):
        if v.get(key):
            v[key] = str(ctx.resolve(v[key]))
    return CentralSettings(path=ctx.path, **{k: v[k] for k in v if k != "dsn"}, dsn=v.get("dsn", ""))


SECTION = Section("central", load_section, (("[central]", CENTRAL_FIELDS),),
                  "hwd-central's own file holds this section only; see `docs/central.md`.", reader="hwd-central")


def current() -> CentralSettings:
    """The settings of the app serving this request (put there by central.app.create_app)."""
    from flask import current_app  # here: reading the file must not need Flask

    return current_app.extensions["central"]


def load(path: str | Path) -> CentralSettings:
    """Read and check hwd-central's config file: every problem as ``FILE:LINE KEY: reason``."""
    return load_file(path, SECTION)["central"]
