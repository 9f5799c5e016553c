"""``POST /counter/<window>/case``: the clerk attaches the 办件编号 from the window system to the
ticket being served — or, after 办结, to the window's last finished ticket — via ``hall.case``.

Kept out of counter.py (the console's actions) because it is the 好差评 record's concern; the
counter page's small form and counter_case.js post here. A clerk acts only on tickets their own
window served: the call names the window and the engine refuses any other ticket
(``NOT_THIS_WINDOW``), whatever ticket id the request body carries.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from hwd import errors, wording
from hwd.client import RpcError

from kiosk_ui.counter import _staff
from kiosk_ui.hwdlink import current, message_for, window_or_404

bp = Blueprint("counter_case", __name__, url_prefix="/counter")


@bp.post("/<window>/case")
def attach(window: str):
    window_or_404(window)
    staff = _staff(window)
    if staff is None:
        return jsonify({"ok": False, "error": wording.say(errors.NOT_LOGGED_IN), "code": errors.NOT_LOGGED_IN}), 403
    body = request.get_json(silent=True) or {}
    case_no = str(body.get("case_no") or "").strip()[:64]
    if not case_no:
        return jsonify({"ok": False, "error": "请输入办件编号"}), 400
    link = current()
    ticket = body.get("ticket")
    try:
        if not ticket:
            snap = link.call("hall.state")
            win = next((w for w in snap.get("windows", []) if str(w.get("id")) == window), {})
            ticket = (win.get("current_ticket") or {}).get("id")
        if not ticket:
            done = link.call("hall.tickets", {"window": window, "state": "done", "limit": 5000})
            ticket = done[-1]["id"] if done else None
        if not ticket:
            return jsonify({"ok": False, "error": "当前没有可关联的号"}), 409
        # the engine refuses a ticket this window did not serve (a clerk of window 1 naming window 5's)
        result = link.call("hall.case", {"ticket": ticket, "case_no": case_no, "staff": staff, "window": window})
    except RpcError as exc:
        status = 403 if exc.code == errors.NOT_THIS_WINDOW else 409
        return jsonify({"ok": False, "error": message_for(exc), "code": exc.code}), status
    return jsonify({"ok": True, "result": result})
