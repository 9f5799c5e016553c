"""``/desk/<desk>``: the guide desk (导办台) of the hall's guide staff.

A staff member logs in as at the counter (the same login code, ``counter.staff_login``, and the
engine's same PIN check), looks at the citizen's documents and issues a ticket with a priority
class only a person can give (残疾人, 孕妇, 军人依法优先, or 老年人 without an ID card), or books a
帮办代办 (assisted) ticket. The ticket is printed at the desk's printer and always shown on the
page with its QR code, so a citizen can take it by phone when there is no paper.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from hwd.client import RpcError
from hwd.hall.queue.desk import CHECKED_CLASSES, CLASS_NAMES
from hwd.web.svg import qr_svg

from kiosk_ui import sessions, words
from kiosk_ui.counter import staff_login
from kiosk_ui.hwdlink import current, message_for

bp = Blueprint("desk", __name__, url_prefix="/desk")

CLASS_HINTS = {"elderly": "老年人（无身份证时核验年龄）", "disabled": "残疾人（核验残疾人证）",
               "pregnant": "孕妇（核验母子健康手册等）", "military": "军人依法优先（核验军人证件）"}


def _desk(desk_id: str) -> Any:
    hall = getattr(current().config, "hall", None)
    desk = hall.desks.get(desk_id) if hall is not None else None
    if desk is None:
        abort(404)
    return desk


def _staff(desk_id: str) -> str | None:
    """The staff logged in at this guide desk in this browser (a live server-side session)."""
    return sessions.staff_at("desk", desk_id)


def _set_staff(desk_id: str, staff: str | None) -> None:
    sessions.set_staff_at("desk", desk_id, staff)


def _choices(desk: Any) -> dict:
    hall = current().config.hall
    services = [s for s in hall.services.values() if not desk.services or s.id in desk.services]
    services = [s for s in services if s.id != hall.assisted_service]
    classes = [("normal", "普通")] + [(c, CLASS_HINTS[c]) for c in CHECKED_CLASSES if c in hall.priority_classes]
    return {"services": services, "classes": classes, "assisted": hall.assisted_service is not None}


def _login_page(desk: Any, error: str | None) -> str:
    return render_template("desk_login.html", desk=desk, error=error)


@bp.get("/<desk_id>")
def page(desk_id: str):
    desk = _desk(desk_id)
    staff = _staff(desk_id)
    if staff is None:
        return _login_page(desk, None)
    return render_template("desk.html", desk=desk, staff=staff, error=None, form={}, **_choices(desk))


@bp.post("/<desk_id>/login")
def login(desk_id: str):
    desk = _desk(desk_id)
    return staff_login("hall.desk_login", {"desk": desk_id}, lambda error: _login_page(desk, error),
                       lambda staff: _set_staff(desk_id, staff), url_for("desk.page", desk_id=desk_id))


@bp.post("/<desk_id>/logout")
def logout(desk_id: str):
    _desk(desk_id)
    _set_staff(desk_id, None)
    session.pop("desk_ticket", None)
    return redirect(url_for("desk.page", desk_id=desk_id))


@bp.post("/<desk_id>/issue")
def issue(desk_id: str):
    desk = _desk(desk_id)
    staff = _staff(desk_id)
    if staff is None:
        return _login_page(desk, "请先登录"), 403
    form = {"service": request.form.get("service", ""), "priority": request.form.get("priority", "normal"),
            "verified": request.form.get("verified") == "1", "assisted": request.form.get("assisted") == "1"}
    if not form["service"]:
        return render_template("desk.html", desk=desk, staff=staff, error="请选择事项", form=form,
                               **_choices(desk)), 400
    link = current()
    try:
        ticket = link.call("hall.desk_issue", {"desk": desk_id, "staff": staff, **form},
                           timeout=link.settings.rpc_timeout_s + 5.0)   # waits for the printer
    except RpcError as exc:
        return render_template("desk.html", desk=desk, staff=staff, error=message_for(exc), form=form,
                               **_choices(desk)), 409
    return _show(desk_id, ticket)


@bp.post("/<desk_id>/reprint")
def reprint(desk_id: str):
    """补打: a citizen the kiosk sent here because the ticket did not print gets it at the desk."""
    desk = _desk(desk_id)
    staff = _staff(desk_id)
    if staff is None:
        return _login_page(desk, "请先登录"), 403
    number = request.form.get("ticket", "").strip().upper()[:16]
    if not number:
        return render_template("desk.html", desk=desk, staff=staff, error="请输入号码", form={}, **_choices(desk)), 400
    link = current()
    try:
        ticket = link.call("hall.reprint", {"ticket": number, "desk": desk_id}, timeout=link.settings.rpc_timeout_s + 5.0)
    except RpcError as exc:
        return render_template("desk.html", desk=desk, staff=staff, error=message_for(exc), form={},
                               **_choices(desk)), 409
    return _show(desk_id, dict(ticket, reprinted=True))


def _show(desk_id: str, ticket: dict) -> Any:
    keep = ("id", "number", "service_name", "matter_name", "priority", "waiting_ahead", "printed", "print_error",
            "qr", "reprinted", "state")
    session["desk_ticket"] = {**{k: ticket.get(k) for k in keep}, "wait_text": (ticket.get("wait") or {}).get("text") or ""}
    return redirect(url_for("desk.ticket", desk_id=desk_id, ticket_id=ticket["id"]))


@bp.get("/<desk_id>/ticket/<int:ticket_id>")
def ticket(desk_id: str, ticket_id: int):
    """The ticket just issued (from the session: the reply of hall.desk_issue, with its QR)."""
    desk = _desk(desk_id)
    if _staff(desk_id) is None:
        return redirect(url_for("desk.page", desk_id=desk_id))
    shown = session.get("desk_ticket") or {}
    if shown.get("id") != ticket_id:
        abort(404)
    phone = str(shown.get("qr") or "").startswith(("http://", "https://"))
    return render_template("desk_ticket.html", desk=desk, t=shown, class_name=CLASS_NAMES.get(shown.get("priority")),
                           qr=qr_svg(shown["qr"], 320) if shown.get("qr") else None,
                           qr_hint=words.PHONE_HINT if phone else "扫码查看号票")
