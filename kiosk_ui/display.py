"""``/display``: the hall's big screen (大厅显示屏), and ``/display/window/<id>``: one window's
screen for web-based window screens (the ``web`` display driver).

The latest call is large in ``#latest-call`` (contract: acceptance checks read it) with the
ticket number and the window. Every call gets it in turn, for as long as its announcement
plays (``static/display.js`` pairs each call with its window's speaker's ``speaker.announced``,
so the page needs which speaker serves which window: ``speakers``). The window and queue panels
page through all their rows every ``[ui] display_page_s``. Events arrive by SSE the moment hwd
publishes them; after a reconnect the page reloads ``/display/state`` (``hall.state``); without
a heartbeat for 5 s it shows 系统连接中断 (below the banner, never over it) and recovers by
itself. The page renders even when hwd is down.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template

from hwd.client import RpcError, Unreachable

from kiosk_ui import words
from kiosk_ui.hwdlink import HallLink, current
from kiosk_ui.kiosk import queue_lengths

bp = Blueprint("display", __name__, url_prefix="/display")

LAST = "display.last"  # the last snapshot hwd gave, shown (with 系统连接中断) while hwd is down


def snapshot(link: HallLink) -> dict:
    """hall.state shaped for the display: latest call, recent calls, windows, queue lengths."""
    state = link.call("hall.state")
    calls = [{"number": c["number"], "window": c["window"], "window_name": c["window_name"],
              "service_name": c["service_name"], "at": c["called_at"]} for c in state["recent_calls"]]
    windows = [{"id": w.get("id"), "name": w.get("name"), "state": words.window_state(w),
                "state_name": words.window_state_name(w), "current": w.get("current"),
                "reason": w.get("reason")} for w in state["windows"]]
    lengths = queue_lengths(state)
    queues = [{"service": s["id"], "name": s.get("name", s["id"]), "waiting": lengths.get(s["id"], 0)}
              for s in link.config_services()]
    snap = {"ok": True, "latest": calls[0] if calls else None, "calls": calls[:10], "windows": windows,
            "queues": queues, "seq": state.get("seq")}
    link.remember(LAST, snap)
    return snap


def speakers(link: HallLink) -> dict[str, str]:
    """Which speaker announces each window's calls (window id → speaker device id)."""
    return {str(w["id"]): str(w["speaker"]) for w in link.windows() if w.get("id") is not None and w.get("speaker")}


def no_show_rule(link: HallLink) -> str:
    hall = link.config.hall
    return hall.no_show_text if hall is not None else ""


@bp.get("")
def page():
    """The display; while hwd is down the last calls it knew (with 系统连接中断), and before it has
    ever reached hwd the retry page (503), never a display of nothing."""
    link = current()
    try:
        snap = snapshot(link)
    except Unreachable:
        last = link.remembered(LAST)
        if last is None:
            raise
        snap = {**last, "ok": False}
    except RpcError:
        snap = {"ok": False, "latest": None, "calls": [], "windows": [], "queues": []}
    return render_template("display.html", snap=snap, notice=link.settings.notice, rule=no_show_rule(link),
                           speakers=speakers(link), page_s=link.settings.display_page_s,
                           call_s=link.settings.display_call_s)


@bp.get("/state")
def state():
    link = current()
    return jsonify({**snapshot(link), "speakers": speakers(link)})


def _screen_device(link: HallLink, window_id: str) -> tuple[dict | None, str | None]:
    w = link.window(window_id)
    if w is not None:
        return w, w.get("display")
    dev = link.config.device(window_id)
    if dev is not None and dev.kind == "display":
        return None, dev.id
    abort(404)


def _screen(link: HallLink, window: dict | None, device: str | None) -> dict:
    """What the screen shows now: display.get for its device, else derived from hall.state."""
    if device:
        got = link.try_call("display.get", {"device": device}, default=None)
        if isinstance(got, dict) and got.get("lines") is not None:
            return {"lines": got.get("lines") or [], "effect": got.get("effect", "static")}
    if window is not None:
        state = link.try_call("hall.state", default=None) or {}
        win = next((x for x in state.get("windows", []) if str(x.get("id")) == str(window["id"])), None)
        if win:
            if win.get("state") in ("paused", "closed"):
                return {"lines": [window.get("name", ""), "暂停服务"], "effect": "static"}
            if win.get("current"):
                return {"lines": [f"请{win['current']}号", window.get("name", "")], "effect": "static"}
        return {"lines": [window.get("name", "")], "effect": "static"}
    return {"lines": [], "effect": "static"}


@bp.get("/window/<window>")
def window(window: str):
    link = current()
    w, device = _screen_device(link, window)
    return render_template("window_screen.html", window=w, device=device, ident=window,
                           screen=_screen(link, w, device))


@bp.get("/window/<window>/state")
def window_state(window: str):
    link = current()
    w, device = _screen_device(link, window)
    return jsonify({"ok": True, **_screen(link, w, device)})
