"""The clerk's counter, the hall manager's admin and the trainer's virtual hall (issue 14), in
headless chromium against the real hwd and hwd-ui: layouts that fit their screens (element boxes),
words that say what happened, Chinese names, labelled controls, admin while hwd is down, and a
virtual hall that shows every one of many rapid calls."""

from __future__ import annotations

import re
import time

import pytest

from support.halls import ADMIN_PASSWORD, STAFF_PIN
from support.browser import needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]

LAPTOP = {"width": 1366, "height": 768}
LANDSCAPE = {"width": 1920, "height": 1080}

# the text of an element: how many lines it takes (by the height of its text, not of its box)
LINES = """e => { const r = document.createRange(); r.selectNodeContents(e);
  const h = r.getBoundingClientRect().height, size = parseFloat(getComputedStyle(e).fontSize);
  return Math.max(1, Math.round(h / (size * 1.45))); }"""


def page_for(browser, viewport: dict):
    return browser.new_context(viewport=viewport, locale="zh-CN").new_page()


def test_counter_fits_1366x768_and_says_what_happened(browser, hall, ui_server, tmp_path):
    from playwright.sync_api import expect

    page = page_for(browser, LAPTOP)
    page.goto(f"{ui_server.url}/counter/5")
    page.fill("#staff", "s01")
    page.fill("#pin", STAFF_PIN)
    page.locator("#login-form button[type=submit]").click()
    expect(page.locator("#buttons")).to_be_visible()
    for button in page.locator("#buttons button").all():
        text = button.inner_text().split("\n")[0]
        assert button.evaluate(LINES) == 1, f"{text!r} wraps"
        box = button.bounding_box()
        assert box["height"] >= 90 and box["y"] + box["height"] <= LAPTOP["height"], (text, box)
    logout = page.locator("header button[type=submit]", has_text="退出").bounding_box()
    assert logout["height"] >= 44 and logout["width"] >= 44, logout

    number = hall.call("hall.issue_ticket", {"service": "bdc"})["number"]
    page.locator('button[data-action="call_next"]').click()
    expect(page.locator("#status")).to_contain_text(f"已叫号：{number}")
    expect(page.locator("#win-state")).to_have_text("已叫号")             # not 办理中 before 开始办理
    page.keyboard.press("s")
    expect(page.locator("#status")).to_have_text(f"{number} 开始办理")
    expect(page.locator("#win-state")).to_have_text("办理中")
    expect(page.locator("#status")).not_to_contain_text("好的")
    page.screenshot(path=str(tmp_path / "counter-1366.png"))
    page.locator('button[data-action="finish"]').click()
    expect(page.locator("#status")).to_contain_text(f"{number} 已办结")


def _admin(browser, base: str):
    page = page_for(browser, LANDSCAPE)
    page.goto(f"{base}/admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.locator("#admin-login button[type=submit]").click()
    return page


def test_admin_layout_names_and_labels(browser, hall, ui_server, tmp_path):
    from playwright.sync_api import expect

    hall.wait_state("k1-printer", "online")
    hall.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})
    for service in ("bdc", "sb"):
        hall.call("hall.issue_ticket", {"service": service})
    hall.call("hall.call_next", {"window": "5"})
    hall.call("hall.finish", {"window": "5"})
    hall.sim("k1-printer", "paper", state="out")
    hall.wait_state("k1-printer", "fault")

    page = _admin(browser, ui_server.url)
    expect(page.locator("#stats-service")).to_be_visible()
    for th in page.locator("#stats table thead th").all():
        assert th.evaluate(LINES) == 1, f"header {th.inner_text()!r} wraps"
    for link in page.locator("#stats .export a").all():
        box = link.bounding_box()
        assert box["height"] >= 44, (link.inner_text(), box)
    selects = page.locator("select")
    assert selects.count() >= 2
    named = page.get_by_role("combobox", name=re.compile(r"\S"))   # Chromium's accessible name
    assert named.count() == selects.count(), "a select without a label"
    for i in range(selects.count()):
        assert selects.nth(i).evaluate("e => e.labels.length") >= 1

    printer_row = page.locator("#devices tr", has_text="k1-printer")
    expect(printer_row).to_contain_text("缺纸")
    expect(page.locator("#devices")).not_to_contain_text("paper_out")
    services = [c.strip() for c in page.locator("#stats-service tbody tr td:first-child").all_inner_texts()]
    assert "不动产登记" in services and "bdc" not in services and "sb" not in services, services
    page.screenshot(path=str(tmp_path / "admin.png"), full_page=True)


def test_admin_while_hwd_is_down_is_fast_and_says_so(browser, hall, ui_server):
    from playwright.sync_api import expect

    page = _admin(browser, ui_server.url)
    expect(page.locator("#stats-window")).to_be_visible()
    hall.stop()
    time.sleep(2)  # hwd-ui's heartbeat window has passed
    resp = page.goto(f"{ui_server.url}/admin")
    assert resp.status == 503 and resp.headers.get("retry-after"), "one probe, then the hwd-down page"
    expect(page.locator("#hwd-down")).to_contain_text("无法连接 hwd")
    text = page.locator("main").inner_text()
    assert "暂无数据" not in text and "暂无差评" not in text, text
    hall.start()
    expect(page.locator("#stats-window")).to_be_visible(timeout=20000)   # it retried by itself


def test_virtual_hall_shows_every_one_of_many_rapid_calls(browser, hall, ui_server):
    from playwright.sync_api import expect

    n = 30
    page = page_for(browser, LANDSCAPE)
    page.goto(f"{ui_server.url}/admin/hall")        # [ui] demo = true: open without login
    expect(page.locator("#vhall")).to_be_visible()
    page.wait_for_timeout(500)  # let the page's event stream open
    hall.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})
    numbers = [hall.call("hall.issue_ticket", {"service": "bdc"})["number"] for _ in range(n)]
    for _ in range(n):
        hall.call("hall.call_next", {"window": "5"})
        hall.call("hall.finish", {"window": "5"})
    calls = page.locator("#vh-calls li")
    expect(calls).to_have_count(n, timeout=10000)
    shown = [t.split()[0] for t in calls.all_inner_texts()]
    assert sorted(shown) == sorted(numbers), shown
    assert shown[0] == numbers[-1], "newest first"
    assert all("5号窗口" in t for t in calls.all_inner_texts())
