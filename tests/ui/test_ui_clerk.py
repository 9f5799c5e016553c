"""The clerk's counter as the clerk sees it (issue 24 item 6), in headless chromium against the real
hwd and hwd-ui with the window's LED screen on an emulated RS-485 bus and an emulated evaluation
keypad: a button is enabled only when its action can be done now (and says why not); a call while
the window screen is unplugged says the screen is down instead of 请等群众到窗口; the called
ticket shows its priority class (老年人优先, readable: contrast ≥ 4.5:1); the keypad's rating
shows on the counter when the citizen presses it."""

from __future__ import annotations

import os

import pytest

from conftest import CHROMIUM, CLOCK_START, STAFF_PIN, UiServer, hall_config
from page_checks import CONTRAST
from sim_devices import keypad

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} missing (apt-get install chromium)")]

LANDSCAPE = {"width": 1920, "height": 1080}
LAPTOP = {"width": 1366, "height": 768}
CONFIG = hall_config().replace('display = "win6-led"', 'display = "win6-led"\nkeypad = "win6-rate"') + keypad("win6-rate")

ACTIONS = ("call_next", "recall", "no_show", "start", "finish", "transfer", "pause", "resume")


@pytest.fixture
def hall(hwd_daemon):
    return hwd_daemon(CONFIG, clock_start=CLOCK_START)


@pytest.fixture
def ui(hall):
    server = UiServer(hall.config_path)
    yield server
    server.stop()


def _enabled(page) -> set[str]:
    return {a for a in ACTIONS if page.locator(f'#buttons button[data-action="{a}"]').is_enabled()}


def _wait_enabled(page, want: set[str]) -> None:
    page.wait_for_function("""want => {
      const on = Array.from(document.querySelectorAll('#buttons button[data-action]')).filter(b => !b.disabled)
        .map(b => b.dataset.action).sort();
      return JSON.stringify(on) === JSON.stringify(want.slice().sort());
    }""", arg=sorted(want))


def test_the_counter_says_the_screen_is_down_shows_priority_and_the_rating_and_disables_what_cannot_act(
        browser, hall, ui, tmp_path):
    from playwright.sync_api import expect

    for device in ("win6-led", "win6-rate"):
        hall.wait_state(device, "online")
    page = browser.new_context(viewport=LAPTOP, locale="zh-CN").new_page()
    page.goto(f"{ui.url}/counter/6")
    page.fill("#staff", "s01")
    page.fill("#pin", STAFF_PIN)
    page.locator("#login-form button[type=submit]").click()
    expect(page.locator("#buttons")).to_be_visible()

    # nobody waits: only 暂停 can act; a disabled button says why, and its key does nothing
    _wait_enabled(page, {"pause"})
    expect(page.locator('#buttons button[data-action="call_next"]')).to_have_attribute("title", "当前没有等候的号")
    expect(page.locator('#buttons button[data-action="resume"]')).to_have_attribute("title", "窗口未暂停")
    page.keyboard.press("n")
    expect(page.locator("#status")).to_have_text("")
    disabled = page.locator('#buttons button[data-action="finish"]')
    assert disabled.evaluate(CONTRAST) >= 4.5, "a disabled button is still readable"

    # an elderly citizen's ticket arrives: 叫号 can act, live
    elderly = hall.call("hall.issue_ticket", {"service": "sb", "priority": "elderly"})["number"]
    _wait_enabled(page, {"call_next", "pause"})

    # the window screen is unplugged: the counter says so before and after the call
    hall.sim("win6-led", "unplug")
    hall.wait_state("win6-led", "offline", timeout=20)
    expect(page.locator("#dev-warn")).to_be_visible()
    expect(page.locator("#dev-warn")).to_contain_text("窗口屏未连接")
    page.locator('#buttons button[data-action="call_next"]').click()
    expect(page.locator("#status")).to_contain_text(f"已叫号：{elderly}")
    expect(page.locator("#status")).to_contain_text("窗口屏未连接，群众看不到号码，请口头招呼")
    expect(page.locator("#status")).not_to_contain_text("请等群众到窗口")
    assert page.locator("#status").evaluate("e => e.classList.contains('bad')")

    # the called ticket shows its priority class, readable
    expect(page.locator("#cur-number")).to_have_text(elderly)
    expect(page.locator("#cur-priority")).to_be_visible()
    expect(page.locator("#cur-priority")).to_have_text("老年人优先")
    assert page.locator("#cur-priority").evaluate(CONTRAST) >= 4.5
    assert page.locator("#dev-warn").evaluate(CONTRAST) >= 4.5
    # called, not started: 叫号 and 恢复 cannot act; 过号 can (no recall needed by config)
    _wait_enabled(page, {"recall", "no_show", "start", "finish", "transfer", "pause"})
    expect(page.locator('#buttons button[data-action="call_next"]')).to_have_attribute("title", f"请先办结或过号当前的{elderly}号")

    # the screen is back: the warning goes; a recall says nothing about the screen
    hall.sim("win6-led", "plug")
    hall.wait_state("win6-led", "online", timeout=20)
    expect(page.locator("#dev-warn")).to_be_hidden()
    page.keyboard.press("r")
    expect(page.locator("#status")).to_have_text(f"已重呼 {elderly}（第 1 次）")

    page.keyboard.press("s")
    expect(page.locator("#status")).to_have_text(f"{elderly} 开始办理")
    _wait_enabled(page, {"finish", "transfer", "pause"})
    page.keyboard.press("f")
    expect(page.locator("#status")).to_contain_text(f"{elderly} 已办结")
    expect(page.locator("#cur-priority")).to_be_hidden()

    # the citizen presses 非常不满意 on the window's keypad: the counter shows it at once
    expect(page.locator("#last-rating")).to_be_hidden()
    hall.sim("win6-rate", "press", key="35")
    expect(page.locator("#last-rating")).to_be_visible()
    expect(page.locator("#last-rating")).to_have_text(f"{elderly} 评价：非常不满意（评价器）")
    assert page.locator("#last-rating").evaluate(CONTRAST) >= 4.5

    # paused: only 恢复 acts
    page.keyboard.press("p")
    page.locator("#pause button[data-reason]").first.click()
    _wait_enabled(page, {"resume"})
    page.screenshot(path=str(tmp_path / "counter-paused.png"))
