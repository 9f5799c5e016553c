"""``/healthz`` (the process answers) and ``/readyz`` (hwd answers too), for systemd and
load balancers. ``/`` lists the pages for whoever opens the server's address by hand."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from hwd.client import RpcError, Unreachable

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The web process is alive."""
    return jsonify({"ok": True})


@bp.get("/readyz")
def readyz():
    """hwd answers RPC; 503 with Retry-After otherwise."""
    link = current_app.extensions["hwd"]
    try:
        status = link.call("daemon.status", timeout=min(1.0, link.settings.rpc_timeout_s))
    except (Unreachable, RpcError) as exc:
        resp = jsonify({"ok": False, "error": str(exc)})
        resp.status_code = 503
        resp.headers["Retry-After"] = "5"
        return resp
    return jsonify({"ok": True, "hwd": {k: status.get(k) for k in ("version", "uptime_s", "seq", "hall")},
                    "streams": len(link.hub.streams)})


@bp.get("/")
def index():
    """A plain list of the pages (the kiosk browser never comes here: it starts on /kiosk/ID)."""
    link = current_app.extensions["hwd"]
    raw = link.hall_raw
    return render_template("index.html", kiosks=raw.get("kiosk", []) or [], windows=link.windows())
