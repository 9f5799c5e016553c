"""``/t/<token>`` on hwd-ui's main port too: the same page, polling instead of a live stream.

The phone server (kiosk_ui.phone_server, ``[ui] phone_port``) is where the ticket's QR leads, and
it holds thousands of live phones. This blueprint answers the same path on the pages' own port,
for a link typed by hand, a hall that turned the phone server off, or a test client: the page
polls ``/state`` (ETag → 304) every 5 s, every 2 s once it alerts. It reads the phone server's
snapshot when one runs in this process, else asks hwd (``hall.phone_view``). Unknown tokens are
counted per address as on the phone server. No CSRF token is asked (there is no session: the
ticket's token is the secret), but the rating must come as JSON, which a cross-site form cannot
send.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, current_app, jsonify, request

from hwd import errors
from hwd.client import RpcError, Unreachable
from kiosk_ui import clients, phone_pages, phone_words
from kiosk_ui.hwdlink import message_for

bp = Blueprint("phone", __name__)


def _misses() -> phone_pages.Misses:
    return phone_pages.misses_of(current_app.extensions["hwd"])


def _refused(status: int, text: str) -> Response:
    resp = Response(text, status=status, mimetype="text/plain")
    resp.headers.update(phone_pages.headers())
    resp.headers["Retry-After"] = "30"
    return resp


def _not_found(json_reply: bool) -> Response:
    _misses().miss(request.remote_addr)
    if json_reply:
        resp = jsonify({"error": phone_words.INVALID})
        resp.status_code = 404
    else:
        resp = Response(phone_pages.invalid_html(), status=404, mimetype="text/html")
    resp.headers.update(phone_pages.headers())
    return resp


def _entry(token: str):
    """The ticket's page entry (the in-process snapshot, else hwd), or None for any other token."""
    link = current_app.extensions["hwd"]
    if not phone_pages.TOKEN.match(token):
        return None
    server = link.remembered("phone_server")
    if server is not None and server.hub.ready:
        return server.hub.get(token)
    try:
        result = link.call("hall.phone_view", {"token": token})
    except RpcError as exc:
        if exc.code == errors.BAD_RATING_TOKEN:
            return None
        raise
    return phone_pages.entry_of(result, link.settings.phone_alert_ahead, token)


@bp.before_request
def _limit():
    link = current_app.extensions["hwd"]
    addr = request.remote_addr or ""
    if not clients.configured(link, addr) and _misses().blocked(addr):
        return _refused(429, phone_words.BUSY)
    return None


@bp.get("/t/<token>")
def page(token: str):
    entry = _entry(token)
    if entry is None:
        return _not_found(False)
    link = current_app.extensions["hwd"]
    nonce = secrets.token_urlsafe(12)
    resp = Response(phone_pages.page_html(token, entry, link.title, nonce, live="poll"), mimetype="text/html")
    resp.headers.update(phone_pages.headers(nonce))
    return resp


@bp.get("/t/<token>/state")
def state(token: str):
    entry = _entry(token)
    if entry is None:
        return _not_found(True)
    if request.headers.get("If-None-Match") == entry.etag:
        resp = Response(status=304)
    else:
        resp = Response(entry.body, mimetype="application/json")
    resp.headers.update(phone_pages.headers())
    resp.headers["ETag"] = entry.etag  # the page sends it back itself: no cache is needed for a 304
    return resp


@bp.post("/t/<token>/rate")
def rate(token: str):
    if _entry(token) is None:
        return _not_found(True)
    if not request.is_json:
        return _json({"error": "请求格式不正确"}, 415)
    params = phone_pages.rate_params(request.get_json(silent=True))
    if params is None:
        return _json({"error": "请选择评价"}, 400)
    link = current_app.extensions["hwd"]
    try:
        result = link.call("hall.rate", {"token": token, **params})
    except (RpcError, Unreachable) as exc:
        return _json({"error": message_for(exc), "code": exc.code}, 503 if isinstance(exc, Unreachable) else 409)
    server = link.remembered("phone_server")
    if server is not None:
        server.hub.poke()
    return _json({"ok": True, "level": result.get("level")}, 200)


@bp.post("/t/<token>/cancel")
def cancel(token: str):
    """取消排队 (after the page's confirmation): hall.cancel by the ticket's own token."""
    if _entry(token) is None:
        return _not_found(True)
    if not request.is_json:
        return _json({"error": "请求格式不正确"}, 415)
    link = current_app.extensions["hwd"]
    try:
        result = link.call("hall.cancel", {"token": token})
    except (RpcError, Unreachable) as exc:
        return _json({"error": message_for(exc), "code": exc.code}, 503 if isinstance(exc, Unreachable) else 409)
    server = link.remembered("phone_server")
    if server is not None:
        server.hub.poke()
    return _json({"ok": True, "state": result.get("state")}, 200)


def _json(obj: dict, status: int) -> Response:
    resp = jsonify(obj)
    resp.status_code = status
    resp.headers.update(phone_pages.headers())
    return resp
