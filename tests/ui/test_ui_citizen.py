"""Issue 24 items 1–4 as a citizen meets them, in headless Debian chromium against the real hwd
(emulated card reader, printer, scanner and the kiosk's own espeak-ng speaker) and the real
hwd-ui with its phone server: what a person sees — the text, the boxes, the colours — and hears.

- §1 an elderly citizen's place across services: told 0 ahead at the kiosk, on the receipt and
  on the phone, and called first by the 老年人服务 window that serves several services;
- §2 the card left on the reader: 请取回您的身份证和号票 on the ticket screen (and said) while the
  card lies there, gone when the reader says it was lifted;
- §3 each kiosk screen spoken on the kiosk's speaker, 语音 repeats it, a switch turns it off; the
  长辈 mode's guide pages checked against the MIIT 适老化 numbers (工信厅信管函〔2021〕67号);
- §4 one ticket screen for a scanned appointment too, an unenrolled rating page that says it is
  not in service, the phone page's own end words, 优先办理's contrast, rating by phone after the
  pad's time, 取消排队 with a confirmation, and the kiosk's dead scanner and reader said.

Sizes are CSS px at the kiosk's device scale factor 1, taking 1 dp = 1 CSS px (docs/ui.md "The
kiosk's numbers"): a CSS px is the dp's reference pixel, and on a 1080×1920 32-inch kiosk it is
0.37 mm against a phone dp's 0.16 mm, so the check errs on the citizen's side.
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from support.browser import CHROMIUM
from support.halls import CLOCK_START, STAFF_PIN, page_hall
from support.ports import free_port
from support.ui import UiProcess

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} missing (apt-get install chromium)")]

KIOSK = {"width": 1080, "height": 1920}
PHONE = {"width": 360, "height": 640}
SPEAKER = '''
[[device]]
id = "k1-speaker"
kind = "speaker"
driver = "espeak"
url = "null://"
'''


def citizen_config(phone_port: int, voice: bool = True, extra_hall: str = "") -> str:
    """The page tests' hall with the kiosk's own speaker, a 老年人 window 5 serving both services,
    a short ticket screen and the phone page."""
    text = SPEAKER + page_hall(f'public_url = "http://127.0.0.1:{phone_port}"\nphone_port = {phone_port}\n'
                                 'phone_alert_ahead = 1\nticket_screen_s = 20\nidle_s = 30\n')
    text = text.replace('scanner = "k1-scanner"\n', 'scanner = "k1-scanner"\nspeaker = "k1-speaker"\n'
                        + ("" if voice else "voice = false\n"))
    text = text.replace('name = "5号窗口"\nservices = ["bdc", "sb"]', 'name = "老年人服务 5号窗口"\nkind = "老年人"\n'
                        'services = ["sb", "bdc"]')
    return text.replace("[hall.hours]", extra_hall + "\n[hall.hours]")


@pytest.fixture
def citizen(hwd_daemon):
    port = free_port()
    d = hwd_daemon(citizen_config(port), clock_start=CLOCK_START)
    d.phone_port = port
    server = UiProcess(d.config_path)
    d.ui = server
    yield d
    server.stop()


def open_page(browser, url: str, viewport: dict = KIOSK, clock: bool = False, mobile: bool = False):
    ctx = browser.new_context(viewport=viewport, has_touch=True, locale="zh-CN", is_mobile=mobile)
    page = ctx.new_page()
    if clock:
        page.clock.install()
    page.goto(url)
    page.wait_for_timeout(300)  # let the page's event stream open
    return page


def said(watcher, fragment: str, timeout: float = 30.0) -> str:
    """The text of the kiosk speaker's next announcement containing ``fragment``."""
    deadline = time.monotonic() + timeout
    while True:
        event = watcher.wait("speaker.announced", timeout=max(0.1, deadline - time.monotonic()), device="k1-speaker")
        if fragment in event["text"]:
            return event["text"]


