"""``/login`` and ``/logout`` for the county's supervisors, and who may read ``/api/*``.

One password for the supervisors' desk ([central] password_hash, a werkzeug hash); failed
attempts per client address are limited (5 a minute) so a guessing script gets 429s."""

from __future__ import annotations

import secrets
import threading
import time
from functools import wraps
from typing import Callable

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash

from central.app import settings

bp = Blueprint("auth", __name__)
LOCAL = ("127.0.0.1", "::1")
MAX_FAILS, WINDOW_S = 5, 60.0
_fails: dict[str, list[float]] = {}
_lock = threading.Lock()


def _too_many(addr: str) -> bool:
    now = time.monotonic()
    with _lock:
        recent = [t for t in _fails.get(addr, []) if now - t < WINDOW_S]
        _fails[addr] = recent
        if len(_fails) > 10000:  # bounded: forget the oldest addresses
            for key in list(_fails)[:5000]:
                _fails.pop(key, None)
        return len(recent) >= MAX_FAILS


def _failed(addr: str) -> None:
    with _lock:
        _fails.setdefault(addr, []).append(time.monotonic())


def login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not session.get("supervisor"):
            return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
        return view(*args, **kwargs)
    return wrapped


def api_allowed() -> bool:
    """127.0.0.1 reads the API freely; others need the bearer token (or a logged-in session)."""
    if request.remote_addr in LOCAL or session.get("supervisor"):
        return True
    token = settings().api_token
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
    error, status = None, 200
    stored = settings().stored_hash()
    if request.method == "POST":
        addr = request.remote_addr or "?"
        if _too_many(addr):
            error, status = "尝试次数过多，请一分钟后再试", 429
        elif stored and check_password_hash(stored, request.form.get("password", "")[:256]):
            session.clear()
            session["supervisor"] = True
            target = request.args.get("next", "/")
            return redirect(target if target.startswith("/") and not target.startswith("//") else "/")
        else:
            _failed(addr)
            error, status = ("密码不正确" if stored else "未设置登录密码（[central] password_hash）"), 403
    return render_template("login.html", error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
