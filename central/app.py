"""The app factory of hwd-central (Flask tutorial shape, like kiosk_ui): one blueprint for the
JSON API, one for the pages, one for the login; a psycopg_pool connection pool per app.

Who reads what: the pages need the supervisors' login (a werkzeug password hash, session cookie
HttpOnly + SameSite=Strict, CSRF token on the login form). ``/api/*`` is readable without login
from the machine itself (127.0.0.1 / ::1) or with ``Authorization: Bearer <[central] api_token>``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, make_response, render_template, request, session

from central import settings as central_settings


def _secret_key(s: central_settings.CentralSettings) -> bytes:
    if s.secret_key_file:
        path = Path(s.secret_key_file)
    elif os.environ.get("STATE_DIRECTORY"):
        path = Path(os.environ["STATE_DIRECTORY"].split(":")[0]) / "central-secret"
    else:
        path = s.path.resolve().parent / ".central-secret"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())
    except OSError:
        pass  # sessions last until restart
    return key


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def create_app(config: Any, test_config: dict | None = None) -> Flask:
    """``config``: a CentralSettings or the path of hwd-central's config file."""
    from psycopg_pool import ConnectionPool

    s = config if isinstance(config, central_settings.CentralSettings) else central_settings.load(config)
    app = Flask(__name__)
    app.config.update(SECRET_KEY=_secret_key(s), SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_NAME="hwd_central", MAX_CONTENT_LENGTH=16 * 1024)
    app.config.update(test_config or {})
    app.json.ensure_ascii = False
    pool = ConnectionPool(s.dsn, min_size=1, max_size=s.pool_size, open=False, name="hwd-central",
                          kwargs={"autocommit": True, "application_name": "hwd-central"})
    app.extensions["central"] = {"settings": s, "pool": pool}

    from central import api, auth, pages

    for module in (auth, api, pages):
        app.register_blueprint(module.bp)

    @app.context_processor
    def _globals() -> dict:
        return {"csrf_token": csrf_token, "title": s.title, "logged_in": bool(session.get("supervisor"))}

    @app.before_request
    def _check_csrf() -> None:
        if request.method in ("POST", "PUT", "DELETE", "PATCH"):
            sent = request.form.get("csrf_token")
            if not sent or not secrets.compare_digest(str(sent), str(session.get("csrf", ""))):
                abort(400)

    @app.after_request
    def _headers(resp: Any) -> Any:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                                "style-src 'self'; script-src 'none'; frame-ancestors 'none'")
        return resp

    def _error(status: int, text: str) -> Any:
        if request.path.startswith("/api/"):
            return make_response(jsonify({"ok": False, "error": text}), status)
        return make_response(render_template("error.html", message=text, status=status), status)

    import psycopg
    import psycopg_pool

    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(psycopg_pool.PoolTimeout)
    def _db_down(exc: Any) -> Any:
        resp = _error(503, "数据库暂时无法连接，请稍候再试")
        resp.headers["Retry-After"] = "5"
        return resp

    for status, text in ((400, "请求有误"), (401, "需要登录或令牌"), (403, "没有权限"), (404, "没有这个页面"),
                         (405, "请求方式不对"), (413, "内容太长"), (503, "数据库暂时无法连接，请稍候再试"),
                         (500, "系统出了点问题，请稍候再试")):
        app.register_error_handler(status, lambda exc, status=status, text=text: _error(status, text))
    return app


def db():
    """A pooled connection for this request: ``with db() as conn: ...``."""
    from flask import current_app

    pool = current_app.extensions["central"]["pool"]
    if pool.closed:
        pool.open(wait=False)
    return pool.connection(timeout=10)


def settings() -> central_settings.CentralSettings:
    from flask import current_app

    return current_app.extensions["central"]["settings"]
