"""``/counter/<window>``: the window clerk's console (窗口叫号).

Login with staff id and PIN (checked by the hall engine, ``hall.login``); then call next, recall,
no-show, start, finish, transfer to another service, pause with a reason and resume — buttons
and keyboard shortcuts. Shows the current ticket, the queue lengths of the window's services and
the clerk's own counts of today. The session remembers which clerk is logged in at which window.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import (Blueprint, abort, jsonify, redirect, render_template, request,
                   url_for)

from hwd import errors, wording
from hwd.client import RpcError

from kiosk_ui import sessions
from kiosk_ui.hwdlink import HallLink, message_for, current, window_or_404
from kiosk_ui.kiosk import queue_lengths

bp = Blueprint("counter", __name__, url_prefix="/counter")

ACTIONS = {
    "call_next": "hall.call_next", "recall": "hall.recall", "no_show": "hall.no_show",
    "start": "hall.start", "finish": "hall.finish", "transfer": "hall.transfer",
    "pause": "hall.pause", "resume": "hall.resume",
}
PAUSE_REASONS = ("临时离开", "午休", "会议", "业务咨询", "设备故障")




def _staff(window_id: str) -> str | None:
    """The clerk logged in at this window in this browser (a live server-side session)."""
    return sessions.staff_at("counter", window_id)


def _set_staff(window_id: str, staff: str | None) -> None:
    sessions.set_staff_at("counter", window_id, staff)


@bp.get("/<window>")
def page(window: str):
    w = window_or_404(window)
    link = current()
    staff = _staff(window)
    if staff is None:
        return render_template("counter_login.html", window=w, error=None)
    services = [s for s in link.config_services() if s.get("id") in (w.get("services") or [])]
    return render_template("counter.html", window=w, staff=staff, services=services,
                           all_services=link.config_services(), reasons=PAUSE_REASONS)


def staff_login(method: str, params: dict, form_page: Callable[[str], str], remember: Callable[[str], None],
                done_url: str) -> Any:
    """The staff id + PIN form of every staff page (counter windows, guide desks): one path, so
    a check added here (or in the engine's ``authenticate``) holds for every login."""
    staff = request.form.get("staff", "").strip()
    pin = request.form.get("pin", "")
    if not staff or not pin:
        return form_page("请输入工号和密码"), 400
    try:
        current().call(method, {**params, "staff": staff[:64], "pin": pin[:64], "source": request.remote_addr})
    except RpcError as exc:
        return form_page(message_for(exc)), 429 if exc.code == errors.LOGIN_LOCKED else 403
    remember(staff)
    return redirect(done_url)


@bp.post("/<window>/login")
def login(window: str):
    w = window_or_404(window)
    return staff_login("hall.login", {"window": window},
                       lambda error: render_template("counter_login.html", window=w, error=error),
                       lambda staff: _set_staff(window, staff), url_for("counter.page", window=window))


@bp.post("/<window>/logout")
def logout(window: str):
    window_or_404(window)
    staff = _staff(window)
    if staff is not None:
        current().try_call("hall.logout", {"window": window, "staff": staff})
    _set_staff(window, None)
    return redirect(url_for("counter.page", window=window))


COUNT_NAMES = (("called", "已叫号"), ("served", "已办结"), ("no_show", "过号"), ("rated", "已评价"),
               ("bad", "差评"), ("mean_service_s", "平均办理(秒)"))


def _today_counts(link: HallLink, window: str, staff: str) -> list[dict]:
    """The clerk's own counts of today (hall.stats grouped by staff), in a fixed order."""
    today = link.today().isoformat()
    rows = link.try_call("hall.stats", {"from": today, "to": today, "group_by": "staff"}, default=None)
    if isinstance(rows, dict):
        rows = rows.get("rows", [])
    for row in rows or []:
        if isinstance(row, dict) and str(row.get("staff", row.get("key"))) == staff:
            return [{"key": k, "name": name, "value": round(row[k], 1) if isinstance(row[k], float) else row[k]}
                    for k, name in COUNT_NAMES if row.get(k) is not None]
    return [{"key": k, "name": name, "value": 0} for k, name in COUNT_NAMES[:3]]


@bp.get("/<window>/state")
def state(window: str):
    """The window, its current ticket, its services' queue lengths and the clerk's counts."""
    w = window_or_404(window)
    link = current()
    staff = _staff(window)
    snap = link.call("hall.state")
    win = next((x for x in snap.get("windows", []) if str(x.get("id")) == window), None) or {}
    if staff is not None and win and win.get("staff") not in (None, staff):
        _set_staff(window, None)  # someone else logged in here meanwhile
        staff = None
    lengths = queue_lengths(snap)
    queues = [{"service": s, "name": _service_name(link, s), "waiting": lengths.get(s, 0)}
              for s in w.get("services") or []]
    counts = _today_counts(link, window, staff) if staff else []
    return jsonify({"ok": True, "logged_in": staff is not None, "staff": staff, "window": win,
                    "queues": queues, "counts": counts, "seq": snap.get("seq")})


def _service_name(link: HallLink, service_id: str) -> str:
    return next((s.get("name", service_id) for s in link.config_services() if s.get("id") == service_id), service_id)


@bp.post("/<window>/api/<action>")
def act(window: str, action: str):
    """One clerk action; JSON in, JSON out."""
    window_or_404(window)
    method = ACTIONS.get(action)
    if method is None:
        abort(404)
    staff = _staff(window)
    if staff is None:
        return jsonify({"ok": False, "error": wording.say(errors.NOT_LOGGED_IN), "code": errors.NOT_LOGGED_IN}), 403
    body = request.get_json(silent=True) or {}
    params: dict[str, Any] = {"window": window}
    if action == "transfer":
        params["service"] = str(body.get("service", ""))
    if action == "pause":
        params["reason"] = str(body.get("reason") or "暂停服务")[:40]
    link = current()
    try:
        result = link.call(method, params, timeout=link.settings.rpc_timeout_s + 3.0)  # calls announce
    except RpcError as exc:
        if exc.code == errors.NOT_LOGGED_IN:
            _set_staff(window, None)
        return jsonify({"ok": False, "error": message_for(exc), "code": exc.code}), 409
    if action == "call_next" and result is None:
        return jsonify({"ok": True, "result": None, "info": "当前没有等候的号"})
    return jsonify({"ok": True, "result": result, "info": said(action, result or {}),
                    "at": current().now().isoformat(timespec="seconds")})


def said(action: str, r: dict) -> str:
    """What the action did, in the clerk's words (not just "A004 · 好的")."""
    n = r.get("number", "")
    if action == "call_next":
        return f"已叫号：{n}（{r.get('service_name', '')}），请等群众到窗口"
    if action == "recall":
        return f"已重呼 {n}（第 {r.get('recalls', 1)} 次）"
    if action == "no_show":
        return f"{n} 过号，已顺延重新排队" if r.get("state") == "waiting" else f"{n} 已过号，不再叫号"
    if action == "start":
        return f"{n} 开始办理"
    if action == "finish":
        return f"{n} 已办结，已请群众评价"
    if action == "transfer":
        return f"{n} 已转到“{r.get('service_name', '')}”排队，保留原排队时间"
    if action == "pause":
        return f"窗口已暂停服务（{r.get('reason') or '暂停'}），窗口屏显示“暂停服务”"
    if action == "resume":
        return "窗口已恢复服务，可以叫号"
    return "已完成"