# what a person sees: the text of every visible element with text of its own, its size and the
# contrast of its colour against the background behind it (WCAG 2 relative luminance)
AUDIT = """(sel) => {
  function rgba(c) { const m = c.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; }
  function lum(c) { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); }
  function background(el) {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let out = [255, 255, 255];
    for (let i = layers.length - 1; i >= 0; i--) {
      const c = layers[i]; out = [0, 1, 2].map(k => c[k] * c[3] + out[k] * (1 - c[3]));
    }
    return out;
  }
  const rows = [];
  for (const el of document.querySelectorAll(sel + ", " + sel + " *")) {
    const own = Array.from(el.childNodes).filter(n => n.nodeType === 3 && n.textContent.trim()).map(n => n.textContent.trim()).join("");
    if (!own) continue;
    const r = el.getBoundingClientRect(), st = getComputedStyle(el);
    if (!r.width || !r.height || st.visibility === "hidden" || st.display === "none" || el.closest("[hidden]")) continue;
    const fg = rgba(st.color), bg = background(el);
    const a = lum(fg), b = lum(bg);
    rows.push({text: own.slice(0, 30), px: parseFloat(st.fontSize), contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)});
  }
  return rows;
}"""
TARGETS = """(sel) => Array.from(document.querySelectorAll(sel + " button, " + sel + " a, " + sel + " input"))
  .filter(e => { const r = e.getBoundingClientRect(); return r.width && r.height && !e.closest("[hidden]")
                 && getComputedStyle(e).visibility !== "hidden" && e.id !== "corner"; })
  .map(e => { const r = e.getBoundingClientRect(); return {text: (e.textContent || e.id).trim().slice(0, 20), w: r.width, h: r.height}; })"""


def contrast_of(page, selector: str) -> float:
    """The lowest contrast of any visible text in ``selector`` against what lies behind it."""
    return min(r["contrast"] for r in page.evaluate(AUDIT, selector))


def miit(page, selector: str, what: str) -> None:
    """The MIIT 适老化 numbers for the elder mode, on everything visible in ``selector``."""
    rows = page.evaluate(AUDIT, selector)
    assert rows, what
    small = [r for r in rows if r["px"] < 18]
    assert not small, f"{what}: text under 18 dp: {small}"
    assert max(r["px"] for r in rows) >= 30, f"{what}: no text of 30 dp or more"
    dim = [r for r in rows if r["contrast"] < 4.5]
    assert not dim, f"{what}: contrast under 4.5:1: {dim}"
    tiny = [t for t in page.evaluate(TARGETS, selector) if t["w"] < 60 or t["h"] < 60]
    assert not tiny, f"{what}: targets under 60 × 60 dp: {tiny}"


def test_1_the_elderly_citizen_is_told_her_real_place_and_called_first(browser, citizen):
    """Issue 24 §1: the 老年人服务 window serves 社保 first and 不动产 too; four 社保 and one 不动产
    ticket wait; an elderly citizen takes 不动产 with her card: 0 ahead on the kiosk, the receipt
    and the phone, and the 老年人 window calls her first."""
    from playwright.sync_api import expect

    hall = citizen
    hall.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})
    hall.call("hall.login", {"window": "6", "staff": "s01", "pin": STAFF_PIN})
    for service in ("sb", "sb", "sb", "sb", "bdc"):
        hall.call("hall.issue_ticket", {"service": service})
        hall.call("clock.advance", {"seconds": 30})
    hall.wait_state("k1-printer", "online")
    kiosk = open_page(browser, f"{hall.ui.url}/kiosk/k1")
    hall.sim("k1-idcard", "place", card="longterm")                     # 李秀兰, born 1952
    expect(kiosk.locator("#greet")).to_be_visible(timeout=15000)
    kiosk.locator('button.svc[data-service="bdc"]').tap()
    expect(kiosk.locator("#screen-ticket")).to_be_visible()
    number = kiosk.locator("#t-number").inner_text().strip()
    expect(kiosk.locator("#t-wait")).to_contain_text("前面还有 0 人等候")
    ticket = hall.call("hall.ticket", {"ticket": number})
    assert ticket["priority"] == "elderly" and ticket["waiting_ahead"] == 0
    if ticket["printed"]:
        lines = [line["text"] for line in hall.sim("k1-printer", "receipts")[-1]["lines"]]
        assert "您前面还有 0 人等候" in lines, lines
    phone = open_page(browser, ticket["qr"], PHONE, mobile=True)
    expect(phone.locator("#headline")).to_have_text("下一位就是您")
    # a 社保 ticket taken now: window 5 calls her, 6 calls A001, then 5 and 6 the other 社保 ones
    later = hall.call("hall.issue_ticket", {"service": "sb"})
    assert later["waiting_ahead"] == 5
    called = hall.call("hall.call_next", {"window": "5"})
    assert called["number"] == number, "the 老年人 window calls the elderly ticket of any of its services first"
    expect(phone.locator("#headline")).to_have_text("请到老年人服务 5号窗口", timeout=10000)


