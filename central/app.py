"""The app factory of hwd-central (Flask tutorial shape, like kiosk_ui): one blueprint for the
JSON API, one for the pages, one for the login; a psycopg_pool connection pool per app
(central.db). The blueprints read what the factory made through Flask's ``current_app``
(``central.settings.current``, ``central.db.connection``), so none of them imports this module.

The web kit shared with hwd-ui (hwd.web) gives it its session key file (0600), CSRF check,
security headers, error answers, server-side sessions with an idle timeout and a lifetime, login
throttles and the trusted-proxy rule. Who reads what: central.auth.
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Any

from flask import Flask, request

from hwd import audit, paths
from hwd.web import csrf, errors, headers, proxies, secret, sessions, throttle

from central import api, auth, db, pages, settings as central_settings


def _audit_file(s: central_settings.CentralSettings) -> None:
    """hwd-central's audit lines kept as daily files (hwd.audit): ``[central] audit_dir``, else the
    systemd state directory's ``audit/``, else ``audit/`` next to the config."""
    directory = Path(s.audit_dir) if s.audit_dir else (paths.service_state_dir() or s.path.resolve().parent) / "audit"
    audit.to_file(directory, "hwd-central", s.audit_keep_days, zoneinfo.ZoneInfo(s.timezone))


def create_app(config: Any, test_config: dict | None = None) -> Flask:
    """``config``: a CentralSettings or the path of hwd-central's config file."""
    s = config if isinstance(config, central_settings.CentralSettings) else central_settings.load(config)
    app = Flask(__name__)
    key_path = secret.key_file(s.secret_key_file, "central-secret", s.path.resolve().parent / ".central-secret")
    sessions.install(app, s.session_idle_s, s.session_hours * 3600, "hwd_central", secret.load(key_path))
    app.config.update(MAX_CONTENT_LENGTH=16 * 1024)
    app.config.update(test_config or {})
    app.json.ensure_ascii = False
    app.extensions["central"] = s
    db.init_app(app, s)
    proxies.install(app, s.trusted_proxies)
    throttle.install(app, s.login_failures, s.login_lock_s)
    _audit_file(s)

    for module in (auth, api, pages):
        app.register_blueprint(module.bp)

    @app.context_processor
    def _globals() -> dict:
        return {"title": s.title, "logged_in": auth.logged_in(touch=False)}

    csrf.install(app)
    headers.install(app, scripts=False, framing="'none'", no_store=lambda: request.endpoint != "static")
    errors.install(app, lambda: request.path.startswith("/api/"), {401: "需要登录或令牌", 503: db.DOWN})
    return app

