"""The county's pages in headless Debian chromium (Playwright) against the real hwd-central and
a real hall feeding a real PostgreSQL: the supervisor logs in, sees the hall's row on the
all-halls page with today's numbers, opens its per-window table, sees the chart and gets the CSV."""

from __future__ import annotations

import os

import pytest

from daemon_fixture import DaemonProcess, wait_for
from county_helpers import MONDAY, get, hall_config

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} missing (apt-get install chromium)")]


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def test_a_supervisor_sees_the_hall_and_its_windows(tmp_path, county, central, browser):
    d = DaemonProcess(tmp_path, "", "h1")
    d.config_path.write_text(hall_config(d, county.add_hall("mazhao"), "mazhao", "马召镇便民服务中心"), encoding="utf-8")
    d.start()
    try:
        d.call("clock.set", {"now": MONDAY})
        d.call("hall.login", {"window": "1", "staff": "s01"})
        for service in ("bdc", "sb", "sb"):
            d.call("hall.issue_ticket", {"service": service})
        d.call("hall.call_next", {"window": "1"})
        d.call("hall.start", {"window": "1"})
        d.call("hall.finish", {"window": "1"})
        wait_for(lambda: [h["issued_today"] for h in get(central, "/api/halls")] == [3], 30, "the hall at the county")
    finally:
        d.stop()
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(central + "/")
    assert "/login" in page.url, "the pages need the login"
    page.fill("input[name=password]", "s3cret-pw")
    page.click("button[type=submit]")
    row = page.locator('#halls tr[data-hall="mazhao"]')
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert cells[0].startswith("马召镇便民服务中心") and "2026-11-23" in cells[0]
    assert cells[1:4] == ["3", "2", "2"], cells  # issued today, queue now, not finished
    assert cells[6] == "1 / 1 / 0", "window 1 open and idle after the finish; window 2 closed"
    assert row.bounding_box()["width"] > 600
    assert page.locator("figure svg").bounding_box()["height"] > 20, "the queue chart is drawn"

    row.locator("a").click()
    page.wait_for_selector("#report")
    assert "按窗口" in page.locator("h2").inner_text() and "日报 2026-11-23" in page.locator("h2").inner_text()
    [line] = page.locator("#report tbody tr").all_inner_texts()
    cols = line.split("\t")
    # hall, window 1 by the name the hall reported: issued, called, served
    assert cols[:5] == ["马召镇便民服务中心", "综合受理 1号窗口", "1", "1", "1"], cols
    with page.expect_download() as info:
        page.click("a.csv")
    text = open(info.value.path(), encoding="utf-8-sig").read()
    assert text.splitlines()[0].startswith("大厅,窗口,取号,叫号,办结")
    assert text.splitlines()[1].startswith("马召镇便民服务中心,综合受理 1号窗口,1,1,1")
