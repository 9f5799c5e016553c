"""The app factory of kiosk_ui (Flask tutorial shape).

``create_app`` is the app factory (Flask tutorial shape): one blueprint per page — kiosk,
counter, display, rate, admin — plus the live event stream and health checks. The app holds no
queue state; it calls hwd over ZeroMQ and relays hwd's events to browsers as Server-Sent Events.
Its session key, CSRF check, security headers, error answers, server-side sessions and login
throttles are the web kit's (hwd.web), shared with hwd-central.
"""

from __future__ import annotations

import os
import zoneinfo
from pathlib import Path
from typing import Any

from flask import Flask, request

from hwd import audit, paths
from hwd.client import RpcError, Unreachable
from hwd.web import csrf, errors, headers, secret, sessions, throttle

from kiosk_ui import settings as ui_settings
from kiosk_ui.hwdlink import HallLink, message_for

ADMIN_ACTION_METHODS = ("POST", "PUT", "DELETE", "PATCH")


def _load_config(config: Any) -> Any:
    from hwd import config as hwd_config

    if config is None:
        config = os.environ.get("HWD_CONFIG")
        if not config:
            raise RuntimeError("no config: pass create_app(config=PATH) or set HWD_CONFIG")
    if isinstance(config, (str, Path)):
        return hwd_config.load(config)
    return config


def _audit_file(cfg: Any) -> None:
    """hwd-ui's audit lines kept as files for the assessor (hwd.audit): in its systemd state
    directory, else beside hwd's, as ``hwd-ui-DAY.log``."""
    base = paths.service_state_dir() or Path(cfg.daemon.state_dir)
    audit.to_file(base / "audit", "hwd-ui", cfg.daemon.audit_keep_days, zoneinfo.ZoneInfo(cfg.daemon.timezone))


def create_app(config: Any = None, test_config: dict | None = None) -> Flask:
    """Build the app for a hwd config (a ``Config``, a path, or ``$HWD_CONFIG``).

    ``test_config`` updates Flask's config; its ``"UI"`` key (a dict) overrides ``[ui]`` values.
    """
    cfg = _load_config(config)
    settings = cfg.ui if isinstance(cfg.ui, ui_settings.UiSettings) else ui_settings.UiSettings()
    test_config = dict(test_config or {})
    overrides = test_config.pop("UI", None)
    if overrides:
        settings = ui_settings.UiSettings(**{**settings.__dict__, **overrides})
    app = Flask(__name__)
    key = secret.load(secret.key_file(settings.secret_key_file, "ui-secret", Path(cfg.daemon.state_dir) / "ui-secret"))
    sessions.install(app, settings.session_idle_s, settings.session_hours * 3600, "hwd_ui", key, settings.tls)
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024)
    app.config.update(test_config)
    app.json.ensure_ascii = False
    link = HallLink(cfg, settings, overrides)
    app.extensions["hwd"] = link
    throttle.install(app, settings.login_failures, settings.login_lock_s)
    _audit_file(cfg)

    from kiosk_ui import (admin, admin_config, admin_history, admin_pickup, admin_ratings, admin_stats, area, counter,
                          counter_case, counter_pickup, desk, display, health, kiosk, live, metrics, phone, rate)

    for module in (health, live, kiosk, area, counter, counter_case, counter_pickup, desk, display, rate, admin,
                   admin_ratings, admin_stats, admin_pickup, admin_config, admin_history, phone, metrics):
        app.register_blueprint(module.bp)

    @app.before_request
    def _current_config() -> None:
        link.refresh()  # a change applied live (or a hand edit): the pages show the hall as it is

    @app.context_processor
    def _globals() -> dict:
        return {"hall_title": link.title, "ui": link.settings}

    # the phone page has no session: its ticket's token is the secret (kiosk_ui.phone)
    csrf.install(app, exempt=lambda: request.blueprint == "phone")
    headers.install(app, scripts=True, framing="'self'")

    @app.after_request
    def _admin_actions(resp: Any) -> Any:
        """Every change made with the admin's login is an audit line (等保 安全审计)."""
        if request.method in ADMIN_ACTION_METHODS and request.endpoint not in ("admin.login", "admin.logout") \
                and sessions.valid("admin", touch=False):
            audit.AUDIT.info("admin action %s %s from %s: %s", request.method, request.path, request.remote_addr,
                             resp.status_code)
        return resp

    def _wants_json() -> bool:
        return ("/api/" in request.path or request.path.endswith("/state")
                or request.accept_mimetypes.best == "application/json")

    errors.install(app, _wants_json, {500: "系统出了点问题，请稍候再试或到服务台咨询"})

    @app.errorhandler(Unreachable)
    def _unreachable(exc: Unreachable) -> Any:
        resp = errors.respond(503, message_for(exc), exc.code)
        resp.headers["Retry-After"] = "5"
        return resp

    @app.errorhandler(RpcError)
    def _rpc_error(exc: RpcError) -> Any:
        return errors.respond(409, message_for(exc), exc.code)

    @app.errorhandler(400)
    def _bad(exc: Any) -> Any:
        if getattr(exc, "description", "") == "csrf":
            return errors.respond(400, "页面已过期，请刷新后重试", "csrf")
        return errors.respond(400, "请求有误，请重试", 400)

    return app
