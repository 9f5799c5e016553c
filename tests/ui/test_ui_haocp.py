"""好差评 end to end: the real hwd and hwd-ui, headless chromium, and the province's receiver
(hwd.upstream.emulator) on loopback.

A service is rated 不满意 with two reasons on the rating page, another over RPC; the clerk
attaches the 办件编号 afterwards; the work order goes 回访 → 核实 → 整改 → closed (one step on
the admin page); the province is down for the first part and rejects one record; in the end it
holds every other record exactly once. Then hwd is killed with SIGKILL while a delivery is in
flight, and after the restart that record arrives — once.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from support.halls import ADMIN_PASSWORD, STAFF_PIN, page_hall
from support.ui import enrol_rate_page
from support.ui import UiProcess
from test_ui_browser import _shot  # screenshots to tmp; to docs/screenshots with HWD_UI_SCREENSHOTS=1
from hwd.upstream.emulator import Province, ProvincePage
from support.browser import needs_chromium

PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
SECRET = "hall-shared-secret"

pytestmark = [pytest.mark.browser, needs_chromium]


def upstream(url: str) -> str:
    return f'''
[hall.upstream]
adapter = "push-json"
url = "{url}"
secret = "{SECRET}"
signature = "hmac-sm3"
timeout_s = 3.0
retry_s = 0.2
retry_max_s = 1.0
fields = {{ case_no = "projectNo", score = "satisfaction" }}
'''


def wait_until(fn, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached within {timeout} s")


def hwctl(d, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "hwd.hwctl", "--config", str(d.config_path), *args],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def serve(d, window: str = "5") -> dict:
    t = d.call("hall.issue_ticket", {"service": "bdc"})
    for step in ("call_next", "start", "finish"):
        d.call(f"hall.{step}", {"window": window})
    return t


def test_a_bad_rating_from_the_page_to_the_province(browser, hwd_daemon, tmp_path):
    from playwright.sync_api import expect

    province = Province(SECRET, "hmac-sm3", key_field="idempotency_key")  # down: nobody listens yet
    province.reject(lambda body: "办件编号不存在" if body.get("projectNo") == "BJ-UNKNOWN" else None)
    d = hwd_daemon(page_hall(ui_extra=upstream(province.url)))
    ui = UiProcess(d.config_path)
    try:
        base = ui.url
        rate = browser.new_context(viewport=PORTRAIT, has_touch=True, locale="zh-CN").new_page()
        errors: list[str] = []
        rate.on("pageerror", lambda exc: errors.append(str(exc)))
        enrol_rate_page(rate, d)
        rate.goto(f"{base}/rate/5")
        expect(rate.locator("#rate-idle")).to_be_visible()
        rate.wait_for_timeout(300)  # the page's event stream opens
        d.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})

        # 1. on the rating page: 不满意, two reasons, 提交
        first = serve(d)
        expect(rate.locator("#rate-ask")).to_be_visible(timeout=10000)
        rate.locator('button[data-score="2"]').tap()
        expect(rate.locator("#rate-reasons")).to_be_visible()
        expect(rate.locator("#rate-reasons .rate-title")).to_have_text("请选择不满意的原因")
        buttons = rate.locator("#reason-buttons button")
        expect(buttons).to_have_count(7)
        box = buttons.first.bounding_box()
        assert box["height"] >= 90 and box["width"] >= 200, box
        expect(rate.locator("#reason-skip")).to_have_text("跳过")
        rate.get_by_role("button", name="服务态度不好").tap()
        rate.get_by_role("button", name="办事效率低").tap()
        expect(rate.get_by_role("button", name="服务态度不好")).to_have_attribute("aria-pressed", "true")
        _shot(rate, tmp_path, "rate-reasons")
        rate.locator("#reason-submit").tap()
        expect(rate.locator("#rate-thanks")).to_be_visible()
        [r1] = d.call("hall.ratings", {"bad": True})
        assert (r1["ticket"], r1["score"], r1["reasons"], r1["channel"]) == (first["id"], 2, ["attitude", "efficiency"],
                                                                            "pad")

        # 2. over RPC, and a 差评 skipped on the page keeps its score without reasons
        second = serve(d)
        r2 = d.call("hall.rate", {"window": "5", "score": 2, "reasons": ["process", "scope"], "channel": "pad"})
        third = serve(d)
        expect(rate.locator("#rate-ask")).to_be_visible(timeout=10000)
        rate.locator('button[data-score="1"]').tap()
        rate.locator("#reason-skip").tap()
        expect(rate.locator("#rate-thanks")).to_be_visible()
        r3 = d.call("hall.ratings", {"bad": True})[0]
        assert (r3["ticket"], r3["score"], r3["reasons"]) == (third["id"], 1, [])

        # 3. the clerk attaches the 办件编号 afterwards (one the province does not know)
        d.call("hall.case", {"ticket": first["number"], "case_no": "BJ-2026-000101", "staff": "s01"})
        d.call("hall.case", {"ticket": second["id"], "case_no": "BJ-UNKNOWN", "staff": "s01"})
        counter = browser.new_context(viewport=LANDSCAPE, locale="zh-CN").new_page()
        counter.goto(f"{base}/counter/5")
        counter.fill("#staff", "s01")
        counter.fill("#pin", STAFF_PIN)
        counter.locator("#login-form button[type=submit]").click()
        counter.fill("#case-no", "BJ-2026-000103")  # at the counter, after 办结: the last finished ticket
        counter.locator("#case-form button[type=submit]").click()
        expect(counter.locator("#case-status")).to_have_text(f"{third['number']} 号已关联办件编号 BJ-2026-000103")
        assert d.call("hall.ticket", {"ticket": third["id"]})["case_no"] == "BJ-2026-000103"

        # 4. the work order: 回访 → 核实 → 整改 → closed, the last step on the admin page
        wo = r1["workorder"]["id"]
        d.call("hall.workorder", {"id": wo, "step": "callback", "note": "已电话回访", "staff": "m1"})
        d.call("hall.workorder", {"id": wo, "step": "verify", "verdict": "valid", "staff": "m1"})
        d.call("hall.workorder", {"id": wo, "step": "rectify", "note": "窗口增派人员", "staff": "m1"})
        admin = browser.new_context(viewport=LANDSCAPE, locale="zh-CN").new_page()
        admin.goto(f"{base}/admin/haocp")
        admin.fill("#password", ADMIN_PASSWORD)
        admin.locator("#admin-login button[type=submit]").click()
        row = admin.locator(f"#wo-{wo}")
        expect(row).to_contain_text("已整改")
        expect(row).to_contain_text("服务态度不好、办事效率低")
        expect(row).to_contain_text("BJ-2026-000101")
        row.locator("select[name=step]").select_option("close")
        row.locator("input[name=staff]").fill("m2")
        row.locator("button[type=submit]").click()
        expect(admin.locator(f"#wo-{wo}")).to_contain_text("已办结")
        _shot(admin, tmp_path, "admin-haocp")
        steps = [s["step"] for s in d.call("hall.workorders", {"state": "closed"})[0]["steps"]]
        assert steps == ["open", "callback", "verify", "rectify", "close"]

        # the province is still down: everything waits, oldest first, visible in hwctl and on the page
        status = d.call("outbox.status")["sinks"][0]
        assert status["sent"] == 0 and status["pending"] + status["error"] == d.call("outbox.status")["records"]
        text = hwctl(d, "outbox")
        assert "upstream" in text and "last error" in text
        line = next(ln for ln in text.splitlines() if ln.startswith("upstream"))
        assert line.split()[-1] != "-"  # the oldest pending record's time
        admin.reload()
        expect(admin.locator("#outbox-status")).to_contain_text("省好差评系统")

        # 5. the province comes back: every record once, one rejected with its reason
        province.up()
        total = d.call("outbox.status")["records"]
        done = wait_until(lambda: (lambda s: s if s["pending"] == 0 and s["error"] == 0 else None)(
            d.call("outbox.status")["sinks"][0]), timeout=60, what="backlog delivered")
        assert (done["sent"], done["rejected"]) == (total - 1, 1)
        assert done["last_error"] == "办件编号不存在"
        assert len(province.records) == total - 1
        stored = [k for k, what in province.requests if what == "stored"]
        assert len(stored) == len(set(stored)) == total - 1
        kinds = sorted(b["kind"] for b in province.records.values())
        assert kinds.count("rating") == 3 and kinds.count("case") == 2 and kinds.count("workorder") >= 7
        rated = [b for b in province.records.values() if b["kind"] == "rating" and b["rating_id"] == r1["id"]][0]
        assert rated["satisfaction"] == 2 and rated["labels"] == ["attitude", "efficiency"]
        cases = {b["projectNo"]: b for b in province.records.values() if b["kind"] == "case"}
        assert set(cases) == {"BJ-2026-000101", "BJ-2026-000103"}
        assert cases["BJ-2026-000101"]["satisfaction"] == 2 and cases["BJ-2026-000103"]["satisfaction"] == 1
        assert [b for b in province.records.values() if b["kind"] == "rating" and b["rating_id"] == r2["id"]]
        admin.reload()
        expect(admin.locator(".rejected")).to_contain_text("办件编号不存在")
        line = next(ln for ln in hwctl(d, "outbox").splitlines() if ln.startswith("upstream"))
        assert line.split()[1:5] == ["0", str(total - 1), "1", "0"] and line.split()[-1] == "-"

        # 6. kill -9 while a record is in flight: stored upstream, its reply never arrives
        province.hang(1, seconds=5.0)
        serve(d)
        d.call("hall.rate", {"window": "5", "score": 4})
        key = wait_until(lambda: next((k for k, what in province.requests if what == "stored"
                                       and province.records[k]["kind"] == "rating"
                                       and province.records[k]["satisfaction"] == 4), None), what="in flight")
        d.kill()
        d.start()
        wait_until(lambda: (lambda s: s["pending"] == 0 and s["error"] == 0)(d.call("outbox.status")["sinks"][0]),
                   timeout=60, what="delivered after the restart")
        assert sum(1 for k, what in province.requests if k == key and what == "stored") == 1
        assert any(k == key and what == "duplicate" for k, what in province.requests)
        assert len(province.records) == d.call("outbox.status")["sinks"][0]["sent"]
        assert errors == []
    finally:
        ui.stop()
        province.down()


H5_HALL = '''
[hall]
name = "合肥市政务服务中心"
region_code = "340100000000"
[hall.upstream]
adapter = "h5"
url = "{url}"
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
matter_code = "340100-000-XK-0001"
matter_version = "7"
[[hall.window]]
id = "5"
name = "5号窗口"
services = ["bdc"]
[[hall.staff]]
id = "s01"
name = "王小明"
'''


def test_the_rating_page_opens_the_provincial_h5_page(browser, hwd_daemon):
    """The h5 adapter (gtmap HcpServiceImpl, Anhui): the pad goes to the province's own page,
    which reads the case's fields from the double-base64 URL (the emulated ProvincePage)."""
    from playwright.sync_api import expect

    province = ProvincePage()
    d = hwd_daemon(H5_HALL.format(url=province.base))
    ui = UiProcess(d.config_path)
    try:
        page = browser.new_page()
        page.goto(f"{ui.url}/rate/5")
        expect(page.locator("#rate-idle")).to_be_visible()
        page.wait_for_timeout(300)  # the page's event stream opens
        d.call("hall.login", {"window": "5", "staff": "s01"})
        t = d.call("hall.issue_ticket", {"service": "bdc"})
        d.call("hall.call_next", {"window": "5"})
        d.call("hall.case", {"ticket": t["id"], "case_no": "340100-2026-0002"})
        d.call("hall.finish", {"window": "5"})
        expect(page.locator("h1")).to_have_text("请评价", timeout=10000)
        expect(page.locator("#f-projNo")).to_have_text("projNo=340100-2026-0002")
        expect(page.locator("#f-serviceCode")).to_have_text("serviceCode=340100-000-XK-0001")
        expect(page.locator("#f-evaluateChannel")).to_have_text("evaluateChannel=PJQ")
        assert len(province.visits) == 1
    finally:
        ui.stop()
        province.close()


def test_the_reason_step_sends_what_was_chosen_when_time_runs_out(browser, hall, ui_server):
    """Nobody presses 提交: 3 s before the rating deadline the page sends the score with the
    reasons chosen so far — the citizen's own answer, nothing added."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport=PORTRAIT, has_touch=True).new_page()
    page.clock.install()
    enrol_rate_page(page, hall)
    page.goto(f"{ui_server.url}/rate/5")
    expect(page.locator("#rate-idle")).to_be_visible()
    page.wait_for_timeout(300)
    hall.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})
    serve(hall)
    expect(page.locator("#rate-ask")).to_be_visible(timeout=10000)
    page.locator('button[data-score="1"]').tap()
    page.get_by_role("button", name="大厅环境或设施不好").tap()
    expect(page.locator("#reason-left")).to_contain_text("秒后自动提交")
    page.clock.fast_forward("00:58")  # rating_timeout_s = 60
    expect(page.locator("#rate-thanks")).to_be_visible()
    [r] = hall.call("hall.ratings", {"bad": True})
    assert (r["score"], r["reasons"]) == (1, ["environment"])
