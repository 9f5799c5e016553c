"""The names people read for the hall's devices, instead of ids like ``win1-led``: the device's
own ``description`` when the config gives one, else what it is and whom it serves, from the
[hall] tables that name it — "综合受理 1号窗口 窗口屏", "取号机 k1 打印机", "一楼导办台 打印机",
"大厅广播" (a speaker of several windows), "大厅显示屏". A device no table names is called by its
kind and id. The admin pages show these, and the hall reports them to the county
(``[hall.central]``) so that its pages name the same device the same way.
"""

from __future__ import annotations

from typing import Any, Iterable

KIND_NAMES = {"printer": "打印机", "display": "显示屏", "idcard": "身份证阅读器", "keypad": "评价器/呼叫器",
              "speaker": "广播", "scanner": "扫码器", "locker": "取件柜"}
# what a device is to the place it serves (a window's display is its 窗口屏; its keypad both calls
# and rates unless the window has an evaluator, which rates, the keypad then only calling)
ROLE_NAMES = {"display": "窗口屏", "keypad": "评价器/呼叫器", "evaluator": "评价器", "speaker": "广播",
              "printer": "打印机", "idcard": "身份证阅读器", "scanner": "扫码器"}
CALLER_NAME = "呼叫器"
ROLES = tuple(ROLE_NAMES)


def kind_name(kind: str, options: dict | None = None) -> str:
    """What a device is (打印机, 显示屏 …); a keypad set up as an evaluator (``role = "evaluator"``) is a 评价器."""
    if kind == "keypad" and (options or {}).get("role") == "evaluator":
        return ROLE_NAMES["evaluator"]
    return KIND_NAMES.get(kind, kind)


def role_name(role: str, has_evaluator: bool = False) -> str:
    """A device's name at its window or kiosk by its role there (``keypad`` beside an evaluator: 呼叫器)."""
    if role == "keypad" and has_evaluator:
        return CALLER_NAME
    return ROLE_NAMES.get(role, role)


def _places(hall: Any) -> dict[str, list[tuple[str, str]]]:
    """device id → [(the place's name, the device's name there)] for every [hall] table naming it."""
    out: dict[str, list[tuple[str, str]]] = {}
    if hall is None:
        return out
    places = [(w.name, w) for w in hall.windows.values()]
    places += [(f"取号机 {k.id}", k) for k in hall.kiosks.values()]
    places += [(d.name, d) for d in getattr(hall, "desks", {}).values()]
    for place, item in places:
        has_evaluator = bool(getattr(item, "evaluator", None))
        for role in ROLES:
            device = getattr(item, role, None)
            if isinstance(device, str) and device:
                out.setdefault(device, []).append((place, role_name(role, has_evaluator)))
    for device in getattr(hall, "displays", None) or []:
        out.setdefault(device, []).append(("大厅", "hall_display"))
    return out


def device_names(devices: Iterable[Any], hall: Any) -> dict[str, str]:
    """Every configured device's name for people, by id (``devices``: the config's ``[[device]]``
    entries, with ``id``, ``kind`` and ``description``; ``hall``: the HallConfig or None)."""
    places = _places(hall)
    out = {}
    for dev in devices:
        own = (getattr(dev, "description", "") or "").strip()
        if own:
            out[dev.id] = own
            continue
        served = places.get(dev.id, [])
        kind = kind_name(dev.kind, getattr(dev, "options", None))
        if not served:
            out[dev.id] = f"{kind} {dev.id}"
        elif any(name == "hall_display" for _, name in served):
            out[dev.id] = "大厅显示屏"
        elif len(served) > 1:
            out[dev.id] = f"大厅{kind}" if dev.kind == "speaker" else f"{kind} {dev.id}（{len(served)}处共用）"
        else:
            place, name = served[0]
            out[dev.id] = f"{place} {name}"
    return out
