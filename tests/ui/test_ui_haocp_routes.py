"""The 好差评 routes through Flask's test client against a real hwd: the rating page's reasons,
the counter's 办件编号 form and the admin desk — and what an attacker on the hall LAN gets from
them (oversized or malformed reasons, no login, no CSRF token)."""

from __future__ import annotations

from test_ui_pages import _enroll_pad, _login_admin, _login_counter, _post


def served(client):
    _login_counter(client)
    _post(client, "/kiosk/k1/api/ticket", {"service": "bdc"})
    for action in ("call_next", "start", "finish"):
        _post(client, f"/counter/5/api/{action}")


def test_rating_page_sends_reasons_and_refuses_junk(client):
    html = client.get("/rate/5").get_data(as_text=True)
    assert "请选择不满意的原因" in html and "跳过" in html
    _enroll_pad(client)  # only the window's enrolled rating page may rate (issue 13)
    served(client)
    for junk in (["attitude"] * 21, "attitude", [1, 2], ["x" * 33]):
        resp = _post(client, "/rate/5/api/rate", {"score": 2, "reasons": junk})
        assert resp.status_code == 400 and resp.get_json()["error"] == "差评原因有误", junk
    unknown = _post(client, "/rate/5/api/rate", {"score": 2, "reasons": ["nope"]})
    assert unknown.status_code == 409 and unknown.get_json()["code"] == 1150
    ok = _post(client, "/rate/5/api/rate", {"score": 2, "reasons": ["attitude", "scope"]}).get_json()
    assert ok["ok"] and ok["rating"]["reasons"] == ["attitude", "scope"] and ok["rating"]["workorder"]["state"] == "open"


def test_counter_case_needs_the_clerk_and_a_case_number(client, hall):
    fresh = client.application.test_client()
    assert _post(fresh, "/counter/5/case", {"case_no": "BJ1"}).status_code == 403
    served(client)
    assert _post(client, "/counter/5/case", {"case_no": ""}).status_code == 400
    bad = _post(client, "/counter/5/case", {"case_no": "有 空格"})
    assert bad.status_code == 409 and bad.get_json()["code"] == 1152
    ok = _post(client, "/counter/5/case", {"case_no": "BJ-2026-1"}).get_json()
    assert ok["ok"] and ok["result"]["case_no"] == "BJ-2026-1"  # the just-finished ticket
    assert hall.call("hall.ticket", {"ticket": ok["result"]["ticket"]})["case_no"] == "BJ-2026-1"


def test_admin_desk_needs_login_and_csrf_and_moves_orders(client, hall):
    assert client.get("/admin/haocp").status_code == 302
    _enroll_pad(client)
    served(client)
    rating = _post(client, "/rate/5/api/rate", {"score": 1}).get_json()["rating"]
    wo = rating["workorder"]["id"]
    token = _login_admin(client)
    html = client.get("/admin/haocp").get_data(as_text=True)
    assert f'id="wo-{wo}"' in html and "待回访" in html and "未配置上报" in html
    assert client.post(f"/admin/haocp/workorder/{wo}", data={"step": "callback"}).status_code == 400  # no CSRF
    resp = client.post(f"/admin/haocp/workorder/{wo}", data={"step": "callback", "note": "已回访",
                                                             "staff": "m1", "csrf_token": token})
    assert resp.status_code == 302
    [order] = hall.call("hall.workorders", {})
    assert order["state"] == "called_back" and order["steps"][-1]["staff"] == "m1"
    wrong = client.post(f"/admin/haocp/workorder/{wo}", data={"step": "close", "csrf_token": token})
    assert wrong.status_code == 409 and "不能办结" in wrong.get_data(as_text=True)
