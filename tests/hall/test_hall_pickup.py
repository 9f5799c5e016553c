"""The 24-hour area's locker end to end through a real hwd, its board emulators on a pty and the
hall's clock (docs/hall.md, "The 24-hour self-service area"): a deposit counts only once its door is
shut, a code or the ID card opens it at a kiosk of the area after hours, every step is in the action
log; doors left open, forced or jammed raise alarms; a door shut while hwd was down completes its
deposit; the result's code reaches the phone page and the notice gateway."""

from __future__ import annotations

import pytest

from daemon_fixture import wait_for
from pickup_hall import (ID_NUMBER, MONDAY_DAY, MONDAY_NIGHT, OPEN_ALARM_S, actions, alarms, card_token, deposited,
                         hall_text, served, wait_alarm)

from hwd import errors
from hwd.client import RpcError


@pytest.fixture
def hall(hwd_daemon):
    d = hwd_daemon(hall_text(), clock_start=MONDAY_DAY)
    d.wait_state("locker1", "online")
    d.wait_state("locker2", "online")
    d.call("hall.login", {"window": "5", "staff": "s01", "pin": "1357"})
    return d


def refused(d, method: str, params: dict) -> RpcError:
    with pytest.raises(RpcError) as err:
        d.call(method, params)
    return err.value


def test_deposit_at_the_counter_and_pickup_by_code_after_hours(hall):
    d = hall
    ev = d.events("locker.", "hall.pickup.")
    ticket = served(d)
    got = d.call("hall.deposit", {"ticket": ticket["number"], "window": "5", "staff": "s01"})
    assert (got["device"], got["door"], got["state"]) == ("locker1", 1, "loading")
    assert len(got["code"]) == 8 and got["code"].isdigit() and got["number"] == ticket["number"]
    ev.wait("locker.door", device="locker1", door=1, state="opened")
    # the door is open, the result not in yet: the code opens nothing
    assert refused(d, "hall.pickup", {"code": got["code"], "kiosk": "k24"}).code == errors.NO_DEPOSIT
    d.sim("locker1", "shut", door=1)
    ev.wait("hall.pickup.deposited", deposit=got["deposit"], number=ticket["number"])
    [row] = d.call("hall.deposits")
    assert row["state"] == "waiting" and row["deposited_at"] and "code" not in row and "nonce" not in row

    d.call("clock.set", {"now": MONDAY_NIGHT})
    area = d.call("hall.area", {"kiosk": "k24"})
    assert area["open"] is False and area["opens_at"].startswith("2026-11-24T08:45") and "明天 08:45" in area["message"]
    opened = d.call("hall.pickup", {"code": " ".join([got["code"][:4], got["code"][4:]]), "kiosk": "k24"})
    assert (opened["device"], opened["door"], opened["number"]) == ("locker1", 1, ticket["number"])
    ev.wait("hall.pickup.opened", kiosk="k24", door=1)
    assert d.call("locker.status", {"device": "locker1"})["open"] == [1]
    d.sim("locker1", "shut", door=1)
    ev.wait("hall.pickup.picked", deposit=got["deposit"], kiosk="k24")
    [picked] = d.call("hall.deposits", {"state": "picked"})
    assert picked["via"] == "code" and picked["kiosk"] == "k24" and picked["picked_at"]
    # the same code again: nothing (it was used)
    assert refused(d, "hall.pickup", {"code": got["code"], "kiosk": "k24"}).code == errors.NO_DEPOSIT
    steps = [a[0] for a in actions(d) if a[1] == ticket["id"]]
    assert steps[-4:] == ["deposit_open", "deposited", "pickup_open", "picked_up"]
    assert not any(got["code"] in str(a) for a in actions(d))          # the code is never logged


def test_pickup_by_the_id_card_on_the_kiosks_own_reader(hall):
    d = hall
    ev = d.events("locker.", "hall.pickup.")
    first = deposited(d, ev, ticket=served(d)["id"], id_number=ID_NUMBER)
    second = deposited(d, ev, case_no="BDC-2026-0815", id_number=ID_NUMBER.lower())
    other = deposited(d, ev, case_no="BDC-2026-0816")                     # somebody else's
    d.call("clock.set", {"now": MONDAY_NIGHT})
    token = card_token(d, "k24-idcard")
    # a card read at k24 does not open doors at k2 (another kiosk's reader)
    assert refused(d, "hall.pickup", {"card_token": token, "kiosk": "k2"}).code == errors.CARD_TOKEN_WRONG_KIOSK
    opened = d.call("hall.pickup", {"card_token": token, "kiosk": "k24"})
    assert sorted(x["deposit"] for x in opened["doors"]) == [first["deposit"], second["deposit"]]
    for x in opened["doors"]:
        d.sim(x["device"], "shut", door=x["door"])
        ev.wait("hall.pickup.picked", deposit=x["deposit"])
    assert [r["id"] for r in d.call("hall.deposits")] == [other["deposit"]]
    assert refused(d, "hall.pickup", {"card_token": token, "kiosk": "k24"}).code == errors.NO_DEPOSIT
    import sqlite3

    db = sqlite3.connect(d.state_dir / "hall.sqlite3")
    persons = {r[0] for r in db.execute("SELECT person FROM deposits WHERE person IS NOT NULL")}
    dump = "\n".join(db.iterdump())
    db.close()
    assert len(persons) == 1 and persons.pop().startswith("h1:") and ID_NUMBER not in dump   # a keyed hash only
    assert first["code"] not in dump and second["code"] not in dump


