"""``GET /metrics``: hwd's and hwd-ui's numbers in the Prometheus text format, for the county's
Prometheus (names and meanings: docs/deploy.md, "Metrics").

Who may read it: this PC (its own node_exporter, ``hwctl``), the addresses in ``[ui]
metrics_addresses`` (the Prometheus servers), and a browser logged in to /admin — as the admin
pages, nobody else on the hall LAN: the numbers say which devices are down and how long people
wait. A scrape costs one ``daemon.metrics`` RPC; when hwd does not answer, the page still
answers with ``hwd_up 0`` and hwd-ui's own gauges, so an alert can tell the two apart.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client.core import GaugeMetricFamily

from hwd import prometheus
from hwd.client import RpcError, Unreachable
from hwd.web import sessions
from hwd.web.addresses import LOCAL, matches

bp = Blueprint("metrics", __name__)


def allowed(remote: str | None, settings) -> bool:
    return matches(remote, list(LOCAL) + list(settings.metrics_addresses or [])) or sessions.valid("admin", touch=False)


def ui_families(link) -> list:
    streams = GaugeMetricFamily("hwd_ui_streams", "live event streams (SSE) open to the pages")
    streams.add_metric([], len(link.hub.streams))
    phones = GaugeMetricFamily("hwd_ui_phones", "phones connected to the phone server (open requests and "
                               "live streams of /t/<token>)")
    server = link.remembered("phone_server")
    phones.add_metric([], server.requests.open if server is not None else 0)
    return [streams, phones]


@bp.get("/metrics")
def metrics() -> Response:
    link = current_app.extensions["hwd"]
    if not allowed(request.remote_addr, link.settings):
        abort(403)
    try:
        data = link.call("daemon.metrics", timeout=link.settings.rpc_timeout_s)
    except (Unreachable, RpcError):
        data = None
    body = prometheus.render([*prometheus.daemon_families(data), *ui_families(link)])
    resp = Response(body, content_type=prometheus.CONTENT_TYPE)
    resp.headers["Cache-Control"] = "no-store"
    return resp
