"""``/admin/config``: the hall manager changes the hall — services and their matters, windows,
staff, hours and 调休, quotas, the display's scrolling notice, the kiosk's layout — and the
系统管理员 also devices, security settings, admin accounts and the whole file.

The page holds nothing of its own: it reads the config from hwd (``config.get``: the text, its
digest, the parsed tables without secrets), turns each form into ``config.edit`` ops
(kiosk_ui.config_forms) and sends them with the digest it was drawn from (``base``). hwd checks
the result with the same checker as ``hwd --check``, writes the file and applies it live; its
problems come back with their dotted keys and are shown beside their fields. A file changed
meanwhile (a hand edit, another admin) is refused by hwd (CONFIG_CHANGED): the page says so and
shows the file as it is now, it never overwrites. What each role may change is decided on the
ops (kiosk_ui.admin_roles.may_change), not on which form was shown.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable

from flask import Blueprint, abort, flash, get_flashed_messages, redirect, render_template, request, url_for
from werkzeug.security import generate_password_hash

from hwd import errors
from hwd.client import RpcError
from hwd.hall.config import DAYS, STAFF_ROLES, WINDOW_KINDS
from hwd.hall.queue.hours import Calendar
from hwd.hall.queue.official import HOLIDAY, MAKEUP

from kiosk_ui import admin_roles, config_forms as forms
from kiosk_ui.admin import login_required
from kiosk_ui.hwdlink import current, message_for
from kiosk_ui.settings import ROLES

bp = Blueprint("admin_config", __name__, url_prefix="/admin/config")

PAGES = {"services": "服务与事项", "catalogue": "导入事项目录", "windows": "窗口", "staff": "工作人员",
         "hours": "营业时间", "notice": "通知、限额与取号机"}
CATALOGUE_FORMATS = ("auto", "json", "csv")
SYSTEM_PAGES = {"accounts": "管理账号", "file": "配置文件"}
DAY_NAMES = dict(zip(DAYS, ("周一", "周二", "周三", "周四", "周五", "周六", "周日")))
DEVICE_KINDS = {"display": "display", "keypad": "keypad", "evaluator": "keypad", "speaker": "speaker"}
MIN_PASSWORD = 8
COMING_DAYS = 14
WEEKDAYS = "一二三四五六日"
DAY_KINDS = {"exception": "特别安排", HOLIDAY: "法定节假日", MAKEUP: "调休上班", "week": ""}
EDIT_TIMEOUT_S = 15.0  # a live apply swaps the engine's config: longer than a plain call


class Refused(Exception):
    """The edit was not applied: the page is drawn again with this status and what to show."""

    def __init__(self, status: int, message: str, problems: list | None = None, conflict: bool = False):
        super().__init__(message)
        self.status, self.message, self.problems, self.conflict = status, message, problems or [], conflict


def read_config() -> dict:
    got = current().call("config.get")
    got.setdefault("config", {})
    return got


def _hall(cfg: dict) -> dict:
    hall = cfg.get("hall")
    return hall if isinstance(hall, dict) else {}


def _items(table: dict, key: str) -> list[dict]:
    return [x for x in table.get(key) or [] if isinstance(x, dict)]


def _find(items: list[dict], ident: str) -> tuple[int, dict]:
    for i, item in enumerate(items):
        if str(item.get("id")) == ident:
            return i, item
    abort(404)


def _devices(cfg: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for dev in _items(cfg, "device"):
        out.setdefault(str(dev.get("kind")), []).append(str(dev.get("id")))
    return out


def problems_by_key(problems: list) -> dict[str, list[str]]:
    """The checker's problems by dotted key, each also under its table and list (``hall.window[2]
    .services[0]`` shows at ``hall.window[2].services``), for ``problems_at`` in the template."""
    out: dict[str, list[str]] = {}
    for p in problems or []:
        if not isinstance(p, dict):
            continue
        key, reason = str(p.get("key") or ""), str(p.get("reason") or "")
        out.setdefault(key, []).append(reason)
        trimmed = re.sub(r"\[\d+\]$", "", key)
        if trimmed != key:
            out.setdefault(trimmed, []).append(reason)
    return out


def _edit(ops: list[dict], note: str) -> dict:
    """Send the edit to hwd as this admin; Refused when it was not applied."""
    who = admin_roles.account()
    if who is None:
        abort(403)
    if not ops:
        raise Refused(200, "没有修改")
    if not all(admin_roles.may_change(who.role, op) for op in ops):
        abort(403)
    base = str(request.form.get("base", ""))[:128]
    params = {"ops": ops, "base": base, "by": who.id, "source": request.remote_addr or "", "note": note[:200]}
    return send("config.edit", params)


def send(method: str, params: dict) -> dict:
    try:
        return current().call(method, params, timeout=EDIT_TIMEOUT_S)
    except RpcError as exc:
        data = exc.data if isinstance(exc.data, dict) else {}
        if exc.code == errors.CONFIG_INVALID:
            raise Refused(422, message_for(exc), data.get("problems") or []) from None
        if exc.code == errors.CONFIG_CHANGED:
            raise Refused(409, message_for(exc), conflict=True) from None
        raise Refused(409, message_for(exc)) from None


def applied(result: dict) -> None:
    restart = result.get("restart") or []
    words = f"已保存并生效（配置版本 {result.get('version')}）"
    if restart:
        words += "；以下修改需重启 hwd 后生效：" + "、".join(map(str, restart))
    flash(words, "restart" if restart else "ok")


def _render(page: str, got: dict | None = None, refused: Refused | None = None, posted: dict | None = None,
            **extra: Any) -> Any:
    got = got or read_config()
    cfg = got["config"]
    hall = _hall(cfg)
    who = admin_roles.account()
    services = _items(hall, "service")
    status = refused.status if refused else 200
    body = render_template(
        f"admin/config_{page}.html", page=page, pages=PAGES, system_pages=SYSTEM_PAGES, got=got, cfg=cfg, hall=hall,
        services=services, service_ids=[str(s.get("id")) for s in services], windows=_items(hall, "window"),
        staff=_items(hall, "staff"), desks=_items(hall, "desk"), kiosks=_items(hall, "kiosk"),
        hours=hall.get("hours") if isinstance(hall.get("hours"), dict) else {}, days=DAY_NAMES,
        kinds=WINDOW_KINDS, devices=_devices(cfg), device_kinds=DEVICE_KINDS, who=who, roles=ROLES,
        staff_roles=STAFF_ROLES,
        system=who is not None and who.role == admin_roles.SYSTEM, accounts=_items(cfg.get("ui") or {}, "admin"),
        notice=str((cfg.get("ui") or {}).get("notice") or ""),
        refused=refused, problems=problems_by_key(refused.problems if refused else []), posted=posted or {},
        messages=get_flashed_messages(with_categories=True), today=current().today().isoformat(),
        coming=coming_days(current()) if page == "hours" else [], **extra)
    return body, status


def _page(page: str, actions: dict[str, Callable[[dict], tuple[list, str]]]) -> Any:
    """GET draws the page; POST runs one of its ``actions`` (form → ops, note) and applies it."""
    if request.method == "GET":
        return _render(page)
    action = actions.get(str(request.form.get("action", "")))
    if action is None:
        abort(400)
    got = read_config()
    posted = {"action": request.form.get("action"), "item": request.form.get("item", ""),
              **{k: v for k, v in request.form.items() if k != "csrf_token"}}
    try:
        ops, note = action(got["config"])
        applied(_edit(ops, note))
    except forms.FormError as exc:
        return _render(page, got, Refused(422, "请按提示修改", [{"key": exc.key, "reason": exc.reason}]), posted)
    except Refused as exc:
        if exc.status == 200:
            flash(exc.message, "ok")
        else:
            if exc.conflict:  # the fields show the file as it is now, never the stale form over it
                return _render(page, read_config(), exc)
            return _render(page, got, exc, posted)
    return redirect(url_for(f"admin_config.{page}") + (f"#{posted['item']}" if posted["item"] else ""))


def _item() -> str:
    return str(request.form.get("item", ""))[:64]


@bp.get("")
@login_required
def index():
    got = read_config()
    history = current().try_call("config.history", {"limit": 5}, default=None) or {}
    return render_template("admin/config_index.html", page="index", pages=PAGES, system_pages=SYSTEM_PAGES, got=got,
                           who=admin_roles.account(), history=history.get("versions") or [],
                           messages=get_flashed_messages(with_categories=True),
                           system=admin_roles.role() == admin_roles.SYSTEM)


@bp.route("/services", methods=["GET", "POST"])
@login_required
def services():
    def save(cfg: dict) -> tuple[list, str]:
        items = _items(_hall(cfg), "service")
        i, s = _find(items, _item())
        return forms.service_save(_item(), s, request.form, f"hall.service[{i}]"), f"修改服务 {_item()}"

    def add(cfg: dict) -> tuple[list, str]:
        return forms.service_add(request.form, f"hall.service[{len(_items(_hall(cfg), 'service'))}]"), "新增服务"

    def remove(cfg: dict) -> tuple[list, str]:
        _find(_items(_hall(cfg), "service"), _item())
        return [{"op": "remove", "path": ["hall", "service", {"id": _item()}]}], f"删除服务 {_item()}"

    def matter_add(cfg: dict) -> tuple[list, str]:
        _find(_items(_hall(cfg), "service"), _item())
        return forms.matter_add(_item(), request.form), f"服务 {_item()} 新增事项 {forms.text(request.form, 'name')}"

    def matter_save(cfg: dict) -> tuple[list, str]:
        _, s = _find(_items(_hall(cfg), "service"), _item())
        mid = str(request.form.get("matter", ""))[:64]
        _, m = _find(_items(s, "matter"), mid)
        return forms.matter_save(_item(), mid, m, request.form), f"修改服务 {_item()} 的事项 {mid}"

    def matter_remove(cfg: dict) -> tuple[list, str]:
        _, s = _find(_items(_hall(cfg), "service"), _item())
        mid = str(request.form.get("matter", ""))[:64]
        _find(_items(s, "matter"), mid)
        return [{"op": "remove", "path": ["hall", "service", {"id": _item()}, "matter", {"id": mid}]}], \
            f"删除服务 {_item()} 的事项 {mid}"

    return _page("services", {"save": save, "add": add, "remove": remove, "matter_add": matter_add,
                              "matter_save": matter_save, "matter_remove": matter_remove})


def _index(count: int) -> int:
    raw = str(request.form.get("index", ""))
    if not raw.isdigit() or int(raw) >= count:
        abort(400)
    return int(raw)


@bp.route("/windows", methods=["GET", "POST"])
@login_required
def windows():
    system = admin_roles.role() == admin_roles.SYSTEM

    def save(cfg: dict) -> tuple[list, str]:
        hall = _hall(cfg)
        i, w = _find(_items(hall, "window"), _item())
        ids = [str(s.get("id")) for s in _items(hall, "service")]
        return forms.window_save(_item(), w, request.form, ids, f"hall.window[{i}]", system), f"修改窗口 {_item()}"

    def add(cfg: dict) -> tuple[list, str]:
        hall = _hall(cfg)
        ids = [str(s.get("id")) for s in _items(hall, "service")]
        return forms.window_add(request.form, ids, f"hall.window[{len(_items(hall, 'window'))}]", system), "新增窗口"

    def remove(cfg: dict) -> tuple[list, str]:
        _find(_items(_hall(cfg), "window"), _item())
        return [{"op": "remove", "path": ["hall", "window", {"id": _item()}]}], f"删除窗口 {_item()}"

    return _page("windows", {"save": save, "add": add, "remove": remove})


@bp.route("/staff", methods=["GET", "POST"])
@login_required
def staff():
    def save(cfg: dict) -> tuple[list, str]:
        _, s = _find(_items(_hall(cfg), "staff"), _item())
        return forms.staff_save(_item(), s, request.form), f"修改工作人员 {_item()}"

    def add(cfg: dict) -> tuple[list, str]:
        return forms.staff_add(request.form), f"新增工作人员 {forms.text(request.form, 'id')}"

    def disable(cfg: dict) -> tuple[list, str]:
        _find(_items(_hall(cfg), "staff"), _item())
        off = request.form.get("disabled") == "1"
        return forms.staff_disabled(_item(), off), f"{'停用' if off else '启用'}工作人员 {_item()}"

    def reset_pin(cfg: dict) -> tuple[list, str]:
        _, s = _find(_items(_hall(cfg), "staff"), _item())
        return forms.staff_reset_pin(_item(), s), f"重置工作人员 {_item()} 的密码"

    return _page("staff", {"save": save, "add": add, "disable": disable, "reset_pin": reset_pin})


def coming_days(link: Any, days: int = COMING_DAYS) -> list[dict]:
    """The hall's hours of the coming days as the engine will keep them (its calendar over the
    config hwd-ui has just read: the week, the dates with their own hours, the official holidays
    and 调休), so the manager sees a holiday or 调休 take effect."""
    hall = getattr(link.config, "hall", None)
    if hall is None:
        return []
    calendar = Calendar(hall.hours)
    today = link.today()
    out = []
    for offset in range(days):
        day = today + dt.timedelta(days=offset)
        kind, name = calendar.day_kind(day)
        hours = calendar.texts_on(day)
        out.append({"date": day.isoformat(), "weekday": "周" + WEEKDAYS[day.weekday()],
                    "hours": " ".join(hours) if hours else "休息", "kind": name or DAY_KINDS.get(kind, ""),
                    "closed": not hours and not hall.hours.always_open})
    return out


@bp.route("/hours", methods=["GET", "POST"])
@login_required
def hours():
    def save(cfg: dict) -> tuple[list, str]:
        table = _hall(cfg).get("hours")
        return forms.hours_save(table if isinstance(table, dict) else {}, request.form), "修改营业时间"

    def exception_add(cfg: dict) -> tuple[list, str]:
        return forms.exception_add(request.form), f"{forms.text(request.form, 'date')} 特别安排"

    def exception_remove(cfg: dict) -> tuple[list, str]:
        table = _hall(cfg).get("hours")
        count = len(_items(table, "exception")) if isinstance(table, dict) else 0
        return forms.exception_remove(_index(count)), "删除特别安排"

    return _page("hours", {"save": save, "exception_add": exception_add, "exception_remove": exception_remove})


@bp.route("/notice", methods=["GET", "POST"])
@login_required
def notice():
    def notice_save(cfg: dict) -> tuple[list, str]:
        return forms.notice_save(str((cfg.get("ui") or {}).get("notice") or ""), request.form), "修改滚动通知"

    def quotas(cfg: dict) -> tuple[list, str]:
        return forms.quotas(_items(_hall(cfg), "service"), request.form), "修改取号限额"

    def kiosk(cfg: dict) -> tuple[list, str]:
        hall = _hall(cfg)
        i, k = _find(_items(hall, "kiosk"), _item())
        ids = [str(s.get("id")) for s in _items(hall, "service")]
        return forms.kiosk_save(_item(), k, request.form, ids, f"hall.kiosk[{i}]"), f"修改取号机 {_item()} 的布局"

    return _page("notice", {"notice": notice_save, "quotas": quotas, "kiosk": kiosk})


@bp.route("/accounts", methods=["GET", "POST"])
@login_required
@admin_roles.require(admin_roles.SYSTEM)
def accounts():
    def password() -> str:
        first, second = str(request.form.get("password", "")), str(request.form.get("password2", ""))
        if len(first) < MIN_PASSWORD or len(first) > 256:
            raise forms.FormError("password", f"密码至少 {MIN_PASSWORD} 位")
        if first != second:
            raise forms.FormError("password", "两次输入的密码不一致")
        return generate_password_hash(first)

    def add(cfg: dict) -> tuple[list, str]:
        return forms.account_add(request.form, password()), f"新增管理账号 {forms.text(request.form, 'id')}"

    def save(cfg: dict) -> tuple[list, str]:
        _, a = _find(_items(cfg.get("ui") or {}, "admin"), _item())
        return forms.account_save(_item(), a, request.form), f"修改管理账号 {_item()}"

    def set_password(cfg: dict) -> tuple[list, str]:
        _find(_items(cfg.get("ui") or {}, "admin"), _item())
        return forms.account_password(_item(), password()), f"重设管理账号 {_item()} 的密码"

    return _page("accounts", {"add": add, "save": save, "password": set_password})


@bp.route("/file", methods=["GET", "POST"])
@login_required
@admin_roles.require(admin_roles.SYSTEM)
def file():
    """The whole file as text (devices, ports, security settings): 检查 (config.check) or 保存
    (config.apply), the problems listed with their lines."""
    if request.method == "GET":
        return _render("file")
    got = read_config()
    text = str(request.form.get("text", ""))
    posted = {"text": text, "base": request.form.get("base", "")}
    if request.form.get("action") == "check":
        found = current().call("config.check", {"text": text}).get("problems") or []
        refused = Refused(422 if found else 200, "检查发现以下问题" if found else "检查通过，没有发现问题", found)
        return _render("file", got, refused, posted)
    who = admin_roles.account()
    try:
        applied(send("config.apply", {"text": text, "base": str(request.form.get("base", ""))[:128],
                                        "by": who.id if who else "", "source": request.remote_addr or "",
                                        "note": forms.text(request.form, "note")[:200] or "修改配置文件"}))
    except Refused as exc:
        return _render("file", read_config() if exc.conflict else got, exc, posted)
    return redirect(url_for("admin_config.file"))


@bp.post("/restart")
@login_required
@admin_roles.require(admin_roles.SYSTEM)
def restart():
    """Plan hwd's restart for the night (``config.restart``), so the restart-needed changes apply
    when the hall is closed; or take the plan back."""
    at = "cancel" if request.form.get("at") == "cancel" else "night"
    planned = current().call("config.restart", {"at": at})
    flash(f"已安排在 {planned.get('at')} 重启 hwd，需重启的修改届时生效" if planned.get("planned")
          else "已取消夜间重启", "ok")
    return redirect(url_for("admin_config.index"))


@bp.route("/catalogue", methods=["GET", "POST"])
@login_required
def catalogue():
    """A matter catalogue (the province's file of matters with their codes, JSON or CSV) imported
    into the services' matters: 预览 shows what changes (hwd's ``config.import_matters`` without
    ``apply``: added, updated, the diff, the checker's problems), 导入 applies exactly that
    preview's base (a file changed meanwhile is refused like any edit). Only matters change."""
    if request.method == "GET":
        return _render("catalogue")
    upload = request.files.get("file")
    text = upload.read().decode("utf-8-sig", errors="replace") if upload and upload.filename else \
        str(request.form.get("catalogue", ""))
    fmt = str(request.form.get("format", "auto"))
    if fmt not in CATALOGUE_FORMATS:
        abort(400)
    who = admin_roles.account()
    if who is None:
        abort(403)
    params = {"catalogue": text, "format": fmt, "by": who.id, "source": request.remote_addr or "",
              "note": "导入事项目录"}
    posted = {"catalogue": text, "format": fmt}
    if request.form.get("action") != "import":
        try:
            preview = current().call("config.import_matters", {**params, "apply": False}, timeout=EDIT_TIMEOUT_S)
        except RpcError as exc:
            return _render("catalogue", refused=Refused(422, message_for(exc)), posted=posted)
        found = preview.get("problems") or []
        return _render("catalogue", refused=Refused(422, "导入后配置有误，不能导入", found) if found else None,
                       posted=posted, preview=preview)
    try:
        applied(send("config.import_matters", {**params, "apply": True,
                                               "base": str(request.form.get("base", ""))[:128]}))
    except Refused as exc:
        return _render("catalogue", read_config() if exc.conflict else None, exc, posted)
    return redirect(url_for("admin_config.services"))
