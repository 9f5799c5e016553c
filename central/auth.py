"""``/login`` and ``/logout`` for the county's supervisors, and who may read ``/api/*``.

One password for the supervisors' desk ([central] password_hash, a werkzeug hash), checked with
the web kit hwd-ui uses (hwd.web): attempts counted before the check, ``login_failures`` per
address then ``login_lock_s`` refused, each address also under a per-address limit and a backstop
shared by all (a script walking through addresses); the login is a server-side session that
logout, ``session_idle_s`` without use or ``session_hours`` end, for every copy of the cookie;
``?next=`` only to a path of this site.

``/api/*``: with ``Authorization: Bearer <api_token>``, a logged-in session, or from an address
in ``api_networks``. No address is trusted by default: behind a reverse proxy on this host every
client would be 127.0.0.1 (hwd.web.proxies: name the proxy in ``trusted_proxies``)."""

from __future__ import annotations

import math
import secrets
from functools import wraps
from typing import Callable

from flask import Blueprint, abort, make_response, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash

from hwd import errors, wording
from hwd.web import addresses, sessions, throttle
from hwd.web.redirects import safe_target

from central.settings import current as settings

bp = Blueprint("auth", __name__)
ACCOUNT = "supervisor"


def logged_in(touch: bool | None = None) -> bool:
    return sessions.valid(ACCOUNT, touch)


AUTO_REFRESH = "auto"  # ?refresh=auto: the page reloading itself, not the supervisor using it


def login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not logged_in(touch=False if request.args.get("refresh") == AUTO_REFRESH else None):
            return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
        return view(*args, **kwargs)
    return wrapped


def api_allowed() -> bool:
    """The bearer token, a logged-in session, or an address of ``api_networks``."""
    s = settings()
    if logged_in() or addresses.matches(request.remote_addr, s.api_networks):
        return True
    token = s.api_token
    sent = request.headers.get("Authorization", "")
    return bool(token) and sent.startswith("Bearer ") and secrets.compare_digest(sent[7:].strip(), token)


def api_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not api_allowed():
            abort(401)
        return view(*args, **kwargs)
    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, status, wait = None, 200, 0.0
    stored = settings().stored_hash()
    if request.method == "POST":
        password = request.form.get("password", "")[:256]
        tried = throttle.attempt("supervisor", ACCOUNT, lambda: bool(stored) and check_password_hash(stored, password),
                                 "supervisor password")
        if tried.ok:
            session.clear()
            sessions.start(ACCOUNT)
            return redirect(safe_target(request.args.get("next"), url_for("pages.index")))
        if tried.locked:
            wait = tried.wait_s
            error, status = wording.say(errors.LOGIN_LOCKED, "seconds", seconds=math.ceil(wait)), 429
        else:
            error, status = ("密码不正确" if stored else "未设置登录密码（[central] password_hash）"), 403
    resp = make_response(render_template("login.html", error=error), status)
    if status == 429:
        resp.headers["Retry-After"] = str(math.ceil(wait))
    return resp


@bp.route("/logout", methods=["POST"])
def logout():
    sessions.end(ACCOUNT)
    session.clear()
    return redirect(url_for("auth.login"))
