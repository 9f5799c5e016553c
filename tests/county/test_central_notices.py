"""The county notices (issue 24 item 7), in headless Debian chromium against the real hwd-central and
a real hall feeding a real PostgreSQL: the all-halls page reloads itself, so when the hall stops
reporting its row turns red — 离线, readable, with the time of its last report, its figures marked
as old — without anyone pressing reload; waits are in minutes, a ticket the day ended is 过期 as
the hall says it, windows have their names (at the county as in the hall), and the CSV opens in a
spreadsheet with Chinese headings. The reload never keeps an idle login alive (等保)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import zoneinfo

import pytest

from daemon_fixture import DaemonProcess, wait_for
from county_helpers import MONDAY, central_config, get, hall_config, query
from page_checks import CONTRAST
from sim_devices import led

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} missing (apt-get install chromium)")]

RED = "e => { const [r, g, b] = getComputedStyle(e).color.match(/\\d+/g).map(Number); return r > 150 && g < 60 && b < 60; }"


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def _central(tmp_path, county, extra: str):
    """hwd-central with ``extra`` [central] keys; yields (base URL, process)."""
    from hwd.county.localpg import free_port

    config = central_config(tmp_path, county.central_dsn, extra)
    port = free_port()
    log = open(tmp_path / "central.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "central.cli", "--config", config, "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: get(base, "/api/halls") is not None, 30, "hwd-central up", tolerate=(OSError, urllib.error.URLError))
    return base, proc


@pytest.fixture
def central_fast(tmp_path, county):
    base, proc = _central(tmp_path, county, "refresh_s = 1\n")
    yield base
    proc.terminate()
    proc.wait(10)


def _login(page, base: str) -> None:
    page.goto(base + "/")
    page.fill("input[name=password]", "s3cret-pw")
    page.click("button[type=submit]")
    page.locator("#halls").wait_for()


def _hall_day(tmp_path, county, devices: bool = False) -> DaemonProcess:
    """马召镇: three tickets; one waited 12 minutes and was served and rated; two are still waiting.
    ``devices``: window 1 has an LED screen on an emulated RS-485 bus."""
    d = DaemonProcess(tmp_path, "", "h1")
    text = hall_config(d, county.add_hall("mazhao"), "mazhao", "马召镇便民服务中心")
    if devices:
        text = text.replace('name = "综合受理 1号窗口"\n', 'name = "综合受理 1号窗口"\ndisplay = "win1-led"\n') + led("win1-led", 1)
    d.config_path.write_text(text, encoding="utf-8")
    d.start()
    d.call("clock.set", {"now": MONDAY})
    d.call("hall.login", {"window": "1", "staff": "s01"})
    for service in ("bdc", "sb", "sb"):
        d.call("hall.issue_ticket", {"service": service})
    d.call("clock.set", {"now": "2026-11-23T09:12:00"})
    d.call("hall.call_next", {"window": "1"})
    d.call("hall.start", {"window": "1"})
    d.call("hall.finish", {"window": "1"})
    d.call("hall.rate", {"window": "1", "score": 5})
    return d


def test_an_offline_hall_turns_red_with_its_last_report_time_by_itself(tmp_path, county, central_fast, browser):
    from playwright.sync_api import expect

    d = _hall_day(tmp_path, county)
    try:
        wait_for(lambda: [(h["issued_today"], h["online"], h["rated_today"]) for h in get(central_fast, "/api/halls")]
                 == [(3, True, 1)], 30, "the hall at the county")
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        _login(page, central_fast)
        row = page.locator('#halls tr[data-hall="mazhao"]')
        expect(row).to_have_attribute("data-online", "yes")
        expect(row.locator("td.link")).to_have_text("在线")
        headings = page.locator("#halls thead th").all_inner_texts()
        assert "等候P50(分钟)" in headings and "上报延迟(分钟)" in headings, headings
        assert not any("秒" in h for h in headings), headings
        cells = row.locator("td").all_inner_texts()
        assert cells[4] == "12.0", cells            # the 12-minute wait, in minutes
    finally:
        d.stop()

    # nobody touches the page: it reloads itself and the hall is shown offline, in red, with its time
    expect(row).to_have_attribute("data-online", "no", timeout=20000)
    expect(row).to_have_class("offline")
    link = row.locator("td.link")
    expect(link).to_have_text("离线")
    assert link.evaluate(RED), "离线 is red"
    assert link.evaluate(CONTRAST) >= 4.5
    [(received,)] = query(county.pg, "SELECT received_at FROM halls WHERE hall_id = 'mazhao'")
    shown = received.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    when = row.locator("td.when")
    expect(when).to_contain_text(shown)
    assert when.evaluate(RED) and when.evaluate(CONTRAST) >= 4.5
    note = row.locator(".stale-note")
    expect(note).to_have_text(f"离线：以下数据截至 {shown}")
    assert note.evaluate(RED) and note.evaluate(CONTRAST) >= 4.5
    # its figures are still there, as the last report left them, and read as old (not the live black)
    cells = row.locator("td").all_inner_texts()
    assert cells[1:4] == ["3", "2", "2"], cells
    grey = row.locator("td.n").first.evaluate("e => getComputedStyle(e).color")
    assert grey != "rgb(26, 26, 26)", grey
    assert row.locator("td.n").first.evaluate(CONTRAST) >= 4.5
    page.screenshot(path=str(tmp_path / "central-offline.png"))


def test_the_tables_and_csv_say_what_the_hall_says(tmp_path, county, central_fast, browser):
    from playwright.sync_api import expect

    d = _hall_day(tmp_path, county)
    try:
        wait_for(lambda: [(h["issued_today"], h["rated_today"]) for h in get(central_fast, "/api/halls")] == [(3, 1)],
                 30, "the hall at the county")
    finally:
        d.stop()
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    _login(page, central_fast)
    page.goto(central_fast + "/table?hall=mazhao&group=window&period=day&date=2026-11-23")
    headings = page.locator("#report thead th").all_inner_texts()
    assert "过期" in headings and "作废" not in headings, headings
    assert "平均等候(分钟)" in headings and "评价率" in headings and not any("秒" in h for h in headings), headings
    row = dict(zip(headings, page.locator("#report tbody tr").first.locator("td").all_inner_texts()))
    assert row["大厅"] == "马召镇便民服务中心"
    assert row["平均等候(分钟)"] == "12.0" and row["评价率"] == "100.0%", row
    expect(page.locator(".note")).to_contain_text("（分钟）")

    with page.expect_download() as info:
        page.click("a.csv")
    raw = open(info.value.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, as spreadsheet programs open Chinese"
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("大厅,窗口,取号,叫号,办结,过号,过期,平均等候(分钟)"), lines[0]
    assert lines[0].endswith(",评价数,差评,评价率"), lines[0]
    assert lines[1].startswith("马召镇便民服务中心,") and lines[1].endswith(",1,0,100.0%"), lines[1]


def test_the_reload_does_not_keep_an_idle_login_alive(tmp_path, county, browser):
    base, proc = _central(tmp_path, county, "refresh_s = 1\nsession_idle_s = 4\n")
    try:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        _login(page, base)
        # the page reloads itself every second; nobody uses it: the login ends after 4 s all the same
        page.wait_for_url("**/login**", timeout=20000)
        assert page.locator("input[name=password]").is_visible()
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_county_names_windows_and_devices_as_the_hall_does(tmp_path, county, central_fast, browser):
    from playwright.sync_api import expect

    d = _hall_day(tmp_path, county, devices=True)
    try:
        wait_for(lambda: [(h["issued_today"], h["rated_today"]) for h in get(central_fast, "/api/halls")] == [(3, 1)],
                 30, "the hall at the county")
        [(names,)] = query(county.pg, "SELECT names FROM halls WHERE hall_id = 'mazhao'")
        assert names["window"] == {"1": "综合受理 1号窗口", "2": "社保 2号窗口"}
        assert names["staff"] == {"s01": "王小明", "s02": "李芳"} and names["service"]["sb"] == "社会保障"
        assert names["device"] == {"win1-led": "综合受理 1号窗口 窗口屏"}   # hwd.hall.devices.names
        # window 1's screen is unplugged at the hall: the county hears it and names it as the hall does
        d.wait_state("win1-led", "online")
        d.sim("win1-led", "unplug")
        wait_for(lambda: query(county.pg, "SELECT state FROM devices WHERE hall_id = 'mazhao' AND device = 'win1-led'")
                 == [("offline",)], 30, "the offline screen at the county")
    finally:
        d.stop()
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    _login(page, central_fast)
    row = page.locator('#halls tr[data-hall="mazhao"]')
    expect(row).to_contain_text("离线：综合受理 1号窗口 窗口屏")
    expect(row).not_to_contain_text("win1-led")
    for group, key, name in (("window", "窗口", "综合受理 1号窗口"), ("staff", "工作人员", "王小明"),
                             ("matter", "事项", "不动产登记")):
        page.goto(central_fast + f"/table?hall=mazhao&group={group}&period=day&date=2026-11-23")
        headings = page.locator("#report thead th").all_inner_texts()
        cells = page.locator("#report tbody tr").first.locator("td").all_inner_texts()
        assert dict(zip(headings, cells))[key] == name, (group, headings, cells)
