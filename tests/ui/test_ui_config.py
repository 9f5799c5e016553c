"""/admin/config through the Flask app and a real hwd (its config.* RPC, the file on disk): each
form changes the file and the running hall, a checker problem comes back beside its field, a
hand edit is detected, and a rollback restores the previous hall."""

from __future__ import annotations

import re

import pytest

from support.halls import CLOCK_START, fast_hash, page_hall

HALL_MANAGER, HALL_PASSWORD = "li", "hall-manager-1"
SYSADMIN, SYS_PASSWORD = "zhang", "system-admin-1"
ACCOUNTS = f'''
[[ui.admin]]
id = "{HALL_MANAGER}"
name = "李主任"
role = "hall"
password_hash = "{fast_hash(HALL_PASSWORD)}"

[[ui.admin]]
id = "{SYSADMIN}"
name = "张工"
role = "system"
password_hash = "{fast_hash(SYS_PASSWORD)}"
'''


@pytest.fixture
def hall(hwd_daemon):
    return hwd_daemon(page_hall(ACCOUNTS), clock_start=CLOCK_START)


@pytest.fixture
def client(hall):
    from kiosk_ui import create_app

    return create_app(str(hall.config_path), {"TESTING": True}).test_client()


def token(client) -> str:
    html = client.get("/admin/login").get_data(as_text=True)
    return re.search(r'name="csrf" content="([^"]+)"', html).group(1)


def login(client, account: str, password: str) -> str:
    csrf = token(client)
    resp = client.post("/admin/login", data={"account": account, "password": password, "csrf_token": csrf})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return token(client)  # a login starts a new session, with its own token


def digest(client, page: str = "/admin/config/services") -> str:
    html = client.get(page).get_data(as_text=True)
    return re.search(r'name="base" value="([0-9a-f]+)"', html).group(1)


def post(client, csrf: str, page: str, **form):
    return client.post(f"/admin/config/{page}", data={"csrf_token": csrf, "base": digest(client), **form})