def test_2_the_card_left_on_the_reader_is_asked_back_until_it_is_lifted(browser, citizen):
    from playwright.sync_api import expect

    hall = citizen
    spoken = hall.events("speaker.")
    kiosk = open_page(browser, f"{hall.ui.url}/kiosk/k1", clock=True)
    hall.sim("k1-idcard", "place", card="resident")
    expect(kiosk.locator("#greet")).to_be_visible(timeout=15000)
    said(spoken, "已读取身份证")
    kiosk.locator('button.svc[data-service="sb"]').tap()
    reminder = kiosk.locator("#t-card")
    expect(reminder).to_be_visible()
    expect(reminder).to_have_text(re.compile(r"^请取回您的身份证(和号票)?$"))
    assert contrast_of(kiosk, "#t-card") >= 4.5
    box = reminder.bounding_box()
    number_box = kiosk.locator("#t-number").bounding_box()
    assert box["y"] < number_box["y"], "the first thing on the ticket screen"
    assert "请取回您的身份证" in said(spoken, "您的号码是")
    expect(kiosk.locator("#t-qr svg")).to_be_visible()
    kiosk.clock.fast_forward(25 * 1000)                                # past ticket_screen_s: the card still lies there
    expect(kiosk.locator("#screen-ticket")).to_be_visible()
    expect(reminder).to_be_visible()
    assert said(spoken, "请取回") == "请取回您的身份证"                   # said again, and the QR (the citizen's
    expect(kiosk.locator("#t-qr")).to_be_hidden()                      # phone link) leaves the screen
    hall.sim("k1-idcard", "remove")                                    # the citizen takes the card
    expect(reminder).to_be_hidden(timeout=10000)
    kiosk.clock.fast_forward(21 * 1000)
    expect(kiosk.locator("#screen-home")).to_be_visible()
    expect(kiosk.locator("#greet")).to_be_hidden()
    expect(kiosk.locator("#card-notice")).to_be_hidden()

    # a card that gave its ticket and still lies there: home says so, instead of nothing
    hall.sim("k1-idcard", "place", card="resident")
    expect(kiosk.locator("#greet")).to_be_visible(timeout=15000)
    kiosk.locator('button.svc[data-service="sb"]').tap()
    expect(reminder).to_be_visible()
    kiosk.locator("#screen-ticket [data-home]").tap()
    expect(kiosk.locator("#card-notice")).to_have_text("请取回读卡区上的身份证")
    hall.sim("k1-idcard", "remove")
    expect(kiosk.locator("#card-notice")).to_be_hidden(timeout=10000)


