"""Issue 28, attacked from other LAN machines (loopback 127.0.0.x) through the real hwd-ui and a
real hwd: /admin/config changes the config file hwd runs with, so no login → nothing; a
大厅负责人 cannot change devices, ports or security settings (not by a form, not by a forged
post, not by a rollback); every change needs the session's CSRF token; oversized and malformed
posts are refused and leave the file as it was; a disabled account is logged out at once."""

from __future__ import annotations

import re

import pytest

from security_helpers import Browser, UiProcess, hall

HALL_PASSWORD, SYS_PASSWORD = "hall-manager-1", "system-admin-1"
PAGES = ("", "/services", "/windows", "/staff", "/hours", "/notice", "/history", "/accounts", "/file")


def _fast(secret: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(secret, method="pbkdf2:sha256:1000")


DEVICES = '''
[[device]]
id = "w1-screen"
kind = "display"
driver = "web"
url = "null://"

[[device]]
id = "w1-spare"
kind = "display"
driver = "web"
url = "null://"
'''


@pytest.fixture
def site(hwd_daemon):
    d = hwd_daemon(hall(DEVICES, windows='[[hall.window]]\nid = "w1"\nname = "1号窗口"\nservices = ["s0"]\n'
                                          'display = "w1-screen"\n')
                   + '[[hall.staff]]\nid = "s01"\nname = "职员1"\n'
                   + f'\n[ui]\nnotice = "原来的通知"\n'
                   + f'[[ui.admin]]\nid = "li"\nname = "李主任"\nrole = "hall"\npassword_hash = "{_fast(HALL_PASSWORD)}"\n'
                   + f'[[ui.admin]]\nid = "zhang"\nname = "张工"\nrole = "system"\n'
                   + f'password_hash = "{_fast(SYS_PASSWORD)}"\n')
    ui = UiProcess(d.config_path)
    yield d, ui
    ui.stop()


def _login(ui, account: str, password: str, source: str) -> Browser:
    b = Browser(ui, source)
    status, headers, _ = b.post_form("/admin/login", {"account": account, "password": password})
    assert status == 302, status
    return b


def _base(b: Browser, page: str = "/admin/config/notice") -> str:
    html = b.get(page)[2].decode()
    return re.search(r'name="base" value="([0-9a-f]+)"', html).group(1)


def test_no_login_gets_nothing_and_changes_nothing(site):
    d, ui = site
    before = d.config_path.read_text(encoding="utf-8")
    stranger = Browser(ui, "127.0.0.7")
    for page in PAGES:
        status, headers, body = stranger.get("/admin/config" + page)
        assert status == 302 and "/admin/login" in headers["location"], (page, status)
        assert "原来的通知" not in body.decode() and "[[device]]" not in body.decode()
    # with a valid CSRF token of its own (anonymous) session: still nothing
    for page, form in (("/notice", {"action": "notice", "item": "notice", "notice": "被篡改"}),
                       ("/file", {"action": "apply", "text": before.replace("原来的通知", "被篡改")}),
                       ("/history/rollback", {"version": "1"})):
        status, headers, _ = stranger.post_form("/admin/config" + page, {**form, "base": "0" * 64})
        assert status == 302 and "/admin/login" in headers["location"], (page, status)
    assert d.config_path.read_text(encoding="utf-8") == before
    assert d.call("config.history", {"limit": 5})["versions"][0]["by"] != "li"


def test_csrf_is_required_for_every_change(site):
    d, ui = site
    manager = _login(ui, "li", HALL_PASSWORD, "127.0.0.8")
    base = _base(manager)
    before = d.config_path.read_text(encoding="utf-8")
    form = {"action": "notice", "item": "notice", "notice": "跨站请求", "base": base}
    status, _, _ = manager.request("POST", "/admin/config/notice", form=form)  # no token
    assert status == 400
    status, _, _ = manager.request("POST", "/admin/config/notice", form={**form, "csrf_token": "x" * 32})
    assert status == 400
    other = _login(ui, "li", HALL_PASSWORD, "127.0.0.9")  # another session's token is not this one's
    status, _, _ = manager.request("POST", "/admin/config/notice", form={**form, "csrf_token": other.csrf()})
    assert status == 400
    assert d.config_path.read_text(encoding="utf-8") == before


def test_a_hall_manager_cannot_change_devices_or_security(site):
    d, ui = site
    manager = _login(ui, "li", HALL_PASSWORD, "127.0.0.10")
    before = d.config_path.read_text(encoding="utf-8")
    for page in ("/file", "/accounts"):
        assert manager.get("/admin/config" + page)[0] == 403, page
    base = _base(manager)
    # the whole file (ports, devices, the admin accounts) and the accounts: refused
    status, _, _ = manager.post_form("/admin/config/file", {"action": "apply", "base": base,
                                                            "text": before.replace('role = "hall"', 'role = "system"')})
    assert status == 403
    status, _, _ = manager.post_form("/admin/config/accounts", {"action": "add", "item": "new-account", "base": base,
                                                                "id": "evil", "name": "x", "role": "system",
                                                                "password": "p" * 12, "password2": "p" * 12})
    assert status == 403
    # a window's device, forged into the window form: not changed
    status, _, _ = manager.post_form("/admin/config/windows", {"action": "save", "item": "w1", "base": base,
                                                               "name": "1号窗口", "kind": "综合", "svc:s0": "1",
                                                               "display": "w1-spare"})
    assert status in (200, 302)
    assert 'display = "w1-screen"' in d.config_path.read_text(encoding="utf-8")
    # a new window with a device, or a staff PIN hash, forged: not in the edit
    status, _, _ = manager.post_form("/admin/config/staff", {"action": "add", "item": "new-staff", "base": base,
                                                             "id": "s09", "name": "假人", "pin_hash": "pbkdf2:x$y$z"})
    assert "pbkdf2:x$y$z" not in d.config_path.read_text(encoding="utf-8")
    # a rollback to a version with other devices (the system admin changed the window's screen)
    admin = _login(ui, "zhang", SYS_PASSWORD, "127.0.0.11")
    status, _, _ = admin.post_form("/admin/config/windows", {"action": "save", "item": "w1", "base": _base(admin),
                                                             "name": "1号窗口", "kind": "综合", "svc:s0": "1",
                                                             "display": "w1-spare"})
    assert status == 302
    assert 'display = "w1-spare"' in d.config_path.read_text(encoding="utf-8")
    older = [v for v in d.call("config.history", {"limit": 10})["versions"] if v["by"] != "zhang"][0]["version"]
    status, headers, _ = manager.post_form("/admin/config/history/rollback",
                                           {"version": str(older), "base": _base(manager)})
    assert status == 303 and 'display = "w1-spare"' in d.config_path.read_text(encoding="utf-8")
    # what the hall manager may do, works
    status, _, _ = manager.post_form("/admin/config/notice", {"action": "notice", "item": "notice",
                                                              "base": _base(manager), "notice": "新的通知"})
    assert status == 302 and "新的通知" in d.config_path.read_text(encoding="utf-8")


def test_oversized_and_malformed_posts_are_refused(site):
    d, ui = site
    admin = _login(ui, "zhang", SYS_PASSWORD, "127.0.0.12")
    before = d.config_path.read_text(encoding="utf-8")
    base = _base(admin)
    status, _, _ = admin.post_form("/admin/config/notice", {"action": "notice", "item": "notice", "base": base,
                                                            "notice": "a" * 66000})  # just over [ui] 64 KiB: the body fits the socket buffers
    assert status == 413
    for page, form in (("/notice", {"action": "no-such-action"}),
                       ("/hours", {"action": "exception_remove", "index": "-1"}),
                       ("/hours", {"action": "exception_remove", "index": "99"}),
                       ("/services", {"action": "matter_save", "item": "s0", "matter": "nope"}),
                       ("/staff", {"action": "disable", "item": "nobody"}),
                       ("/history/rollback", {"version": "1 OR 1=1"})):
        status, _, _ = admin.post_form("/admin/config" + page, {**form, "base": base})
        assert status in (400, 404), (page, form, status)
    status, _, body = admin.post_form("/admin/config/windows", {"action": "save", "item": "w1", "base": base,
                                                                "name": "1号窗口", "svc:s0": "first"})
    assert status == 422 and "顺序请填写数字" in body.decode()
    status, _, body = admin.post_form("/admin/config/notice", {"action": "quotas", "item": "quotas", "base": base,
                                                               "quota:s0": "很多"})
    assert status == 422 and "请填写整数" in body.decode()
    assert d.config_path.read_text(encoding="utf-8") == before
    assert admin.get("/admin/config")[0] == 200, "hwd-ui and hwd keep answering"


def test_a_disabled_account_is_logged_out_at_once(site):
    d, ui = site
    manager = _login(ui, "li", HALL_PASSWORD, "127.0.0.13")
    assert manager.get("/admin/config/staff")[0] == 200
    admin = _login(ui, "zhang", SYS_PASSWORD, "127.0.0.14")
    status, _, _ = admin.post_form("/admin/config/accounts", {"action": "save", "item": "li", "base": _base(admin),
                                                              "name": "李主任", "role": "hall", "disabled": "1"})
    assert status == 302
    status, headers, _ = manager.get("/admin/config/staff")
    assert status == 302 and "/admin/login" in headers["location"]
    status, _, _ = Browser(ui, "127.0.0.13").post_form("/admin/login", {"account": "li", "password": HALL_PASSWORD})
    assert status == 403
