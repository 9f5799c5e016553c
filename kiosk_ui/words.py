"""The Chinese words the pages show for hwd's names (device details, window and ticket states,
service ids), in one table so the kiosk, counter, display and admin say the same thing."""

from __future__ import annotations

from typing import Any

DEVICE_STATES = {"online": "正常", "offline": "未连接", "fault": "故障", "disabled": "已停用"}
DEVICE_DETAILS = {
    "paper_out": "缺纸", "paper_low": "纸张将尽", "cover_open": "打印机盖未关好", "error": "打印机故障",
    "printer_offline": "打印机离线", "link lost": "连接中断", "node not connected": "所在节点未连接",
}
PAPER = {"ok": "正常", "low": "将尽", "out": "缺纸", "unknown": "未知"}
WINDOW_STATES = {"open": "空闲", "called": "已叫号", "serving": "办理中", "paused": "暂停服务", "closed": "未开放"}
TICKET_STATES = {"waiting": "等候中", "called": "已叫号", "serving": "办理中", "done": "已办结",
                 "no_show": "过号", "expired": "已过期"}
PRIORITY_TEXT = "优先办理"
# under a ticket's QR when it opens the phone page (kiosk and guide desk)
PHONE_HINT = "用手机扫码，可随时查看排队进度，叫号时手机提醒"


def device_detail(detail: Any) -> str:
    """A device's state detail (``paper_out``, ``paper_low``, …) in words; unknown ones as sent."""
    if not detail:
        return ""
    return DEVICE_DETAILS.get(str(detail), str(detail))


def window_state(window: dict) -> str:
    """``hall.state``'s window state, telling 已叫号 (called, not started) from 办理中 (started)."""
    state = window.get("state")
    current = window.get("current_ticket") or {}
    if state == "serving" and current.get("state") == "called":
        return "called"
    return str(state or "")


def window_state_name(window: dict) -> str:
    state = window_state(window)
    return WINDOW_STATES.get(state, state)


def printer_problem(row: dict | None) -> str:
    """Why a printer cannot print now, in words ('' when it can)."""
    if row is None:
        return ""
    if row.get("state") == "online":
        return ""
    if row.get("state") == "fault":
        return device_detail(row.get("detail")) or "打印机故障"
    return "打印机未连接"
