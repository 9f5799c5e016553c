"""``/api/*``: the county's numbers as JSON, for other systems and the tests.

``GET /api/halls`` — one object per hall: ``hall_id``, ``issued_today``, ``waiting_now``,
``devices_faulted``, ``outbox_lag_s`` (the contract), and the rest of the all-halls page.
``GET /api/table?group=&period=&date=&hall=`` — a supervision table as JSON."""

from __future__ import annotations

from flask import Blueprint, jsonify

from central import queries
from central.db import connection
from central.settings import current as settings
from central.auth import api_required
from central.pages import table_args

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/halls")
@api_required
def halls():
    with connection() as conn:
        return jsonify(queries.halls(conn, settings().timezone))


@bp.get("/table")
@api_required
def table():
    group, period, start, end, hall = table_args()
    with connection() as conn:
        rows = queries.table(conn, group, start, end, hall)
    return jsonify({"group": group, "period": period, "from": start.isoformat(), "to": end.isoformat(),
                    "hall": hall, "rows": rows})
