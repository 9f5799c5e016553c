"""The ``[ui]`` section of the hwd config, checked without importing Flask.

``SECTION`` registers it (hwd.sections, setup.cfg's ``hwd.config_sections``): ``hwd.config``
hands the raw table to ``load(raw, ctx)`` so that ``hwd --check`` reports a typo in ``[ui]``
with the rest of the file's problems. Passwords are never stored in clear: the admin
password and the kiosk exit PIN are werkzeug password hashes (``hwd-ui --hash-password``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwd.schema import Field, check_table, settings
from hwd.sections import Section
from hwd.web import checks, fields, passwords

UI_FIELDS = (
    Field("title", str, "", doc="hall name shown on pages; default: [hall] name"),
    Field("notice", str, "", doc="scrolling notice on the hall display"),
    Field("host", str, "127.0.0.1", check=checks.host, doc="address hwd-ui listens on"),
    Field("port", int, 8080, min=1, max=65535),
    Field("max_streams", int, 400, min=1, max=5000,
          doc="live (SSE) clients held at once; one more gets 503 + Retry-After"),
    Field("threads", int, 0, min=0, max=6000, doc="server threads; 0 = max_streams + 32"),
    Field("rpc_timeout_s", float, 2.0, min=0.1, max=30),
    Field("idle_s", int, 60, min=5, max=3600, doc="kiosk returns home after this idle time"),
    Field("ticket_screen_s", int, 30, min=5, max=600, doc="how long the ticket stays on the kiosk"),
    Field("area_dim_s", int, 60, min=0, max=3600,
          doc="a 24-hour kiosk's screen dims after this idle time while the windows are closed (0: never)"),
    Field("admin_password_hash", str, None, check=checks.password_hash),
    Field("admin_password_file", str, None, doc="a file holding the admin password hash"),
    Field("admin", list, [], doc="admin accounts with roles, see [[ui.admin]]; admin_password_hash stays a "
                                 "系统管理员 login (account admin)"),
    Field("kiosk_pin_hash", str, None, check=checks.password_hash, doc="PIN that leaves the kiosk flow"),
    Field("secret_key_file", str, None, doc="session key file; default STATE_DIR/ui-secret"),
    Field("demo", bool, False, doc="show the virtual hall (emulated screens, receipts, announcements)"),
    Field("ring", int, 512, min=16, max=100000, doc="events kept for Last-Event-ID resume"),
    Field("keepalive_s", float, 10.0, min=0.5, max=120, doc="SSE comment sent when idle"),
    Field("help_desk", str, "请到服务台领取纸质号票", doc="shown when the ticket could not be printed"),
    Field("display_page_s", float, 8.0, min=2, max=120,
          doc="the hall display's window and queue panels show each page of rows this long"),
    Field("display_call_s", float, 5.0, min=1, max=60,
          doc="a call stays on the display's banner at least this long before the next one when no "
              "announcement is heard for it (its window has no speaker, or quiet hours); with one, as long "
              "as the announcement plays"),
    Field("streams_per_address", int, 8, min=1, max=1000,
          doc="live streams one address may hold (not the configured machines); one more gets 503"),
    Field("reserved_streams", int, 64, min=0, max=5000,
          doc="of max_streams, kept for the configured kiosks, window PCs and displays"),
    Field("display_addresses", list, [], items=str, check=checks.networks,
          doc="addresses (or networks) of hall display PCs: their streams come from the reserved pool"),
    Field("connections_per_address", int, 16, min=1, max=10000,
          doc="open connections one address (an IPv6 /64) may hold, the configured machines excepted; "
              "more are closed at once"),
    Field("max_connections", int, 1000, min=16, max=20000, doc="open connections in all"),
    Field("reserved_connections", int, 200, min=0, max=20000,
          doc="of max_connections, kept for the configured kiosks, window PCs, displays and this PC; "
              "also the phone server's"),
    Field("idle_timeout_s", int, 30, min=5, max=3600, doc="an idle connection is closed after this"),
    Field("header_timeout_s", float, 10.0, min=1, max=300,
          doc="a request's line and headers must be in within this of its first byte (of the connection's "
              "opening for its first request), however slowly they come; else the connection is closed"),
    *fields.login_keys("the admin password, the kiosk exit PIN, the clerks' PINs"),
    Field("tls_certificate", str, None, doc="PEM certificate (chain) for HTTPS; make one: hwctl tls"),
    Field("tls_key", str, None, doc="PEM private key of tls_certificate (0600)"),
    Field("public_url", str, "", check=checks.url,
          doc="the phone server's address as phones on the hall WiFi reach it, e.g. http://10.1.2.3:8081; "
              "the ticket's QR then opens its page /t/<token>"),
    Field("phone_host", str, "", doc="address the phone server listens on (e.g. the WiFi side's); default: host"),
    Field("phone_port", int, 8081, min=0, max=65535, doc="port of the phone server (/t/<token>); 0 = off"),
    Field("phone_alert_ahead", int, 3, min=0, max=50,
          doc="the phone page turns to 即将叫号 (sound, vibration) when this many or fewer are ahead"),
    Field("phone_max_clients", int, 5000, min=16, max=50000, doc="phone requests and streams held at once"),
    Field("phone_per_address", int, 8, min=1, max=1000,
          doc="phone requests and streams one address may hold at once (not the configured machines)"),
    Field("phone_misses", int, 20, min=1, max=10000,
          doc="unknown tokens one address may ask for in 10 minutes before it is refused (429)"),
    Field("phone_per_64", int, 2000, min=1, max=50000,
          doc="phone requests and streams one IPv6 /64 may hold at once (the phones on a WiFi share one; "
              "each phone's own address is held to phone_per_address)"),
    Field("phone_misses_per_64", int, 200, min=1, max=100000,
          doc="unknown tokens one IPv6 /64 may ask for in 10 minutes (each phone's address: phone_misses)"),
    Field("phone_tls_certificate", str, None,
          doc="PEM certificate (chain) for the phone server (HTTPS), one the phones trust; public_url then "
              "starts with https://"),
    Field("phone_tls_key", str, None, doc="PEM private key of phone_tls_certificate (0600)"),
    Field("metrics_addresses", list, [], items=str, check=checks.networks,
          doc="addresses (or networks) of the Prometheus servers that may read /metrics; this PC always may"),
)


ROLES = {"system": "系统管理员", "hall": "大厅负责人"}
LEGACY_ADMIN = "admin"   # the account of [ui] admin_password_hash / admin_password_file
ADMIN_FIELDS = (
    Field("id", str, check=lambda v: None if re.match(r"^[A-Za-z0-9_.-]{1,64}$", v) else
          "ids are 1-64 letters, digits, '_', '.' or '-'"),
    Field("name", str, doc="shown on the pages and in the change history"),
    Field("role", str, choices=tuple(ROLES),
          doc="system = 系统管理员 (devices, security settings, accounts, the whole file); hall = 大厅负责人 "
              "(services and matters, windows, staff, hours, quotas, notice, kiosk layout)"),
    Field("password_hash", str, None, check=checks.password_hash,
          doc="werkzeug hash (hwd-ui --hash-password, or set on /admin/config/accounts); none: cannot log in"),
    Field("disabled", bool, False, doc="true: the account cannot log in (kept for the history)"),
)


@dataclass(frozen=True)
class AdminAccount:
    """One ``[[ui.admin]]`` account (or the legacy ``admin`` of ``admin_password_hash``)."""

    id: str
    name: str
    role: str
    password_hash: str | None = None
    disabled: bool = False

    @property
    def role_name(self) -> str:
        return ROLES.get(self.role, self.role)


@settings(UI_FIELDS)
class UiSettings:
    """Typed ``[ui]`` values; every key has its Field's default, so a config without ``[ui]`` works."""

    title: str
    notice: str
    host: str
    port: int
    max_streams: int
    threads: int
    rpc_timeout_s: float
    idle_s: int
    ticket_screen_s: int
    area_dim_s: int
    admin_password_hash: str | None
    admin_password_file: Path | None
    admin: list
    kiosk_pin_hash: str | None
    secret_key_file: Path | None
    demo: bool
    ring: int
    keepalive_s: float
    help_desk: str
    display_page_s: float
    display_call_s: float
    streams_per_address: int
    reserved_streams: int
    display_addresses: list
    connections_per_address: int
    max_connections: int
    reserved_connections: int
    idle_timeout_s: int
    header_timeout_s: float
    session_hours: float
    session_idle_s: int
    login_failures: int
    login_lock_s: int
    tls_certificate: Path | None
    tls_key: Path | None
    public_url: str
    phone_host: str
    phone_port: int
    phone_alert_ahead: int
    phone_max_clients: int
    phone_per_address: int
    phone_misses: int
    phone_per_64: int
    phone_misses_per_64: int
    phone_tls_certificate: Path | None
    phone_tls_key: Path | None
    metrics_addresses: list

    @property
    def tls(self) -> bool:
        return self.tls_certificate is not None

    @property
    def phone_tls(self) -> bool:
        return self.phone_tls_certificate is not None

    @property
    def server_threads(self) -> int:
        return self.threads or self.max_streams + 32

    def admin_hash(self) -> str | None:
        """The admin password hash, from the config or from ``admin_password_file``."""
        return passwords.stored_hash(self.admin_password_hash, self.admin_password_file)

    def accounts(self) -> dict[str, AdminAccount]:
        """Every admin account by id: ``[[ui.admin]]``, and ``admin`` (系统管理员) when
        ``admin_password_hash``/``admin_password_file`` is set and no account takes that id."""
        out = {a.id: a for a in self.admin if isinstance(a, AdminAccount)}
        if LEGACY_ADMIN not in out and (self.admin_password_hash or self.admin_password_file):
            out[LEGACY_ADMIN] = AdminAccount(LEGACY_ADMIN, "管理员", "system", self.admin_hash())
        return out

    def account_hash(self, account: AdminAccount) -> str | None:
        """The account's password hash (the legacy account's read from its file at each login)."""
        if account.id == LEGACY_ADMIN and not any(a.id == LEGACY_ADMIN for a in self.admin):
            return self.admin_hash()
        return account.password_hash