def test_3_every_screen_is_spoken_and_the_elder_mode_meets_the_miit_numbers(browser, citizen, hwd_daemon):
    from playwright.sync_api import expect

    hall = citizen
    spoken = hall.events("speaker.")
    kiosk = open_page(browser, f"{hall.ui.url}/kiosk/k1", clock=True)
    kiosk.locator("#go-checkin").tap()
    assert said(spoken, "预约签到") == "预约签到，请扫描预约二维码，或在屏幕上输入预约码"
    kiosk.locator("#voice").tap()                                      # 语音: the same prompt again
    said(spoken, "预约签到")
    kiosk.locator("#screen-checkin [data-home]").tap()
    said(spoken, "请选择办理事项")
    for b in kiosk.locator(".bar .aid").all():
        bb = b.bounding_box()
        assert bb["width"] >= 60 and bb["height"] >= 60, bb

    # 长辈 mode on the guide pages: the MIIT numbers
    kiosk.locator("#elder").tap()
    expect(kiosk.locator("#elder")).to_have_attribute("aria-pressed", "true")
    miit(kiosk, "#screen-home", "the home screen in 长辈 mode")
    kiosk.locator("#go-checkin").tap()
    miit(kiosk, "#screen-checkin", "the check-in keypad in 长辈 mode")
    kiosk.locator("#screen-checkin [data-home]").tap()
    kiosk.locator("#go-guide").tap()
    said(spoken, "办事指南")
    miit(kiosk, "#screen-guide", "the guide list in 长辈 mode")
    miit(kiosk, "header.bar", "the kiosk's bar in 长辈 mode")
    with kiosk.expect_navigation():
        kiosk.locator('#screen-guide a.svc[href$="/guide/bdc"]').tap()
    expect(kiosk.locator("#notice")).to_contain_text("所需材料")
    assert "不动产登记办事指南" in said(spoken, "办事指南")
    miit(kiosk, "#guide", "the service guide in 长辈 mode")
    elder_size = kiosk.evaluate("parseFloat(getComputedStyle(document.querySelector('.notice .facts td')).fontSize)")
    # no time-out while the citizen acts: a touch every 20 s for 3 minutes (idle_s = 30)
    for _ in range(9):
        kiosk.clock.fast_forward(20 * 1000)
        kiosk.locator("#notice").tap()
    expect(kiosk.locator("#notice")).to_be_visible()
    with kiosk.expect_navigation():
        kiosk.clock.fast_forward(31 * 1000)                            # then nobody: home, 长辈 mode off
    expect(kiosk.locator("#screen-home")).to_be_visible()
    assert not kiosk.evaluate("document.documentElement.classList.contains('elder')")
    kiosk.locator("#go-guide").tap()
    with kiosk.expect_navigation():
        kiosk.locator('#screen-guide a.svc[href$="/guide/bdc"]').tap()
    normal_size = kiosk.evaluate("parseFloat(getComputedStyle(document.querySelector('.notice .facts td')).fontSize)")
    assert elder_size >= 1.25 * normal_size, (elder_size, normal_size)

    # the switch: a kiosk with voice = false has no 语音 button and says nothing
    port = free_port()
    quiet = hwd_daemon(citizen_config(port, voice=False), name="quiet", clock_start=CLOCK_START)
    server = UiProcess(quiet.config_path)
    try:
        watcher = quiet.events("speaker.")
        page = open_page(browser, f"{server.url}/kiosk/k1")
        expect(page.locator("#voice")).to_have_count(0)
        expect(page.locator("#elder")).to_be_visible()
        with page.expect_response(lambda r: r.url.endswith("/api/say")) as answer:
            page.evaluate("HWD.api(document.getElementById('kiosk').dataset.base + '/api/say', {prompt: 'home'})")
        assert answer.value.status == 404
        page.locator("#go-checkin").tap()
        assert not [e for e in watcher.drain(1.0) if e["topic"] == "speaker.announced"]
    finally:
        server.stop()