def test_hall_manager_changes_the_hall_live(client, hall):
    csrf = login(client, HALL_MANAGER, HALL_PASSWORD)
    page = client.get("/admin/config").get_data(as_text=True)
    assert "李主任（大厅负责人）" in page and "/admin/config/file" not in page  # the system pages are not offered

    # a matter with its code
    resp = post(client, csrf, "services", action="matter_add", item="bdc", id="zy", name="转移登记",
                matter_code="11410000MB0000001", impl_code="114100000000000001", materials="身份证\n不动产权证书")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    text = hall.config_path.read_text(encoding="utf-8")
    assert "[[hall.service.matter]]" in text and 'matter_code = "11410000MB0000001"' in text
    shown = client.get("/admin/config/services").get_data(as_text=True)
    assert "已保存并生效" in shown and 'data-code="11410000MB0000001"' in shown

    # window 6 serves bdc first, then sb
    resp = post(client, csrf, "windows", action="save", item="6", name="6号窗口", kind="综合",
                **{"svc:bdc": "1", "svc:sb": "2"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    window = next(w for w in hall.call("hall.state")["windows"] if w["id"] == "6")
    assert window["services"] == ["bdc", "sb"], window

    # a clerk added without a PIN, then disabled
    resp = post(client, csrf, "staff", action="add", item="new-staff", id="s02", name="赵小红", windows="6")
    assert resp.status_code == 302
    assert 'id = "s02"' in hall.config_path.read_text(encoding="utf-8")
    assert post(client, csrf, "staff", action="disable", item="s02", disabled="1").status_code == 302
    assert "disabled = true" in hall.config_path.read_text(encoding="utf-8")

    # tomorrow (of the test clock) closed
    resp = post(client, csrf, "hours", action="exception_add", item="new-exception", date="2026-11-24", hours="",
                note="临时闭厅")
    assert resp.status_code == 302
    assert 'date = "2026-11-24"' in hall.config_path.read_text(encoding="utf-8")

    # the history lists every change by its account, and a rollback undoes the last one
    history = client.get("/admin/config/history").get_data(as_text=True)
    assert history.count(">li<") >= 4, history
    versions = hall.call("config.history", {"limit": 10})["versions"]
    previous = versions[1]["version"]
    resp = client.post("/admin/config/history/rollback", data={"csrf_token": csrf, "version": previous,
                                                               "base": digest(client)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert "2026-11-24" not in hall.config_path.read_text(encoding="utf-8")
    assert hall.call("config.history", {"limit": 1})["versions"][0]["by"] == HALL_MANAGER


def test_a_problem_is_shown_beside_its_field_and_nothing_is_written(client, hall):
    csrf = login(client, HALL_MANAGER, HALL_PASSWORD)
    before = hall.config_path.read_text(encoding="utf-8")
    resp = post(client, csrf, "services", action="save", item="sb", name="社保业务", prefix="B")  # bdc's prefix
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert re.search(r'data-key="hall.service\[1\].prefix">[^<]*already used', html), html
    assert hall.config_path.read_text(encoding="utf-8") == before


def test_a_hand_edit_while_the_page_is_open_is_not_overwritten(client, hall):
    csrf = login(client, HALL_MANAGER, HALL_PASSWORD)
    base = digest(client, "/admin/config/notice")
    text = hall.config_path.read_text(encoding="utf-8")
    hall.config_path.write_text(text.replace('notice = "欢迎来到测试大厅"', 'notice = "工程师手改的通知"'),
                                encoding="utf-8")
    resp = client.post("/admin/config/notice", data={"csrf_token": csrf, "base": base, "action": "notice",
                                                     "item": "notice", "notice": "页面上的通知"})
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert 'id="cfg-conflict"' in html and "工程师手改的通知" in html  # the file as it is now
    assert "工程师手改的通知" in hall.config_path.read_text(encoding="utf-8")


def test_the_display_and_kiosk_follow_the_pages(client, hall):
    csrf = login(client, HALL_MANAGER, HALL_PASSWORD)
    assert post(client, csrf, "notice", action="notice", item="notice", notice="明日起午间不休").status_code == 302
    assert "明日起午间不休" in client.get("/display").get_data(as_text=True)
    assert post(client, csrf, "notice", action="kiosk", item="k1", **{"svc:sb": "1"}).status_code == 302
    services = client.get("/kiosk/k1/state").get_json()["services"]
    assert [s["id"] for s in services] == ["sb"]


def test_the_system_admin_edits_the_file_and_accounts(client, hall):
    csrf = login(client, SYSADMIN, SYS_PASSWORD)
    page = client.get("/admin/config/file").get_data(as_text=True)
    assert "[[device]]" in page
    text = hall.config_path.read_text(encoding="utf-8")
    resp = client.post("/admin/config/file", data={"csrf_token": csrf, "base": digest(client), "action": "check",
                                                   "text": text.replace("rating_timeout_s = 60",
                                                                        "rating_timeout_s = -1")})
    assert resp.status_code == 422 and "hall.rating_timeout_s" in resp.get_data(as_text=True)
    resp = post(client, csrf, "accounts", action="add", item="new-account", id="wang", name="王主任", role="hall",
                password="wang-pass-1", password2="wang-pass-1")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    other = client.application.test_client()
    login(other, "wang", "wang-pass-1")  # hwd-ui took the new account from the file at once
    assert other.get("/admin/config/staff").status_code == 200


def test_a_new_clerk_sets_his_pin_at_the_first_login_and_again_after_a_reset(client, hall):
    csrf = login(client, HALL_MANAGER, HALL_PASSWORD)
    assert post(client, csrf, "staff", action="add", item="new-staff", id="s02", name="赵小红",
                windows="6").status_code == 302
    counter = client.application.test_client()
    ctoken = token(counter)
    resp = counter.post("/counter/6/login", data={"csrf_token": ctoken, "staff": "s02", "pin": "0000"})
    assert resp.status_code == 200 and 'id="new-pin-form"' in resp.get_data(as_text=True)
    resp = counter.post("/counter/6/login", data={"csrf_token": ctoken, "staff": "s02", "new_pin": "2580",
                                                  "new_pin2": "2581"})
    assert resp.status_code == 400 and "不一致" in resp.get_data(as_text=True)
    resp = counter.post("/counter/6/login", data={"csrf_token": ctoken, "staff": "s02", "new_pin": "2580",
                                                  "new_pin2": "2580"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    window = next(w for w in hall.call("hall.state")["windows"] if w["id"] == "6")
    assert window["staff"] == "s02"
    text = hall.config_path.read_text(encoding="utf-8")
    assert "2580" not in text and "pbkdf2_sha256$" in text.split('id = "s02"')[1]
    assert "已设置" in client.get("/admin/config/staff").get_data(as_text=True)
    # a second try to set s02's PIN (someone else at another counter): refused
    stranger = client.application.test_client()
    resp = stranger.post("/counter/5/login", data={"csrf_token": token(stranger), "staff": "s02", "new_pin": "1111",
                                                   "new_pin2": "1111"})
    assert resp.status_code == 403
    # forgotten: the manager resets it, the old PIN no longer works, a new one is set
    assert post(client, csrf, "staff", action="reset_pin", item="s02").status_code == 302
    resp = stranger.post("/counter/5/login", data={"csrf_token": token(stranger), "staff": "s02", "pin": "2580"})
    assert resp.status_code == 200 and 'id="new-pin-form"' in resp.get_data(as_text=True)


def test_a_restart_needed_change_is_said_and_planned_for_the_night(client, hall):
    csrf = login(client, SYSADMIN, SYS_PASSWORD)
    text = hall.config_path.read_text(encoding="utf-8")
    resp = client.post("/admin/config/file", data={"csrf_token": csrf, "base": digest(client), "action": "apply",
                                                   "text": text.replace("rpc_timeout_s = 3.0", "rpc_timeout_s = 4.0")})
    assert resp.status_code == 302
    page = client.get("/admin/config").get_data(as_text=True)
    assert "需重启 hwd 后生效" in page and "ui.rpc_timeout_s" in page
    resp = client.post("/admin/config/restart", data={"csrf_token": csrf, "at": "night"})
    assert resp.status_code == 302
    assert "已安排在" in client.get("/admin/config").get_data(as_text=True)
    manager = client.application.test_client()
    mtoken = login(manager, HALL_MANAGER, HALL_PASSWORD)
    assert manager.post("/admin/config/restart", data={"csrf_token": mtoken, "at": "cancel"}).status_code == 403
    client.post("/admin/config/restart", data={"csrf_token": csrf, "at": "cancel"})


def test_the_clerk_picks_the_matter_of_a_service_the_manager_gave_matters(client, hall):
    from support.halls import STAFF_PIN

    csrf = login(client, HALL_MANAGER, HALL_PASSWORD)
    for mid, name, code in (("sc", "首次登记", "114100001"), ("zy", "转移登记", "114100002")):
        assert post(client, csrf, "services", action="matter_add", item="bdc", id=mid, name=name,
                    matter_code=code).status_code == 302
    counter = client.application.test_client()
    ctoken = token(counter)
    assert counter.post("/counter/5/login", data={"csrf_token": ctoken, "staff": "s01",
                                                  "pin": STAFF_PIN}).status_code == 302
    number = hall.call("hall.issue_ticket", {"service": "bdc"})["number"]
    headers = {"X-CSRF-Token": ctoken}
    assert counter.post("/counter/5/api/call_next", json={}, headers=headers).get_json()["result"]["number"] == number
    state = counter.get("/counter/5/state").get_json()
    assert state["matters"] == [{"id": "sc", "name": "首次登记"}, {"id": "zy", "name": "转移登记"}]
    assert counter.post("/counter/5/api/start", json={"matter": "zy"}, headers=headers).get_json()["ok"]
    done = counter.post("/counter/5/api/finish", json={"matter": "zy"}, headers=headers).get_json()
    assert done["ok"], done
    assert hall.call("hall.ticket", {"ticket": number})["matter_id"] == "zy"


def test_a_matter_catalogue_is_previewed_then_imported(client, hall):
    csrf = login(client, HALL_MANAGER, HALL_PASSWORD)
    sheet = ("取号业务,事项名称,事项编码,实施编码,申请材料\n"
             "bdc,不动产首次登记,11410000MB01,1141000001,身份证；权属来源证明\n"
             "gone,不存在的业务,11410000MB02,,\n")
    resp = client.post("/admin/config/catalogue", data={"csrf_token": csrf, "action": "preview", "format": "auto",
                                                        "catalogue": sheet})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html
    assert re.search(r'data-kind="added">新增 1 项：bdc/', html) and "gone" in html
    assert "11410000MB01" not in hall.config_path.read_text(encoding="utf-8"), "a preview writes nothing"
    base = re.search(r'id="catalogue-import">.*?name="base" value="([0-9a-f]+)"', html, re.S).group(1)
    resp = client.post("/admin/config/catalogue", data={"csrf_token": csrf, "action": "import", "format": "auto",
                                                        "catalogue": sheet, "base": base})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert 'matter_code = "11410000MB01"' in hall.config_path.read_text(encoding="utf-8")
    assert hall.call("config.history", {"limit": 1})["versions"][0]["by"] == HALL_MANAGER


def test_the_week_hours_and_a_makeup_working_sunday(client, hall):
    csrf = login(client, HALL_MANAGER, HALL_PASSWORD)
    week = {"mon": "", "tue": "09:00-12:00 13:00-17:00", "wed": "09:00-12:00", "thu": "09:00-17:00",
            "fri": "09:00-12:00，13:00-16:30", "sat": "", "sun": "", "official_calendar": "1"}
    assert post(client, csrf, "hours", action="save", item="week", **week).status_code == 302
    text = hall.config_path.read_text(encoding="utf-8")
    assert "mon = []" in text and 'fri = ["09:00-12:00", "13:00-16:30"]' in text
    # the test clock's Monday 2026-11-23: Sunday the 29th works (调休), Monday the 30th is closed
    assert post(client, csrf, "hours", action="exception_add", item="new-exception", date="2026-11-29",
                hours="09:00-12:00", note="调休上班").status_code == 302
    html = client.get("/admin/config/hours").get_data(as_text=True)
    assert re.search(r'data-date="2026-11-29"><td>2026-11-29</td><td>周日</td><td class="hours">09:00-12:00</td>'
                     r'<td>特别安排</td>', html), html
    assert re.search(r'data-date="2026-11-30" class="closed"><td>2026-11-30</td><td>周一</td>'
                     r'<td class="hours">休息</td>', html)
    resp = post(client, csrf, "hours", action="save", item="week", **{**week, "tue": "17:00-09:00"})
    assert resp.status_code == 422
    assert re.search(r'data-key="hall.hours.tue">[^<]*ends before it starts', resp.get_data(as_text=True))


def test_a_disabled_clerk_cannot_log_in_and_is_enabled_again(client, hall):
    from support.halls import STAFF_PIN

    csrf = login(client, HALL_MANAGER, HALL_PASSWORD)
    assert post(client, csrf, "staff", action="disable", item="s01", disabled="1").status_code == 302
    assert "已停用" in client.get("/admin/config/staff").get_data(as_text=True)
    counter = client.application.test_client()
    resp = counter.post("/counter/5/login", data={"csrf_token": token(counter), "staff": "s01", "pin": STAFF_PIN})
    assert resp.status_code == 403 and "该工号已停用" in resp.get_data(as_text=True)
    resp = counter.post("/counter/5/login", data={"csrf_token": token(counter), "staff": "s01", "pin": "0000"})
    assert resp.status_code == 403 and "工号或密码错误" in resp.get_data(as_text=True), "a guess learns nothing"
    assert post(client, csrf, "staff", action="disable", item="s01", disabled="0").status_code == 302
    assert "disabled = true" not in hall.config_path.read_text(encoding="utf-8")
    resp = counter.post("/counter/5/login", data={"csrf_token": token(counter), "staff": "s01", "pin": STAFF_PIN})
    assert resp.status_code == 302


def test_a_clerk_whose_role_is_only_the_guide_desk_cannot_log_in_at_a_window(client, hall):
    """Staff roles (issue 28: 窗口受理, 导办): the manager takes 窗口受理 from s01 on the staff page; the
    running hall then refuses his window login with the reason, and gives it back when ticked again."""
    from support.halls import STAFF_PIN

    csrf = login(client, HALL_MANAGER, HALL_PASSWORD)
    page = client.get("/admin/config/staff").get_data(as_text=True)
    assert "窗口受理" in page and "导办" in page
    assert post(client, csrf, "staff", action="save", item="s01", name="王小明", roles="desk").status_code == 302
    assert 'roles = ["desk"]' in hall.config_path.read_text(encoding="utf-8")
    counter = client.application.test_client()
    resp = counter.post("/counter/5/login", data={"csrf_token": token(counter), "staff": "s01", "pin": STAFF_PIN})
    assert resp.status_code == 403 and "您的岗位不是窗口受理" in resp.get_data(as_text=True)
    resp = counter.post("/counter/5/login", data={"csrf_token": token(counter), "staff": "s01", "pin": "0000"})
    assert "工号或密码错误" in resp.get_data(as_text=True), "a guess learns nothing of the role"
    assert post(client, csrf, "staff", action="save", item="s01", name="王小明",
                roles=["counter", "desk"]).status_code == 302
    resp = counter.post("/counter/5/login", data={"csrf_token": token(counter), "staff": "s01", "pin": STAFF_PIN})
    assert resp.status_code == 302
