"""CSRF tokens: one random token per session, sent back by every state-changing request either
in the ``X-CSRF-Token`` header (the pages' fetch calls) or as the form field ``csrf_token``
(plain forms). A request without the session's token is refused with 400 ``csrf`` before any
view runs. Templates get ``csrf_token()``."""

from __future__ import annotations

import secrets
from typing import Callable

from flask import Flask, abort, request, session

HEADER = "X-CSRF-Token"
FIELD = "csrf_token"
UNSAFE = ("POST", "PUT", "DELETE", "PATCH")


def token() -> str:
    """This session's CSRF token (created on first use)."""
    value = session.get("csrf")
    if not value:
        value = session["csrf"] = secrets.token_urlsafe(24)
    return value


def install(app: Flask, exempt: Callable[[], bool] | None = None) -> None:
    """Check every unsafe request of ``app``, except those ``exempt()`` says carry their own
    secret instead of a session (hwd-ui's phone page and its ticket token)."""

    @app.context_processor
    def _token() -> dict:
        return {"csrf_token": token}

    @app.before_request
    def _check() -> None:
        if request.method not in UNSAFE or (exempt is not None and exempt()):
            return
        sent = request.headers.get(HEADER) or request.form.get(FIELD)
        expected = session.get("csrf")
        if not sent or not expected or not secrets.compare_digest(str(sent), str(expected)):
            abort(400, description="csrf")
