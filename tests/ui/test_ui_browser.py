"""End to end in headless Debian chromium (Playwright), with the real hwd, its emulated devices
and the real hwd-ui server: take a ticket by touch → (receipt at the emulated printer) → the
counter calls it → the display's #latest-call shows it → finish → rate 5 → admin statistics.

Screenshots of each page go to the test's tmp dir.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.halls import ADMIN_PASSWORD, STAFF_PIN
from support.browser import needs_chromium
from support.ui import enrol_rate_page

PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}

pytestmark = [pytest.mark.browser, needs_chromium]


def _shot(page, tmp_path: Path, name: str) -> None:
    """A screenshot in the test's tmp dir (docs/screenshots come from the demo: scripts/screenshots.py)."""
    page.screenshot(path=str(tmp_path / f"{name}.png"))


def test_ticket_to_statistics_in_a_real_browser(browser, hall, ui_server, tmp_path):
    from playwright.sync_api import expect

    base = ui_server.url
    failed: list[str] = []

    def page_for(viewport: dict, touch: bool = False):
        ctx = browser.new_context(viewport=viewport, has_touch=touch, locale="zh-CN")
        page = ctx.new_page()
        page.on("pageerror", lambda exc: failed.append(str(exc)))
        page.on("requestfailed", lambda req: failed.append(f"{req.url} {req.failure}")
                if not req.url.endswith(("/live", "/live?topic=hall.", "/kiosk/k1/live", "/live?topic=hall.rating",
                                          "/live?topic=hall.alert"))  # SSE cut by leaving the page
                else None)
        page.on("request", lambda req: failed.append(f"outside request {req.url}")
                if not req.url.startswith(base) and not req.url.startswith("data:") else None)
        return page

    display = page_for(LANDSCAPE)
    display.goto(f"{base}/display")
    expect(display.locator("#latest-call")).to_contain_text("欢迎光临")
    rate = page_for(PORTRAIT, touch=True)
    pad = hall.call("hall.pad.enroll", {"window": "5"})  # the admin enrolled this rating page
    rate.context.add_cookies([{"name": "hwd_pad", "value": f"{pad['secret']}.{pad['pad']}",
                               "domain": "127.0.0.1", "path": "/rate/5"}])
    rate.goto(f"{base}/rate/5")
    expect(rate.locator("#rate-idle")).to_be_visible()
    screen = page_for({"width": 960, "height": 320})
    screen.goto(f"{base}/display/window/5")

    # the citizen takes a ticket by touch
    kiosk = page_for(PORTRAIT, touch=True)
    kiosk.goto(f"{base}/kiosk/k1")
    expect(kiosk.locator("button.svc").first).to_be_visible()
    box = kiosk.locator("button.svc").first.bounding_box()
    assert box["height"] >= 90 and box["width"] >= 90, box  # 15 mm at 1080p
    _shot(kiosk, tmp_path, "kiosk")
    kiosk.locator('button.svc[data-service="bdc"]').tap()
    expect(kiosk.locator("#screen-ticket")).to_be_visible()
    number = kiosk.locator("#t-number").inner_text().strip()
    assert number.startswith("B")
    expect(kiosk.locator("#t-qr svg")).to_be_visible()
    expect(kiosk.locator("#t-wait")).to_contain_text("前面还有 0 人")
    _shot(kiosk, tmp_path, "kiosk-ticket")
    ticket = hall.call("hall.ticket", {"ticket": number})
    if ticket["printed"]:
        receipts = hall.sim("k1-printer", "receipts")
        assert receipts, "printed, yet no receipt at the emulated printer"
    else:  # the printer failed: the screen says where to go
        expect(kiosk.locator("#t-print")).to_contain_text("服务台")

    # the clerk logs in and calls it; the hall display shows it at once
    counter = page_for(LANDSCAPE)
    counter.goto(f"{base}/counter/5")
    counter.fill("#staff", "s01")
    counter.fill("#pin", STAFF_PIN)
    counter.locator("#login-form button[type=submit]").click()
    expect(counter.locator("#buttons")).to_be_visible()
    counter.locator('button[data-action="call_next"]').click()
    expect(display.locator("#latest-call")).to_contain_text(number, timeout=1000)
    expect(display.locator("#latest-call")).to_contain_text("5号窗口")
    expect(counter.locator("#cur-number")).to_have_text(number)
    expect(screen.locator("#lines")).to_contain_text(number)
    expect(display.locator("#windows")).to_contain_text(number)  # resynced from hall.state too
    _shot(display, tmp_path, "display")
    _shot(screen, tmp_path, "window-screen")
    counter.keyboard.press("s")  # keyboard shortcut: start
    expect(counter.locator("#win-state")).to_have_text("办理中")
    _shot(counter, tmp_path, "counter")
    counter.locator('button[data-action="finish"]').click()

    # the citizen rates the service
    expect(rate.locator("#rate-ask")).to_be_visible()
    expect(rate.locator("#rate-ticket")).to_contain_text(number)
    _shot(rate, tmp_path, "rate")
    rate.locator('button[data-score="5"]').tap()
    expect(rate.locator("#rate-thanks")).to_be_visible()
    expect(counter.locator('#counts tr[data-key="served"] td')).to_have_text("1")

    # the hall manager sees it in today's statistics
    admin = page_for(LANDSCAPE)
    admin.goto(f"{base}/admin")
    admin.fill("#password", ADMIN_PASSWORD)
    admin.locator("#admin-login button[type=submit]").click()
    table = admin.locator("#stats-window")
    expect(table).to_be_visible()
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    row = [c.strip() for c in table.locator("tbody tr").first.locator("td").all_inner_texts()]
    stats = dict(zip(headers, row))
    assert stats["窗口"] == "5号窗口" and stats["办结"] == "1" and stats["评价数"] == "1" and stats["非常满意"] == "1", stats
    _shot(admin, tmp_path, "admin")
    admin.goto(f"{base}/admin/hall")
    expect(admin.locator("#vhall")).to_be_visible()
    _shot(admin, tmp_path, "virtual-hall")
    assert not failed, failed


