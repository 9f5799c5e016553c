"""``POST /counter/<window>/deposit``: the clerk puts a result (证照、批文) in the 24-hour area's
locker for the ticket being served — or, after 办结, the window's last finished ticket — or for a
办件编号, via ``hall.deposit``. The answer names the door (opened now) and the pickup code the
counter prints on a slip for the citizen; the deposit counts once the clerk has shut the door.

Kept out of counter.py (the console's actions): the counter page's small form and
counter_pickup.js post here. A clerk deposits only for tickets their own window served, like
``hall.case`` (counter_case.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from hwd import errors, wording
from hwd.client import RpcError, Unreachable

from kiosk_ui.area import door_label
from kiosk_ui.counter import _staff
from kiosk_ui.hwdlink import current, message_for, window_or_404

bp = Blueprint("counter_pickup", __name__, url_prefix="/counter")


def _window_ticket(link, window: str) -> dict | None:
    """The ticket being served at the window, else its last finished one."""
    snap = link.call("hall.state")
    win = next((w for w in snap.get("windows", []) if str(w.get("id")) == window), {})
    current_ticket = win.get("current_ticket")
    if current_ticket:
        return current_ticket
    done = link.call("hall.tickets", {"window": window, "state": "done", "limit": 5000})
    return done[-1] if done else None


@bp.app_context_processor
def _pickup_on() -> dict:
    """Whether the hall has a locker ([hall.pickup] lockers): the counter shows the form then."""
    link = current_app.extensions.get("hwd")
    pickup = link.hall_raw.get("pickup") if link is not None else None
    return {"pickup_on": bool(isinstance(pickup, dict) and pickup.get("lockers"))}


@bp.post("/<window>/deposit")
def deposit(window: str):
    window_or_404(window)
    staff = _staff(window)
    if staff is None:
        return jsonify({"ok": False, "error": wording.say(errors.NOT_LOGGED_IN), "code": errors.NOT_LOGGED_IN}), 403
    body = request.get_json(silent=True) or {}
    case_no = str(body.get("case_no") or "").strip()[:64]
    id_number = "".join(str(body.get("id_number") or "").split())[:18].upper()
    link = current()
    params = {"staff": staff, "window": window}
    try:
        if body.get("for") == "case":
            if not case_no:
                return jsonify({"ok": False, "error": "请输入办件编号"}), 400
            params["case_no"] = case_no
        else:
            ticket = _window_ticket(link, window)
            if ticket is None:
                return jsonify({"ok": False, "error": "当前没有可存件的号，请输入办件编号"}), 409
            if ticket.get("window") not in (None, window):
                return jsonify({"ok": False, "error": wording.say(errors.NOT_THIS_WINDOW, "case")}), 403
            params["ticket"] = ticket["id"]
            if case_no:
                params["case_no"] = case_no
        if id_number:
            params["id_number"] = id_number
        got = link.call("hall.deposit", params, timeout=link.settings.rpc_timeout_s + 10)
    except (RpcError, Unreachable) as exc:
        return jsonify({"ok": False, "error": message_for(exc), "code": getattr(exc, "code", None)}), 409
    return jsonify({"ok": True, "deposit": {
        "id": got["deposit"], "door": got["door"], "label": door_label(link, got["device"], got["door"]),
        "code": got["code"], "number": got.get("number"), "case_no": got.get("case_no"),
        "hall": link.title, "by_card": got.get("by_card")}})
