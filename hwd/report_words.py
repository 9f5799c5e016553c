"""What people read in hwd's reports: each column's Chinese heading and how its value is shown —
waits and service times in minutes, rates as percentages, states in words. One table for the
hall's admin pages and its CSV export for people (``hall.export`` with ``labels = "zh"``) and for
hwd-central's tables and CSV, so that the hall and the county name the same thing the same way
(a ticket the day ended before it was served is 已过期 in both). No hall or county imports:
hwd-central uses it as it is.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable, Mapping

COUNT, MINUTES, PERCENT, TEXT, WORDS = "count", "minutes", "percent", "text", "words"

TICKET_STATES = {"waiting": "等候中", "called": "已叫号", "serving": "办理中", "done": "已办结",
                 "no_show": "过号", "expired": "已过期", "cancelled": "已取消"}
RATING_STATES = {"pending": "待评价", "rated": "已评价", "unrated": "未评价"}
PRIORITY_CLASSES = {"normal": "普通", "elderly": "老年人", "disabled": "残疾人", "pregnant": "孕妇",
                    "military": "军人", "appointment": "预约"}
WORKORDER_STATES = {"open": "待回访", "called_back": "待核实", "verified": "已核实", "rectified": "已整改",
                    "appealed": "申诉中", "closed": "已办结"}
YES_NO = {True: "是", False: "否", 1: "是", 0: "否"}

# key -> (heading, how the value is shown[, the words of a WORDS column])
COLUMNS: dict[str, tuple] = {
    "hall_id": ("大厅", TEXT), "hall": ("大厅", TEXT), "window": ("窗口", TEXT), "service": ("事项", TEXT),
    "matter": ("事项", TEXT), "staff": ("工作人员", TEXT), "day": ("日期", TEXT), "hour": ("时段", TEXT),
    "key": ("分组", TEXT), "name": ("名称", TEXT),
    "issued": ("取号", COUNT), "called": ("叫号", COUNT), "served": ("办结", COUNT), "done": ("办结", COUNT),
    "no_show": ("过号", COUNT), "expired": ("过期", COUNT), "waiting": ("未办结", COUNT),
    "mean_wait_s": ("平均等候(分钟)", MINUTES), "p50_wait_s": ("50%等候(分钟)", MINUTES),
    "p90_wait_s": ("90%等候(分钟)", MINUTES), "mean_service_s": ("平均办理(分钟)", MINUTES),
    "rated": ("评价数", COUNT), "unrated": ("未评价", COUNT), "bad": ("差评", COUNT), "excluded": ("申诉剔除", COUNT),
    "rating_rate": ("评价率", PERCENT),
    # tickets
    "id": ("编号", TEXT), "number": ("号码", TEXT), "priority": ("优先类别", WORDS, PRIORITY_CLASSES),
    "state": ("状态", WORDS, TICKET_STATES), "issued_at": ("取号时间", TEXT), "called_at": ("叫号时间", TEXT),
    "started_at": ("开始办理时间", TEXT), "finished_at": ("办结时间", TEXT), "recalls": ("重呼次数", COUNT),
    "transfers": ("转移次数", COUNT), "printed": ("已打印", WORDS, YES_NO),
    "rating_state": ("评价状态", WORDS, RATING_STATES), "kiosk": ("取号机", TEXT), "case_no": ("办件编号", TEXT),
    # ratings
    "ticket": ("号票编号", TEXT), "score": ("评分", COUNT), "level": ("评价", TEXT), "channel": ("评价渠道代码", TEXT),
    "channel_name": ("评价渠道", TEXT), "at": ("评价时间", TEXT), "reasons": ("差评原因代码", TEXT),
    "reason_names": ("差评原因", TEXT), "text": ("意见", TEXT), "reason": ("意见", TEXT),
    "followup_due": ("整改期限", TEXT), "workorder": ("工单编号", TEXT),
    "followup_state": ("回访", WORDS, {"open": "待回访", "done": "已回访"}), "followup_note": ("回访情况", TEXT),
    "followup_at": ("回访时间", TEXT), "followup_by": ("回访人", TEXT),
    "workorder_state": ("工单状态", WORDS, WORKORDER_STATES), "workorder_due": ("工单期限", TEXT),
    "matter_code": ("事项编码", TEXT), "region_code": ("区划代码", TEXT),
}


def natural_key(key: Any) -> list[tuple[int, Any]]:
    """Sort key for ids in the order people count them: window 9 before window 10 (ids are text)."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", str(key)) if part]


def heading(key: str) -> str:
    """A column's Chinese heading; a key the table does not know (a rating level) as it is."""
    spec = COLUMNS.get(key)
    return spec[0] if spec else key


def minutes(seconds: Any) -> float | None:
    """Seconds as minutes with one decimal; None for a missing or impossible number."""
    number = _finite(seconds)
    return None if number is None else round(number / 60, 1)


def percent(ratio: Any) -> str | None:
    """A ratio as a percentage: 0.85 → ``85.0%``."""
    number = _finite(ratio)
    return None if number is None else f"{number * 100:.1f}%"


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def shown(key: str, value: Any) -> Any:
    """A value as people read it in its column: seconds as minutes (one decimal), a ratio as a
    percentage (``85.0%``), a state in words, yes/no as 是/否; None stays None (an empty cell)."""
    spec = COLUMNS.get(key)
    if isinstance(value, bool):
        return YES_NO[value]
    if value is None or spec is None:
        return value
    how = spec[1]
    if how == MINUTES:
        return minutes(value)
    if how == PERCENT:
        return percent(value)
    if how == WORDS:
        words = spec[2]
        return words.get(value, value) if isinstance(value, (str, bool, int)) else value
    return value


def for_people(rows: Iterable[Mapping[str, Any]], columns: Iterable[str],
               names: Mapping[str, Mapping[str, str]] | None = None) -> tuple[list[str], list[dict]]:
    """``rows`` as people read them: (the headings of ``columns``, each row keyed by heading).
    ``names`` maps ids to names per column (``{"window": {"5": "5号窗口"}}``). Of two columns with
    one heading (a rating's ``reason`` and ``text``) the first is kept."""
    seen: set[str] = set()
    columns = [k for k in columns if not (heading(k) in seen or seen.add(heading(k)))]  # one column a heading
    names = names or {}
    out = []
    for row in rows:
        item = {}
        for key in columns:
            value = row.get(key)
            table = names.get(key)
            if table is not None and value is not None:
                value = table.get(str(value), value)
            item[heading(key)] = shown(key, value)
        out.append(item)
    return [heading(k) for k in columns], out
