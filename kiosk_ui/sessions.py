"""hwd-ui's logins over the web kit's sessions and throttles (hwd.web): which clerk is logged in
at which counter window or guide desk in this browser, and which addresses the shared backstop
leaves alone (the hall's configured machines and this PC, kiosk_ui.clients).
"""

from __future__ import annotations

from flask import current_app, request, session

from hwd.web import sessions, throttle

from kiosk_ui import clients


def staff_at(kind: str, place: str) -> str | None:
    """The staff logged in at this ``kind`` ("counter", "desk") and place in this browser, while
    the server-side session lives."""
    staff = (session.get(kind) or {}).get(place)
    return staff if staff is not None and sessions.valid(f"{kind}:{place}") else None


def set_staff_at(kind: str, place: str, staff: str | None) -> None:
    """Log ``staff`` in at the place (a new server-side session), or out with None."""
    logged = dict(session.get(kind) or {})
    if staff is None:
        logged.pop(place, None)
        sessions.end(f"{kind}:{place}")
    else:
        logged[place] = staff
        sessions.start(f"{kind}:{place}")
    session[kind] = logged


def configured_client() -> bool:
    """Is this request from one of the hall's configured machines or this PC?"""
    return clients.configured(current_app.extensions["hwd"], request.remote_addr)


def attempt(name: str, account: str, verify, what: str) -> throttle.Attempt:
    """A login check of hwd-ui (hwd.web.throttle.attempt) with the hall's configured machines
    exempt from the shared backstop."""
    return throttle.attempt(name, account, verify, what, exempt=configured_client())
