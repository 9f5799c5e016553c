"""The /admin/config forms turned into ``config.edit`` ops (docs/api.md): one function per form,
plain data in, ops out, no Flask and no RPC, so what a form changes can be read and tested here.

Every op names its table by id (``{"id": "w3"}``), never by position, except the tables that
have no id (the hours' exceptions): those by index, which the edit's
``base`` digest keeps honest (the file changed since the page was drawn → refused, not
misapplied). A key whose value is unchanged is left alone; an optional key emptied is removed,
so the file keeps only what the hall set.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from hwd.hall.config import DAYS

SERVICE_TEXT = ("name", "prefix", "department", "conditions", "time_limit", "fees", "matter_code", "impl_code",
                "matter_version")
MATTER_TEXT = ("name", "matter_code", "impl_code", "matter_version", "department", "conditions", "time_limit",
               "fees", "region")
WINDOW_DEVICES = ("display", "keypad", "evaluator", "speaker")
MAX_TEXT = 2000
MAX_ITEMS = 200


class FormError(ValueError):
    """A form value the page refuses before asking hwd (e.g. 5 for a quota of "five"); ``key``
    is the field it belongs to."""

    def __init__(self, key: str, reason: str):
        super().__init__(reason)
        self.key, self.reason = key, reason


def text(form: Mapping, name: str) -> str:
    return str(form.get(name, "") or "").strip()[:MAX_TEXT]


def lines(form: Mapping, name: str) -> list[str]:
    """A list typed one item a line (or separated by commas, 、 or ；)."""
    items = [x.strip() for x in re.split(r"[\n,，、;；]+", str(form.get(name, "") or ""))]
    return [x[:MAX_TEXT] for x in items if x][:MAX_ITEMS]


def ranges(form: Mapping, name: str) -> list[str]:
    """Opening hours typed as ``09:00-12:00 13:00-17:00`` (spaces, commas or lines between)."""
    return [x for x in re.split(r"[\s,，、;；]+", str(form.get(name, "") or "").replace("－", "-").replace("—", "-"))
            if x][:MAX_ITEMS]


def number(form: Mapping, name: str, key: str, default: int | None = None) -> int | None:
    raw = text(form, name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise FormError(key, "请填写整数") from None


def checked(form: Any, name: str) -> list[str]:
    """The ticked boxes of a group (``getlist`` of a werkzeug MultiDict)."""
    values = form.getlist(name) if hasattr(form, "getlist") else list(form.get(name) or [])
    return [str(v)[:64] for v in values][:MAX_ITEMS]


def ordered(form: Mapping, prefix: str, known: list[str], key: str) -> list[str]:
    """Ids given an order number (``prefix + id`` fields, 1 = first); empty = not chosen."""
    picked = []
    for ident in known:
        raw = text(form, prefix + ident)
        if not raw:
            continue
        try:
            picked.append((float(raw), known.index(ident), ident))
        except ValueError:
            raise FormError(key, "顺序请填写数字，不选则留空") from None
    return [ident for _, _, ident in sorted(picked)]


def changes(path: list, current: Mapping, wanted: Mapping) -> list[dict]:
    """Ops making the table at ``path`` hold ``wanted`` (None or "" or []: remove the key)."""
    ops = []
    for key, value in wanted.items():
        empty = value is None or value == "" or value == []
        if empty:
            if key in current:
                ops.append({"op": "remove", "path": path + [key]})
        elif current.get(key) != value:
            ops.append({"op": "set", "path": path + [key], "value": value})
    return ops


def _table(values: Mapping) -> dict:
    return {k: v for k, v in values.items() if v is not None and v != "" and v != []}


# -- services and their matters -------------------------------------------------------------------

def service_values(form: Mapping, key: str) -> dict:
    values: dict[str, Any] = {k: text(form, k) for k in SERVICE_TEXT}
    values["materials"] = lines(form, "materials")
    values["quota"] = number(form, "quota", key + ".quota")
    return values


def service_save(sid: str, current: Mapping, form: Mapping, key: str) -> list[dict]:
    values = service_values(form, key)
    if values["quota"] == 0:
        values["quota"] = None
    return changes(["hall", "service", {"id": sid}], current, values)


def service_add(form: Mapping, key: str) -> list[dict]:
    values = {"id": text(form, "id"), **service_values(form, key)}
    return [{"op": "add", "path": ["hall", "service"], "value": _table(values)}]


def matter_values(form: Mapping) -> dict:
    values: dict[str, Any] = {k: text(form, k) for k in MATTER_TEXT}
    values["materials"] = lines(form, "materials")
    return values


def matter_add(sid: str, form: Mapping) -> list[dict]:
    value = _table({"id": text(form, "id"), **matter_values(form)})
    return [{"op": "add", "path": ["hall", "service", {"id": sid}, "matter"], "value": value}]


def matter_save(sid: str, mid: str, current: Mapping, form: Mapping) -> list[dict]:
    return changes(["hall", "service", {"id": sid}, "matter", {"id": mid}], current, matter_values(form))


def quotas(services: list[dict], form: Mapping) -> list[dict]:
    """Every service's 每日取号限额 from one form (``quota:<id>``; empty or 0 = no limit)."""
    ops = []
    for i, s in enumerate(services):
        sid = str(s.get("id"))
        quota = number(form, "quota:" + sid, f"hall.service[{i}].quota")
        ops += changes(["hall", "service", {"id": sid}], s, {"quota": quota or None})
    return ops


