"""``/admin/pickup``: the 24-hour area's locker for the hall manager — the doors' alarms (left
open, forced, jammed) first, then the results not yet collected, oldest first (overdue after
``[hall.pickup] stale_days``), then the latest picked up. An alarm is cleared here after somebody
has looked at the door. The dashboard shows the alarms and the count (``pickup_panel``).

The virtual hall (``/admin/hall``) shows every locker's doors (``/admin/pickup/doors``: open or
shut, and the result each holds); in a demo an emulated door is shut there by hand
(``sim.control shut``), as the clerk or the citizen would.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from hwd.client import RpcError, Unreachable

from kiosk_ui.admin import _demo, demo_open, login_required
from kiosk_ui.hwdlink import HallLink, current, message_for

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


def lockers(link: HallLink) -> list[dict]:
    """Each locker's doors for the virtual hall: open or shut, jammed, and the result in it."""
    devices = [dev for dev in link.config.devices if dev.kind == "locker"]
    if not devices:
        return []
    held = {(row["device"], row["door"]): row
            for row in link.try_call("hall.deposits", {"limit": 1000}, default=None) or []}
    out = []
    for dev in devices:
        got = link.try_call("locker.status", {"device": dev.id}, default=None)
        doors = []
        for d in (got or {}).get("doors", []) if isinstance(got, dict) else []:
            dep = held.get((dev.id, d["door"]))
            doors.append({"door": d["door"], "state": d["state"], "jammed": d["door"] in got.get("jammed", []),
                          "holds": (dep.get("number") or dep.get("case_no") or "") if dep else "",
                          "deposit_state": STATE_NAMES.get(dep["state"], dep["state"]) if dep else ""})
        out.append({"device": dev.id, "online": isinstance(got, dict), "doors": doors,
                    "emulated": dev.url.scheme == "sim"})
    return out


@bp.get("/doors")
@login_required
@demo_open
def doors():
    return jsonify({"ok": True, "lockers": lockers(current()), "demo": _demo(current())})


@bp.post("/door/<device>/<int:door>/shut")
@login_required
@demo_open
def shut(device: str, door: int):
    """Demo only: somebody shuts an emulated door by hand (the emulator's ``shut``)."""
    link = current()
    dev = next((d for d in link.config.devices if d.id == device and d.kind == "locker"), None)
    if dev is None or dev.url.scheme != "sim" or not _demo(link):
        return jsonify({"ok": False, "error": "只有演示大厅的模拟取件柜可以在这里关门"}), 403
    try:
        link.call("sim.control", {"device": device, "action": "shut", "params": {"door": door}})
    except (RpcError, Unreachable) as exc:
        return jsonify({"ok": False, "error": message_for(exc)}), 409
    return jsonify({"ok": True})
