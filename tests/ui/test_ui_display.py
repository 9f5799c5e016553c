"""The hall display as people 5 m away see it (issue 14), in headless chromium against the real
hwd and hwd-ui: every call names its window (also after 过号 and 转移), 已叫号 until started, text
of at least 66 px at 1080p (42 mm on a 55-inch screen) and 132 px at 4K, nothing wrapped, the
no-show rule from config, and the last calls (not 欢迎光临) while hwd is down."""

from __future__ import annotations

import pytest

from support.halls import STAFF_PIN, page_hall
from support.ui import UiProcess
from support.browser import needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]

FHD = {"width": 1920, "height": 1080}
UHD = {"width": 3840, "height": 2160}
LONG_NAMES = (page_hall().replace('name = "5号窗口"', 'name = "老年人服务 3号窗口"')
              .replace('name = "6号窗口"', 'name = "社会保障 2号窗口"')
              + "\n[hall.no_show]\nrequeue_after = 3\n")

# what a person reads on the display, cell by cell: font size, box, and whether it wrapped
MEASURE = """sel => Array.from(document.querySelectorAll(sel)).filter(e => e.textContent.trim()).map(e => {
  const r = e.getBoundingClientRect(), cs = getComputedStyle(e);
  const size = parseFloat(cs.fontSize);
  return {text: e.textContent.trim(), scrolls: !!e.closest(".marquee"), size: size,
          lines: Math.max(1, Math.floor(e.clientHeight / (size * 1.15))),
          left: r.left, right: r.right, top: r.top, bottom: r.bottom};
})"""
SECONDARY = "#calls li, #windows th, #windows td, #queues th, #queues td, .panel h2, #notice"


@pytest.fixture
def long_hall(hwd_daemon):
    return hwd_daemon(LONG_NAMES)


@pytest.fixture
def long_ui(long_hall):
    server = UiProcess(long_hall.config_path)
    yield server
    server.stop()


def _busy_hall(hall) -> list[str]:
    """Two windows open, calls made, one 过号 (requeued), one 转移; returns the numbers."""
    hall.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})
    hall.call("hall.login", {"window": "6", "staff": "s01", "pin": STAFF_PIN})
    numbers = [hall.call("hall.issue_ticket", {"service": s})["number"] for s in ("bdc", "bdc", "sb", "sb", "sb")]
    return numbers


def _check_readable(page, viewport: dict, min_px: float) -> list[dict]:
    cells = page.evaluate(MEASURE, SECONDARY)
    assert cells, "nothing to read on the display"
    for c in cells:
        assert c["size"] >= min_px, f"{c['text']!r} is {c['size']} px, below {min_px} px"
        assert c["lines"] == 1, f"{c['text']!r} wraps onto {c['lines']} lines"
    for c in (x for x in cells if not x["scrolls"]):
        assert 0 <= c["left"] and c["right"] <= viewport["width"] + 0.5, f"{c['text']!r} runs off the screen: {c}"
        assert c["bottom"] <= viewport["height"] + 0.5, f"{c['text']!r} is below the screen: {c}"
    return cells


