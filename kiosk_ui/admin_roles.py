"""Who is logged in at ``/admin`` and what that role may change.

Two roles (``[[ui.admin]] role``): ``system`` (系统管理员: devices, ports, security settings,
admin accounts, the whole config file) and ``hall`` (大厅负责人: the hall itself — services and
their matters, windows, staff, hours, quotas, the scrolling notice, the kiosk's layout). The
legacy ``[ui] admin_password_hash`` is the account ``admin`` with the role ``system``.

The browser's session keeps only the account id; its role is read from the current config at
every request, so an account disabled or given another role (a config change applied live)
takes effect at once. What a role may change is decided here, on the config paths of the edit
(``may_change``), whatever form or script sent it: the pages only build edits.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from flask import abort, session

from hwd.web import sessions as web_sessions

from kiosk_ui.hwdlink import current
from kiosk_ui.settings import AdminAccount

SESSION_KEY = "admin_account"
SYSTEM, HALL = "system", "hall"

# what a 大厅负责人 may change, as config paths (None matches any one segment: a table's index or
# id selector). A window's devices and addresses, and anything not listed, are the 系统管理员's.
HALL_PATHS: tuple[tuple, ...] = (
    ("hall", "service"),
    ("hall", "window", None, "id"), ("hall", "window", None, "name"), ("hall", "window", None, "kind"), ("hall", "window", None, "services"),
    ("hall", "window", None, "partner"), ("hall", "window", None, "spoken"),
    ("hall", "staff"),
    ("hall", "hours"),
    ("hall", "kiosk", None, "services"),
    ("ui", "notice"),
)
HALL_NEW_WINDOW_KEYS = {"id", "name", "kind", "services", "partner", "spoken"}
NEVER = (("hall", "staff", None, "pin_hash"),)  # a PIN is set by its clerk at the counter, only removed here


def account(touch: bool | None = None) -> AdminAccount | None:
    """The admin account of this browser's live session (None when logged out or disabled);
    ``touch`` as hwd.web.sessions.valid."""
    if not web_sessions.valid("admin", touch):
        return None
    found = current().settings.accounts().get(str(session.get(SESSION_KEY) or ""))
    return None if found is None or found.disabled else found


def role() -> str | None:
    found = account()
    return found.role if found else None


def require(*roles: str) -> Callable:
    """A view only these roles may use (403 for the others; login required before)."""
    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            found = account()
            if found is None or found.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return wrap


def _matches(path: list, pattern: tuple) -> bool:
    if len(path) < len(pattern):
        return False
    return all(p is None or p == seg for p, seg in zip(pattern, path))


def may_change(who: str | None, op: dict) -> bool:
    """May the role ``who`` apply this ``config.edit`` op?"""
    path = op.get("path")
    if not isinstance(path, list) or not path:
        return False
    if op.get("op") == "set" and any(_matches(path, p) and len(path) == len(p) for p in NEVER):
        return False
    if who == SYSTEM:
        return True
    if who != HALL:
        return False
    if path[:2] == ["hall", "window"] and op.get("op") == "add" and len(path) == 2:
        return isinstance(op.get("value"), dict) and set(op["value"]) <= HALL_NEW_WINDOW_KEYS
    if path[:2] == ["hall", "window"] and op.get("op") == "remove" and len(path) == 3:
        return True
    return any(_matches(path, p) for p in HALL_PATHS)


def changed_paths(old: Any, new: Any, prefix: tuple = ()) -> list[tuple]:
    """The config paths where two parsed configs differ (tables by key, arrays of tables by their
    ``id`` when every item has one, else by index), for deciding who may roll back to a version."""
    if isinstance(old, dict) and new is None or old is None and isinstance(new, dict):
        old, new = old or {}, new or {}  # a whole table added or removed: each of its keys changed
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[tuple] = []
        for key in sorted(set(old) | set(new)):
            out += changed_paths(old.get(key), new.get(key), prefix + (key,))
        return out
    if isinstance(old, list) and isinstance(new, list) and all(isinstance(x, dict) for x in old + new) \
            and all("id" in x for x in old + new):
        before, after = {str(x["id"]): x for x in old}, {str(x["id"]): x for x in new}
        if list(before) != list(after) and set(before) == set(after):
            return [prefix]  # only the order changed
        out = []
        for key in sorted(set(before) | set(after)):
            out += changed_paths(before.get(key), after.get(key), prefix + (key,))
        return out
    if isinstance(old, list) and isinstance(new, list) and all(isinstance(x, dict) for x in old + new) \
            and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new)):
            out += changed_paths(a, b, prefix + (i,))
        return out
    return [] if old == new else [prefix]


def may_change_all(who: str | None, paths: list[tuple]) -> bool:
    """May the role ``who`` make a change touching these paths (a rollback, an import)?"""
    if who == SYSTEM:
        return True
    return who == HALL and all(any(_matches(list(p), pattern) for pattern in HALL_PATHS) for p in paths)
