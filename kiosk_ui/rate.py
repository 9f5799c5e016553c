"""``/rate/<window>``: the evaluation page (好差评评价器) beside a window.

Idle until ``hall.rating.requested`` arrives for this window; then five big buttons with the
standard words; for 不满意 and worse one reason step (rate.js: asked once, 跳过 keeps the score
without reasons); a press calls ``hall.rate``; a thank-you; back to idle when the engine's
``timeout_s`` runs out (no answer is recorded as unrated by the engine, never as a score).

Only an enrolled page rates (hwd.hall.ratings.channels): the admin enrols this browser once for
its window at ``/rate/<window>/enroll``; it then keeps the pad's secret in an HttpOnly cookie
scoped to ``/rate/<window>``, and every rating carries it, so hwd accepts it only for the
ticket this window finished last. A page that is not enrolled says 本设备未启用评价 and shows no
buttons: it could record nothing, so it never thanks anyone.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, make_response, render_template, request, session

from hwd import errors, wording
from hwd.client import RpcError, Unreachable
from hwd.web import sessions

from kiosk_ui.hwdlink import current, message_for, window_or_404

bp = Blueprint("rate", __name__, url_prefix="/rate")

LEVELS = ((5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意"))
PAD_COOKIE = "hwd_pad"
PAD_COOKIE_AGE = 10 * 365 * 86400  # until the admin enrols another pad for the window


def pad_credentials() -> tuple[str, str] | None:
    """(pad, secret) from this browser's pad cookie, if it has one."""
    secret, _, pad = (request.cookies.get(PAD_COOKIE) or "").partition(".")
    return (pad, secret) if pad and secret else None


def _enrolled(window: str, pad: str, secret: str):
    resp = make_response(render_template("rate_enroll.html", window=window_or_404(window), admin=False,
                                         message=f"本设备已登记为评价器 {pad}"))
    resp.set_cookie(PAD_COOKIE, f"{secret}.{pad}", max_age=PAD_COOKIE_AGE, path=f"/rate/{window}",
                    httponly=True, samesite="Strict", secure=sessions.secure_cookies())
    return resp


@bp.route("/<window>/enroll", methods=["GET", "POST"])
def enroll(window: str):
    """Enrol this browser as the window's rating page: an admin session makes a new pad; or type
    a pad id and secret made with ``hwctl call hall.pad.enroll``."""
    w = window_or_404(window)
    admin = sessions.valid("admin")
    if request.method == "GET":
        return render_template("rate_enroll.html", window=w, admin=admin, message=None)
    link = current()
    try:
        if request.form.get("pad"):
            pad, secret = request.form.get("pad", "")[:80], request.form.get("secret", "")[:200]
            link.call("hall.pad.check", {"pad": pad, "secret": secret, "window": window})
        elif admin:
            made = link.call("hall.pad.enroll", {"window": window})
            pad, secret = made["pad"], made["secret"]
        else:
            return render_template("rate_enroll.html", window=w, admin=False, message="请先登录管理后台"), 403
    except RpcError as exc:
        return render_template("rate_enroll.html", window=w, admin=admin, message=message_for(exc)), 403
    session.modified = True
    return _enrolled(window, pad, secret)


def enrolled(window: str) -> bool | None:
    """Is this browser the window's enrolled pad? None when hwd cannot say (down): the page then
    shows its buttons, and a refusal, if any, says so when the citizen presses one."""
    creds = pad_credentials()
    if creds is None:
        return False
    try:
        current().call("hall.pad.check", {"pad": creds[0], "secret": creds[1], "window": window})
    except RpcError as exc:
        if exc.code in (errors.UNKNOWN_PAD, errors.RATING_CHANNEL_REFUSED):
            return False
        return None
    except Unreachable:
        return None
    return True


@bp.get("/<window>")
def page(window: str):
    """The rating page; a browser that is not the window's enrolled pad says it is not in
    service (it could record nothing) instead of inviting a rating. A hall whose province rates
    on its own page (``[hall.upstream] adapter = "h5"``) needs no pad: the page only opens it."""
    w = window_or_404(window)
    province_page = (current().hall_raw.get("upstream") or {}).get("adapter") == "h5"
    return render_template("rate.html", window=w, levels=LEVELS,
                           enrolled=province_page or enrolled(window) is not False)


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
    creds = pad_credentials()
    if creds is None:
        return jsonify({"ok": False, "error": wording.say(errors.UNKNOWN_PAD), "code": errors.UNKNOWN_PAD}), 403
    params = {"window": window, "score": score, "pad": creds[0], "secret": creds[1]}
    reasons = body.get("reasons")
    if reasons is not None:
        if not (isinstance(reasons, list) and len(reasons) <= 20 and all(isinstance(r, str) and len(r) <= 32
                                                                         for r in reasons)):
            return jsonify({"ok": False, "error": "差评原因有误"}), 400
        params["reasons"] = reasons
    if isinstance(body.get("ticket"), (int, str)) and body.get("ticket"):
        params["ticket"] = body["ticket"]
    if body.get("real_name") is True:  # the citizen ticked 实名评价 on this rating (docs/security.md)
        params["real_name"] = True
    try:
        result = current().call("hall.rate", params)
    except RpcError as exc:
        status = 403 if exc.code in (errors.UNKNOWN_PAD, errors.RATING_CHANNEL_REFUSED) else 409
        return jsonify({"ok": False, "error": message_for(exc), "code": exc.code}), status
    return jsonify({"ok": True, "rating": result})
