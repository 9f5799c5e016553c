"""The hall manager's statistics for any period, as pictures (issue 14 item 14), in headless
Chromium against the real hwd-ui and a real hwd whose test clock seeds a known Monday: the SVG
bars exist with the right labels and counts, their boxes scale with the counts, and the period
picker moves to the week."""

from __future__ import annotations

import pytest

from support.halls import ADMIN_PASSWORD, STAFF_PIN, page_hall
from support.ui import UiProcess
from test_ui_browser import _shot
from support.browser import needs_chromium


pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def seeded(hwd_daemon, tmp_path):
    daemon = (f'[daemon]\nrpc = "ipc://{tmp_path}/hwd-run/rpc"\nevents = "ipc://{tmp_path}/hwd-run/events"\n'
              f'state_dir = "{tmp_path}/hwd-state"\nheartbeat_s = 0.5\ntest_clock = true\n')
    d = hwd_daemon(daemon + page_hall(devices=False))

    def at(when: str) -> None:
        d.call("clock.set", {"now": when})

    at("2026-11-23T08:00:00")                       # Monday
    d.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})
    at("2026-11-23T08:10:00")
    d.call("hall.issue_ticket", {"service": "bdc"})  # B001
    at("2026-11-23T08:30:00")
    d.call("hall.call_next", {"window": "5"})        # B001 waited 20 min
    at("2026-11-23T08:31:00")
    d.call("hall.start", {"window": "5"})
    at("2026-11-23T08:40:00")
    d.call("hall.issue_ticket", {"service": "sb"})   # A001
    at("2026-11-23T08:41:00")
    d.call("hall.finish", {"window": "5"})           # 10 min
    d.call("hall.rate", {"window": "5", "score": 5})
    at("2026-11-23T08:45:00")
    assert d.call("hall.call_next", {"window": "5"})["number"] == "A001"   # waited 5 min
    d.call("hall.start", {"window": "5"})
    at("2026-11-23T08:55:00")
    d.call("hall.finish", {"window": "5"})           # 10 min
    d.call("hall.rate", {"window": "5", "score": 4})
    at("2026-11-23T09:05:00")
    d.call("hall.issue_ticket", {"service": "bdc"})  # B002, not called
    at("2026-11-23T12:00:00")                        # on duty 08:00-12:00 = 240 min, busy 20
    d.call("hall.logout", {"window": "5", "staff": "s01"})
    at("2026-11-25T10:30:00")                        # Wednesday of the same week
    d.call("hall.issue_ticket", {"service": "sb"})
    server = UiProcess(d.config_path)
    yield server
    server.stop()


def _bars(page, chart: str, series: str | None = None) -> dict[str, float]:
    rects = page.locator(f"#{chart} rect.bar" + (f'[data-series="{series}"]' if series else ""))
    return {r.get_attribute("data-label"): float(r.get_attribute("data-value")) for r in rects.all()}


def test_period_charts_in_a_real_browser(seeded, browser, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page.goto(f"{seeded.url}/admin/login?next=/admin/stats")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{seeded.url}/admin/stats?period=day&date=2026-11-23")
    expect(page.locator("#period-range")).to_have_text("2026-11-23")
    expect(page.locator("#sum-issued")).to_have_text("3")
    assert page.locator("#chart-days").count() == 0, "one day needs no per-day chart"

    arrivals = _bars(page, "chart-arrivals")
    assert list(arrivals) == [f"{h:02d}时" for h in range(8, 18)]
    assert {k: v for k, v in arrivals.items() if v} == {"08时": 2, "09时": 1}
    h08 = page.locator('#chart-arrivals rect.bar[data-label="08时"]').bounding_box()["height"]
    h09 = page.locator('#chart-arrivals rect.bar[data-label="09时"]').bounding_box()["height"]
    assert h08 == pytest.approx(2 * h09, rel=0.02) and h09 > 20
    expect(page.locator("#chart-arrivals text", has_text="08时")).to_be_visible()

    waits = _bars(page, "chart-waits")
    assert len(waits) == 8 and {k: v for k, v in waits.items() if v} == {"5–10分钟": 1, "20–30分钟": 1}
    expect(page.locator("#sum-not-called")).to_have_text("1")
    assert _bars(page, "chart-served") == {"5号窗口": 2, "6号窗口": 0}
    assert _bars(page, "chart-duty", "办理") == {"5号窗口": 20, "6号窗口": 0}
    assert _bars(page, "chart-duty", "空闲") == {"5号窗口": 220, "6号窗口": 0}
    assert _bars(page, "chart-ratings") == {"非常满意": 1, "满意": 1, "基本满意": 0, "不满意": 0,
                                            "非常不满意": 0, "未评价": 0}
    _shot(page, tmp_path, "admin-stats")
    csv = page.locator("#period .export a", has_text="按窗口")
    assert "from=2026-11-23" in csv.get_attribute("href") and "to=2026-11-23" in csv.get_attribute("href")

    # the picker: touch-sized choices; the week holds Wednesday's ticket too
    week = page.locator("label.period-kind", has_text="周")
    assert week.bounding_box()["height"] >= 48
    week.click()
    page.click("#period-form button[type=submit]")
    expect(page.locator("#period-range")).to_have_text("2026-11-23 至 2026-11-29")
    expect(page.locator("#sum-issued")).to_have_text("4")
    assert _bars(page, "chart-arrivals")["10时"] == 1
    days = _bars(page, "chart-days")
    assert list(days) == ["11-23", "11-24", "11-25", "11-26", "11-27", "11-28", "11-29"]
    assert (days["11-23"], days["11-25"]) == (3, 1)
    assert "to=2026-11-29" in page.locator("#period .export a", has_text="按窗口").get_attribute("href")
    page.click("text=上一周")
    expect(page.locator("#period-range")).to_have_text("2026-11-16 至 2026-11-22")
    expect(page.locator("#sum-issued")).to_have_text("0")