def test_4_one_ticket_screen_for_a_scanned_appointment(browser, citizen):
    from playwright.sync_api import expect
    from hwd.web.svg import qr_svg

    hall = citizen
    spoken = hall.events("speaker.")
    kiosk = open_page(browser, f"{hall.ui.url}/kiosk/k1")
    code = hall.call("hall.book", {"service": "bdc", "slot": hall.call("hall.state")["now"]})["code"]
    hall.sim("k1-scanner", "scan", text=code)
    expect(kiosk.locator("#screen-ticket")).to_be_visible(timeout=15000)
    number = kiosk.locator("#t-number").inner_text().strip()
    ticket = hall.call("hall.ticket", {"ticket": number})
    assert ticket["qr"].startswith(f"http://127.0.0.1:{hall.phone_port}/t/")
    drawn = re.findall(r' d="([^"]+)"', kiosk.locator("#t-qr").inner_html())
    assert drawn and drawn == re.findall(r' d="([^"]+)"', str(qr_svg(ticket["qr"]))), "the QR is the phone page, as when tapped"
    expect(kiosk.locator("#t-qr-hint")).to_contain_text("用手机扫码")
    expect(kiosk.locator("#t-wait")).to_have_text(re.compile(r"^前面还有 0 人等候，"))
    said(spoken, "您的号码是")

    # typed on the keypad, in 长辈 mode: the same screen, and the MIIT numbers on it
    kiosk.locator("#screen-ticket [data-home]").tap()
    kiosk.locator("#elder").tap()
    code = hall.call("hall.book", {"service": "bdc", "slot": hall.call("hall.state")["now"]})["code"]
    kiosk.locator("#go-checkin").tap()
    for key in code:
        kiosk.locator(f'#keypad button[data-key="{key}"]').tap()
    kiosk.locator("#checkin-ok").tap()
    expect(kiosk.locator("#t-number")).not_to_have_text(number, timeout=15000)
    typed = hall.call("hall.ticket", {"ticket": kiosk.locator("#t-number").inner_text().strip()})
    drawn = re.findall(r' d="([^"]+)"', kiosk.locator("#t-qr").inner_html())
    assert drawn == re.findall(r' d="([^"]+)"', str(qr_svg(typed["qr"])))
    expect(kiosk.locator("#t-qr-hint")).to_contain_text("用手机扫码")
    expect(kiosk.locator("#t-wait")).to_have_text(re.compile(r"^前面还有 1 人等候，"))
    miit(kiosk, "#screen-ticket", "the ticket screen in 长辈 mode")


def test_4_an_unenrolled_rating_page_says_it_is_not_in_service(browser, citizen):
    from playwright.sync_api import expect

    hall = citizen
    page = open_page(browser, f"{hall.ui.url}/rate/5", {"width": 1280, "height": 800})
    expect(page.locator("#rate-off")).to_be_visible()
    expect(page.locator("#rate-off")).to_contain_text("本设备暂未启用评价")
    hall.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})
    hall.call("hall.issue_ticket", {"service": "sb"})
    hall.call("hall.call_next", {"window": "5"})
    hall.call("hall.finish", {"window": "5"})                           # a rating is asked for …
    page.wait_for_timeout(1500)
    expect(page.locator("#rate-buttons")).to_be_hidden()               # … not here: it would record nothing
    assert "感谢您的评价" not in page.locator("body").inner_text()     # what is shown, not the hidden screens
    expect(page.locator("#rate-off")).to_be_visible()


