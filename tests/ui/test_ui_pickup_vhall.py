"""The lockers in the demo's virtual hall (/admin/hall): every door open or shut with the result
it holds, and in a demo an emulated door shut there by hand — which completes the deposit, as the
clerk's hand would — through the real hwd-ui app and hwd with its lock boards on a pty. Outside a
demo the doors need the admin's login, and only an emulated locker's door can be shut this way."""

from __future__ import annotations

from conftest import ADMIN_PASSWORD, _fast_hash, csrf
from pickup_hall import MONDAY_DAY, hall_text, served


def _app(d):
    from kiosk_ui import create_app

    return create_app(str(d.config_path), {"TESTING": True}).test_client()


def _door(client, device: str, door: int) -> dict:
    body = client.get("/admin/pickup/doors").get_json()
    locker = next(x for x in body["lockers"] if x["device"] == device)
    return next(x for x in locker["doors"] if x["door"] == door)


def test_the_virtual_hall_shows_the_doors_and_shuts_an_emulated_one(hwd_daemon):
    d = hwd_daemon(hall_text("\n[ui]\ndemo = true\n"), clock_start=MONDAY_DAY)
    d.wait_state("locker1", "online")
    d.call("hall.login", {"window": "5", "staff": "s01", "pin": "1357"})
    client = _app(d)
    html = client.get("/admin/hall").get_data(as_text=True)
    assert "取件柜（模拟）" in html and "vhall_lockers.js" in html
    ev = d.events("hall.pickup.")
    ticket = served(d)
    got = d.call("hall.deposit", {"ticket": ticket["number"], "window": "5"})
    ev.wait("hall.pickup.loading", deposit=got["deposit"], door=got["door"])   # the page reads the doors again
    door = _door(client, "locker1", got["door"])
    assert (door["state"], door["holds"], door["deposit_state"]) == ("open", ticket["number"], "正在存入")
    token = csrf(client)
    assert client.post(f"/admin/pickup/door/locker1/{got['door']}/shut", json={}).status_code == 400  # no CSRF token
    resp = client.post(f"/admin/pickup/door/locker1/{got['door']}/shut", json={}, headers={"X-CSRF-Token": token})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    ev.wait("hall.pickup.deposited", deposit=got["deposit"])
    door = _door(client, "locker1", got["door"])
    assert (door["state"], door["deposit_state"]) == ("closed", "待取件")
    assert got["code"] not in client.get("/admin/pickup/doors").get_data(as_text=True), "never the code"
    # only an emulated locker's door, and no other device
    resp = client.post("/admin/pickup/door/k24-printer/1/shut", json={}, headers={"X-CSRF-Token": token})
    assert resp.status_code == 403


def test_outside_a_demo_the_doors_need_the_admins_login(hwd_daemon):
    d = hwd_daemon(hall_text(f'\n[ui]\nadmin_password_hash = "{_fast_hash(ADMIN_PASSWORD)}"\n'),
                   clock_start=MONDAY_DAY)
    d.wait_state("locker1", "online")
    client = _app(d)
    assert client.get("/admin/pickup/doors").status_code == 302
    token = csrf(client)
    assert client.post("/admin/pickup/door/locker1/1/shut", json={}, headers={"X-CSRF-Token": token}).status_code == 302
    client.post("/admin/login", data={"password": ADMIN_PASSWORD, "csrf_token": token})
    [locker] = client.get("/admin/pickup/doors").get_json()["lockers"][:1]
    assert locker["device"] == "locker1" and len(locker["doors"]) == 24 and locker["emulated"]
    assert _door(client, "locker1", 24)["state"] == "closed"
