"""Every page and API route through Flask's test client, against a real hwd with the test hall.

Nothing between the pages and hwd is mocked: the app talks ZeroMQ to the daemon process.
"""

from __future__ import annotations

import re
import time

import pytest

from conftest import ADMIN_PASSWORD, KIOSK_PIN, STAFF_PIN, csrf, hall_config


def _post(client, url, json=None, token=None):
    return client.post(url, json=json or {}, headers={"X-CSRF-Token": token or csrf(client)})


def _login_counter(client, window="5"):
    token = csrf(client)
    resp = client.post(f"/counter/{window}/login", data={"staff": "s01", "pin": STAFF_PIN, "csrf_token": token})
    assert resp.status_code == 302
    return token


def _login_admin(client):
    token = csrf(client)
    resp = client.post("/admin/login", data={"password": ADMIN_PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    return csrf(client)  # a new session (and token) after login


def _enroll_pad(client, window="5"):
    """The admin enrols this browser as the window's rating page (the pad cookie)."""
    token = _login_admin(client)
    resp = client.post(f"/rate/{window}/enroll", data={"csrf_token": token, "new": "1"})
    assert resp.status_code == 200 and "hwd_pad=" in resp.headers["Set-Cookie"], resp.get_data(as_text=True)
    assert f"Path=/rate/{window}" in resp.headers["Set-Cookie"] and "HttpOnly" in resp.headers["Set-Cookie"]


# -- health --------------------------------------------------------------------------------------

def test_health_and_ready(client):
    assert client.get("/healthz").get_json() == {"ok": True}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["hwd"]["hall"] is True
    index = client.get("/").get_data(as_text=True)
    assert "/kiosk/k1" in index and "/counter/5" in index and "/display" in index


def test_hwd_down_gives_friendly_pages(tmp_path):
    from kiosk_ui import create_app
    from hwd import config as configuration

    text = (f'[daemon]\nrpc = "ipc://{tmp_path}/rpc"\nevents = "ipc://{tmp_path}/events"\n'
            f'state_dir = "{tmp_path}/state"\n' + hall_config(devices=False).replace("rpc_timeout_s = 3.0",
                                                                                     "rpc_timeout_s = 0.2"))
    path = tmp_path / "down.toml"
    path.write_text(text, encoding="utf-8")
    configuration.load(path)  # the [ui] section is valid
    client = create_app(str(path), {"TESTING": True}).test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    token = csrf(client)
    page = client.post("/counter/5/login", data={"staff": "s01", "pin": "1", "csrf_token": token})
    html = page.get_data(as_text=True)
    assert page.status_code == 503 and "系统连接中断" in html and "Traceback" not in html
    issue = client.post("/kiosk/k1/api/ticket", json={"service": "bdc"}, headers={"X-CSRF-Token": token})
    assert issue.status_code == 503 and "系统连接中断" in issue.get_json()["error"]
    assert client.get("/display/state").status_code == 503
    # a page loaded while hwd is down is the retry page (503 + Retry-After), not a page without data
    for url in ("/display", "/kiosk/k1"):
        resp = client.get(url)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 503 and resp.headers["Retry-After"], url
        assert "系统连接中断" in html and "retry.js" in html and 'id="latest-call"' not in html, url


def test_unknown_pages_are_friendly_404(client):
    for url in ("/kiosk/nope", "/counter/99", "/rate/99", "/display/window/99", "/nothing"):
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert "没有这个页面" in resp.get_data(as_text=True)


# -- kiosk ---------------------------------------------------------------------------------------

def test_kiosk_issue_ticket_with_qr(client, hall):
    html = client.get("/kiosk/k1").get_data(as_text=True)
    assert "不动产登记" in html and "社保业务" in html and 'data-service="bdc"' in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing from outside
    assert _post(client, "/kiosk/k1/api/ticket", {"service": "bdc"}, token="wrong").status_code == 400
    resp = _post(client, "/kiosk/k1/api/ticket", {"service": "bdc"})
    body = resp.get_json()
    assert resp.status_code == 200 and body["ok"], body
    t = body["ticket"]
    assert t["number"] == "B001" and t["service_name"] == "不动产登记" and t["waiting_ahead"] == 0
    assert t["qr_svg"].startswith("<svg") and "<path" in t["qr_svg"]
    if not t["printed"]:
        assert "服务台" in t["print_message"]
    second = _post(client, "/kiosk/k1/api/ticket", {"service": "bdc"}).get_json()["ticket"]
    assert second["number"] == "B002" and second["waiting_ahead"] == 1
    state = client.get("/kiosk/k1/state").get_json()
    assert {s["id"]: s["waiting"] for s in state["services"]}["bdc"] == 2 and state["hours"]["open"]


def test_kiosk_errors_in_chinese(client):
    resp = _post(client, "/kiosk/k1/api/ticket", {"service": "nope"})
    assert resp.status_code == 409 and re.search(r"[\u4e00-\u9fff]", resp.get_json()["error"])
    resp = _post(client, "/kiosk/k1/api/checkin", {"code": "000000"})
    assert resp.status_code == 409 and "预约" in resp.get_json()["error"]
    assert _post(client, "/kiosk/k1/api/checkin", {"code": ""}).status_code == 400


def test_kiosk_idcard_ticket(client, hall):
    watcher = hall.events("idcard.")
    hall.sim("k1-idcard", "place", card="resident")
    event = watcher.wait("idcard.inserted", timeout=10)
    assert "*" in event["name"] and event["card_token"]
    resp = _post(client, "/kiosk/k1/api/ticket", {"service": "sb", "card_token": event["card_token"]})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["ticket"]["number"].startswith("A")


def test_kiosk_appointment_checkin_by_keypad(client, hall):
    now = hall.call("hall.state")["now"]
    hall.call("hall.book", {"service": "bdc", "slot": now, "code": "880011"})
    resp = _post(client, "/kiosk/k1/api/checkin", {"code": "880011"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["ticket"]["number"].startswith("B")


def test_kiosk_guide_and_notice(client):
    html = client.get("/kiosk/k1/guide/bdc").get_data(as_text=True)
    assert "一次性告知单" in html and "不动产权证书" in html and "5个工作日" in html
    assert client.get("/kiosk/k1/guide/nope").status_code == 404
    resp = _post(client, "/kiosk/k1/api/notice/bdc")
    assert resp.status_code in (200, 409)
    assert resp.get_json()["ok"] or "服务台" in resp.get_json()["error"]


def test_the_printed_notice_says_what_the_screen_says(client, hall):
    """The 一次性告知单 on paper has the screen's headings: 所需材料 (not 申请材料) and 承办部门."""
    hall.wait_state("k1-printer", "online")
    html = client.get("/kiosk/k1/guide/bdc").get_data(as_text=True)
    for heading in ("办理事项", "承办部门", "所需材料", "办理时限", "收费标准"):
        assert heading in html, heading
    resp = _post(client, "/kiosk/k1/api/notice/bdc")
    assert resp.status_code == 200, resp.get_json()
    lines = [line["text"] for line in hall.sim("k1-printer", "receipts")[-1]["lines"]]
    assert "办理事项：不动产登记" in lines and "承办部门：自然资源局" in lines, lines
    assert "所需材料：" in lines and not any("申请材料" in line for line in lines), lines
    assert "1. 身份证" in lines and "办理时限：5个工作日" in lines and "收费标准：免费" in lines, lines
    bold = [line for line in hall.sim("k1-printer", "receipts")[-1]["lines"] if line.get("bold")]
    assert {line["text"] for line in bold} >= {"办理事项：不动产登记", "所需材料："}


def test_kiosk_exit_needs_pin(client):
    assert _post(client, "/kiosk/k1/api/unlock", {"pin": "0000"}).status_code == 403
    resp = _post(client, "/kiosk/k1/api/unlock", {"pin": KIOSK_PIN})
    assert resp.status_code == 200 and resp.get_json()["next"] == "/admin"
    html = client.get("/kiosk/k1").get_data(as_text=True)
    assert not re.search(r'<a [^>]*href="(?!/kiosk/k1)', html), "the kiosk page links out of the kiosk flow"


# -- counter -------------------------------------------------------------------------------------

def test_counter_login_and_every_action(client, hall):
    assert "工号" in client.get("/counter/5").get_data(as_text=True)
    token = csrf(client)
    bad = client.post("/counter/5/login", data={"staff": "s01", "pin": "9999", "csrf_token": token})
    assert bad.status_code == 403 and "密码" in bad.get_data(as_text=True)
    assert _post(client, "/counter/5/api/call_next").status_code == 403
    _login_counter(client)
    page = client.get("/counter/5").get_data(as_text=True)
    assert "叫号" in page and "<kbd>N</kbd>" in page
    empty = _post(client, "/counter/5/api/call_next").get_json()
    assert empty["ok"] and empty["result"] is None
    for _ in range(2):
        _post(client, "/kiosk/k1/api/ticket", {"service": "bdc"})
    called = _post(client, "/counter/5/api/call_next").get_json()["result"]["number"]
    assert called in ("B001", "B002")
    assert _post(client, "/counter/5/api/recall").get_json()["ok"]
    assert _post(client, "/counter/5/api/start").get_json()["ok"]
    state = client.get("/counter/5/state").get_json()
    assert state["window"]["current"] == called and state["window"]["state"] == "serving"
    assert {q["service"]: q["waiting"] for q in state["queues"]}["bdc"] == 1
    assert _post(client, "/counter/5/api/transfer", {"service": "sb"}).get_json()["ok"]
    assert _post(client, "/counter/5/api/call_next").get_json()["result"]["number"]
    assert _post(client, "/counter/5/api/no_show").get_json()["ok"]
    nxt = _post(client, "/counter/5/api/call_next").get_json()["result"]
    assert _post(client, "/counter/5/api/start").get_json()["ok"]
    assert _post(client, "/counter/5/api/finish").get_json()["ok"], nxt
    assert _post(client, "/counter/5/api/pause", {"reason": "午休"}).get_json()["ok"]
    paused = client.get("/counter/5/state").get_json()["window"]
    assert paused["state"] == "paused" and paused["reason"] == "午休"
    refused = _post(client, "/counter/5/api/call_next").get_json()
    assert not refused["ok"] and re.search(r"[\u4e00-\u9fff]", refused["error"])
    assert _post(client, "/counter/5/api/resume").get_json()["ok"]
    counts = {c["key"]: c["value"] for c in client.get("/counter/5/state").get_json()["counts"]}
    assert counts["served"] == 1 and counts["called"] >= 2
    assert _post(client, "/counter/5/api/bogus").status_code == 404
    out = client.post("/counter/5/logout", data={"csrf_token": token})
    assert out.status_code == 302 and "工号" in client.get("/counter/5").get_data(as_text=True)


# -- display, window screen, rating --------------------------------------------------------------

def test_display_shows_latest_call(client):
    html = client.get("/display").get_data(as_text=True)
    assert 'id="latest-call"' in html and "欢迎来到测试大厅" in html
    _login_counter(client)
    _post(client, "/kiosk/k1/api/ticket", {"service": "bdc"})
    _post(client, "/counter/5/api/call_next")
    html = client.get("/display").get_data(as_text=True)
    latest = html[html.index('id="latest-call"'):]
    latest = latest[:latest.index("</div>")]
    assert "B001" in latest and "5号窗口" in latest
    snap = client.get("/display/state").get_json()
    assert snap["latest"]["number"] == "B001" and snap["windows"][0]["current"] == "B001"


def test_window_screen(client):
    html = client.get("/display/window/5").get_data(as_text=True)
    assert 'data-device="win5-screen"' in html and "5号窗口" in html
    _login_counter(client)
    _post(client, "/kiosk/k1/api/ticket", {"service": "sb"})
    _post(client, "/counter/5/api/call_next")
    deadline = time.monotonic() + 10  # the engine updates the screen right after the call
    while not any("A001" in line for line in client.get("/display/window/5/state").get_json()["lines"]):
        assert time.monotonic() < deadline, "the window screen never showed the call"
        time.sleep(0.05)
    assert "6号窗口" in client.get("/display/window/6").get_data(as_text=True)
    by_device = client.get("/display/window/win6-led")  # a screen named by its device id
    assert by_device.status_code == 200 and 'data-device="win6-led"' in by_device.get_data(as_text=True)


def test_rating_page(client):
    html = client.get("/rate/5").get_data(as_text=True)
    for word in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert word in html
    _enroll_pad(client)
    _login_counter(client)
    _post(client, "/kiosk/k1/api/ticket", {"service": "bdc"})
    _post(client, "/counter/5/api/call_next")
    _post(client, "/counter/5/api/start")
    _post(client, "/counter/5/api/finish")
    assert _post(client, "/rate/5/api/rate", {"score": 9}).status_code == 400
    ok = _post(client, "/rate/5/api/rate", {"score": 5}).get_json()
    assert ok["ok"] and ok["rating"]["level"] == "非常满意"
    again = _post(client, "/rate/5/api/rate", {"score": 4})
    assert again.status_code == 409 and re.search(r"[\u4e00-\u9fff]", again.get_json()["error"])


# -- admin ---------------------------------------------------------------------------------------

def test_admin_login_cookies_and_csrf(client):
    assert client.get("/admin").status_code == 302
    assert client.post("/admin/login", data={"password": ADMIN_PASSWORD}).status_code == 400  # no CSRF
    token = csrf(client)
    bad = client.post("/admin/login", data={"password": "wrong", "csrf_token": token})
    assert bad.status_code == 403
    good = client.post("/admin/login", data={"password": ADMIN_PASSWORD, "csrf_token": token})
    cookie = good.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/admin").status_code == 200
    client.post("/admin/logout", data={"csrf_token": csrf(client)})
    assert client.get("/admin").status_code == 302


def test_admin_dashboard_stats_export_followup(client, hall):
    _enroll_pad(client)
    _login_counter(client)
    for score in (5, 1):
        _post(client, "/kiosk/k1/api/ticket", {"service": "bdc"})
        _post(client, "/counter/5/api/call_next")
        _post(client, "/counter/5/api/start")
        _post(client, "/counter/5/api/finish")
        assert _post(client, "/rate/5/api/rate", {"score": score}).get_json()["ok"]
    token = _login_admin(client)
    html = client.get("/admin").get_data(as_text=True)
    assert "k1-printer" in html and "win5-screen" in html and "正常" in html
    assert 'id="stats-window"' in html and "<svg" in html and "办结" in html
    # a bad rating is followed up through its work order: the quick 回访 form steps it
    assert "非常不满意" in html and "待回访" in html
    wo_id = re.search(r'data-workorder="(\d+)"', html).group(1)
    form = {"step": "callback", "note": "已电话回访"}
    assert client.post(f"/admin/haocp/workorder/{wo_id}", data=form).status_code == 400   # no CSRF token
    done = client.post(f"/admin/haocp/workorder/{wo_id}", data={**form, "csrf_token": token})
    assert done.status_code == 302
    html = client.get("/admin").get_data(as_text=True)
    assert "待核实" in html and "待回访" not in html
    assert "已电话回访" in client.get("/admin/haocp").get_data(as_text=True)
    assert client.post("/admin/followup", data={"rating": 1, "note": "x", "csrf_token": token}).status_code == 404
    csv = client.get("/admin/export.csv?group_by=window")
    text = csv.get_data(as_text=True)
    assert csv.mimetype == "text/csv" and text.startswith("\ufeff") and "窗口" in text.splitlines()[0]
    assert "5号窗口," in text
    tickets = client.get("/admin/export.csv?what=tickets").get_data(as_text=True)
    assert "B001" in tickets and "B002" in tickets
    assert client.get("/admin/export.csv?group_by=evil").status_code == 400


def test_admin_virtual_hall(client, hall):
    _login_admin(client)
    _post(client, "/kiosk/k1/api/ticket", {"service": "bdc"})
    html = client.get("/admin/hall").get_data(as_text=True)
    assert "虚拟大厅" in html and "号票" in html and "广播" in html
    state = client.get("/admin/hall/state").get_json()
    assert state["ok"] and isinstance(state["receipts"], list)
    for item in state["receipts"] + state["screens"]:
        assert client.get("/admin/sim/" + item["path"]).status_code == 200
    assert client.get("/admin/sim/../hwd.toml").status_code == 404
    assert client.get("/admin/sim/printer/x.txt").status_code == 404


# -- config --------------------------------------------------------------------------------------

def test_ui_section_is_checked_with_the_config(tmp_path):
    from hwd import config as configuration
    from hwd.errors import ConfigError

    path = tmp_path / "bad.toml"
    path.write_text('[ui]\nport = "x"\nmax_streem = 3\nadmin_password_hash = "plain"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        configuration.load(path)
    text = str(info.value)
    assert "bad.toml:2 ui.port" in text and "max_streams" in text and "ui.admin_password_hash" in text
    path.write_text('[ui]\nport = 9000\nnotice = "你好"\n', encoding="utf-8")
    ui = configuration.load(path).ui
    assert ui.port == 9000 and ui.notice == "你好" and ui.server_threads == ui.max_streams + 32


def test_hash_password_cli(monkeypatch, capsys):
    import io

    from werkzeug.security import check_password_hash

    from kiosk_ui import cli

    monkeypatch.setattr("sys.stdin", io.StringIO("secret-1\n"))
    assert cli.main(["--hash-password"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("pbkdf2:sha256:600000$") and check_password_hash(out, "secret-1")
    assert cli.main([]) == 2


def test_kiosk_outside_hours_says_when_it_opens(hwd_daemon):
    from kiosk_ui import create_app

    text = hall_config().replace("[hall.hours]\nalways_open = true",
                                 '[hall.hours]\nexception = [{ date = "2026-11-23", hours = [] }]')
    daemon = hwd_daemon(text, clock_start="2026-11-23T10:00:00")
    client = create_app(str(daemon.config_path), {"TESTING": True}).test_client()
    html = client.get("/kiosk/k1").get_data(as_text=True)
    closed = html[html.index('id="closed"'):]
    assert "hidden" not in closed[:40] and "取号开始时间" in closed[:200]
    resp = _post(client, "/kiosk/k1/api/ticket", {"service": "bdc"})
    assert resp.status_code == 409 and "取号" in resp.get_json()["error"]
    assert client.get("/kiosk/k1/state").get_json()["hours"]["open"] is False
    assert "明天 08:45" in closed[:300], "the next opening comes from hwd's calendar (hall.hours)"


def test_kiosk_on_an_official_holiday_says_so_as_hwd_does(hwd_daemon):
    """The kiosk asks hwd (hall.hours) and holds no calendar of its own: on 2026-10-01 (国庆节,
    from chinese-calendar) the page says the hall is closed for the holiday and when it opens."""
    from kiosk_ui import create_app

    text = hall_config().replace("[hall.hours]\nalways_open = true", "[hall.hours]")
    daemon = hwd_daemon(text, clock_start="2026-10-01T10:00:00")
    hours = daemon.call("hall.hours")
    assert hours["open"] is False and hours["today"]["kind"] == "holiday" and hours["today"]["holiday"] == "国庆节"
    client = create_app(str(daemon.config_path), {"TESTING": True}).test_client()
    html = client.get("/kiosk/k1").get_data(as_text=True)
    closed = html[html.index('id="closed"'):]
    assert "国庆节假期" in closed[:300] and "10月8日" in closed[:300]
    assert client.get("/kiosk/k1/state").get_json()["hours"]["message"] == hours["message"]


def test_admin_says_when_the_clock_went_back_and_the_calendar_runs_out(hwd_daemon):
    from kiosk_ui import create_app

    daemon = hwd_daemon(hall_config(), clock_start="2026-12-01T10:00:00")
    client = create_app(str(daemon.config_path), {"TESTING": True}).test_client()
    _login_admin(client)
    html = client.get("/admin").get_data(as_text=True)
    years = daemon.call("hall.hours")["calendar"]["years"]
    if years and years[1] < 2027:
        assert 'id="time-notices"' in html and "没有2027年的数据" in html, "December: next year's 调休 is missing"
    assert "系统时钟曾回拨" not in html
    daemon.call("clock.set", {"now": "2026-06-01T10:00:00"})
    html = client.get("/admin").get_data(as_text=True)
    assert "系统时钟曾回拨" in html and "2026-06-01T10:00:00" in html


def test_many_services_come_in_categories(hwd_daemon):
    from kiosk_ui import create_app

    extra = "".join(f'\n[[hall.service]]\nid = "x{i}"\nname = "事项{i}"\nprefix = "{chr(67 + i)}"\n'
                    f'department = "{"市场监管局" if i % 2 else "人社局"}"\n' for i in range(8))
    text = hall_config().replace("[[hall.window]]", extra + "\n[[hall.window]]", 1)
    daemon = hwd_daemon(text)
    html = create_app(str(daemon.config_path), {"TESTING": True}).test_client().get("/kiosk/k1").get_data(as_text=True)
    assert 'id="depts"' in html and 'data-dept="市场监管局"' in html and 'data-dept="自然资源局"' in html
    assert 'id="services" hidden' in html and 'data-service="x7"' in html


def test_kiosk_ticket_when_the_printer_is_out_of_paper(client, hall):
    hall.wait_state("k1-printer", "online")
    hall.sim("k1-printer", "paper", state="out")
    deadline = time.monotonic() + 10
    while hall.device("k1-printer")["state"] == "online" and time.monotonic() < deadline:
        time.sleep(0.05)  # the driver polls the paper sensor
    resp = _post(client, "/kiosk/k1/api/ticket", {"service": "bdc"})
    t = resp.get_json()["ticket"]
    assert resp.status_code == 200 and t["number"] == "B001"
    assert not t["printed"] and "服务台" in t["print_message"] and t["qr_svg"].startswith("<svg")


def test_admin_export_a_period(client, hall):
    _login_admin(client)
    _post(client, "/kiosk/k1/api/ticket", {"service": "bdc"})
    today = hall.call("hall.state")["day"]
    html = client.get("/admin").get_data(as_text=True)
    assert 'class="export-form"' in html
    resp = client.get(f"/admin/export.csv?from={today}&to={today}&what=tickets&group_by=window")
    assert resp.status_code == 200 and "B001" in resp.get_data(as_text=True)
    assert f"hall-tickets-all-{today}-{today}.csv" in resp.headers["Content-Disposition"]
    bad = client.get("/admin/export.csv?from=yesterday")
    assert bad.status_code == 409 and "Traceback" not in bad.get_data(as_text=True)