def test_4_the_phone_page_ends_in_its_own_words_rates_late_and_leaves_the_queue(browser, hwd_daemon):
    """A hall closing at 17:00: between closing and expiry no 即将叫号; 今日叫号已结束 once no window
    serves it; its own end words the next day; a final no-show is void; rating by phone after the
    pad's 60 s; 取消排队 asked once more."""
    from playwright.sync_api import expect

    port = free_port()
    text = citizen_config(port).replace("[hall.hours]\nalways_open = true",
                                        '[hall.hours]\nmon = ["09:00-17:00"]\nofficial_calendar = false')
    hall = hwd_daemon(text, clock_start="2026-11-23T16:00:00")
    server = UiProcess(hall.config_path)
    try:
        hall.call("hall.login", {"window": "6", "staff": "s01", "pin": STAFF_PIN})
        first, second, third = (hall.call("hall.issue_ticket", {"service": "sb"}) for _ in range(3))
        phone = open_page(browser, second["qr"], PHONE, mobile=True)
        expect(phone.locator("#headline")).to_have_text("即将叫号")
        expect(phone.locator("#link")).to_be_visible()
        expect(phone.locator("#sound")).to_be_visible()

        # 取消排队 on the third ticket's phone: asked once more; 继续排队 keeps the place
        other = open_page(browser, third["qr"], PHONE, mobile=True)
        other.locator("#leave").tap()
        expect(other.locator("#confirm")).to_be_visible()
        expect(other.locator("#confirm")).to_contain_text("取消后本号票作废")
        other.locator("#cancel-no").tap()
        expect(other.locator("#confirm")).to_be_hidden()
        assert hall.call("hall.ticket", {"ticket": third["id"]})["state"] == "waiting"
        other.locator("#leave").tap()
        other.locator("#cancel-yes").tap()
        expect(other.locator("#headline")).to_have_text("已取消排队", timeout=10000)
        expect(other.locator("#leave")).to_be_hidden()
        assert hall.call("hall.ticket", {"ticket": third["id"]})["state"] == "cancelled"

        hall.call("clock.set", {"now": "2026-11-23T17:10:00"})         # closed: tickets taken are still called
        expect(phone.locator("#headline")).to_have_text("今日已停止取号", timeout=20000)
        expect(phone.locator("body")).not_to_contain_text("即将叫号")
        hall.call("hall.logout", {"window": "6"})                      # the last 社保 window closes
        expect(phone.locator("#headline")).to_have_text("今日叫号已结束", timeout=20000)
        expect(phone.locator("#sound")).to_be_hidden()
        expect(phone.locator("#link")).to_be_hidden()

        hall.call("hall.login", {"window": "6", "staff": "s01", "pin": STAFF_PIN})
        hall.call("hall.call_next", {"window": "6"})                   # the first ticket: served, rated late
        hall.call("hall.finish", {"window": "6"})
        done = open_page(browser, first["qr"], PHONE, mobile=True)
        hall.call("clock.advance", {"seconds": 120})                   # the pad's 60 s are over
        with pytest.raises(Exception):
            hall.call("hall.rate", {"window": "6", "score": 5})
        expect(done.locator("#rating")).to_be_visible(timeout=20000)
        done.locator('#levels button[data-score="4"]').tap()
        expect(done.locator("#headline")).to_have_text("感谢您的评价", timeout=10000)

        hall.call("hall.call_next", {"window": "6"})                   # the second: recalled, not there, void
        hall.call("hall.recall", {"window": "6"})
        hall.call("hall.no_show", {"window": "6"})
        expect(phone.locator("#headline")).to_have_text("号票已作废", timeout=20000)
        expect(phone.locator("#lines")).to_contain_text("如需办理，请重新取号")
        expect(phone.locator("#sound")).to_be_hidden()
        expect(phone.locator("#link")).to_be_hidden()

        left = hall.call("hall.book", {"service": "bdc", "slot": "2026-11-23T17:30:00"})
        late = hall.call("hall.checkin", {"code": left["code"]})       # an appointment after hours, never called
        late_page = open_page(browser, late["qr"], PHONE, mobile=True)
        hall.call("clock.set", {"now": "2026-11-24T08:00:00"})         # the day ended at 23:30
        expect(late_page.locator("#headline")).to_have_text("号票已失效", timeout=20000)
        expect(late_page.locator("#lines")).to_contain_text("今日叫号已结束")
        expect(late_page.locator("body")).not_to_contain_text("链接无效")
        expect(late_page.locator("#sound")).to_be_hidden()
    finally:
        server.stop()


def test_4_the_priority_badge_is_legible_and_the_kiosk_says_which_device_is_down(browser, citizen):
    from playwright.sync_api import expect

    hall = citizen
    kiosk = open_page(browser, f"{hall.ui.url}/kiosk/k1")
    hall.sim("k1-idcard", "place", card="longterm")
    expect(kiosk.locator("#greet")).to_be_visible(timeout=15000)
    kiosk.locator('button.svc[data-service="bdc"]').tap()
    expect(kiosk.locator("#t-priority")).to_have_text("优先办理")
    ratio = contrast_of(kiosk, "#t-priority")
    assert ratio >= 4.5, f"优先办理 at {ratio:.2f}:1 (was red on green, 1.15:1)"
    kiosk.locator("#screen-ticket [data-home]").tap()
    hall.sim("k1-idcard", "remove")

    spoken = hall.events("speaker.")
    for device, notice, help_line, words, screen, voice in (
            ("k1-scanner", "#scanner-notice", "#help-scanner", "扫码器暂时无法使用", "#go-checkin", "预约签到，请在屏幕上输入预约码"),
            ("k1-idcard", "#idcard-notice", "#help-idcard", "身份证读卡器暂时无法使用", None, "您好，请选择办理事项")):
        expect(kiosk.locator(notice)).to_be_hidden()
        hall.sim(device, "unplug")
        expect(kiosk.locator(notice)).to_be_visible(timeout=20000)
        expect(kiosk.locator(notice)).to_contain_text(words)
        expect(kiosk.locator(help_line)).to_be_hidden()                # the help no longer points at it
        assert contrast_of(kiosk, notice) >= 4.5
        if screen:                                                     # nor do the spoken words
            kiosk.locator(screen).tap()
            assert said(spoken, "预约签到") == voice
            kiosk.locator("#screen-checkin [data-home]").tap()
            assert "读卡区" in said(spoken, "您好")                       # the reader still serves
        else:
            expect(kiosk.locator("#lead")).to_have_text("请选择办理事项")
            kiosk.locator("#voice").tap()
            assert said(spoken, "您好") == voice
        hall.sim(device, "plug")
        expect(kiosk.locator(notice)).to_be_hidden(timeout=30000)
        expect(kiosk.locator(help_line)).to_be_visible()
        expect(kiosk.locator("#lead")).to_have_text("请选择办理事项，或刷身份证取号")


