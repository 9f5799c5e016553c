"""``/rate/<window>``: the evaluation page (好差评评价器) beside a window.

Idle until ``hall.rating.requested`` arrives for this window; then five big buttons with the
standard words; for 不满意 and worse one reason step (rate.js: asked once, 跳过 keeps the score
without reasons); a press calls ``hall.rate``; a thank-you; back to idle when the engine's
``timeout_s`` runs out (no answer is recorded as unrated by the engine, never as a score).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from hwd.client import RpcError

from kiosk_ui.hwdlink import current, message_for, window_or_404

bp = Blueprint("rate", __name__, url_prefix="/rate")

LEVELS = ((5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意"))




@bp.get("/<window>")
def page(window: str):
    return render_template("rate.html", window=window_or_404(window), levels=LEVELS)


@bp.post("/<window>/api/rate")
def rate(window: str):
    """Record the citizen's score (1..5) for the ticket the request named."""
    window_or_404(window)
    body = request.get_json(silent=True) or {}
    try:
        score = int(body.get("score"))
    except (TypeError, ValueError):
        score = 0
    if score not in dict(LEVELS):
        return jsonify({"ok": False, "error": "请选择评价"}), 400
    params = {"window": window, "score": score, "channel": "page"}
    reasons = body.get("reasons")
    if reasons is not None:
        if not (isinstance(reasons, list) and len(reasons) <= 20 and all(isinstance(r, str) and len(r) <= 32
                                                                         for r in reasons)):
            return jsonify({"ok": False, "error": "差评原因有误"}), 400
        params["reasons"] = reasons
    if body.get("ticket"):
        params["ticket"] = body["ticket"]
    try:
        result = current().call("hall.rate", params)
    except RpcError as exc:
        return jsonify({"ok": False, "error": message_for(exc), "code": exc.code}), 409
    return jsonify({"ok": True, "rating": result})
