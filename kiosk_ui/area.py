"""The kiosk of the 24-hour self-service area (``[[hall.kiosk]] area = "24h"``) after hours: the
page ``/kiosk/<kiosk>`` shows while the windows are closed, and its calls.

It offers what an unattended area can: picking up a result from the locker (by the code, or the
ID card on this kiosk's reader), booking a slot for the coming working days (the code printed),
the service guide with its printable 一次性告知单 (the kiosk's guide pages), and the hall's hours
with the next opening, said plainly. It never offers a queue ticket (the engine would refuse it
anyway: hwd.hall.queue.core). The screen dims when nobody touches it and wakes on a touch or a
card. During the hours the kiosk shows the normal kiosk page, with a 取件 button to this page.

Pickup and booking with a card are only for the kiosk's own machine (its ``addresses``, default
this PC), like the card events: a browser elsewhere on the LAN cannot open a door or book with a
card, and the engine throttles wrong codes per machine (``source``) and per kiosk.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, jsonify, render_template, request

from hwd import errors, wording
from hwd.client import RpcError, Unreachable

from kiosk_ui import clients
from kiosk_ui.hwdlink import HallLink, current, kiosk_or_404, message_for
from kiosk_ui.live import sse_response

bp = Blueprint("area", __name__, url_prefix="/kiosk")


def is_area(kiosk: dict) -> bool:
    return kiosk.get("area") == "24h"


def status(link: HallLink, kiosk_id: str) -> dict | None:
    """``hall.area`` for this kiosk, or None while hwd does not answer."""
    found = link.try_call("hall.area", {"kiosk": kiosk_id}, default=None)
    return found if isinstance(found, dict) else None


def after_hours(kiosk: dict) -> Any:
    """The after-hours page when this kiosk stands in the 24-hour area and the windows are
    closed; None otherwise (the normal kiosk page)."""
    if not is_area(kiosk):
        return None
    link = current()
    found = status(link, kiosk["id"])
    if found is None or found.get("open"):
        return None
    return page_for(kiosk, link, found)


def page_for(kiosk: dict, link: HallLink, found: dict) -> str:
    printer = bool(kiosk.get("printer"))
    return render_template("area.html", kiosk=kiosk, area=found, services=link.config_services(),
                           printer=printer, dim_s=link.settings.area_dim_s, code_length=_code_length(link))


def _code_length(link: HallLink) -> int:
    pickup = link.hall_raw.get("pickup")
    return int(pickup.get("code_length", 8)) if isinstance(pickup, dict) else 8


@bp.get("/<kiosk>/area")
def page(kiosk: str):
    """The area's page at any time (the 取件 button of the daytime kiosk comes here)."""
    k = kiosk_or_404(kiosk)
    link = current()
    found = link.call("hall.area", {"kiosk": kiosk})   # hwd down: the retry page (503)
    return page_for(k, link, found)


@bp.get("/<kiosk>/area/state")
def state(kiosk: str):
    kiosk_or_404(kiosk)
    found = status(current(), kiosk)
    if found is None:
        return jsonify({"ok": False, "error": wording.UNREACHABLE}), 503
    return jsonify({"ok": True, "area": found})


@bp.get("/<kiosk>/area/live")
def live(kiosk: str):
    """The locker's doors for this page, and this kiosk's card reader to its own machine only."""
    k = kiosk_or_404(kiosk)
    pickup = current().hall_raw.get("pickup")
    lockers = list(pickup.get("lockers") or []) if isinstance(pickup, dict) else []
    devices = [d for d in (k.get("idcard"),) if d] + [str(x) for x in lockers]   # the doors' events name their locker
    topics = ("hall.pickup.", "idcard.") if clients.is_kiosk(request.remote_addr, k) else ("hall.pickup.",)
    return sse_response(topics, devices)


def _refused(exc: Exception) -> Any:
    code = getattr(exc, "code", None)
    body = {"ok": False, "error": message_for(exc), "code": code}
    if code == errors.LOGIN_LOCKED:
        wait = (getattr(exc, "data", None) or {}).get("retry_after_s") or 60
        resp = jsonify(body)
        resp.headers["Retry-After"] = str(math.ceil(wait))
        return resp, 429
    return jsonify(body), 503 if isinstance(exc, Unreachable) else 409


def _own_machine(kiosk: dict) -> Any:
    """None when the request comes from the kiosk's own machine, else the refusal to send."""
    if clients.is_kiosk(request.remote_addr, kiosk):
        return None
    return jsonify({"ok": False, "error": "请在自助服务区的自助机上操作", "code": errors.CARD_TOKEN_WRONG_KIOSK}), 403


@bp.post("/<kiosk>/api/pickup")
def pickup(kiosk: str):
    """Open the doors of the results a code (or the card on this kiosk's reader) names."""
    k = kiosk_or_404(kiosk)
    refused = _own_machine(k)
    if refused is not None:
        return refused
    body = request.get_json(silent=True) or {}
    params: dict[str, Any] = {"kiosk": kiosk, "source": request.remote_addr}
    if body.get("card_token"):
        params["card_token"] = str(body["card_token"])[:128]
    else:
        code = str(body.get("code") or "").strip()[:32]
        if not code:
            return jsonify({"ok": False, "error": "请输入取件码"}), 400
        params["code"] = code
    link = current()
    try:
        result = link.call("hall.pickup", params, timeout=link.settings.rpc_timeout_s + 5)
    except (RpcError, Unreachable) as exc:
        return _refused(exc)
    doors = [{"device": d["device"], "door": d["door"], "label": door_label(link, d["device"], d["door"]),
              "number": d.get("number")}
             for d in result.get("doors") or []]
    return jsonify({"ok": True, "doors": doors, "not_opened": result.get("not_opened", 0)})


def door_label(link: HallLink, device: str, door: int) -> str:
    """How a citizen finds the door: 3号柜门, or 2组 3号柜门 when the area has several lockers."""
    pickup = link.hall_raw.get("pickup")
    lockers = list(pickup.get("lockers") or []) if isinstance(pickup, dict) else []
    if len(lockers) > 1 and device in lockers:
        return f"{lockers.index(device) + 1}组 {door}号柜门"
    return f"{door}号柜门"


@bp.get("/<kiosk>/api/slots/<service>")
def slots(kiosk: str, service: str):
    kiosk_or_404(kiosk)
    try:
        days = current().call("hall.slots", {"service": service})
    except (RpcError, Unreachable) as exc:
        return _refused(exc)
    return jsonify({"ok": True, "days": days})


@bp.post("/<kiosk>/api/book")
def book(kiosk: str):
    """Book a slot; with the card on this kiosk's reader (its own machine only) it is found by
    the card at check-in. The code is printed, and shown."""
    k = kiosk_or_404(kiosk)
    body = request.get_json(silent=True) or {}
    params: dict[str, Any] = {"kiosk": kiosk, "service": str(body.get("service") or "")[:64],
                              "slot": str(body.get("slot") or "")[:40]}
    if body.get("card_token"):
        refused = _own_machine(k)
        if refused is not None:
            return refused
        params["card_token"] = str(body["card_token"])[:128]
    link = current()
    wait_s = link.settings.rpc_timeout_s + (getattr(link.config.hall, "print_wait_ms", 3000) or 0) / 1000 + 1
    try:
        booked = link.call("hall.book_slot", params, timeout=wait_s)
    except (RpcError, Unreachable) as exc:
        return _refused(exc)
    keep = ("code", "service_name", "label", "date", "printed", "print_error", "by_card")
    return jsonify({"ok": True, "booking": {key: booked.get(key) for key in keep}})
