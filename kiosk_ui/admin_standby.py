"""The admin page's 双机热备 panel: which engine PC is active, and whether the standby is in sync
(``standby.status`` of hwd; docs/standby.md). Nothing without ``[hall.standby]``."""

from __future__ import annotations

from typing import Any


def _state(engine: dict, active: str | None) -> tuple[str, str]:
    """(the words, a class for the colour) of one engine PC."""
    if engine["id"] == active:
        return "当前主机（正在运行排队叫号）", "ok"
    if not engine["up"]:
        return "离线（未运行或网络不通）", "bad"
    if engine.get("problem"):
        return f"无法同步：{engine['problem']}", "bad"
    if engine["in_sync"]:
        return "备机，数据已同步，可随时接管", "ok"
    return f"备机，落后 {engine['lag']} 条，正在同步", "warn"


def view(link: Any) -> dict | None:
    """``{active, engines: [{id, words, cls, applied}], problem}`` or None (one engine PC)."""
    if getattr(link, "engines", None) is None:
        return None
    status = link.try_call("standby.status", default=None)
    if not isinstance(status, dict):
        return {"active": None, "engines": [], "problem": "无法读取双机热备状态"}
    active = (status.get("active") or {}).get("engine")
    rows = []
    for engine in status.get("engines") or []:
        words, cls = _state(engine, active)
        rows.append({"id": engine["id"], "words": words, "cls": cls, "applied": engine.get("applied")})
    problem = None if active else "当前没有主机在运行（正在切换，或 etcd 未达到多数）"
    return {"active": active, "engines": rows, "problem": problem}
