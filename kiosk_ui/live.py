"""``/live``: the hall's public events as Server-Sent Events (display, counter, window screens,
rating page). Card and scanner events are not served here: each kiosk gets its own reader's
events from ``/kiosk/<kiosk>/live`` only."""

from __future__ import annotations

from typing import Iterable

from flask import Blueprint, Response, current_app, request

from kiosk_ui.eventhub import stream_body

bp = Blueprint("live", __name__)

# speaker.announced/failed: the display holds each call on its banner while it is announced
PUBLIC = ("hall.", "device.state", "display.content", "daemon.", "speaker.announced", "speaker.failed")


def sse_response(prefixes: Iterable[str], devices: Iterable[str] | None = None) -> Response:
    """An SSE response for these topic prefixes (and, for device events, these devices), within
    the per-address and reserved-pool limits (kiosk_ui.eventhub)."""
    from kiosk_ui import clients

    link = current_app.extensions["hwd"]
    hub = link.live()
    source = request.remote_addr
    stream = hub.open(tuple(prefixes), frozenset(devices) if devices is not None else None, source=source,
                      reserved=clients.configured(link, source))
    if stream is None:
        resp = Response("服务器繁忙，请稍候\n", status=503, mimetype="text/plain")
        resp.headers["Retry-After"] = "5"
        return resp
    last_id = request.headers.get("Last-Event-ID") or request.args.get("last_id")
    body = stream_body(hub, stream, last_id, link.settings.keepalive_s)
    resp = Response(body, mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Accel-Buffering"] = "no"
    resp.call_on_close(lambda: hub.close(stream))  # also when the body was never started
    return resp


@bp.get("/live")
def live():
    """Events whose topic starts with one of ``?topic=`` (default: all public ones); device events
    only of the ``?device=`` ids when given."""
    wanted = tuple(t for t in request.args.getlist("topic") if t.startswith(PUBLIC)) or PUBLIC
    devices = request.args.getlist("device") or None
    return sse_response(wanted, devices)
