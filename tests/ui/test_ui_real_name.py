"""实名评价 on the rating page, in real headless Chromium: the page asks for consent only when the
ticket was taken with an ID card and the hall sends the holder ([hall.upstream] real_name), the
box is unticked every time, and only a ticked box sends the holder to the province (a local HTTP
receiver speaking for it). The card comes from the emulated reader at the kiosk page, as a citizen
lays it there; the province profile is zj-offlinereport (docs/security.md, 实名评价)."""

from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path

import pytest

from hwd.upstream.emulator import Receiver
from support.browser import needs_chromium
from support.halls import CLOCK_START, STAFF_PIN, page_hall
from support.ui import UiProcess, enrol_rate_page

pytestmark = [pytest.mark.browser, needs_chromium]

PORTRAIT = {"width": 1080, "height": 1920}
FIXTURE = Path(__file__).resolve().parents[2] / "drivers" / "idcard" / "fixtures" / "resident.json"


def _form(req: dict) -> dict:
    return {k: v[0] for k, v in urllib.parse.parse_qs(req["body"].decode("ascii"), keep_blank_values=True).items()}


def _wait(fn, what: str, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if (value := fn()):
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout} s")


def _serve(hall, number: str) -> None:
    called = hall.call("hall.call_next", {"window": "5"})
    assert called["number"] == number, called
    hall.call("hall.start", {"window": "5"})
    hall.call("hall.finish", {"window": "5"})


def test_consent_is_asked_for_a_card_ticket_only_and_only_a_tick_sends_the_holder(browser, hwd_daemon):
    from playwright.sync_api import expect

    receiver = Receiver()
    receiver.reply = {"result": "0", "resultmsg": "成功"}
    upstream = ('\n[hall.upstream]\nprofile = "zj-offlinereport"\nusername = "u1"\npassword = "p1"\n'
                f'url = "{receiver.base}/api/evaluate"\nretry_s = 0.05\nretry_max_s = 0.2\nreal_name = true\n')
    hall = hwd_daemon(page_hall() + upstream, clock_start=CLOCK_START)
    ui = UiProcess(hall.config_path)
    card = json.loads(FIXTURE.read_text(encoding="utf-8"))
    try:
        rate = browser.new_context(viewport=PORTRAIT, has_touch=True, locale="zh-CN").new_page()
        enrol_rate_page(rate, hall)
        rate.goto(f"{ui.url}/rate/5")
        expect(rate.locator("#rate-idle")).to_be_visible()
        kiosk = browser.new_context(viewport=PORTRAIT, has_touch=True, locale="zh-CN").new_page()
        kiosk.goto(f"{ui.url}/kiosk/k1")
        kiosk.wait_for_timeout(300)  # the kiosk's event stream opens
        hall.sim("k1-idcard", "place", card="resident")
        expect(kiosk.locator("#greet")).to_contain_text("您好", timeout=15000)
        kiosk.locator('button.svc[data-service="bdc"]').tap()
        expect(kiosk.locator("#screen-ticket")).to_be_visible()
        with_card = kiosk.locator("#t-number").inner_text().strip()
        hall.sim("k1-idcard", "remove")
        _wait(lambda: not hall.call("idcard.current", {"device": "k1-idcard"}), "the card seen lifted")
        hall.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})

        # 1: a ticket taken with the card: the box is there, unticked; ticked, the holder goes
        _serve(hall, with_card)
        expect(rate.locator("#rate-ask")).to_be_visible(timeout=10000)
        box = rate.locator("#real-name-box")
        expect(box).to_be_visible()
        expect(box).to_contain_text("实名评价")
        expect(box).to_contain_text("不勾选即为匿名评价")
        assert not rate.locator("#real-name").is_checked()
        size = box.bounding_box()
        assert size["height"] >= 60 and size["width"] >= 300, size  # a finger's target
        box.tap()
        assert rate.locator("#real-name").is_checked()
        rate.locator('button[data-score="5"]').tap()
        expect(rate.locator("#rate-thanks")).to_be_visible()
        first = _form(_wait(lambda: receiver.requests[0] if receiver.requests else None, "the first rating sent"))
        assert first["certkeyGOV"] == card["id_number"] and first["userName"] == card["name"]
        assert first["userProp"] == "1"

        # 2: another card ticket, the box left unticked: anonymous
        kiosk.goto(f"{ui.url}/kiosk/k1")
        kiosk.wait_for_timeout(300)
        hall.sim("k1-idcard", "place", card="resident")
        expect(kiosk.locator("#greet")).to_contain_text("您好", timeout=15000)
        kiosk.locator('button.svc[data-service="bdc"]').tap()
        expect(kiosk.locator("#screen-ticket")).to_be_visible()
        second = kiosk.locator("#t-number").inner_text().strip()
        hall.sim("k1-idcard", "remove")
        _wait(lambda: not hall.call("idcard.current", {"device": "k1-idcard"}), "the card seen lifted")
        _serve(hall, second)
        expect(rate.locator("#real-name-box")).to_be_visible(timeout=10000)
        assert not rate.locator("#real-name").is_checked(), "consent is never carried over"
        rate.locator('button[data-score="4"]').tap()
        expect(rate.locator("#rate-thanks")).to_be_visible()
        unticked = _form(_wait(lambda: receiver.requests[1] if len(receiver.requests) > 1 else None,
                               "the second rating sent"))
        assert unticked["certkeyGOV"] == "" and unticked["userName"] == ""

        # 3: a ticket without a card: nothing to ask
        third = hall.call("hall.issue_ticket", {"service": "bdc"})["number"]
        _serve(hall, third)
        expect(rate.locator("#rate-ask")).to_be_visible(timeout=10000)
        expect(rate.locator("#real-name-box")).to_be_hidden()
        rate.locator('button[data-score="5"]').tap()
        anonymous = _form(_wait(lambda: receiver.requests[2] if len(receiver.requests) > 2 else None,
                                "the third rating sent"))
        assert anonymous["certkeyGOV"] == ""
    finally:
        ui.stop()
        receiver.close()
