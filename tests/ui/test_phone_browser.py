"""Issue 18's "done when", in headless Debian chromium at 360×640 (a cheap Android phone): take a
ticket at the kiosk by touch, open the URL of the QR the emulated printer printed, watch the
page turn to 即将叫号 as the tickets ahead are served, then to the call with its window, wake
the phone after a sleep (offline) and see it resync, then rate by phone with a 差评 reason.

Real hwd, emulated devices, the real hwd-ui process with its phone server on its own port.
"""

from __future__ import annotations

import pytest

from support.halls import CLOCK_START, STAFF_PIN, page_hall
from support.ui import UiProcess
from support.ports import free_port
from support.browser import needs_chromium

PHONE = {"width": 360, "height": 640}
KIOSK = {"width": 1080, "height": 1920}

pytestmark = [pytest.mark.browser, needs_chromium]

VIBRATIONS = "window.__vibrations = []; navigator.vibrate = function (p) { window.__vibrations.push(p); return true; };"


def qr_of(receipt: dict) -> str | None:
    """The QR text of an emulated receipt (its elements as the emulator decoded them)."""
    stack = [receipt]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "qr":
                return item["data"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


@pytest.fixture
def phone_hall(hwd_daemon):
    port = free_port()
    d = hwd_daemon(page_hall(f'public_url = "http://127.0.0.1:{port}"\nphone_port = {port}\nphone_alert_ahead = 2\n'),
                   clock_start=CLOCK_START)
    d.phone_port = port
    return d


def test_from_the_kiosk_to_the_phone_call_and_rating(browser, phone_hall, tmp_path):
    from playwright.sync_api import expect

    hall = phone_hall
    server = UiProcess(hall.config_path)
    try:
        server.wait()
        hall.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})
        for _ in range(3):
            hall.call("hall.issue_ticket", {"service": "bdc"})

        kiosk = browser.new_context(viewport=KIOSK, has_touch=True, locale="zh-CN").new_page()
        kiosk.goto(f"{server.url}/kiosk/k1")
        kiosk.locator('button.svc[data-service="bdc"]').tap()
        expect(kiosk.locator("#screen-ticket")).to_be_visible()
        number = kiosk.locator("#t-number").inner_text().strip()
        expect(kiosk.locator("#t-qr-hint")).to_contain_text("用手机扫码")
        ticket = hall.call("hall.ticket", {"ticket": number})
        token = hall.call("hall.ticket_token", {"ticket": ticket["id"]})
        url = token["url"]
        assert url == f"http://127.0.0.1:{hall.phone_port}/t/{token['token']}"
        if ticket["printed"]:
            printed = [qr_of(r) for r in hall.sim("k1-printer", "receipts")]
            assert printed[-1] == url, "the printed QR opens the phone page"

        ctx = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="zh-CN")
        ctx.add_init_script(VIBRATIONS)
        phone = ctx.new_page()
        phone.goto(url)
        expect(phone.locator("#number")).to_have_text(number)
        expect(phone.locator("#headline")).to_have_text("排队中")
        expect(phone.locator("#lines")).to_contain_text("前面还有 3 人等候")
        box = phone.locator("#number").bounding_box()
        assert box["height"] >= 60 and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
        phone.screenshot(path=str(tmp_path / "phone-waiting.png"))

        hall.call("hall.call_next", {"window": "5"})
        hall.call("hall.finish", {"window": "5"})            # now 2 ahead: 即将叫号
        expect(phone.locator("#headline")).to_have_text("即将叫号")
        expect(phone.locator("#lines")).to_contain_text("前面还有 2 人")
        expect(phone.locator("#lines")).to_contain_text("请到5号窗口附近等候")
        assert phone.evaluate("document.body.className") == "soon"
        assert phone.evaluate("window.__vibrations.length") == 1
        phone.screenshot(path=str(tmp_path / "phone-soon.png"))

        for _ in range(2):
            hall.call("hall.call_next", {"window": "5"})
            hall.call("hall.finish", {"window": "5"})
        expect(phone.locator("#headline")).to_have_text("下一位就是您")
        assert phone.evaluate("window.__vibrations.length") == 1, "one alert, not one per change"

        # the phone sleeps; meanwhile the ticket is called; it wakes and resyncs
        ctx.set_offline(True)
        hall.call("hall.call_next", {"window": "5"})
        ctx.set_offline(False)
        phone.evaluate("window.dispatchEvent(new Event('focus'))")
        expect(phone.locator("#headline")).to_have_text("请到5号窗口")
        assert phone.evaluate("document.body.className") == "call"
        assert phone.evaluate("window.__vibrations.length") == 2
        status = phone.locator("#status").bounding_box()
        assert status["width"] >= 280, status  # the alert spans the phone
        phone.screenshot(path=str(tmp_path / "phone-called.png"))
        hall.call("hall.recall", {"window": "5"})
        expect(phone.locator("#lines")).to_contain_text("再次呼叫")

        hall.call("hall.finish", {"window": "5"})
        expect(phone.locator("#headline")).to_have_text("办理完毕，请评价")
        bad = phone.locator('#levels button[data-score="2"]')
        expect(bad).to_be_visible()
        assert bad.bounding_box()["height"] >= 48
        bad.tap()
        expect(phone.locator("#reasons")).to_be_visible()
        phone.locator("#reason-list input").first.check()
        phone.locator("#send").tap()
        expect(phone.locator("#headline")).to_have_text("感谢您的评价")
        phone.screenshot(path=str(tmp_path / "phone-rated.png"))
        rating = hall.call("hall.ratings", {})[0]
        assert (rating["number"], rating["channel"], rating["score"]) == (number, "phone", 2)
        assert rating["bad"]
    finally:
        server.stop()


def test_the_main_ports_page_polls_and_follows_the_call(browser, hall, ui_server):
    """The same page on hwd-ui's own port (a typed link, or the phone server off) polls."""
    from playwright.sync_api import expect

    hall.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})
    ticket = hall.call("hall.issue_ticket", {"service": "bdc"})
    token = hall.call("hall.ticket_token", {"ticket": ticket["id"]})["token"]
    phone = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="zh-CN").new_page()
    phone.goto(f"{ui_server.url}/t/{token}")
    expect(phone.locator("#headline")).to_have_text("下一位就是您")
    hall.call("hall.call_next", {"window": "5"})
    expect(phone.locator("#headline")).to_have_text("请到5号窗口", timeout=15000)
