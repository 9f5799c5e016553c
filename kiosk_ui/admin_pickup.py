"""``/admin/pickup``: the 24-hour area's locker for the hall manager — the doors' alarms (left
open, forced, jammed) first, then the results not yet collected, oldest first (overdue after
``[hall.pickup] stale_days``), then the latest picked up. An alarm is cleared here after somebody
has looked at the door. The dashboard shows the alarms and the count (``pickup_panel``).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from hwd.client import RpcError, Unreachable

from kiosk_ui.admin import _demo, login_required
from kiosk_ui.hwdlink import current, message_for

bp = Blueprint("admin_pickup", __name__, url_prefix="/admin/pickup")
STATE_NAMES = {"loading": "正在存入", "waiting": "待取件", "collecting": "正在取件", "picked": "已取件",
               "withdrawn": "已取回", "failed": "柜门未开", "cancelled": "已取消"}


@bp.app_template_global()
def pickup_panel() -> dict | None:
    """The lockers' summary for the dashboard (None: no locker, or hwd does not answer)."""
    link = current()
    pickup = link.hall_raw.get("pickup")
    if not (isinstance(pickup, dict) and pickup.get("lockers")):
        return None
    found = link.try_call("hall.pickup_state", default=None)
    return found if isinstance(found, dict) else None


@bp.get("")
@login_required
def page():
    link = current()
    summary = link.call("hall.pickup_state")
    waiting = link.call("hall.deposits", {"limit": 1000})
    picked = link.call("hall.deposits", {"state": "picked", "limit": 50})
    for row in waiting + picked:
        row["state_name"] = STATE_NAMES.get(row["state"], row["state"])
    return render_template("admin/pickup.html", summary=summary, waiting=waiting, picked=picked, demo=_demo(link))


@bp.get("/state")
@login_required
def state():
    return jsonify({"ok": True, "summary": current().call("hall.pickup_state")})


@bp.post("/alarm/<int:alarm>/clear")
@login_required
def clear(alarm: int):
    note = request.form.get("note", "").strip()[:200] or None
    try:
        current().call("hall.locker_alarm_clear", {"alarm": alarm, "staff": "admin", "note": note})
    except (RpcError, Unreachable) as exc:
        return render_template("error.html", message=message_for(exc), status=409), 409
    return redirect(url_for("admin_pickup.page"))