def test_no_free_door_when_the_lockers_are_full_or_gone(hwd_daemon):
    text = hall_text().replace("doors = 24\n", "doors = 2\n").replace("doors = 12\n", "doors = 1\n")
    d = hwd_daemon(text, clock_start=MONDAY_DAY)
    d.wait_state("locker1", "online")
    d.wait_state("locker2", "online")
    ev = d.events("locker.", "hall.pickup.")
    doors = [deposited(d, ev, case_no=f"C-{i}") for i in range(3)]
    assert [(g["device"], g["door"]) for g in doors] == [("locker1", 1), ("locker1", 2), ("locker2", 1)]
    assert refused(d, "hall.deposit", {"case_no": "C-3"}).code == errors.NO_FREE_DOOR
    assert refused(d, "hall.deposit", {"case_no": "bad case no"}).code == errors.BAD_CASE_NO
    assert refused(d, "hall.deposit", {}).code == errors.INVALID_PARAMS


def test_alarms_left_open_forced_and_jammed(hall):
    d = hall
    ev = d.events("locker.", "hall.pickup.", "hall.locker.alarm")
    # a door left open: the clerk never shut it
    got = d.call("hall.deposit", {"case_no": "BDC-1", "window": "5"})
    ev.wait("locker.door", device=got["device"], door=got["door"], state="opened")
    d.call("clock.advance", {"seconds": OPEN_ALARM_S + 5})
    left = wait_alarm(d, "left_open", door=got["door"])
    assert left["deposit"] == got["deposit"] and "柜门未关" in left["text"]
    d.sim(got["device"], "shut", door=got["door"])
    ev.wait("hall.locker.alarm", kind="left_open", state="cleared")
    assert not alarms(d, "left_open")

    # a door forced while it holds a result: raised, and a shut door does not clear it
    d.sim(got["device"], "force", door=got["door"])
    forced = wait_alarm(d, "forced", door=got["door"])
    assert forced["deposit"] == got["deposit"]
    d.sim(got["device"], "shut", door=got["door"])
    d.call("clock.advance", {"seconds": 5})
    assert alarms(d, "forced")
    cleared = d.call("hall.locker_alarm_clear", {"alarm": forced["id"], "staff": "s01", "note": "已核对，件在"})
    assert cleared["state"] == "cleared" and cleared["cleared_by"] == "s01"

    # a jammed door is skipped: the next free one opens, and the jam is an alarm
    d.sim("locker1", "jam", door=2)
    second = d.call("hall.deposit", {"case_no": "BDC-2", "window": "5"})
    assert (second["device"], second["door"]) == ("locker1", 3)
    jam = wait_alarm(d, "jammed", door=2)
    assert jam["device"] == "locker1"
    assert [r["state"] for r in d.call("hall.deposits", {"state": "failed"})] == ["failed"]
    # a board that goes silent: its doors are not offered, the other board's are
    d.sim("locker1", "silent_address", on=True)
    wait_for(lambda: d.device("locker1")["state"] == "offline", 15, "locker1 offline")
    third = d.call("hall.deposit", {"case_no": "BDC-3", "window": "5"})
    assert third["device"] == "locker2"
    kinds = [a[0] for a in actions(d)]
    assert kinds.count("locker_alarm") >= 3 and "locker_alarm_cleared" in kinds and "deposit_failed" in kinds


def test_a_door_shut_while_hwd_was_down_completes_its_deposit(hall):
    d = hall
    ev = d.events("locker.")
    got = d.call("hall.deposit", {"case_no": "BDC-9", "window": "5"})
    ev.wait("locker.door", device=got["device"], door=got["door"], state="opened")
    d.kill()           # kill -9 with the door open (the emulated board goes with it: its doors are shut)
    d.start()
    d.wait_state("locker1", "online")
    wait_for(lambda: [r["state"] for r in d.call("hall.deposits")] == ["waiting"], 15, "the deposit recorded")
    d.call("clock.set", {"now": MONDAY_NIGHT})
    assert d.call("hall.pickup", {"code": got["code"], "kiosk": "k24"})["door"] == got["door"]


def test_the_phone_page_and_the_notice_say_the_code(hwd_daemon):
    from hwd.upstream.emulator import Province

    gateway = Province("gw-secret").up()
    try:
        text = hall_text() + f'\n[hall.notify]\nurl = "{gateway.url}"\nsecret = "gw-secret"\nretry_s = 0.1\n'
        d = hwd_daemon(text, clock_start=MONDAY_DAY)
        d.wait_state("locker1", "online")
        d.call("hall.login", {"window": "5", "staff": "s01", "pin": "1357"})
        ev = d.events("locker.", "hall.pickup.")
        ticket = served(d)
        got = deposited(d, ev, ticket=ticket["id"])
        token = d.call("hall.ticket_token", {"ticket": ticket["id"]})["token"]
        view = d.call("hall.phone_view", {"token": token})["ticket"]
        assert view["pickup"] == {"state": "waiting", "door": got["door"], "code": got["code"]}
        pickup = wait_for(lambda: next((r for r in _told(gateway) if r.get("notice") == "pickup"), None), 20,
                          "the pickup notice")
        assert pickup["code"] == got["code"] and got["code"] in pickup["text"] and pickup["token"] == token
        d.call("hall.pickup", {"code": got["code"], "kiosk": "k24"})
        d.sim(got["device"], "shut", door=got["door"])
        ev.wait("hall.pickup.picked", deposit=got["deposit"])
        view = d.call("hall.phone_view", {"token": token})["ticket"]
        assert view["pickup"] == {"state": "picked", "door": got["door"]}
    finally:
        gateway.down()


def _told(gateway) -> list[dict]:
    with gateway.lock:
        return list(gateway.records.values())
