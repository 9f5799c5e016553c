"""``/admin/config/history``: every applied version of the config (who, when, from where, what
changed), each version's diff, and the rollback button (a rollback is itself a new version).

The versions, diffs and the rollback are hwd's (``config.history``, ``config.show``,
``config.rollback``). A 大厅负责人 may roll back only to a version that differs from the current
file in the hall's own settings (kiosk_ui.admin_roles.may_change_all on the two parsed files);
devices and security settings are the 系统管理员's, in a rollback too.
"""

from __future__ import annotations

import tomllib
from typing import Any

from flask import Blueprint, abort, flash, get_flashed_messages, redirect, render_template, request, url_for

from kiosk_ui import admin_roles
from kiosk_ui.admin import login_required
from kiosk_ui.admin_config import PAGES, SYSTEM_PAGES, Refused, applied, read_config, send
from kiosk_ui.hwdlink import current

bp = Blueprint("admin_history", __name__, url_prefix="/admin/config/history")

SOURCES = {"hwctl": "命令行", "county": "县级平台", "hand edit": "手工修改文件"}
LIMIT = 200


def _lines(diff: Any) -> list[dict]:
    """A unified diff as lines with their kind, for colouring."""
    out = []
    for line in str(diff or "").splitlines():
        kind = "add" if line.startswith("+") and not line.startswith("+++") else \
            "del" if line.startswith("-") and not line.startswith("---") else \
            "at" if line.startswith("@@") else "ctx"
        out.append({"kind": kind, "text": line})
    return out


@bp.get("")
@login_required
def page():
    got = read_config()
    versions = (current().call("config.history", {"limit": LIMIT}) or {}).get("versions") or []
    return render_template("admin/config_history.html", page="history", pages=PAGES, system_pages=SYSTEM_PAGES,
                           got=got, versions=versions, sources=SOURCES, who=admin_roles.account(),
                           system=admin_roles.role() == admin_roles.SYSTEM,
                           messages=get_flashed_messages(with_categories=True))


@bp.get("/<int:version>")
@login_required
def show(version: int):
    got = read_config()
    shown = current().call("config.show", {"version": version})
    return render_template("admin/config_version.html", page="history", pages=PAGES, system_pages=SYSTEM_PAGES,
                           got=got, shown=shown, diff=_lines(shown.get("diff")), who=admin_roles.account(),
                           system=admin_roles.role() == admin_roles.SYSTEM, refused=None,
                           messages=get_flashed_messages(with_categories=True))


@bp.post("/rollback")
@login_required
def rollback():
    who = admin_roles.account()
    if who is None:
        abort(403)
    raw = str(request.form.get("version", ""))
    if not raw.isdigit():
        abort(400)
    version = int(raw)
    got = read_config()
    if who.role != admin_roles.SYSTEM:
        target = current().call("config.show", {"version": version})
        try:
            paths = admin_roles.changed_paths(tomllib.loads(got.get("text") or ""),
                                              tomllib.loads(target.get("text") or ""))
        except tomllib.TOMLDecodeError:
            abort(403)
        if not admin_roles.may_change_all(who.role, paths):
            flash("该版本与当前配置的差别涉及设备或安全设置，请由系统管理员回滚", "error")
            return redirect(url_for("admin_history.show", version=version)), 303
    try:
        applied(send("config.rollback", {"version": version, "base": str(request.form.get("base", ""))[:128],
                                           "by": who.id, "source": request.remote_addr or ""}))
    except Refused as exc:
        shown = current().call("config.show", {"version": version})
        return render_template("admin/config_version.html", page="history", pages=PAGES,
                               system_pages=SYSTEM_PAGES, got=read_config() if exc.conflict else got, shown=shown,
                               diff=_lines(shown.get("diff")), who=who, refused=exc,
                               system=who.role == admin_roles.SYSTEM, messages=[]), exc.status
    return redirect(url_for("admin_history.page"))
