"""The pages' link to hwd: RPC through a per-thread client, the event hub, and the parts of the
hall config the pages need (kiosk readers, window screens, services).

The pages hold no queue state: everything they show comes from hwd over ZeroMQ. Errors from
hwd are said to citizens and clerks in the one table of wording (hwd.wording, ``message_for``).

With ``[hall.standby]`` the pages talk to whichever engine PC is active (hwd.client's
FailoverPool and FollowingSubscriber over the engines' endpoints), not to ``[daemon] rpc``: a
failover is a short "hwd down" for the pages, shown and recovered from as one.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import zoneinfo
from pathlib import Path
from typing import Any

from hwd import config as hwd_config, wording
from hwd.errors import ConfigError
from hwd.clock import wall
from hwd.client import ClientPool, FailoverPool, FollowingSubscriber, RpcError, Subscriber, Unreachable, engines_of

from kiosk_ui.eventhub import EventHub
from kiosk_ui.settings import UiSettings

log = logging.getLogger("kiosk_ui.hwd")

def message_for(exc: Exception) -> str:
    """What a page shows for an error from hwd (hwd.wording.for_people)."""
    if isinstance(exc, Unreachable):
        return wording.UNREACHABLE
    return wording.for_people(getattr(exc, "code", None), str(exc), getattr(exc, "data", None))


class HallLink:
    """One per app: RPC, the event hub and the config lookups."""

    def __init__(self, config: Any, settings: UiSettings, overrides: dict | None = None):
        self.config = config
        self.settings = settings
        self._overrides = dict(overrides or {})
        self._file_key = self._stat()
        self._reload_lock = threading.Lock()
        daemon = config.daemon
        keys: dict[str, Any] = {}
        if daemon.rpc.startswith("tcp://") and daemon.server_key:
            keys = {"server_key": daemon.server_key, "client_key": daemon.client_key}
        self._keys = keys
        standby = getattr(config.hall, "standby", None) if getattr(config, "hall", None) is not None else None
        self.engines = engines_of(standby, daemon.client_key) if standby is not None else None
        if self.engines is not None:  # two engine PCs: follow the active one
            self.pool: Any = FailoverPool(self.engines, timeout=settings.rpc_timeout_s, retries=1)
        else:
            self.pool = ClientPool(daemon.rpc, timeout=settings.rpc_timeout_s, retries=1, **keys)
        self.hub = EventHub(self._subscriber, ring=settings.ring, max_streams=settings.max_streams,
                            per_address=settings.streams_per_address, reserved=settings.reserved_streams)
        self._remembered: dict[str, Any] = {}

    def _stat(self) -> tuple | None:
        path = getattr(self.config, "path", None)
        try:
            st = os.stat(path) if path else None
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino) if st else None

    def refresh(self) -> bool:
        """Read the config file again when it changed on disk (a change hwd applied live from
        /admin/config or hwctl, a hand edit), so the pages show the hall as it is now: windows,
        services, kiosks' layouts, the display's notice, the admin accounts. A file with problems
        is not taken (hwd refuses it too): the pages keep the last good one. Keys read once at
        start (ports, TLS, session and stream limits) still need hwd-ui restarted."""
        key = self._stat()
        if key is None or key == self._file_key:
            return False
        with self._reload_lock:
            if key == self._file_key:
                return False
            self._file_key = key
            try:
                fresh = hwd_config.load(self.config.path)
            except ConfigError as exc:
                log.warning("config %s changed but has problems, the pages keep the last good one: %s",
                            self.config.path, exc)
                return False
            settings = fresh.ui if isinstance(fresh.ui, UiSettings) else UiSettings()
            if self._overrides:
                settings = UiSettings(**{**settings.__dict__, **self._overrides})
            self.config, self.settings = fresh, settings
            log.info("config %s read again: the pages show the hall as changed", fresh.path)
            return True

    def remember(self, key: str, value: Any) -> None:
        """Keep the last good answer of something a page must still show while hwd is down."""
        self._remembered[key] = value

    def remembered(self, key: str) -> Any:
        return self._remembered.get(key)

    def _subscriber(self) -> Subscriber | FollowingSubscriber:
        if self.engines is not None:
            return FollowingSubscriber(self.engines, ("",), silence_s=max(3 * self.config.daemon.heartbeat_s, 1.5))
        return Subscriber(self.config.daemon.events, ("",), **self._keys)

    def call(self, method: str, params: dict | None = None, timeout: float | None = None) -> Any:
        """One RPC; raises ``Unreachable`` or ``RpcError``."""
        kwargs = {"timeout": timeout} if timeout is not None else {}
        return self.pool.call(method, params, **kwargs)

    def try_call(self, method: str, params: dict | None = None, default: Any = None) -> Any:
        """An RPC whose failure the page can live with (shows ``default``)."""
        try:
            return self.call(method, params)
        except (RpcError, Unreachable) as exc:
            log.info("%s failed: %s", method, exc)
            return default

    def now(self, ask: bool = True) -> dt.datetime:
        """The hall's time by hwd's clock (a test or training clock too); the PC's own time, in
        the hall's time zone, while hwd does not answer (or ``ask`` is false: hwd is known down)."""
        now = self.try_call("clock.now", default=None) if ask else None
        if isinstance(now, dict) and now.get("now"):
            try:
                return dt.datetime.fromisoformat(now["now"])
            except ValueError:
                pass
        try:
            return dt.datetime.fromtimestamp(wall(), zoneinfo.ZoneInfo(self.config.daemon.timezone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return dt.datetime.fromtimestamp(wall()).astimezone()

    def today(self, ask: bool = True) -> dt.date:
        """The hall's date (see ``now``)."""
        return self.now(ask).date()

    def live(self) -> EventHub:
        return self.hub.start()

    def up(self) -> bool:
        """Does hwd answer? At once when its heartbeats are arriving; else one short
        ``daemon.status`` (a page for a hall with hwd down must not wait out every RPC)."""
        if self.live().alive(max(2.5 * self.config.daemon.heartbeat_s, 1.0)):
            return True
        try:
            self.call("daemon.status", timeout=min(1.0, self.settings.rpc_timeout_s))
        except Unreachable:
            return False
        except RpcError:
            pass
        return True

    # -- config lookups ------------------------------------------------------------------------
    @property
    def hall_raw(self) -> dict:
        raw = self.config.raw.get("hall")
        return raw if isinstance(raw, dict) else {}

    @property
    def title(self) -> str:
        return self.settings.title or str(self.hall_raw.get("name") or "政务服务中心")

    def _find(self, key: str, ident: str) -> dict | None:
        for item in self.hall_raw.get(key, []) or []:
            if isinstance(item, dict) and str(item.get("id")) == str(ident):
                return item
        return None

    def kiosk(self, kiosk_id: str) -> dict | None:
        return self._find("kiosk", kiosk_id)

    def window(self, window_id: str) -> dict | None:
        return self._find("window", window_id)

    def windows(self) -> list[dict]:
        return [w for w in self.hall_raw.get("window", []) or [] if isinstance(w, dict)]

    def config_services(self) -> list[dict]:
        return [s for s in self.hall_raw.get("service", []) or [] if isinstance(s, dict)]

    @property
    def state_dir(self) -> Path:
        return Path(self.config.daemon.state_dir)

    def emulated(self) -> bool:
        return any(getattr(d.url, "scheme", "") == "sim" for d in self.config.devices)


def current() -> HallLink:
    """The app's link to hwd (inside a request)."""
    from flask import current_app

    return current_app.extensions["hwd"]


def window_or_404(window_id: str) -> dict:
    from flask import abort

    window = current().window(window_id)
    if window is None:
        abort(404)
    return window


def kiosk_or_404(kiosk_id: str) -> dict:
    from flask import abort

    kiosk = current().kiosk(kiosk_id)
    if kiosk is None:
        abort(404)
    return kiosk