def test_display_says_connection_lost_and_recovers(browser, hall, ui_server, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_context(viewport=LANDSCAPE).new_page()
    page.goto(f"{ui_server.url}/display")
    expect(page.locator("#offline")).to_be_hidden()
    hall.stop()
    expect(page.locator("#offline")).to_be_visible(timeout=15000)
    expect(page.locator("#offline")).to_have_text("系统连接中断")
    page.screenshot(path=str(tmp_path / "display-offline.png"))
    hall.start()
    expect(page.locator("#offline")).to_be_hidden(timeout=20000)
    # live again: a new call shows up without reloading the page
    hall.call("hall.login", {"window": "6", "staff": "s01", "pin": STAFF_PIN})
    number = hall.call("hall.issue_ticket", {"service": "sb"})["number"]
    hall.call("hall.call_next", {"window": "6"})
    expect(page.locator("#latest-call")).to_contain_text(number, timeout=5000)
    expect(page.locator("#latest-call")).to_contain_text("6号窗口")


def test_kiosk_card_greeting_scan_checkin_and_idle(browser, hall, ui_server, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_context(viewport=PORTRAIT, has_touch=True, locale="zh-CN").new_page()
    page.clock.install()  # time runs as usual until the test jumps it forward
    page.goto(f"{ui_server.url}/kiosk/k1")
    expect(page.locator("#greet")).to_be_hidden()
    page.wait_for_timeout(300)  # let the page's event stream open
    hall.sim("k1-idcard", "place", card="resident")
    expect(page.locator("#greet")).to_have_text(re.compile(r"^张\*+ 您好$"), timeout=15000)
    page.locator('button.svc[data-service="sb"]').tap()
    expect(page.locator("#screen-ticket")).to_be_visible()
    number = page.locator("#t-number").inner_text().strip()
    assert hall.call("hall.ticket", {"ticket": number}).get("holder", "").startswith("张*")
    page.locator("#screen-ticket [data-home]").tap()
    expect(page.locator("#greet")).to_be_hidden()  # the card's greeting is gone with the ticket

    # an appointment QR at the kiosk's scanner: the engine checks it in, the kiosk shows the ticket
    hall.call("hall.book", {"service": "bdc", "slot": hall.call("hall.state")["now"], "code": "771234"})
    hall.sim("k1-scanner", "scan", text="771234")
    expect(page.locator("#screen-ticket")).to_be_visible(timeout=15000)
    expect(page.locator("#t-number")).to_contain_text("B")
    page.locator("#screen-ticket [data-home]").tap()

    # typed on the in-page keypad: an unknown code gets a clear message
    page.locator("#go-checkin").tap()
    for key in "123":
        page.locator(f'#keypad button[data-key="{key}"]').tap()
    expect(page.locator("#code")).to_have_text("123")
    page.locator("#checkin-ok").tap()
    expect(page.locator("#message-text")).to_contain_text("预约")
    page.locator("#message-ok").tap()

    # the hidden corner asks for the PIN; nothing else leaves the kiosk
    for _ in range(5):
        page.locator("#corner").click()
    expect(page.locator("#pin")).to_be_visible()
    page.locator('#pinpad button[data-key="cancel"]').tap()
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert all(h.startswith("/kiosk/k1") for h in hrefs), hrefs

    # left alone on a screen, the kiosk goes home by itself ([ui] idle_s = 60)
    expect(page.locator("#screen-checkin")).to_be_visible()
    page.clock.fast_forward("01:01")
    expect(page.locator("#screen-home")).to_be_visible()


def test_rating_page_goes_idle_when_nobody_rates(browser, hall, ui_server):
    from playwright.sync_api import expect

    page = browser.new_context(viewport=PORTRAIT, has_touch=True).new_page()
    page.clock.install()
    enrol_rate_page(page, hall, "6")  # an unenrolled page says it is not in service
    page.goto(f"{ui_server.url}/rate/6")
    expect(page.locator("#rate-idle")).to_be_visible()
    page.wait_for_timeout(300)  # let the page's event stream open
    hall.call("hall.login", {"window": "6", "staff": "s01", "pin": STAFF_PIN})
    hall.call("hall.issue_ticket", {"service": "sb"})
    for step in ("call_next", "start", "finish"):
        hall.call(f"hall.{step}", {"window": "6"})
    expect(page.locator("#rate-ask")).to_be_visible(timeout=10000)
    expect(page.locator("#rate-buttons button")).to_have_count(5)
    page.clock.fast_forward("01:01")  # rating_timeout_s = 60
    expect(page.locator("#rate-idle")).to_be_visible()
