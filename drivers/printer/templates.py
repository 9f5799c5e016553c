"""The hall's two printed forms as documents: the queue ticket (排队号票) and the one-time notice
of required materials (一次性告知单).

The hall engine fills ``data``; the layout lives here so every kiosk prints the same ticket.

ticket data keys:
    hall_name      str   the hall's name, printed at the top
    number         str   the ticket number, printed large (required)
    service_name   str   the service (事项分类) the ticket is for
    waiting_ahead  int   people called before this ticket ("您前面还有 N 人等候")
    priority       bool  printed as "优先办理" under the number (a priority class: elderly, ...)
    wait_text      str   the wait estimate as the hall words it ("预计等候约 15 分钟"); absent: no line
    issued_at      str   ISO 8601 time of issue; printed in Asia/Shanghai time
    qr             str   the full QR payload (the engine builds it from its URL template)
    footer         list  lines at the bottom; default ["请留意叫号，过号请重新取号"]

notice data keys:
    matter         str   the matter (办理事项) (required)
    materials      list  required materials, one string each (numbered when printed)
    conditions     str | list   conditions for handling (办理条件)
    time_limit     str   time limit (办理时限), e.g. "5个工作日"
    department     str   the department in charge (承办部门)
    fees           str   fees (收费标准), e.g. "不收费"
    hall_name      str   the hall's name
    issued_at      str   ISO time; printed as the date of the notice (default: now)
    footer         list  lines at the bottom
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from drivers.printer.documents import DOTS, DocumentError

TZ = "Asia/Shanghai"
TICKET_FOOTER = ["请留意叫号，过号请重新取号"]
NOTICE_FOOTER = ["请按上述清单备齐材料后前来办理", "本告知单仅供参考，以窗口审核为准"]
TEMPLATES = ("ticket", "notice")
PRIORITY_TEXT = "优先办理"


def build(name: str, data: Any, width_mm: int = 80) -> list[dict]:
    """The document of template ``name`` filled with ``data``."""
    if not isinstance(data, dict):
        raise DocumentError("template data must be an object")
    if name == "ticket":
        return ticket(data, width_mm)
    if name == "notice":
        return notice(data, width_mm)
    raise DocumentError(f"unknown template {name!r}; known: {', '.join(TEMPLATES)}")


def local_time(value: Any) -> dt.datetime:
    """An ISO time (naive = UTC) or epoch seconds, as Asia/Shanghai time; now if missing."""
    if value in (None, ""):
        when = dt.datetime.now(dt.timezone.utc)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        when = dt.datetime.fromtimestamp(value, dt.timezone.utc)
    elif isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise DocumentError(f"issued_at {value!r} is not an ISO time") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
    else:
        raise DocumentError("issued_at must be an ISO time string")
    return when.astimezone(ZoneInfo(TZ))


def _lines(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise DocumentError(f"{key} must be a string or a list of strings")


def _text(data: dict, key: str, required: bool = False) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise DocumentError(f"template data needs {key}")
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise DocumentError(f"{key} must be a string")
    return str(value)


def number_size(number: str, width_mm: int) -> int:
    """The largest character size (ASCII cells are 12 dots wide per size step) that fits."""
    return max(1, min(6, DOTS.get(width_mm, 384) // (12 * max(1, len(number)))))


def ticket(data: dict, width_mm: int = 80) -> list[dict]:
    number = _text(data, "number", required=True)
    doc: list[dict] = []
    hall = _text(data, "hall_name")
    if hall:
        doc.append({"text": hall, "size": 2, "bold": True, "align": "center"})
    doc.append({"text": "排队号", "align": "center"})
    doc.append({"text": number, "size": number_size(number, width_mm), "bold": True, "align": "center"})
    service = _text(data, "service_name")
    if service:
        doc.append({"text": service, "size": 2, "align": "center"})
    if data.get("priority") is True:
        doc.append({"text": PRIORITY_TEXT, "size": 2, "bold": True, "align": "center"})
    ahead = data.get("waiting_ahead")
    if ahead is not None:
        if not isinstance(ahead, int) or isinstance(ahead, bool) or ahead < 0:
            raise DocumentError("waiting_ahead must be a non-negative integer")
        doc.append({"text": f"您前面还有 {ahead} 人等候", "align": "center"})
    wait = _text(data, "wait_text")
    if wait:
        doc.append({"text": wait, "align": "center"})
    doc.append({"text": "取号时间：" + local_time(data.get("issued_at")).strftime("%Y-%m-%d %H:%M:%S"),
                "align": "center"})
    qr = _text(data, "qr")
    if qr:
        doc.append({"qr": qr, "size": 6 if width_mm >= 80 else 5, "ec": "M", "align": "center"})
    footer = _lines(data.get("footer"), "footer") if "footer" in data else TICKET_FOOTER
    for line in footer:
        doc.append({"text": line, "align": "center"})
    return doc


def notice(data: dict, width_mm: int = 80) -> list[dict]:
    matter = _text(data, "matter", required=True)
    doc: list[dict] = [{"text": "一次性告知单", "size": 2, "bold": True, "align": "center"}]
    hall = _text(data, "hall_name")
    if hall:
        doc.append({"text": hall, "align": "center"})
    doc.append({"feed": 1})
    doc.append({"text": f"办理事项：{matter}", "bold": True})
    department = _text(data, "department")
    if department:
        doc.append({"text": f"承办部门：{department}"})
    materials = _lines(data.get("materials"), "materials")
    if materials:
        doc.append({"text": "所需材料：", "bold": True})
        doc.extend({"text": f"{i}. {m}"} for i, m in enumerate(materials, 1))
    conditions = _lines(data.get("conditions"), "conditions")
    if conditions:
        doc.append({"text": "办理条件：", "bold": True})
        doc.extend({"text": c} for c in conditions)
    for key, label in (("time_limit", "办理时限"), ("fees", "收费标准")):
        value = _text(data, key)
        if value:
            doc.append({"text": f"{label}：{value}"})
    doc.append({"feed": 1})
    doc.append({"text": "告知日期：" + local_time(data.get("issued_at")).strftime("%Y-%m-%d"), "align": "right"})
    footer = _lines(data.get("footer"), "footer") if "footer" in data else NOTICE_FOOTER
    for line in footer:
        doc.append({"text": line, "align": "center"})
    return doc
