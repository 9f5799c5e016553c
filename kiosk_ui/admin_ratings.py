"""``/admin/haocp``: the hall manager's 好差评 desk — 差评 work orders (overdue ones stand out)
with their step history and the form for the next step, and the upstream outbox (backlog,
oldest pending, last error, rejected records with a 重新上报 button).

Its own blueprint and template so the dashboard (admin.py) stays one screen's job; it reuses
the admin login and CSRF checks.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from hwd.client import RpcError
from hwd.hall.ratings.workorders import STATE_NAMES, STEP_NAMES, VERDICT_NAMES

from kiosk_ui.admin import login_required
from kiosk_ui.hwdlink import current, message_for

bp = Blueprint("admin_ratings", __name__, url_prefix="/admin/haocp")

@bp.app_template_filter("iso_short")
def iso_short(text: str) -> str:
    """``2026-11-23T09:05:30+08:00`` → ``11-23 09:05`` (the hall's own time zone already)."""
    return text[5:16].replace("T", " ") if isinstance(text, str) and len(text) >= 16 else (text or "")


@bp.get("")
@login_required
def page():
    link = current()
    orders = link.try_call("hall.workorders", {"limit": 200}, default=[]) or []
    orders = sorted(orders, key=lambda w: (w.get("state") == "closed", not (w.get("overdue") or
                                                                             w.get("callback_overdue"))))
    status = link.try_call("outbox.status", default=None) or {"records": 0, "sinks": []}
    rejected = {}
    for sink in status.get("sinks", []):
        if sink.get("rejected"):
            rejected[sink["sink"]] = link.try_call("outbox.records", {"sink": sink["sink"], "state": "rejected",
                                                                      "limit": 50}, default=[]) or []
    reasons = {r["code"]: r["name"] for r in link.try_call("hall.reasons", default=[]) or []}
    windows = {str(w.get("id")): w.get("name") for w in link.windows()}
    for w in orders:
        w["label_names"] = [reasons.get(c, c) for c in w.get("reasons") or []]
        w["window_name"] = windows.get(str(w.get("window")), w.get("window"))
    return render_template("admin/haocp.html", orders=orders, status=status, rejected=rejected, reasons=reasons,
                           states=STATE_NAMES, steps=STEP_NAMES, verdicts=VERDICT_NAMES,
                           overdue=sum(1 for w in orders if w.get("overdue") or w.get("callback_overdue")))


@bp.post("/workorder/<int:wo_id>")
@login_required
def move(wo_id: int):
    step = request.form.get("step", "")
    params = {"id": wo_id, "step": step, "staff": (request.form.get("staff") or "admin").strip()[:64]}
    note = request.form.get("note", "").strip()[:500]
    if note:
        params["note"] = note
    if request.form.get("verdict"):
        params["verdict"] = request.form["verdict"]
    try:
        current().call("hall.workorder", params)
    except RpcError as exc:
        return render_template("error.html", message=message_for(exc), status=409), 409
    return redirect(url_for("admin_ratings.page") + f"#wo-{wo_id}")


@bp.post("/replay")
@login_required
def resend():
    params = {"sink": request.form.get("sink", "upstream")[:64], "states": ["rejected"]}
    record = request.form.get("record")
    if record and record.isdigit():
        params["ids"] = [int(record)]
    try:
        current().call("outbox.replay", params)
    except RpcError as exc:
        return render_template("error.html", message=message_for(exc), status=409), 409
    return redirect(url_for("admin_ratings.page") + "#outbox")
