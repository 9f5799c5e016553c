"""Server-side sessions for the admin, counter and guide-desk logins.

Flask's session is a signed cookie: on its own, logging out only forgets it in the browser, and
a copied cookie went on working for 31 days. Each login here also gets a random session id kept
in this process; logout (or a new login, or ``[ui] session_hours``) removes it, and a cookie
whose id is gone is logged out, wherever it was copied to. A restart of hwd-ui logs everyone
out (the ids are not written to disk: nothing to steal from the state dir).
"""

from __future__ import annotations

import secrets
import threading
import time

from flask import current_app, session

from kiosk_ui import clients

MAX_SESSIONS = 10000


class Registry:
    def __init__(self, max_age_s: float):
        self.max_age_s = max_age_s
        self._items: dict[str, tuple[str, float]] = {}  # sid -> (name, created monotonic)
        self._lock = threading.Lock()

    def add(self, name: str) -> str:
        sid = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if len(self._items) >= MAX_SESSIONS:
                self._items.pop(next(iter(self._items)))
            self._items[sid] = (name, now)
        return sid

    def valid(self, sid: str | None, name: str) -> bool:
        if not sid:
            return False
        with self._lock:
            item = self._items.get(sid)
            if item is None or item[0] != name:
                return False
            if time.monotonic() - item[1] > self.max_age_s:
                del self._items[sid]
                return False
            return True

    def remove(self, sid: str | None) -> None:
        with self._lock:
            self._items.pop(sid or "", None)

    def _expire(self, now: float) -> None:
        for sid in [s for s, (_, created) in self._items.items() if now - created > self.max_age_s]:
            del self._items[sid]


def registry() -> Registry:
    return current_app.extensions["hwd_sessions"]


def _slot(name: str) -> str:
    return f"sid:{name}"


def start(name: str) -> None:
    """Log in as ``name`` ("admin", "counter:5", ...) in this browser."""
    registry().remove(session.get(_slot(name)))
    session[_slot(name)] = registry().add(name)
    session.permanent = True


def valid(name: str) -> bool:
    return registry().valid(session.get(_slot(name)), name)


def end(name: str) -> None:
    registry().remove(session.pop(_slot(name), None))


def staff_at(kind: str, place: str) -> str | None:
    """The staff logged in at this ``kind`` ("counter", "desk") and place in this browser, while
    the server-side session lives."""
    staff = (session.get(kind) or {}).get(place)
    return staff if staff is not None and valid(f"{kind}:{place}") else None


def set_staff_at(kind: str, place: str, staff: str | None) -> None:
    """Log ``staff`` in at the place (a new server-side session), or out with None."""
    logged = dict(session.get(kind) or {})
    if staff is None:
        logged.pop(place, None)
        end(f"{kind}:{place}")
    else:
        logged[place] = staff
        start(f"{kind}:{place}")
    session[kind] = logged


ANYWHERE = "anywhere"  # the key every unconfigured address's failures count under as well
BACKSTOP = dict(free=50, base_s=1.0, max_s=30.0)  # past 50 such failures, one guess per ≤ 30 s in all


def login_keys(remote: str | None) -> tuple[str, ...]:
    """What a password or PIN attempt from ``remote`` counts against: its address, and — unless it
    is one of the hall's configured machines or this PC — the backstop shared by all the others,
    so a script walking through many addresses is slowed too. An IPv6 address counts as its /64."""
    source = f"source:{clients.key(remote)}"
    return (source,) if clients.configured(current_app.extensions["hwd"], remote) else (source, ANYWHERE)


def login_succeeded(lockout, keys: tuple[str, ...]) -> None:
    """The address's failures are cleared; the backstop only gives back this attempt."""
    lockout.succeeded(keys[0])
    lockout.release(*keys[1:])


def lockout(name: str, **settings):
    """This app's login throttle ``name`` (hwd.lockout), made on first use."""
    from hwd.lockout import Lockout

    table = current_app.extensions.setdefault("hwd_lockouts", {})
    if name not in table:
        table[name] = Lockout(**settings)
    return table[name]


def secure_cookies() -> bool:
    """Cookies carry ``Secure`` when hwd-ui serves TLS."""
    return bool(current_app.config.get("SESSION_COOKIE_SECURE"))