def test_every_call_names_its_window_and_the_display_reads_from_5_m(browser, long_hall, long_ui, tmp_path):
    from playwright.sync_api import expect

    hall = long_hall
    page = browser.new_context(viewport=FHD, locale="zh-CN").new_page()
    page.goto(f"{long_ui.url}/display")
    page.wait_for_timeout(300)
    b1, b2, a1, a2, a3 = _busy_hall(hall)
    hall.call("hall.call_next", {"window": "5"})                       # B001 to 老年人服务 3号窗口
    expect(page.locator("#latest-call")).to_contain_text(b1)
    expect(page.locator("#latest-call #lc-window")).to_have_text("老年人服务 3号窗口")
    expect(page.locator("#windows tr", has_text="老年人服务 3号窗口")).to_contain_text("已叫号")
    hall.call("hall.start", {"window": "5"})
    expect(page.locator("#windows tr", has_text="老年人服务 3号窗口")).to_contain_text("办理中")
    hall.call("hall.finish", {"window": "5"})

    hall.call("hall.call_next", {"window": "6"})                       # A001 to 社会保障 2号窗口
    hall.call("hall.no_show", {"window": "6"})                         # 过号: requeued behind 3
    page.reload()
    expect(page.locator("#latest-call")).to_contain_text(a1)
    expect(page.locator("#latest-call #lc-window")).to_have_text("社会保障 2号窗口")
    hall.call("hall.call_next", {"window": "5"})                       # B002
    hall.call("hall.transfer", {"window": "5", "service": "sb"})      # 转移: waiting again, no window
    expect(page.locator("#latest-call")).to_contain_text(b2)
    expect(page.locator("#latest-call #lc-window")).to_have_text("老年人服务 3号窗口", timeout=3000)
    page.reload()
    expect(page.locator("#latest-call #lc-window")).to_have_text("老年人服务 3号窗口")
    rows = page.locator("#calls li")
    expect(rows).to_have_count(2)
    for i in range(2):
        expect(rows.nth(i).locator(".c-win")).not_to_be_empty()
    assert [r.strip() for r in rows.all_inner_texts()][0].startswith(a1)

    # one no-show rule, from config (requeue_after = 3), on the display as on the receipt
    expect(page.locator("#no-show-rule")).to_have_text("过号后顺延3位重新排队（限一次），再次过号请重新取号")
    receipt = [line["text"] for line in hall.sim("k1-printer", "receipts")[-1]["lines"]] \
        if hall.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1"})["printed"] else None
    if receipt is not None:
        assert "过号后顺延3位重新排队（限一次），再次过号请重新取号" in receipt, receipt
        assert not any("过号请到服务台" in line for line in receipt)

    hall.call("hall.pause", {"window": "6", "reason": "午休"})          # 暂停服务: the widest state
    page.reload()
    expect(page.locator("#windows tr", has_text="社会保障 2号窗口")).to_contain_text("暂停服务")
    _check_readable(page, FHD, 66)
    page.screenshot(path=str(tmp_path / "display-1080p.png"))

    uhd = browser.new_context(viewport=UHD, locale="zh-CN").new_page()
    uhd.goto(f"{long_ui.url}/display")
    expect(uhd.locator("#latest-call #lc-window")).to_have_text("老年人服务 3号窗口")
    _check_readable(uhd, UHD, 132)
    uhd.screenshot(path=str(tmp_path / "display-4k.png"))


def test_the_display_keeps_the_last_call_while_hwd_is_down(browser, hall, tmp_path):
    from playwright.sync_api import expect

    hall.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})
    number = hall.call("hall.issue_ticket", {"service": "bdc"})["number"]
    hall.call("hall.call_next", {"window": "5"})
    seen = UiProcess(hall.config_path)       # this hwd-ui has shown the display before hwd went down
    fresh = UiProcess(hall.config_path)      # this one never reached hwd
    try:
        page = browser.new_context(viewport=FHD, locale="zh-CN").new_page()
        page.goto(f"{seen.url}/display")
        expect(page.locator("#latest-call")).to_contain_text(number)
        hall.stop()
        resp = page.goto(f"{seen.url}/display")
        assert resp.status == 200
        expect(page.locator("#latest-call")).to_contain_text(number)
        expect(page.locator("#latest-call")).to_contain_text("5号窗口")
        expect(page.locator("#latest-call")).not_to_contain_text("欢迎光临")
        expect(page.locator("#offline")).to_be_visible()
        other = browser.new_context(viewport=FHD, locale="zh-CN").new_page()
        resp = other.goto(f"{fresh.url}/display")
        assert resp.status == 503 and resp.headers.get("retry-after")
        expect(other.locator(".error-message")).to_contain_text("系统连接中断")
        expect(other.locator("#latest-call")).to_have_count(0)
        hall.start()
        expect(other.locator("#latest-call")).to_contain_text(number, timeout=20000)  # the retry page retried
    finally:
        seen.stop()
        fresh.stop()
