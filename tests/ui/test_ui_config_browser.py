"""Issue 28's done-when, in headless Debian chromium (Playwright) with the real hwd and hwd-ui:
while a script issues and calls tickets, the hall manager (大厅负责人) adds a matter with its
code, moves window 3 to serve it, adds a clerk who then logs in at the counter (setting his own
PIN), and sets tomorrow (the test clock's) as a holiday — no ticket lost, no call interrupted,
hwd's pid unchanged. A hand edit of the file while the page is open is detected, never
overwritten; a rollback restores the previous hall (the file and the engine's behaviour).
Checked by element text and boxes, not pixels."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading

import pytest

from conftest import CHROMIUM, CLOCK_START, STAFF_PIN, UiServer, _fast_hash, hall_config
from daemon_fixture import wait_for

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} missing (apt-get install chromium)")]

LANDSCAPE = {"width": 1366, "height": 768}
PASSWORD = "hall-manager-1"
MATTER_CODE = "11410000MB0153120X4410117002"


def _config() -> str:
    accounts = (f'\n[[ui.admin]]\nid = "li"\nname = "李主任"\nrole = "hall"\n'
                f'password_hash = "{_fast_hash(PASSWORD)}"\n')
    text = hall_config(accounts)
    # opening hours by the week (not always open), without the official calendar: a holiday is ours
    text = text.replace("[hall.hours]\nalways_open = true", "[hall.hours]\nofficial_calendar = false")
    return text.replace("[[hall.kiosk]]", '[[hall.window]]\nid = "3"\nname = "3号窗口"\nservices = ["sb"]\n\n'
                                          "[[hall.kiosk]]", 1)


@pytest.fixture
def hall(hwd_daemon):
    return hwd_daemon(_config(), clock_start=CLOCK_START)


@pytest.fixture
def ui_server(hall):
    server = UiServer(hall.config_path)
    yield server
    server.stop()


class Script:
    """Another client of hwd issuing tickets and calling them at window 5 all along."""

    def __init__(self, hall):
        from hwd.client import Client

        self.client = Client(hall.rpc, timeout=5.0, retries=1)
        self.issued: list[int] = []
        self.finished: list[int] = []
        self.failures: list[BaseException] = []
        self.stop = threading.Event()
        self.client.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN, "source": "127.0.0.1"})
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                for service in ("bdc", "sb"):
                    self.issued.append(self.client.call("hall.issue_ticket", {"service": service})["id"])
                called = self.client.call("hall.call_next", {"window": "5"})
                if called is not None:
                    self.client.call("hall.start", {"window": "5"})
                    assert self.client.call("hall.finish", {"window": "5"})["id"] == called["id"]
                    self.finished.append(called["id"])
                self.stop.wait(0.05)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.failures.append(exc)

    def going_on(self) -> None:
        n = len(self.finished)
        wait_for(lambda: len(self.finished) > n + 1 or self.failures, what="the script going on")
        assert not self.failures, self.failures

    def close(self) -> None:
        self.stop.set()
        self.thread.join(30)
        self.client.close()


def _saved(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#cfg-msg")).to_contain_text("已保存并生效")


def test_the_hall_manager_changes_the_hall_live_in_a_real_browser(browser, hall, ui_server, tmp_path):
    from playwright.sync_api import expect

    base = ui_server.url
    failed: list[str] = []
    dialogs: list[str] = []
    pid = hall.call("daemon.status")["pid"]
    # a citizen at window 3 (sb), called before any change: the call must survive every change
    at3 = hall.call("hall.issue_ticket", {"service": "sb"})
    hall.call("hall.login", {"window": "3", "staff": "s01", "pin": STAFF_PIN, "source": "127.0.0.1"})
    called3 = hall.call("hall.call_next", {"window": "3"})
    assert called3["id"] == at3["id"]
    script = Script(hall)

    def new_page():
        ctx = browser.new_context(viewport=LANDSCAPE, locale="zh-CN")
        page = ctx.new_page()
        page.on("pageerror", lambda exc: failed.append(str(exc)))
        page.on("request", lambda req: failed.append(f"outside request {req.url}")
                if not req.url.startswith(base) and not req.url.startswith("data:") else None)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        return page

    try:
        admin = new_page()
        admin.goto(f"{base}/admin/login")
        admin.fill("#account", "li")
        admin.fill("#password", PASSWORD)
        admin.locator("#admin-login button[type=submit]").click()
        admin.locator("#nav-config").click()
        expect(admin.locator("#admin-who")).to_have_text("李主任（大厅负责人）")
        expect(admin.locator("#cfg-nav")).not_to_contain_text("配置文件")  # the 系统管理员's pages

        # 1. a matter with its code, under 不动产登记
        admin.goto(f"{base}/admin/config/services")
        form = admin.locator("#matter-add-bdc")
        form.locator("input[name=id]").fill("zy")
        form.locator("input[name=name]").fill("不动产转移登记")
        form.locator("input[name=matter_code]").fill(MATTER_CODE)
        form.locator("textarea[name=materials]").fill("身份证\n不动产权证书\n转移合同")
        button = form.locator("button[type=submit]")
        box = button.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 88, box  # touch-sized
        button.click()
        _saved(admin)
        expect(admin.locator('#svc-bdc form[data-matter="zy"] input[name=matter_code]')).to_have_value(MATTER_CODE)
        admin.screenshot(path=str(tmp_path / "config-services.png"), full_page=True)
        script.going_on()

        # a mistake is shown beside its field, nothing saved
        prefix = admin.locator('#svc-sb input[name=prefix]')
        prefix.fill("B")  # 不动产登记's prefix
        admin.locator("#svc-sb form[data-form=service] button[type=submit]").click()
        problem = admin.locator('#svc-sb .field-problem[data-key="hall.service[1].prefix"]')
        expect(problem).to_contain_text("already used")
        field_box = admin.locator('#svc-sb label[data-key="hall.service[1].prefix"] input').bounding_box()
        problem_box = problem.bounding_box()
        admin.screenshot(path=str(tmp_path / "config-problem.png"))
        assert 0 <= problem_box["y"] - (field_box["y"] + field_box["height"]) < 60, (field_box, problem_box)
        assert abs(problem_box["x"] - field_box["x"]) < 40, (field_box, problem_box)

        # 2. window 3 serves 不动产登记 (first), then 社保业务
        admin.goto(f"{base}/admin/config/windows")
        win3 = admin.locator("#win-3")
        win3.locator('input[name="svc:bdc"]').fill("1")
        win3.locator('input[name="svc:sb"]').fill("2")
        win3.locator("button[type=submit]").click()
        _saved(admin)
        admin.screenshot(path=str(tmp_path / "config-windows.png"), full_page=True)
        state3 = next(w for w in hall.call("hall.state")["windows"] if w["id"] == "3")
        assert state3["services"] == ["bdc", "sb"], state3
        assert state3["current"] == called3["number"], "the call in progress at window 3 goes on"
        script.going_on()

        # 3. a new clerk for window 3, who logs in at the counter and sets his own PIN
        admin.goto(f"{base}/admin/config/staff")
        add = admin.locator("#staff-add")
        add.locator("input[name=id]").fill("s03")
        add.locator("input[name=name]").fill("赵小红")
        add.locator('input[name=windows][value="3"]').check()
        add.locator("button[type=submit]").click()
        _saved(admin)
        expect(admin.locator("#staff-s03 td.pin")).to_contain_text("未设置")
        assert hall.call("hall.finish", {"window": "3"})["id"] == called3["id"], "window 3 finished its call"
        counter = new_page()
        counter.goto(f"{base}/counter/3")
        counter.fill("#staff", "s03")
        counter.fill("#pin", "0000")
        counter.locator("#login-form button[type=submit]").click()
        expect(counter.locator("#new-pin-hint")).to_contain_text("请设置您自己的新密码")
        counter.fill("#new-pin", "258046")
        counter.fill("#new-pin2", "258046")
        counter.locator("#new-pin-form button[type=submit]").click()
        expect(counter.locator("#buttons")).to_be_visible()
        expect(counter.locator("#queues tr th").first).to_have_text("不动产登记")  # the window's services, in order
        expect(counter.locator("#queues tr th").nth(1)).to_have_text("社保业务")
        counter.locator('button[data-action="call_next"]').click()
        expect(counter.locator("#cur-number")).to_have_text(re.compile(r"^[AB]\d+"))
        window3 = next(w for w in hall.call("hall.state")["windows"] if w["id"] == "3")
        assert window3["staff"] == "s03" and window3["current"] == counter.locator("#cur-number").inner_text().strip()
        script.going_on()

        # 4. tomorrow (by the test clock) is a holiday
        today = dt.datetime.fromisoformat(hall.call("clock.now")["now"]).date()
        tomorrow = (today + dt.timedelta(days=1)).isoformat()
        admin.goto(f"{base}/admin/config/hours")
        ex = admin.locator("#exception-add")
        ex.locator("input[name=date]").fill(tomorrow)
        ex.locator("input[name=note]").fill("临时闭厅")
        ex.locator("button[type=submit]").click()
        _saved(admin)
        expect(admin.locator(f'#exception-table tr[data-date="{tomorrow}"]')).to_contain_text("休息")
        expect(admin.locator(f'#coming-days tr[data-date="{tomorrow}"] td.hours')).to_have_text("休息")
        admin.screenshot(path=str(tmp_path / "config-hours.png"), full_page=True)
        expect(admin.locator(f'#coming-days tr[data-date="{today.isoformat()}"] td.hours')).to_have_text(
            "09:00-12:00 13:00-17:00")
        script.going_on()
    finally:
        script.close()
    assert not script.failures, script.failures
    tickets = {t["id"]: t for t in hall.call("hall.tickets", {"limit": 5000})}
    assert script.issued and set(script.issued) <= set(tickets), "no ticket lost"
    assert all(tickets[t]["state"] == "done" for t in script.finished)
    assert tickets[called3["id"]]["state"] == "done"
    assert hall.call("daemon.status")["pid"] == pid, "no restart"

    # a hand edit while the page is open: detected, not overwritten
    admin.goto(f"{base}/admin/config/notice")
    text = hall.config_path.read_text(encoding="utf-8")
    hall.config_path.write_text(text.replace('notice = "欢迎来到测试大厅"', 'notice = "工程师改的通知"'),
                                encoding="utf-8")
    admin.locator("#notice-form textarea[name=notice]").fill("页面上的新通知")
    admin.locator("#notice-form button[type=submit]").click()
    expect(admin.locator("#cfg-conflict")).to_be_visible()
    admin.screenshot(path=str(tmp_path / "config-conflict.png"))
    expect(admin.locator("#notice-form textarea[name=notice]")).to_have_value("工程师改的通知")
    assert "工程师改的通知" in hall.config_path.read_text(encoding="utf-8")

    # the holiday is in force: at tomorrow 10:00 (test clock) no ticket is issued
    versions = hall.call("config.history", {"limit": 20})["versions"]
    before_holiday = next(v for v, after in zip(versions[1:], versions) if "特别安排" in (after["note"] or ""))
    hall.call("clock.set", {"now": f"{tomorrow}T10:00:00"})
    assert hall.call("hall.hours")["open"] is False

    # roll back (on the page) to the version before the holiday: the file and the hall as they were
    admin.goto(f"{base}/admin/config/history")
    admin.locator(f'#history-table tr[data-version="{before_holiday["version"]}"] a').click()
    expect(admin.locator("#cfg-diff")).to_be_visible()
    admin.locator("#rollback").click()
    expect(admin.locator("#cfg-msg")).to_contain_text("已保存并生效")
    assert any(d.startswith(f"回滚到版本 {before_holiday['version']}") for d in dialogs), dialogs
    assert hall.config_path.read_text(encoding="utf-8") == \
        hall.call("config.show", {"version": before_holiday["version"]})["text"]
    assert hall.call("hall.hours")["open"] is True, "tomorrow is a working day again"
    assert hall.call("hall.issue_ticket", {"service": "bdc"})["number"].startswith("B")
    latest = hall.call("config.history", {"limit": 1})["versions"][0]
    assert latest["by"] == "li" and latest["version"] > versions[0]["version"]
    assert hall.call("daemon.status")["pid"] == pid, "no restart"
    assert not failed, failed