ONE_LINE = "(() => { const h = document.querySelector('.bar h1'); return h.getBoundingClientRect().height < 2 * parseFloat(getComputedStyle(h).fontSize); })()"
FITS = "(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)()"


@pytest.mark.parametrize("size,elder,card", [
    ({"width": 1080, "height": 1920}, False, True), ({"width": 1080, "height": 1920}, True, True),
    ({"width": 1920, "height": 1080}, False, True), ({"width": 1920, "height": 1080}, True, True),
    ({"width": 768, "height": 1366}, False, False), ({"width": 1366, "height": 768}, False, False)])
def test_4_the_kiosk_fits_its_screen_with_the_aids_in_its_bar(browser, citizen, size, elder, card):
    """The bar with 长辈模式 and 语音 keeps the hall's name on one line (it was squeezed into a
    column of single characters), nothing runs off the side, and the ticket screen's 完成 is on
    the screen: the two kiosk screens with the card asked back and in 长辈 mode, two smaller
    ones (21.5-inch portrait, a 1366×768 panel) as they are mostly used."""
    from playwright.sync_api import expect

    hall = citizen
    kiosk = open_page(browser, f"{hall.ui.url}/kiosk/k1", size)
    if elder:
        kiosk.locator("#elder").tap()
    assert kiosk.evaluate(ONE_LINE) and kiosk.evaluate(FITS), size
    if card:
        hall.sim("k1-idcard", "place", card="resident")
        expect(kiosk.locator("#greet")).to_be_visible(timeout=15000)
    kiosk.locator('button.svc[data-service="sb"]').tap()
    expect(kiosk.locator("#screen-ticket")).to_be_visible()
    if card:
        expect(kiosk.locator("#t-card")).to_be_in_viewport(ratio=1)
    expect(kiosk.locator("#screen-ticket [data-home]")).to_be_in_viewport(ratio=1)
    expect(kiosk.locator("#t-number")).to_be_in_viewport(ratio=1)
    assert kiosk.evaluate(ONE_LINE) and kiosk.evaluate(FITS), size


def test_3_a_hall_of_many_services_says_its_department_screen(browser, hwd_daemon):
    """More than 8 services come in departments: choosing one is spoken too, and 返回分类 says home."""
    from playwright.sync_api import expect

    extra = "".join(f'\n[[hall.service]]\nid = "x{i}"\nname = "事项{i}"\nprefix = "{chr(67 + i)}"\n'
                    f'department = "{"市场监管局" if i % 2 else "人社局"}"\n' for i in range(8))
    text = citizen_config(free_port()).replace("[[hall.window]]", extra + "\n[[hall.window]]", 1)
    hall = hwd_daemon(text, clock_start=CLOCK_START)
    server = UiProcess(hall.config_path)
    try:
        spoken = hall.events("speaker.")
        kiosk = open_page(browser, f"{server.url}/kiosk/k1")
        kiosk.locator('#depts button[data-dept="市场监管局"]').tap()
        expect(kiosk.locator('button.svc[data-service="x1"]')).to_be_visible()
        assert said(spoken, "请选择") == "请选择具体的办理事项"
        kiosk.locator("#dept-back").tap()
        expect(kiosk.locator("#depts")).to_be_visible()
        said(spoken, "请选择办理事项")
    finally:
        server.stop()
