"""The guide desk page (导办台, issue 14 item 13) in headless Chromium, with the real hwd-ui, a real
hwd and the desk's emulated printer: the staff logs in like at the counter, gives 军人依法优先
only after ticking that the documents were checked, books a 帮办代办 ticket, and when the
printer is out of paper the page shows the ticket's QR instead."""

from __future__ import annotations

import pytest

from support.halls import STAFF_PIN, page_hall
from support.ui import UiProcess
from support.waits import wait_for
from test_ui_browser import _shot
from support.browser import needs_chromium


pytestmark = [pytest.mark.browser, needs_chromium]

DESK = '''
[[device]]
id = "d1-printer"
kind = "printer"
driver = "escpos"
url = "sim://d1-printer"
status_interval = 0.2
'''
DESK_HALL = '''
[[hall.service]]
id = "bbdb"
name = "帮办代办"
prefix = "H"

[[hall.window]]
id = "9"
name = "帮办代办窗口"
kind = "帮办代办"
services = ["bbdb"]

[[hall.desk]]
id = "d1"
name = "一楼导办台"
printer = "d1-printer"

[ui]'''


@pytest.fixture
def desk_hall(hwd_daemon):
    d = hwd_daemon(DESK + page_hall().replace("[ui]", DESK_HALL, 1))
    d.wait_state("d1-printer", "online")
    server = UiProcess(d.config_path)
    yield d, server
    server.stop()


def _receipt_texts(d) -> list[list[str]]:
    return [[line["text"] for line in r["lines"]] for r in d.sim("d1-printer", "receipts")]


def test_guide_desk_in_a_real_browser(desk_hall, browser, tmp_path):
    from playwright.sync_api import expect

    d, server = desk_hall
    page = browser.new_page(viewport={"width": 1366, "height": 768}, has_touch=True, locale="zh-CN")
    page.goto(f"{server.url}/desk/d1")
    expect(page.locator("main h1")).to_have_text("一楼导办台")
    page.fill("#staff", "s01")
    page.fill("#pin", "0000")
    page.click("#login-form button[type=submit]")
    expect(page.locator(".error")).to_have_text("工号或密码错误")
    page.fill("#staff", "s01")
    page.fill("#pin", STAFF_PIN)
    page.click("#login-form button[type=submit]")
    expect(page.locator(".who b")).to_have_text("s01")

    # big touch targets (≥ 15 mm): every choice is a tile at least 90 px high
    tiles = page.locator("label.tile")
    assert tiles.count() >= 8
    for i in range(tiles.count()):
        assert tiles.nth(i).bounding_box()["height"] >= 90
    assert page.locator("#services label.tile", has_text="帮办代办").count() == 0, "not a matter of its own"
    _shot(page, tmp_path, "desk")

    page.locator("#services label.tile", has_text="不动产登记").tap()
    page.locator("#classes label.tile", has_text="军人依法优先").tap()
    page.locator("#issue").tap()
    expect(page.locator("#desk-error")).to_contain_text("请先核验相关证件")
    assert d.sim("d1-printer", "receipts") == [], "nothing issued without checked documents"
    assert page.locator('#classes input[value="military"]').is_checked(), "the choice is kept"
    page.locator("#verified-tile").tap()
    page.locator("#issue").tap()
    expect(page.locator("#t-number")).to_have_text("B001")
    expect(page.locator("#t-priority")).to_have_text("军人优先办理")
    expect(page.locator("#t-printed")).to_have_text("号票已打印，请交给群众")
    expect(page.locator("#t-wait")).to_contain_text("前面还有 0 人等候")   # the kiosk's ticket screen's words
    [receipt] = _receipt_texts(d)
    assert "B001" in receipt and "军人优先办理" in receipt
    ticket = d.call("hall.ticket", {"ticket": "B001"})
    assert (ticket["priority"], ticket["desk"], ticket["verified_by"]) == ("military", "d1", "s01")
    page.screenshot(path=str(tmp_path / "desk-ticket.png"))

    page.locator("#next").tap()
    page.locator("#services label.tile", has_text="社保业务").tap()
    page.locator("#assisted label.tile").tap()
    page.locator("#issue").tap()
    expect(page.locator("#t-number")).to_have_text("H001")
    expect(page.locator("#t-service")).to_have_text("帮办代办（社保业务）")
    wait_for(lambda: len(_receipt_texts(d)) == 2, what="the assisted ticket printed")
    assert "帮办代办：社保业务" in _receipt_texts(d)[1]
    assert d.call("hall.ticket", {"ticket": "H001"})["matter"] == "sb"

    # the kiosk's printer is out of paper: its ticket is cancelled there, and reprinted here
    d.wait_state("k1-printer", "online")
    d.sim("k1-printer", "paper", state="out")
    d.wait_state("k1-printer", "fault")
    lost = d.call("hall.issue_ticket", {"service": "sb", "kiosk": "k1"})
    assert lost["printed"] is False
    page.locator("#next").tap()
    page.fill("#reprint-number", lost["number"].lower())
    page.locator("#reprint").tap()
    expect(page.locator("#t-reprint")).to_have_text("补打")
    expect(page.locator("#t-number")).to_have_text(lost["number"])
    expect(page.locator("#t-printed")).to_have_text("号票已打印，请交给群众")
    wait_for(lambda: len(_receipt_texts(d)) == 3, what="the reprint at the desk")
    assert lost["number"] in _receipt_texts(d)[2]
    d.sim("k1-printer", "paper", state="ok")
    d.wait_state("k1-printer", "online")
    d.call("printer.print", {"device": "k1-printer", "document": {"lines": ["after", {"cut": "full"}]},
                             "wait_ms": 5000})
    k1 = [[line["text"] for line in r["lines"]] for r in d.sim("k1-printer", "receipts")]
    assert k1 == [["after"]], "the kiosk's cancelled ticket never came out there"
    page.locator("#next").tap()
    page.fill("#reprint-number", "Z999")
    page.locator("#reprint").tap()
    expect(page.locator("#desk-error")).to_have_text("没有找到该号")

    # no paper: the page says so and shows the ticket's QR for the citizen's phone
    d.sim("d1-printer", "paper", state="out")
    d.wait_state("d1-printer", "fault")
    page.locator("#services label.tile", has_text="不动产登记").tap()
    page.locator("#issue").tap()
    expect(page.locator("#t-number")).to_have_text("B002")
    expect(page.locator("#t-printed")).to_contain_text("号票未打印")
    box = page.locator("#t-qr svg").bounding_box()
    assert box["width"] >= 300 and box["y"] + box["height"] <= 768 * 3
    assert d.call("hall.ticket", {"ticket": "B002"})["printed"] is False
    page.screenshot(path=str(tmp_path / "desk-qr.png"), full_page=True)

    page.locator("#next").tap()
    page.click("text=退出")
    expect(page.locator("#login-form")).to_be_visible()
