"""What the phone page says of a ticket, in the citizen's words: one function from the hall's
view of a ticket (``hall.phone_board``) to the page's lines, so the page's script only draws.

The tones: ``wait`` (排队中; after the day's issuing is over 今日已停止取号, never 即将叫号),
``soon`` (即将叫号: ``alert_ahead`` or fewer ahead), ``call`` (请到N号窗口, and again on every
recall), ``serving``, ``rate`` (办结, rating open: the phone's own window), ``done`` and ``gone``
(the ticket's end: 号票已作废 after the final no-show, 号票已失效 at the day's end, 今日叫号已结束
when no window calls it any more, 已取消排队). ``soon`` and ``call`` are alerts: the page sounds
and vibrates once for each new alert (``alert_key`` changes on every new call or recall).
``live`` says whether the page may still call out (its 提醒音 and 请勿关闭); ``cancel`` whether
the citizen may leave the queue (取消排队).
"""

from __future__ import annotations

from typing import Any

from hwd import errors, wording

TITLE = "排队进度"
INVALID = wording.say(errors.BAD_RATING_TOKEN)
INVALID_DETAIL = "号票只在取号当天有效。如需办理，请到取号机重新取号。"
BUSY = "访问过于频繁，请稍后再试"


LIVE_TONES = ("wait", "soon", "call", "serving")  # the page may still call out: keep it open


def page(view: dict, board: dict, alert_ahead: int) -> dict[str, Any]:
    state, ahead = view["state"], view.get("ahead")
    window = view.get("window_name") or ""
    lines: list[str] = []
    out: dict[str, Any] = {
        "number": view["number"], "service_name": view["service_name"], "state": state, "ahead": ahead,
        "window": view.get("window"), "window_name": view.get("window_name"), "wait_text": view.get("wait_text"),
        "priority_text": view.get("priority_text"), "alert": False, "alert_key": None, "rate": False,
        "cancel": False,
    }
    if state == "waiting" and view.get("after_hours") and not view.get("calling"):
        out.update(tone="gone", headline="今日叫号已结束")   # no window serves it any more today
        lines.append("办理窗口已停止叫号，本号票今日有效，窗口重新开放时仍会叫号")
        lines.append("如需办理，请在办公时间重新取号。")
        out["cancel"] = True
    elif state == "waiting":
        out["cancel"] = True
        if view.get("transfers") and view.get("from_service_name"):
            lines.append(f"已从「{view['from_service_name']}」转至「{view['service_name']}」，请继续等候")
        elif view.get("requeued"):
            lines.append("您曾过号，已为您重新排队")
        if view.get("after_hours"):                            # issuing is over: never 即将叫号
            out.update(tone="wait", headline="今日已停止取号")
            lines.insert(0, f"前面还有 {ahead} 人等候" if ahead is not None else "等候中")
            lines.append("已取的号仍会叫号，请留意叫号")
        elif ahead is not None and ahead <= alert_ahead:
            names = "、".join(board.get("service_windows", {}).get(view["service"], [])[:4])
            out.update(tone="soon", alert=True, alert_key=f"soon:{view['transfers']}:{int(view['requeued'])}",
                       headline="即将叫号" if ahead else "下一位就是您")
            lines.insert(0, f"前面还有 {ahead} 人" if ahead else "请留意叫号")
            lines.append(f"请到{names}附近等候" if names else "请到窗口附近等候")
        else:
            out.update(tone="wait", headline="排队中")
            lines.insert(0, f"前面还有 {ahead} 人等候" if ahead is not None else "等候中")
        if view.get("wait_text") and ahead and not view.get("after_hours"):
            lines.append(view["wait_text"])
    elif state == "called":
        recalls = view.get("recalls") or 0
        out.update(tone="call", alert=True, alert_key=f"call:{window}:{recalls}:{view['transfers']}",
                   headline=f"请到{window}" if window else "请到窗口办理")
        lines.append("再次呼叫，请立即前往" if recalls else "正在叫您的号，请前往办理")
    elif state == "serving":
        out.update(tone="serving", headline="正在办理")
        lines.append(f"{window}正在为您办理" if window else "正在为您办理")
    elif state == "done":
        rating = view.get("rating")
        if view.get("can_rate", rating == "pending"):
            out.update(tone="rate", headline="办理完毕，请评价", rate=True,
                       reasons=board.get("reasons", []),
                       rating_deadline=view.get("rate_until") or view.get("rating_deadline"))
            lines.append(f"请对{window}本次服务作出评价" if window else "请对本次服务作出评价")
        elif rating == "rated":
            out.update(tone="done", headline="感谢您的评价")
            lines.append("您的评价已记录")
        else:
            out.update(tone="done", headline="办理完毕")
            lines.append("感谢您的耐心等候" if rating != "unrated" else "评价时间已过，感谢您的耐心等候")
    elif state == "no_show":                                   # the final no-show: a first one requeues
        out.update(tone="gone", headline="号票已作废")
        lines.append("您已过号，本号票不再叫号")
        lines.append("如需办理，请重新取号。")
    elif state == "expired":
        out.update(tone="gone", headline="号票已失效")
        lines.append("今日叫号已结束。如需办理，请在办公时间重新取号。")
    elif state == "cancelled":
        out.update(tone="gone", headline="已取消排队")
        lines.append("号票已作废。如需办理，请重新取号。")
    else:
        out.update(tone="done", headline=state)
    lines += pickup_lines(view.get("pickup"))
    out["live"] = out["tone"] in LIVE_TONES
    out["lines"] = lines
    return out


def pickup_lines(pickup: dict | None) -> list[str]:
    """The result in the 24-hour area's locker (hwd.hall.pickup): its code while it waits."""
    if not pickup:
        return []
    if pickup.get("state") == "picked":
        return ["您的办理结果已从智能取件柜取走"]
    return ["您的办理结果已存入智能取件柜", f"取件码：{pickup.get('code', '')}",
            "请到24小时自助服务区的自助机输入取件码（或刷身份证）取件"]
