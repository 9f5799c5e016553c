"""Server-side sessions for every login of both web apps (hwd-ui's admin, counter and guide
desk; hwd-central's supervisors).

Flask's session is a signed cookie: on its own, logging out only forgets it in the browser, and
a copied cookie goes on working. Each login here also gets a random session id kept in this
process with its account, its address, when it began and when it was last used. Logout, a new
login, ``idle_s`` without use (等保: 10 min) or ``lifetime_s`` after the login remove it, and a
cookie whose id is gone is logged out, wherever it was copied to. A restart of the app logs
everyone out (the ids are not written to disk: nothing to steal from the state dir).

What counts as use: a request the person makes — a page, a form, a button's call. A page's own
background reads (GET asking for JSON or an event stream: the counter's refresh after each hall
event, the admin's alert banner) keep nobody logged in.

The session cookie carries ``Secure`` whenever the request came over TLS (or through a trusted
proxy that spoke TLS, hwd.web.proxies), and when the app's config says so.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from typing import Callable

from flask import Flask, current_app, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface

from hwd.audit import AUDIT

EXTENSION = "hwd_web_sessions"
MAX_SESSIONS = 10000
BACKGROUND_TYPES = ("application/json", "text/event-stream")


class _Session:
    __slots__ = ("name", "source", "created", "used")

    def __init__(self, name: str, source: str, now: float):
        self.name, self.source, self.created, self.used = name, source, now, now


class Registry:
    """The live session ids of one app."""

    def __init__(self, idle_s: float, lifetime_s: float, clock: Callable[[], float] = time.monotonic,
                 max_sessions: int = MAX_SESSIONS):
        self.idle_s, self.lifetime_s, self.clock, self.max_sessions = idle_s, lifetime_s, clock, max_sessions
        self._items: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def add(self, name: str, source: str = "") -> str:
        sid = secrets.token_urlsafe(24)
        now = self.clock()
        with self._lock:
            ended = self._sweep(now)
            if len(self._items) >= self.max_sessions:
                oldest = next(iter(self._items))
                ended.append((self._items.pop(oldest), "too many sessions"))
            self._items[sid] = _Session(name, source, now)
        _log_ended(ended)
        return sid

    def valid(self, sid: str | None, name: str, touch: bool = True) -> bool:
        """Is ``sid`` a live session of ``name``? ``touch``: this request is a use of it."""
        if not sid:
            return False
        now = self.clock()
        with self._lock:
            item = self._items.get(sid)
            if item is None or item.name != name:
                return False
            reason = self._over(item, now)
            if reason is None:
                if touch:
                    item.used = now
                return True
            del self._items[sid]
        _log_ended([(item, reason)])
        return False

    def remove(self, sid: str | None) -> bool:
        with self._lock:
            return self._items.pop(sid or "", None) is not None

    def __len__(self) -> int:
        return len(self._items)

    def _over(self, item: _Session, now: float) -> str | None:
        if now - item.created > self.lifetime_s:
            return f"after {self.lifetime_s:.0f} s"
        if now - item.used > self.idle_s:
            return f"idle for {self.idle_s:.0f} s"
        return None

    def _sweep(self, now: float) -> list:
        ended = [(sid, item, self._over(item, now)) for sid, item in self._items.items()]
        for sid, _, reason in ended:
            if reason is not None:
                del self._items[sid]
        return [(item, reason) for _, item, reason in ended if reason is not None]


def _log_ended(ended: list) -> None:
    for item, reason in ended:
        AUDIT.info("session of %s from %s ended: %s", item.name, item.source or "?", reason)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with ``Secure`` on every cookie sent over TLS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return secure_cookies(app)


def secure_cookies(app: Flask | None = None) -> bool:
    """Should a cookie set now carry ``Secure``? Under TLS, or when the app's config says so."""
    app = app or current_app
    return bool(app.config.get("SESSION_COOKIE_SECURE")) or (has_request_context() and request.is_secure)


def install(app: Flask, idle_s: float, lifetime_s: float, cookie: str, key: bytes, secure: bool = False) -> Registry:
    """Server-side sessions for ``app`` in the cookie ``cookie``, signed with ``key`` (hwd.web.secret):
    HttpOnly, SameSite=Strict, ``Secure`` when ``secure`` or under TLS (``secure_cookies``)."""
    app.config.update(SECRET_KEY=key, SESSION_COOKIE_NAME=cookie, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_SECURE=secure,
                      PERMANENT_SESSION_LIFETIME=dt.timedelta(seconds=lifetime_s))
    registry = Registry(idle_s, lifetime_s)
    app.extensions[EXTENSION] = registry
    app.session_interface = CookieSessions()
    return registry


def registry() -> Registry:
    return current_app.extensions[EXTENSION]


def _slot(name: str) -> str:
    return f"sid:{name}"


def user_request() -> bool:
    """Is this request the person's doing (not a page's own background read)?"""
    if request.method not in ("GET", "HEAD"):
        return True
    best = request.accept_mimetypes.best
    return best not in BACKGROUND_TYPES


def start(name: str) -> None:
    """Log in as ``name`` ("admin", "counter:5", "supervisor", ...) in this browser."""
    registry().remove(session.get(_slot(name)))
    session[_slot(name)] = registry().add(name, request.remote_addr or "")
    session.permanent = True


def valid(name: str, touch: bool | None = None) -> bool:
    """Is this browser logged in as ``name``? A use of the session unless ``touch`` is False or
    this is a background read (``user_request``)."""
    return registry().valid(session.get(_slot(name)), name, user_request() if touch is None else touch)


def end(name: str) -> None:
    """Log ``name`` out of this browser and every copy of its cookie."""
    if registry().remove(session.pop(_slot(name), None)):
        AUDIT.info("logout: %s from %s", name, request.remote_addr)
