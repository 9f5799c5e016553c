"""The Chinese words the pages show for hwd's names (device details, window and ticket states,
service ids), in one table so the kiosk, counter, display and admin say the same thing."""

from __future__ import annotations

import re
from typing import Any

DEVICE_STATES = {"online": "正常", "offline": "未连接", "fault": "故障", "disabled": "已停用"}
DEVICE_DETAILS = {
    "paper_out": "缺纸", "paper_low": "纸张将尽", "cover_open": "打印机盖未关好", "error": "打印机故障",
    "printer_offline": "打印机离线", "link lost": "连接中断", "node not connected": "所在节点未连接",
}
PAPER = {"ok": "正常", "low": "将尽", "out": "缺纸", "unknown": "未知"}
WINDOW_STATES = {"open": "空闲", "called": "已叫号", "serving": "办理中", "paused": "暂停服务", "closed": "未开放"}
PRIORITY_TEXT = "优先办理"
# under a ticket's QR when it opens the phone page (kiosk and guide desk)
PHONE_HINT = "用手机扫码，可随时查看排队进度，叫号时手机提醒"
# why a device is offline, read from its technical detail (a driver's or the OS's English): the
# first pattern found names the cause in words
CAUSES = (
    (r"could not open port|no such file or directory|errno 2\b|no such device|errno 19\b", "找不到设备：未插好或端口不对"),
    (r"permission denied|errno 13\b|not permitted", "无权打开设备端口"),
    (r"connection refused|errno 111\b", "网络设备拒绝连接"),
    (r"timed out|no route to host|network is unreachable|errno 11[03]\b", "网络不通"),
    (r"does not acknowledge|no ack|no answer|did not answer|not respond", "设备无应答"),
    (r"connection reset|broken pipe|link lost|\beof\b", "连接中断"),
    (r"node not connected", "所在电脑未连接"),
    (r"not found: install|install the debian package|not installed", "本机缺少所需软件"),
)


def device_detail(detail: Any) -> str:
    """A device's state detail (``paper_out``, ``paper_low``, …) in words; unknown ones as sent."""
    if not detail:
        return ""
    return DEVICE_DETAILS.get(str(detail), str(detail))


def device_problem(row: dict | None) -> str:
    """Why a device cannot do its job now, in words ('' when it can): 未连接, 缺纸, 故障, …"""
    if row is None:
        return "未配置"
    state = row.get("state")
    if state == "online":
        return ""
    if state == "fault":
        return device_detail(row.get("detail")) if str(row.get("detail")) in DEVICE_DETAILS else "故障"
    if state == "offline" and str(row.get("detail")) == "node not connected":
        return DEVICE_DETAILS["node not connected"]
    return DEVICE_STATES.get(str(state), str(state or ""))


def device_cause(row: dict) -> str:
    """Why a device is not working, in Chinese, from its state and technical detail: 缺纸,
    找不到设备：未插好或端口不对, 设备无应答, … ('' when it works); the detail itself stays for the
    engineer (shown behind the words)."""
    state = row.get("state")
    if state == "online":
        return ""
    detail = str(row.get("detail") or "")
    if detail in DEVICE_DETAILS:
        return DEVICE_DETAILS[detail]
    if state == "disabled":
        return "已在配置中停用"
    low = detail.lower()
    for pattern, words in CAUSES:
        if re.search(pattern, low):
            return words
    return "故障" if state == "fault" else "未连接"


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
