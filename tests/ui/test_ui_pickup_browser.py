"""A result picked up at the 24-hour area's kiosk at night, in headless Debian chromium with the
real hwd (its lock boards emulated on a pty) and the real hwd-ui: the clerk deposits it from the
counter page (a door opens, the slip shows the code), shuts the door; at night the area's kiosk
shows its after-hours page — no queue ticket (the page's own ticket call is refused too), the hours
and the next opening — the citizen types the code, the door opens, is shut, the page thanks them;
the screen dims when nobody touches it and the waking touch does nothing else; the admin page shows
a forced door the moment it happens; the virtual hall shows a door opened for a deposit and shuts
it by hand."""

from __future__ import annotations

import os

import pytest

from conftest import ADMIN_PASSWORD, CHROMIUM, UiServer, _fast_hash
from pickup_hall import MONDAY_DAY, MONDAY_NIGHT, hall_text, served, wait_alarm

from hwd import errors

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} missing (apt-get install chromium)")]

KIOSK = {"width": 1080, "height": 1920}
DESK = {"width": 1920, "height": 1080}


def test_pickup_at_the_24h_kiosk_at_night(browser, hwd_daemon, tmp_path):
    from playwright.sync_api import expect

    ui = f'\n[ui]\nadmin_password_hash = "{_fast_hash(ADMIN_PASSWORD)}"\narea_dim_s = 3\nidle_s = 600\n'
    d = hwd_daemon(hall_text(ui), clock_start=MONDAY_DAY)
    d.wait_state("locker1", "online")
    server = UiServer(d.config_path)
    failed: list[str] = []
    base = server.url

    def page_for(viewport: dict, touch: bool = False):
        ctx = browser.new_context(viewport=viewport, has_touch=touch, locale="zh-CN")
        page = ctx.new_page()
        page.on("pageerror", lambda exc: failed.append(str(exc)))
        page.on("request", lambda req: failed.append(f"outside request {req.url}")
                if not req.url.startswith(base) and not req.url.startswith("data:") else None)
        return page

    try:
        # the clerk: a served ticket's result into the locker, from the counter page
        counter = page_for(DESK)
        counter.goto(f"{base}/counter/5")
        counter.fill("#staff", "s01")
        counter.fill("#pin", "1357")
        counter.locator("#login-form button[type=submit]").click()
        expect(counter.locator("#buttons")).to_be_visible()
        ticket = served(d)
        ev = d.events("locker.", "hall.pickup.")
        counter.locator("#pickup-form button[type=submit]").click()
        expect(counter.locator("#pickup-status")).to_contain_text("1号柜门已打开")
        code = counter.locator("#slip-code").inner_text().strip()
        assert len(code) == 8 and code.isdigit()
        expect(counter.locator("#pickup-print")).to_be_visible()
        counter.screenshot(path=str(tmp_path / "counter-deposit.png"))
        ev.wait("locker.door", device="locker1", door=1, state="opened")
        d.sim("locker1", "shut", door=1)
        ev.wait("hall.pickup.deposited", number=ticket["number"])

        # night: the 24-hour kiosk is in its after-hours mode
        d.call("clock.set", {"now": MONDAY_NIGHT})
        kiosk = page_for(KIOSK, touch=True)
        kiosk.goto(f"{base}/kiosk/k24")
        expect(kiosk.locator("#hours-banner")).to_contain_text("窗口已下班")
        expect(kiosk.locator("#hours-message")).to_contain_text("明天 08:45")
        expect(kiosk.locator("#clock")).to_contain_text("2026年11月23日 星期一 21:0")   # hwd's clock, not the PC's
        assert kiosk.locator("button.svc[data-service]:visible").count() == 0   # no queue ticket to take
        refused = kiosk.evaluate("HWD.api('/kiosk/k24/api/ticket', {service: 'bdc'})")
        assert refused["ok"] is False and refused["code"] == errors.OUTSIDE_HOURS, refused
        kiosk.locator('button[data-go="hours"]').tap()
        expect(kiosk.locator("#screen-hours")).to_contain_text("09:00-12:00")
        kiosk.locator("#screen-hours [data-home]").tap()
        kiosk.screenshot(path=str(tmp_path / "area-night.png"))

        # it dims when nobody touches it; the waking touch does nothing else
        expect(kiosk.locator("#dim")).to_be_visible(timeout=10000)
        kiosk.screenshot(path=str(tmp_path / "area-dimmed.png"))
        kiosk.locator("#dim").tap()            # a touch anywhere (the dim covers the buttons)
        expect(kiosk.locator("#dim")).to_be_hidden()
        expect(kiosk.locator("#screen-home")).to_be_visible()

        # the citizen picks the result up with the code
        kiosk.locator('button[data-go="pickup"]').tap()
        for digit in code:
            kiosk.locator(f'#keypad button[data-key="{digit}"]').tap()
        expect(kiosk.locator("#code")).to_have_text(code)
        kiosk.locator("#pickup-ok").tap()
        expect(kiosk.locator("#screen-opened")).to_be_visible()
        expect(kiosk.locator("#opened-door")).to_have_text("1组 1号柜门")   # two lockers in the area
        kiosk.screenshot(path=str(tmp_path / "area-opened.png"))
        assert d.call("locker.status", {"device": "locker1"})["open"] == [1]
        d.sim("locker1", "shut", door=1)
        expect(kiosk.locator("#opened-state")).to_contain_text("柜门已关好")
        expect(kiosk.locator("#screen-home")).to_be_visible(timeout=10000)
        assert [r["state"] for r in d.call("hall.deposits", {"state": "picked"})] == ["picked"]

        # the hall manager sees a forced door at once
        admin = page_for(DESK)
        admin.goto(f"{base}/admin")
        admin.fill("#password", ADMIN_PASSWORD)
        admin.locator("#admin-login button[type=submit]").click()
        expect(admin.locator("#locker-panel")).to_contain_text("待取件 0 件")
        d.sim("locker2", "force", door=4)
        assert wait_alarm(d, "forced", device="locker2", door=4)["deposit"] is None
        expect(admin.locator("#locker-panel")).to_contain_text("柜门被强行打开", timeout=10000)
        admin.goto(f"{base}/admin/pickup")
        expect(admin.locator("#locker-alarms")).to_contain_text("locker2 4号柜门")
        admin.screenshot(path=str(tmp_path / "admin-pickup.png"))

        # the virtual hall: the door a deposit opened, shut there by hand (the locker is emulated)
        admin.goto(f"{base}/admin/hall")
        expect(admin.locator("#vh-locker-doors li.door")).to_have_count(24 + 12)
        got = d.call("hall.deposit", {"case_no": "BDC-2026-0901", "window": "5"})
        door = admin.locator(f'#vh-locker-doors ol[data-device="{got["device"]}"] li.door[data-door="{got["door"]}"]')
        expect(door).to_contain_text("BDC-2026-0901 正在存入")
        door.locator("button").click()
        ev.wait("hall.pickup.deposited", deposit=got["deposit"])
        expect(door).to_contain_text("待取件")
        expect(door.locator("button")).to_have_count(0)
        admin.screenshot(path=str(tmp_path / "virtual-hall-lockers.png"))
        assert not failed, failed
    finally:
        server.stop()