def load(raw: Any, ctx: Any) -> UiSettings:
    """Check the ``[ui]`` table; problems go to ``ctx.problems``."""
    values = check_table(raw, UI_FIELDS, ("ui",), ctx.problems)
    if (values.get("tls_certificate") is None) != (values.get("tls_key") is None):
        ctx.problems.add(("ui", "tls_key" if values.get("tls_certificate") else "tls_certificate"),
                         "give both tls_certificate and tls_key (hwctl tls makes them)")
    values["admin"] = _accounts(values.get("admin") or [], ctx.problems)
    settings = from_values(values, ctx.resolve)
    for key in ("tls_certificate", "tls_key"):
        path = getattr(settings, key)
        if path is not None and not path.is_file():
            ctx.problems.add(("ui", key), f"no such file: {path}")
    _check_ports(values, settings, ctx.problems)
    return settings


def _accounts(items: list, problems: Any) -> list[AdminAccount]:
    """``[[ui.admin]]``: each account checked, ids unique."""
    out: list[AdminAccount] = []
    seen: set[str] = set()
    for i, table in enumerate(items):
        v = check_table(table, ADMIN_FIELDS, ("ui", "admin", i), problems)
        if not all(v.get(k) for k in ("id", "name", "role")):
            continue
        if v["id"] in seen:
            problems.add(("ui", "admin", i, "id"), f"duplicate admin account {v['id']!r}")
            continue
        seen.add(v["id"])
        out.append(AdminAccount(v["id"], v["name"], v["role"], v.get("password_hash"), bool(v.get("disabled"))))
    return out