# -- windows ------------------------------------------------------------------------------------

def window_values(form: Mapping, services: list[str], key: str, devices: bool) -> dict:
    values: dict[str, Any] = {"name": text(form, "name"), "kind": text(form, "kind") or "综合",
                              "services": ordered(form, "svc:", services, key + ".services"),
                              "partner": text(form, "partner"), "spoken": text(form, "spoken")}
    if devices:
        values.update({d: text(form, d) for d in WINDOW_DEVICES})
    return values


def window_save(wid: str, current: Mapping, form: Mapping, services: list[str], key: str,
                devices: bool) -> list[dict]:
    return changes(["hall", "window", {"id": wid}], current, window_values(form, services, key, devices))


def window_add(form: Mapping, services: list[str], key: str, devices: bool) -> list[dict]:
    values = {"id": text(form, "id"), **window_values(form, services, key, devices)}
    return [{"op": "add", "path": ["hall", "window"], "value": _table(values)}]


# -- staff --------------------------------------------------------------------------------------

def staff_values(form: Any) -> dict:
    return {"name": text(form, "name"), "windows": checked(form, "windows"), "desks": checked(form, "desks"),
            "roles": checked(form, "roles")}


def staff_save(staff: str, current: Mapping, form: Any) -> list[dict]:
    return changes(["hall", "staff", {"id": staff}], current, staff_values(form))


def staff_add(form: Any) -> list[dict]:
    """A new clerk, without a PIN: in a hall whose clerks have PINs he sets one at his first login."""
    return [{"op": "add", "path": ["hall", "staff"], "value": _table({"id": text(form, "id"), **staff_values(form)})}]


def staff_disabled(staff: str, disabled: bool) -> list[dict]:
    path = ["hall", "staff", {"id": staff}, "disabled"]
    return [{"op": "set", "path": path, "value": True}] if disabled else [{"op": "remove", "path": path}]


def staff_reset_pin(staff: str, current: Mapping) -> list[dict]:
    """The PIN forgotten: its hash removed (``pin_set``: hwd's config.get says one is there); hwd
    then makes the clerk set a new one at the next login. No PIN set: nothing to reset."""
    if not current.get("pin_set"):
        return []
    return [{"op": "remove", "path": ["hall", "staff", {"id": staff}, "pin_hash"]}]


# -- hours --------------------------------------------------------------------------------------

def hours_save(current: Mapping, form: Mapping) -> list[dict]:
    values: dict[str, Any] = {d: ranges(form, d) for d in DAYS}
    ops = []
    for day, value in values.items():  # an empty day is a closed day: [] kept, not removed
        if current.get(day) != value:
            ops.append({"op": "set", "path": ["hall", "hours", day], "value": value})
    flags = {"always_open": bool(form.get("always_open")), "official_calendar": bool(form.get("official_calendar"))}
    for name, value in flags.items():
        if bool(current.get(name, name == "official_calendar")) != value:
            ops.append({"op": "set", "path": ["hall", "hours", name], "value": value})
    ops += changes(["hall", "hours"], current, {"makeup_hours": ranges(form, "makeup_hours")})
    return ops


def exception_add(form: Mapping) -> list[dict]:
    """A date with its own hours: empty hours = closed (a holiday); hours on a weekend = 调休上班."""
    value: dict[str, Any] = {"date": text(form, "date"), "hours": ranges(form, "hours")}
    if text(form, "note"):
        value["note"] = text(form, "note")
    return [{"op": "add", "path": ["hall", "hours", "exception"], "value": value}]


def exception_remove(index: int) -> list[dict]:
    return [{"op": "remove", "path": ["hall", "hours", "exception", index]}]


# -- the display's notice, the kiosk's layout -------------------------------------------------

def notice_save(current: str, form: Mapping) -> list[dict]:
    notice = text(form, "notice")[:500]
    return changes(["ui"], {"notice": current} if current else {}, {"notice": notice})


def kiosk_save(kid: str, current: Mapping, form: Mapping, services: list[str], key: str) -> list[dict]:
    return changes(["hall", "kiosk", {"id": kid}], current,
                   {"services": ordered(form, "svc:", services, key + ".services")})


# -- admin accounts (系统管理员) -------------------------------------------------------------------

def account_add(form: Mapping, password_hash: str) -> list[dict]:
    return [{"op": "add", "path": ["ui", "admin"], "value": {
        "id": text(form, "id"), "name": text(form, "name"), "role": text(form, "role"),
        "password_hash": password_hash}}]


def account_save(account: str, current: Mapping, form: Mapping) -> list[dict]:
    ops = changes(["ui", "admin", {"id": account}], current, {"name": text(form, "name"), "role": text(form, "role")})
    disabled = bool(form.get("disabled"))
    if disabled != bool(current.get("disabled")):
        ops += [{"op": "set", "path": ["ui", "admin", {"id": account}, "disabled"], "value": True}] if disabled \
            else [{"op": "remove", "path": ["ui", "admin", {"id": account}, "disabled"]}]
    return ops


def account_password(account: str, password_hash: str) -> list[dict]:
    return [{"op": "set", "path": ["ui", "admin", {"id": account}, "password_hash"], "value": password_hash}]
