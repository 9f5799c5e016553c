"""The admin page's tidal-window banner (潮汐窗口) in headless Debian chromium (Playwright) with the
real hwd and hwd-ui: the alert appears live, first on the page, when the test clock (from a fixed
Monday) moves a wait past the default 30 minutes, and goes when the ticket is called; the page
and the plain GET say the same words."""

from __future__ import annotations

import re

import pytest

from support.halls import ADMIN_PASSWORD, CLOCK_START, STAFF_PIN
from support.browser import needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]

TEXT = "社保业务 最长等候 30 分钟（1 人），可调配：5号窗口（未开放），6号窗口（未开放）"


def test_the_admin_page_shows_the_alert_live(browser, hall, ui_server, tmp_path):
    from playwright.sync_api import expect

    hall.call("clock.set", {"now": CLOCK_START})
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{ui_server.url}/admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.locator("#admin-login button[type=submit]").click()
    banner = page.locator("#tidal-alerts")
    expect(page.locator("#devices")).to_be_visible()
    expect(banner).to_be_hidden()

    hall.call("hall.issue_ticket", {"service": "sb"})
    hall.call("clock.advance", {"seconds": 29 * 60})
    hall.call("clock.advance", {"seconds": 60})               # 30 minutes: raised, the page not reloaded
    expect(banner).to_be_visible()
    expect(banner.locator("h2")).to_have_text("潮汐窗口提醒：请调配窗口")
    item = banner.locator('li.tidal[data-service="sb"]')
    expect(item.locator(".tidal-text")).to_have_text(TEXT)
    expect(item).to_contain_text("自 09:30 起")
    box, devices = banner.bounding_box(), page.locator("#devices").bounding_box()
    assert box["y"] + box["height"] <= devices["y"] and box["y"] < 768 and box["width"] > 600, (box, devices)
    size = item.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 20, size
    page.screenshot(path=str(tmp_path / "admin-tidal.png"))

    page.reload()                                               # rendered by the server the same
    expect(banner.locator("li.tidal .tidal-text")).to_have_text(TEXT)

    hall.call("hall.login", {"window": "6", "staff": "s01", "pin": STAFF_PIN})
    hall.call("hall.call_next", {"window": "6"})                # nobody waits: cleared
    expect(banner).to_be_hidden()
    expect(banner.locator("li.tidal")).to_have_count(0)
    assert not errors, errors


def test_the_alerts_json_is_behind_the_admin_login(client):
    resp = client.get("/admin/alerts")
    assert resp.status_code == 302 and re.search(r"/admin/login", resp.headers["Location"])
