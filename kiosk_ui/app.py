"""The app factory of kiosk_ui (Flask tutorial shape).

``create_app`` is the app factory (Flask tutorial shape): one blueprint per page — kiosk,
counter, display, rate, admin — plus the live event stream and health checks. The app holds no
queue state; it calls hwd over ZeroMQ and relays hwd's events to browsers as Server-Sent Events.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, make_response, render_template, request, session

from hwd.client import RpcError, Unreachable

from kiosk_ui import sessions, settings as ui_settings
from kiosk_ui.hwdlink import HallLink, message_for

CSRF_HEADER = "X-CSRF-Token"


def _load_config(config: Any) -> Any:
    from hwd import config as hwd_config

    if config is None:
        config = os.environ.get("HWD_CONFIG")
        if not config:
            raise RuntimeError("no config: pass create_app(config=PATH) or set HWD_CONFIG")
    if isinstance(config, (str, Path)):
        return hwd_config.load(config)
    return config


def _secret_key(settings: ui_settings.UiSettings, state_dir: Path) -> bytes:
    """The session key, kept in a 0600 file so sessions survive a restart."""
    if settings.secret_key_file is not None:
        path = settings.secret_key_file
    elif os.environ.get("STATE_DIRECTORY"):  # systemd's StateDirectory= of hwd-ui.service
        path = Path(os.environ["STATE_DIRECTORY"].split(":")[0]) / "ui-secret"
    else:
        path = state_dir / "ui-secret"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())
    except OSError:
        pass  # read-only state dir: sessions last until restart
    return key


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


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
    app.config.update(
        SECRET_KEY=_secret_key(settings, Path(cfg.daemon.state_dir)),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="hwd_ui",
        SESSION_COOKIE_SECURE=settings.tls,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.session_hours),
        MAX_CONTENT_LENGTH=64 * 1024,
        JSON_AS_ASCII=False,
    )
    app.config.update(test_config)
    app.json.ensure_ascii = False
    link = HallLink(cfg, settings)
    app.extensions["hwd"] = link
    app.extensions["hwd_sessions"] = sessions.Registry(settings.session_hours * 3600)

    from kiosk_ui import (admin, admin_ratings, admin_stats, counter, counter_case, desk, display, health, kiosk,
                          live_bp, metrics, phone_bp, rate)

    for module in (health, live_bp, kiosk, counter, counter_case, desk, display, rate, admin, admin_ratings,
                   admin_stats, phone_bp, metrics):
        app.register_blueprint(module.bp)

    @app.context_processor
    def _globals() -> dict:
        return {"csrf_token": csrf_token, "hall_title": link.title, "ui": settings}

    @app.before_request
    def _check_csrf() -> None:
        if request.method in ("POST", "PUT", "DELETE", "PATCH") and request.blueprint != "phone":
            # the phone page has no session: its ticket's token is the secret (kiosk_ui.phone_bp)
            sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token")
            if not sent or not secrets.compare_digest(str(sent), str(session.get("csrf", ""))):
                abort(400, description="csrf")

    @app.after_request
    def _headers(resp: Any) -> Any:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; frame-ancestors 'self'")
        return resp

    def _wants_json() -> bool:
        return ("/api/" in request.path or request.path.endswith("/state")
                or request.accept_mimetypes.best == "application/json")

    def _error(status: int, message: str, code: Any = None) -> Any:
        if _wants_json():
            return make_response(jsonify({"ok": False, "error": message, "code": code}), status)
        return make_response(render_template("error.html", message=message, status=status), status)

    @app.errorhandler(Unreachable)
    def _unreachable(exc: Unreachable) -> Any:
        resp = _error(503, message_for(exc), exc.code)
        resp.headers["Retry-After"] = "5"
        return resp

    @app.errorhandler(RpcError)
    def _rpc_error(exc: RpcError) -> Any:
        return _error(409, message_for(exc), exc.code)

    @app.errorhandler(400)
    def _bad(exc: Any) -> Any:
        if getattr(exc, "description", "") == "csrf":
            return _error(400, "页面已过期，请刷新后重试", "csrf")
        return _error(400, "请求有误，请重试", 400)

    for status, text in ((403, "没有权限"), (404, "没有这个页面"), (405, "请求方式不对"), (413, "内容太长"),
                         (500, "系统出了点问题，请稍候再试或到服务台咨询")):
        app.register_error_handler(status, lambda exc, status=status, text=text: _error(status, text, status))

    return app