def _check_ports(values: dict, settings: UiSettings, problems: Any) -> None:
    """The connection reserve and the phone server's TLS keys."""
    if settings.reserved_connections >= settings.max_connections:
        problems.add(("ui", "reserved_connections"), f"must be less than max_connections ({settings.max_connections})")
    if (values.get("phone_tls_certificate") is None) != (values.get("phone_tls_key") is None):
        problems.add(("ui", "phone_tls_key" if values.get("phone_tls_certificate") else "phone_tls_certificate"),
                     "give both phone_tls_certificate and phone_tls_key")
    for key in ("phone_tls_certificate", "phone_tls_key"):
        path = getattr(settings, key)
        if path is not None and not path.is_file():
            problems.add(("ui", key), f"no such file: {path}")
    if settings.phone_tls and settings.public_url.startswith("http://"):
        problems.add(("ui", "public_url"), "the phone server speaks HTTPS (phone_tls_certificate): use https://")


def from_values(values: dict, resolve: Any = None) -> UiSettings:
    resolve = resolve or (lambda v: None if v is None else Path(v))
    fields = {f.name for f in UI_FIELDS}
    kw = {k: v for k, v in values.items() if k in fields and v is not None}
    for key in ("admin_password_file", "secret_key_file", "tls_certificate", "tls_key", "phone_tls_certificate",
                "phone_tls_key"):
        if key in kw:
            kw[key] = resolve(kw[key])
    return UiSettings(**kw)


SECTION = Section("ui", load, (("[ui]", UI_FIELDS), ("[[ui.admin]]", ADMIN_FIELDS)), "Read by `hwd-ui` (the pages); see `docs/ui.md`.")
