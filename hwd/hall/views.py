"""How tickets, windows and ratings look to clients (RPC replies and events), and what a window
screen shows. Kept apart from the rules so the wire shape is stated once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hwd.hall.config import HallConfig

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
# 评价渠道 as the 好差评 system names them: a phone rates through the ticket's QR (二维码)
CHANNEL_NAMES = {"keypad": "评价器", "pad": "评价平板", "page": "评价页面", "phone": "二维码", "rpc": "系统"}
PAUSED_TEXT = "暂停服务"
KEYPAD_PAUSED_TEXT = "暂停"


def iso(ts: float | None, tz: dt.tzinfo) -> str | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


def ticket(row: dict, cfg: HallConfig, tz: dt.tzinfo) -> dict:
    service = cfg.services.get(row["service"])
    window = cfg.windows.get(row["window"]) if row.get("window") else None
    out: dict[str, Any] = {
        "id": row["id"], "number": row["number"], "service": row["service"],
        "service_name": service.name if service else row["service"], "state": row["state"],
        "priority": row["priority"], "day": row["day"], "issued_at": iso(row["issued_ts"], tz),
        "kiosk": row["kiosk"], "window": row["window"], "window_name": window.name if window else None,
        "staff": row["staff"], "called_at": iso(row["called_ts"], tz),
        "started_at": iso(row["started_ts"], tz), "finished_at": iso(row["finished_ts"], tz),
        "recalls": row["recalls"], "transfers": row["transfers"], "printed": bool(row["printed"]),
        "rating_state": row["rating_state"],
    }
    if row.get("origin_service") and row["origin_service"] != row["service"]:
        out["origin_service"] = row["origin_service"]
    if row.get("appointment"):
        out["appointment"] = row["appointment"]
    if row.get("case_no"):
        out["case_no"] = row["case_no"]
    if row.get("holder"):
        out["holder"] = row["holder"]
    for key in ("desk", "verified_by", "matter"):
        if row.get(key):
            out[key] = row[key]
    if row.get("matter"):
        matter = cfg.services.get(row["matter"])
        out["matter_name"] = matter.name if matter else row["matter"]
    if row.get("matter_id"):
        out["matter_id"] = row["matter_id"]
        out["matter_handled"] = service.matter(row["matter_id"]).name if service else row["matter_id"]
    if not row["printed"] and row.get("print_error"):
        out["print_error"] = row["print_error"]
    return out


def window_state(row: dict) -> str:
    """closed, paused, serving (has a current ticket) or open."""
    if row["state"] in ("closed", "paused"):
        return row["state"]
    return "serving" if row["current"] else "open"


def window(row: dict, cfg: HallConfig, current: dict | None, tz: dt.tzinfo) -> dict:
    w = cfg.windows[row["id"]]
    staff = cfg.staff.get(row["staff"]) if row["staff"] else None
    return {"id": w.id, "name": w.name, "kind": w.kind, "services": list(w.services),
            "state": window_state(row), "staff": row["staff"],
            "staff_name": staff.name if staff else row["staff"], "reason": row["reason"],
            "current": current["number"] if current else None,
            "current_ticket": ticket(current, cfg, tz) if current else None,
            "since": iso(row["since"], tz)}


def rating(row: dict, tz: dt.tzinfo) -> dict:
    out = {"id": row["id"], "ticket": row["ticket"], "number": row["number"], "score": row["score"],
           "level": LEVELS[row["score"]], "window": row["window"], "staff": row["staff"],
           "service": row["service"], "channel": row["channel"],
           "channel_name": CHANNEL_NAMES.get(row["channel"], row["channel"]), "at": iso(row["ts"], tz),
           "day": row["day"], "bad": bool(row["bad"])}
    if row["bad"]:
        out.update(reason=row["reason"], followup_due=row["followup_due"])
    return out


def screen_lines(row: dict, cfg: HallConfig, current: dict | None) -> list[str]:
    """What the window's LED shows: the call, the window name when idle, 暂停服务 when away."""
    w = cfg.windows[row["id"]]
    state = window_state(row)
    if state in ("closed", "paused"):
        return [w.name, PAUSED_TEXT]
    if current is not None:
        return [f"请{current['number']}号", w.name]
    return [w.name]


def keypad_text(row: dict, current: dict | None) -> str:
    """What the window's caller/evaluator LCD shows: the current number, 暂停 when away."""
    state = window_state(row)
    if state == "paused":
        return KEYPAD_PAUSED_TEXT
    if state == "closed" or current is None:
        return ""
    return current["number"]
