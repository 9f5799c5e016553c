"""``/kiosk/<kiosk>``: the citizen's self-service kiosk (取号机 / 政务一体机).

Services as big buttons; an ID card on the kiosk's reader greets the citizen by masked name and
ties the ticket to the card (``card_token``: the engine applies elderly priority), and the
ticket screen asks for the card back while it lies there; appointment check-in by the kiosk's
scanner or an in-page keypad; the service guide (办事指南) with a printable 一次性告知单; one
ticket screen for every path (number, place, wait, the phone page's QR; a help-desk message
when printing failed). Each screen's prompt is spoken on the kiosk's own speaker
(kiosk_ui.kiosk_voice, 语音 repeats it) and a 长辈 mode enlarges the type; the home screen says
when the printer, the card reader or the scanner cannot serve. The page never links out of the
kiosk flow: leaving needs the kiosk PIN.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request, session, url_for
from werkzeug.security import check_password_hash

from hwd import errors, wording
from hwd.client import RpcError, Unreachable
from hwd.web.svg import qr_svg

from kiosk_ui import area, clients, kiosk_voice, sessions, words
from kiosk_ui.hwdlink import HallLink, message_for, current, kiosk_or_404
from kiosk_ui.live import sse_response

log = logging.getLogger("kiosk_ui.kiosk")

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

def _print_timeout(link: HallLink) -> float:
    """Issuing waits for the printer (``[hall] print_wait_ms``) before it answers."""
    wait_ms = getattr(link.config.hall, "print_wait_ms", 3000) or 0
    return link.settings.rpc_timeout_s + wait_ms / 1000 + 1.0


def hours_status(link: HallLink) -> dict:
    """Whether tickets can be taken now and, if not, the message saying when: asked of hwd
    (``hall.hours``: the engine's clock and calendar, official holidays included), so the page and
    the engine never disagree. Unknown while hwd does not answer (the page's link notice says so)."""
    hours = link.try_call("hall.hours", default=None)
    if not isinstance(hours, dict):
        return {"open": True, "message": ""}
    return {"open": bool(hours.get("open", True)), "message": hours.get("message") or ""}


def laid_out(configured: list[dict], kiosk: dict | None) -> list[dict]:
    """The kiosk's layout (``[[hall.kiosk]] services``): those services in that order; all of
    them, in the config's order, when it names none."""
    chosen = [str(x) for x in (kiosk or {}).get("services") or []]
    if not chosen:
        return configured
    by_id = {str(s.get("id")): s for s in configured}
    return [by_id[sid] for sid in chosen if sid in by_id]


def services(link: HallLink, remote: list | None = None, kiosk: dict | None = None) -> list[dict]:
    """The kiosk's services with their waiting counts and quota left (hall.services, when hwd
    answers), in its layout."""
    if remote is None:
        remote = link.try_call("hall.services", default=None)
    known = {r.get("id"): r for r in remote or [] if isinstance(r, dict)}
    out = []
    for s in laid_out(link.config_services(), kiosk):
        r = known.get(s["id"], {})
        out.append({"id": s["id"], "name": s.get("name", s["id"]), "prefix": s.get("prefix", ""),
                    "department": s.get("department", ""), "waiting": r.get("waiting"),
                    "remaining": r.get("remaining")})
    return out


MAX_FLAT = 8


def categories(svcs: list[dict]) -> list[str]:
    """Departments to choose first when there are too many services for one screen."""
    depts = list(dict.fromkeys(s["department"] or "其他业务" for s in svcs))
    return depts if len(svcs) > MAX_FLAT and len(depts) > 1 else []


def queue_lengths(state: dict) -> dict:
    """Waiting tickets per service, from a ``hall.state`` snapshot."""
    return {q["service"]: q["waiting"] for q in state.get("queues", [])}


def ticket_view(ticket: dict, link: HallLink) -> dict:
    """What the ticket screen shows: number, service, waiting count, QR (as SVG), print state."""
    number = ticket.get("number", "")
    service = next((s for s in link.config_services() if s.get("id") == ticket.get("service")), {})
    issued = str(ticket.get("issued_at", ""))
    qr_text = ticket.get("qr") or f"{link.title}|{number}|{service.get('name', '')}|{issued}"
    printed = ticket.get("printed")
    return {
        "id": ticket.get("id"),
        "number": number,
        "service": ticket.get("service"),
        "service_name": ticket.get("service_name") or service.get("name", ticket.get("service", "")),
        "waiting_ahead": ticket.get("waiting_ahead"),
        "wait_text": (ticket.get("wait") or {}).get("text") or "",
        "issued_at": issued,
        "printed": bool(printed),
        "print_message": "" if printed else link.settings.help_desk + "（号票未能打印，请记住您的号码）",
        "qr_svg": str(qr_svg(str(qr_text))),
        "qr_hint": words.PHONE_HINT if str(qr_text).startswith(("http://", "https://")) else "",
        "priority": ticket.get("priority"),
        "priority_text": words.PRIORITY_TEXT if ticket.get("priority") not in (None, "normal") else "",
        "checked_in": bool(ticket.get("checked_in")),
        "state": ticket.get("state"),
    }


@bp.get("/<kiosk>")
def page(kiosk: str):
    """The kiosk's single page; screens switch in the browser."""
    k = kiosk_or_404(kiosk)
    closed = area.after_hours(k)  # the 24-hour area's kiosk while the windows are closed
    if closed is not None:
        return closed
    link = current()
    svcs = services(link, link.call("hall.services"), k)  # hwd down: the retry page (503), not empty buttons
    devices = devices_status(link, k)
    return render_template("kiosk.html", kiosk=k, services=svcs, hours=hours_status(link),
                           guide=link.config_services(), categories=categories(svcs),
                           printer=devices["printer"], devices=devices, keys=code_keys(link),
                           voice=voice_on(k))


# what the home screen says when one of the kiosk's own devices cannot serve, before anyone taps
DEVICE_NOTICES = {
    "printer": "本机暂时无法打印号票（{problem}）。仍可取号：请记住屏幕上的号码，或到服务台领取号票",
    "idcard": "身份证读卡器暂时无法使用（{problem}）。请直接选择办理事项取号；需要优先办理的，请到导办台",
    "scanner": "扫码器暂时无法使用（{problem}）。预约签到请点“预约签到”，在屏幕上输入预约码",
}


def device_problem(kind: str, row: dict | None) -> str:
    """Why a kiosk device cannot serve now, in words ('' when it can or is unknown)."""
    if row is None or row.get("state") == "online":
        return ""
    if kind == "printer":
        return words.printer_problem(row)
    if row.get("state") == "fault":
        return words.device_detail(row.get("detail")) or "故障"
    return words.DEVICE_STATES.get(str(row.get("state")), "未连接")


def devices_status(link: HallLink, kiosk: dict) -> dict:
    """Can this kiosk's printer, card reader and scanner serve now? Per kind ``{"ok", "message"}``;
    the message says what to do instead."""
    rows = None
    out = {}
    for kind in DEVICE_NOTICES:
        device = kiosk.get(kind)
        if not device:
            out[kind] = {"ok": True, "message": ""}
            continue
        if rows is None:
            rows = link.try_call("devices.list", default=None) or []
        row = next((r for r in rows if isinstance(r, dict) and r.get("id") == device), None)
        problem = device_problem(kind, row)
        out[kind] = {"ok": not problem, "message": DEVICE_NOTICES[kind].format(problem=problem) if problem else ""}
        if problem:
            out[kind]["problem"] = problem
    return out


def printer_status(link: HallLink, kiosk: dict) -> dict:
    """Can this kiosk print tickets now? ``{"ok", "message"}``; the message says what to do."""
    return devices_status(link, kiosk)["printer"]


def voice_on(kiosk: dict) -> bool:
    """Does this kiosk speak (a ``speaker`` and ``voice`` not switched off)?"""
    return bool(kiosk.get("speaker")) and kiosk.get("voice", True) is not False


def speak(link: HallLink, kiosk: dict, text: str) -> bool:
    """Say ``text`` on the kiosk's own speaker, cutting what it was saying; remembered for 语音."""
    if not voice_on(kiosk) or not text:
        return False
    device = kiosk["speaker"]
    try:
        link.call("speaker.stop", {"device": device}, timeout=2.0)
        link.call("speaker.announce", {"device": device, "text": text}, timeout=2.0)
    except (RpcError, Unreachable) as exc:
        log.info("kiosk %s: speaker %s did not take the prompt: %s", kiosk.get("id"), device, exc)
        return False
    link.remember(f"kiosk-said:{kiosk.get('id')}", text)
    return True


def _refused(kiosk: dict, message: str) -> None:
    """A refusal the kiosk's own screen shows is said too."""
    if clients.is_kiosk(request.remote_addr, kiosk):
        speak(current(), kiosk, message)


def code_keys(link: HallLink) -> list[str]:
    """The keys of the check-in keypad: the characters appointment codes are made of."""
    hall = link.config.hall
    return list(getattr(hall, "appt_code_alphabet", "") or "0123456789")


@bp.get("/<kiosk>/state")
def state(kiosk: str):
    k = kiosk_or_404(kiosk)
    link = current()
    devices = devices_status(link, k)
    return jsonify({"ok": True, "services": services(link, kiosk=k), "hours": hours_status(link),
                    "printer": devices["printer"], "devices": devices})


@bp.get("/<kiosk>/live")
def live(kiosk: str):
    """This kiosk's card reader events, check-ins, issued tickets and the state of its own devices
    (the printer: the home screen says when it cannot print); card events only to the kiosk's
    own machine, never another kiosk's cards. A
    scanned appointment is checked in by the engine itself (hall.checkin)."""
    k = kiosk_or_404(kiosk)
    devices = [d for d in (k.get("idcard"), k.get("scanner"), k.get("printer")) if d]
    if not clients.is_kiosk(request.remote_addr, k):  # card events only on the machine with the reader
        return sse_response(("hall.checkin", "hall.ticket.issued", "device.state"), devices)
    return sse_response(("idcard.", "hall.checkin", "hall.ticket.issued", "device.state"), devices)


@bp.get("/<kiosk>/card")
def card(kiosk: str):
    """The card lying on this kiosk's reader now (masked, with its token), so a page opened or
    reloaded while it lies there (back from 办事指南) still greets the citizen; else null. Like the
    card events, only to the kiosk's own machine."""
    k = kiosk_or_404(kiosk)
    found = None
    if k.get("idcard") and clients.is_kiosk(request.remote_addr, k):
        found = current().try_call("idcard.current", {"device": k["idcard"]}, default=None)
    keep = ("card_token", "ttl_s", "name", "age", "card_type")
    return jsonify({"ok": True, "card": {key: found.get(key) for key in keep} if isinstance(found, dict) else None})


def _down() -> Any:
    """hwd does not answer: say so at once instead of waiting out the print timeout."""
    return jsonify({"ok": False, "error": wording.UNREACHABLE, "code": "unreachable"}), 503


@bp.post("/<kiosk>/api/ticket")
def issue(kiosk: str):
    """Issue a ticket for ``service`` (with the card's ``card_token`` if a card was read)."""
    kiosk_or_404(kiosk)
    link = current()
    if not link.up():
        return _down()
    body = request.get_json(silent=True) or {}
    params: dict[str, Any] = {"service": str(body.get("service", "")), "kiosk": kiosk}
    if body.get("card_token"):
        if not clients.is_kiosk(request.remote_addr, kiosk_or_404(kiosk)):
            return jsonify({"ok": False, "error": wording.say(errors.CARD_TOKEN_WRONG_KIOSK, "no_reader"),
                            "code": errors.CARD_TOKEN_WRONG_KIOSK}), 403
        params["card_token"] = str(body["card_token"])
    try:
        ticket = link.call("hall.issue_ticket", params, timeout=_print_timeout(link))
    except RpcError as exc:
        _refused(kiosk_or_404(kiosk), message_for(exc))
        return jsonify({"ok": False, "error": message_for(exc), "code": exc.code}), 409
    return jsonify({"ok": True, "ticket": ticket_view(ticket, link)})


@bp.post("/<kiosk>/api/checkin")
def checkin(kiosk: str):
    """Appointment check-in by code (typed on the keypad or scanned)."""
    kiosk_or_404(kiosk)
    link = current()
    code = str((request.get_json(silent=True) or {}).get("code", "")).strip()
    if not code or len(code) > 64:
        return jsonify({"ok": False, "error": "请输入预约码"}), 400
    if not link.up():
        return _down()
    try:
        result = link.call("hall.checkin", {"code": code, "kiosk": kiosk},
                           timeout=_print_timeout(link))
    except RpcError as exc:
        _refused(kiosk_or_404(kiosk), message_for(exc))
        return jsonify({"ok": False, "error": message_for(exc), "code": exc.code}), 409
    return jsonify({"ok": True, "ticket": ticket_view(result, link)})


@bp.get("/<kiosk>/ticket/<int:ticket_id>")
def ticket(kiosk: str, ticket_id: int):
    """A ticket issued at this kiosk by the engine itself (a scanned appointment); waits up to a
    few seconds for its print result so the screen can say whether to take the paper. Only to
    the kiosk's own machine: the answer carries the ticket's phone link (its QR)."""
    if not clients.is_kiosk(request.remote_addr, kiosk_or_404(kiosk)):
        abort(403)
    link = current()
    deadline = time.monotonic() + 5.0
    while True:
        view = link.call("hall.ticket", {"ticket": ticket_id})
        if view.get("kiosk") != kiosk:
            abort(404)
        if view.get("printed") or view.get("print_error") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    view["checked_in"] = request.args.get("again") == "1"  # the code was checked in before
    return jsonify({"ok": True, "ticket": ticket_view(view, link)})


@bp.post("/<kiosk>/api/say")
def say(kiosk: str):
    """The screen's spoken prompt (kiosk_ui.kiosk_voice), on arriving at a screen and on 语音:
    ``prompt`` a key of the table; ``ticket`` (an id: a ticket of this kiosk, its number and
    place asked of hwd) with ``card`` for the ticket screen; ``service`` for a guide; ``again``
    says the last words once more. Only the kiosk's own machine makes its kiosk speak."""
    k = kiosk_or_404(kiosk)
    if not clients.is_kiosk(request.remote_addr, k):
        return jsonify({"ok": False, "error": "只有本机可以播放语音"}), 403
    if not voice_on(k):
        return jsonify({"ok": False, "error": "本机未开启语音"}), 404
    body = request.get_json(silent=True) or {}
    prompt = str(body.get("prompt", ""))[:32]
    link = current()
    if prompt == "again":
        text = link.remembered(f"kiosk-said:{kiosk}")
    elif prompt == "ticket":
        try:
            view = link.call("hall.ticket", {"ticket": int(body.get("ticket"))})
        except (TypeError, ValueError, RpcError, Unreachable):
            view = None
        if not isinstance(view, dict) or view.get("kiosk") != kiosk:
            return jsonify({"ok": False, "error": "没有这张号票"}), 404
        text = kiosk_voice.ticket_text(view, bool(body.get("card")), bool(body.get("again")))
    else:
        params: dict[str, Any] = {}
        if prompt == "notice":
            svc = next((s for s in link.config_services() if s.get("id") == body.get("service")), None)
            if svc is None:
                return jsonify({"ok": False, "error": "没有该业务"}), 404
            params["service"] = svc.get("name", "")
        if prompt == "home":
            hours = hours_status(link)
            params["closed"] = "" if hours["open"] else hours["message"]
        if prompt in ("home", "checkin"):  # never point the citizen at a reader or scanner that cannot serve
            devices = devices_status(link, k)
            params["card"] = bool(k.get("idcard")) and devices["idcard"]["ok"]
            params["scanner"] = bool(k.get("scanner")) and devices["scanner"]["ok"]
        text = kiosk_voice.prompt_text(prompt, params)
    if not text:
        return jsonify({"ok": False, "error": "没有这条语音"}), 404
    return jsonify({"ok": speak(link, k, text), "text": text})


@bp.get("/<kiosk>/guide/<service>")
def guide(kiosk: str, service: str):
    """办事指南 of one service, with the 一次性告知单 to print."""
    k = kiosk_or_404(kiosk)
    link = current()
    s = next((x for x in link.config_services() if x.get("id") == service), None)
    if s is None:
        abort(404)
    remote = link.try_call("hall.guide", {"service": service}, default=None)
    info = {**s, **(remote if isinstance(remote, dict) else {})}
    return render_template("guide.html", kiosk=k, service=info, printer=bool(k.get("printer")), voice=voice_on(k))


@bp.post("/<kiosk>/api/notice/<service>")
def print_notice(kiosk: str, service: str):
    """Print the 一次性告知单 on the kiosk's printer."""
    k = kiosk_or_404(kiosk)
    link = current()
    s = next((x for x in link.config_services() if x.get("id") == service), None)
    if s is None or not k.get("printer"):
        abort(404)
    try:
        result = link.call("hall.guide", {"service": service, "kiosk": kiosk, "print": True},
                           timeout=_print_timeout(link))
    except RpcError as exc:
        return jsonify({"ok": False, "error": message_for(exc)}), 409
    if not result.get("printed"):
        return jsonify({"ok": False, "error": "告知单没有打印出来，" + link.settings.help_desk}), 409
    return jsonify({"ok": True})


@bp.post("/<kiosk>/api/unlock")
def unlock(kiosk: str):
    """Leave the kiosk flow: only with the kiosk PIN (``[ui] kiosk_pin_hash``), behind the login
    policy (one PIN for every kiosk: one account, ``kiosk-exit``)."""
    kiosk_or_404(kiosk)
    pin = str((request.get_json(silent=True) or {}).get("pin", ""))[:64]
    stored = current().settings.kiosk_pin_hash
    tried = sessions.attempt("kiosk-exit", "kiosk-exit",
                             lambda: bool(stored and pin) and check_password_hash(stored, pin), f"kiosk PIN at {kiosk}")
    if tried.locked:
        resp = jsonify({"ok": False, "error": wording.say(errors.LOGIN_LOCKED, "seconds", seconds=math.ceil(tried.wait_s)),
                        "code": errors.LOGIN_LOCKED})
        resp.headers["Retry-After"] = str(math.ceil(tried.wait_s))
        return resp, 429
    if not tried.ok:
        return jsonify({"ok": False, "error": "密码不正确"}), 403
    session["kiosk_unlocked"] = kiosk
    return jsonify({"ok": True, "next": url_for("admin.dashboard")})
