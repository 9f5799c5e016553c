"""The ``[ui]`` section of the hwd config, checked without importing Flask.

``hwd.config`` hands the raw table to ``load(raw, ctx)`` so that ``hwd --check`` reports a typo in
``[ui]`` with the rest of the file's problems. Passwords are never stored in clear: the admin
password and the kiosk exit PIN are werkzeug password hashes (``hwd-ui --hash-password``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwd.schema import Field, check_table

HASH_PREFIXES = ("pbkdf2:", "scrypt:")


def _check_hash(value: str) -> str | None:
    if value.startswith(HASH_PREFIXES) and "$" in value:
        return None
    return "expected a password hash (pbkdf2:sha256:...$salt$hash); make one with hwd-ui --hash-password"


def _check_host(value: str) -> str | None:
    return None if value and " " not in value else "expected a host name or address"


UI_FIELDS = (
    Field("title", str, "", doc="hall name shown on pages; default: [hall] name"),
    Field("notice", str, "", doc="scrolling notice on the hall display"),
    Field("host", str, "127.0.0.1", check=_check_host, doc="address hwd-ui listens on"),
    Field("port", int, 8080, min=1, max=65535),
    Field("max_streams", int, 400, min=1, max=5000,
          doc="live (SSE) clients held at once; one more gets 503 + Retry-After"),
    Field("threads", int, 0, min=0, max=6000, doc="server threads; 0 = max_streams + 32"),
    Field("rpc_timeout_s", float, 2.0, min=0.1, max=30),
    Field("idle_s", int, 60, min=5, max=3600, doc="kiosk returns home after this idle time"),
    Field("ticket_screen_s", int, 30, min=5, max=600, doc="how long the ticket stays on the kiosk"),
    Field("admin_password_hash", str, None, check=_check_hash),
    Field("admin_password_file", str, None, doc="a file holding the admin password hash"),
    Field("kiosk_pin_hash", str, None, check=_check_hash, doc="PIN that leaves the kiosk flow"),
    Field("secret_key_file", str, None, doc="session key file; default STATE_DIR/ui-secret"),
    Field("demo", bool, False, doc="show the virtual hall (emulated screens, receipts, announcements)"),
    Field("ring", int, 512, min=16, max=100000, doc="events kept for Last-Event-ID resume"),
    Field("keepalive_s", float, 10.0, min=0.5, max=120, doc="SSE comment sent when idle"),
    Field("help_desk", str, "请到服务台领取纸质号票", doc="shown when the ticket could not be printed"),
)


@dataclass
class UiSettings:
    """Typed ``[ui]`` values; every field has a default so a config without ``[ui]`` works."""

    title: str = ""
    notice: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    max_streams: int = 400
    threads: int = 0
    rpc_timeout_s: float = 2.0
    idle_s: int = 60
    ticket_screen_s: int = 30
    admin_password_hash: str | None = None
    admin_password_file: Path | None = None
    kiosk_pin_hash: str | None = None
    secret_key_file: Path | None = None
    demo: bool = False
    ring: int = 512
    keepalive_s: float = 10.0
    help_desk: str = "请到服务台领取纸质号票"

    @property
    def server_threads(self) -> int:
        return self.threads or self.max_streams + 32

    def admin_hash(self) -> str | None:
        """The admin password hash, from the config or from ``admin_password_file``."""
        if self.admin_password_hash:
            return self.admin_password_hash
        if self.admin_password_file is not None:
            try:
                text = self.admin_password_file.read_text(encoding="utf-8").strip()
            except OSError:
                return None
            return text if _check_hash(text) is None else None
        return None


def load(raw: Any, ctx: Any) -> UiSettings:
    """Check the ``[ui]`` table; problems go to ``ctx.problems``."""
    values = check_table(raw, UI_FIELDS, ("ui",), ctx.problems)
    return from_values(values, ctx.resolve)


def from_values(values: dict, resolve: Any = None) -> UiSettings:
    resolve = resolve or (lambda v: None if v is None else Path(v))
    fields = {f.name for f in UI_FIELDS}
    kw = {k: v for k, v in values.items() if k in fields and v is not None}
    for key in ("admin_password_file", "secret_key_file"):
        if key in kw:
            kw[key] = resolve(kw[key])
    return UiSettings(**kw)
