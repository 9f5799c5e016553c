"""The config file changed through hwd's ``config.*`` RPC (hwd.configstore): applied live in a
running daemon with nothing lost, refused when invalid or when the file was edited by hand,
audited, and rolled back exactly."""

from __future__ import annotations

import os

import pytest

from hwd.client import RpcError
from hwd import errors

from daemon_fixture import wait_for

HALL = '''
# the hall of the test (this comment must survive every edit)
[hall]
name = "某某县政务服务中心"   # the hall's name
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
[[hall.service]]
id = "sb"
name = "社保"
prefix = "S"
[[hall.window]]
id = "w1"
name = "1号窗口"
services = ["bdc"]
[[hall.window]]
id = "w3"
name = "3号窗口"
services = ["sb"]
'''

WHO = {"by": "manager", "source": "127.0.0.1"}


def test_edit_applies_live_with_nothing_lost(hwd_daemon):
    d = hwd_daemon(HALL)
    pid = d.call("daemon.status")["pid"]
    ev = d.events("hall.config_changed")
    got = d.call("config.get")
    assert got["version"] == 1 and got["config"]["hall"]["name"] == "某某县政务服务中心"
    b1 = d.call("hall.issue_ticket", {"service": "bdc"})
    s1 = d.call("hall.issue_ticket", {"service": "sb"})
    s2 = d.call("hall.issue_ticket", {"service": "sb"})
    assert d.call("hall.call_next", {"window": "w1"})["number"] == b1["number"]
    d.call("hall.start", {"window": "w1"})
    # window w3 moves to serve both; w1 serves sb too; a call is in progress at w1
    reply = d.call("config.edit", {"ops": [
        {"op": "set", "path": ["hall", "window", {"id": "w3"}, "services"], "value": ["bdc", "sb"]},
        {"op": "set", "path": ["hall", "window", {"id": "w1"}, "services"], "value": ["sb", "bdc"]}],
        "base": got["digest"], **WHO, "note": "afternoon"})
    assert reply["version"] == 2 and reply["restart"] == []
    assert "hall.window[w3].services" in reply["live"]
    assert ev.wait("hall.config_changed")["version"] == 2
    text = d.config_path.read_text()
    assert "# the hall of the test (this comment must survive every edit)" in text
    assert '# the hall\'s name' in text
    assert d.call("hall.finish", {"window": "w1"})["number"] == b1["number"]
    assert d.call("hall.call_next", {"window": "w1"})["number"] == s1["number"]
    assert d.call("hall.call_next", {"window": "w3"})["number"] == s2["number"]
    assert d.call("daemon.status")["pid"] == pid
    history = d.call("config.history")["versions"]
    assert [v["version"] for v in history] == [2, 1]
    assert history[0]["by"] == "manager" and history[0]["note"] == "afternoon"


def _edit(d, ops, **kw):
    return d.call("config.edit", {"ops": ops, "base": d.call("config.get")["digest"], **WHO, **kw})


def test_a_window_removed_while_serving_finishes_its_ticket(hwd_daemon):
    d = hwd_daemon(HALL)
    t = d.call("hall.issue_ticket", {"service": "sb"})
    waiting = d.call("hall.issue_ticket", {"service": "sb"})
    assert d.call("hall.call_next", {"window": "w3"})["number"] == t["number"]
    d.call("hall.start", {"window": "w3"})
    reply = _edit(d, [{"op": "remove", "path": ["hall", "window", {"id": "w3"}]},
                      {"op": "set", "path": ["hall", "window", {"id": "w1"}, "services"], "value": ["bdc", "sb"]}])
    assert "hall.window[w3].name" in reply["live"]
    assert "[[hall.window]]\nid = \"w3\"" not in d.config_path.read_text()
    # w3 keeps its ticket: it is finished and rated there, and it calls no one else
    done = d.call("hall.finish", {"window": "w3"})
    assert done["number"] == t["number"] and done["state"] == "done"
    with pytest.raises(RpcError) as info:
        d.call("hall.call_next", {"window": "w3"})
    assert info.value.code == errors.WINDOW_CLOSED
    assert d.call("hall.rate", {"window": "w3", "score": 5})["score"] == 5
    # then it is gone, and the waiting ticket is served by w1
    with pytest.raises(RpcError) as info:
        d.call("hall.call_next", {"window": "w3"})
    assert info.value.code == errors.UNKNOWN_WINDOW
    assert d.call("hall.call_next", {"window": "w1"})["number"] == waiting["number"]
    assert [w["id"] for w in d.call("hall.state")["windows"]] == ["w1"]


def test_invalid_config_is_refused_with_every_problem_and_nothing_written(hwd_daemon):
    d = hwd_daemon(HALL)
    before = d.config_path.read_text()
    got = d.call("config.get")
    bad = before.replace('services = ["sb"]', 'services = ["nope"]').replace('prefix = "S"', 'prefix = "s1"')
    problems = d.call("config.check", {"text": bad})["problems"]
    assert {p["key"] for p in problems} == {"hall.service[1].prefix", "hall.window[1].services[0]"}
    assert all(p["line"] > 1 and p["reason"] for p in problems)
    with pytest.raises(RpcError) as info:
        d.call("config.apply", {"text": bad, "base": got["digest"], **WHO})
    assert info.value.code == errors.CONFIG_INVALID
    assert info.value.data["problems"] == problems
    with pytest.raises(RpcError) as info:  # an edit whose result is invalid
        _edit(d, [{"op": "set", "path": ["hall", "window", {"id": "w1"}, "services"], "value": ["zz"]}])
    assert info.value.code == errors.CONFIG_INVALID
    assert info.value.data["problems"][0]["key"] == "hall.window[0].services[0]"
    assert d.config_path.read_text() == before
    assert [v["version"] for v in d.call("config.history")["versions"]] == [1]


def test_a_hand_edit_is_detected_not_overwritten(hwd_daemon):
    d = hwd_daemon(HALL)
    seen = d.call("config.get")
    hand = d.config_path.read_text().replace('name = "3号窗口"', 'name = "3号窗口（综合）"')
    d.config_path.write_text(hand)
    with pytest.raises(RpcError) as info:
        d.call("config.edit", {"ops": [{"op": "set", "path": ["hall", "name"], "value": "新名"}],
                               "base": seen["digest"], **WHO})
    assert info.value.code == errors.CONFIG_CHANGED
    assert d.config_path.read_text() == hand
    versions = d.call("config.history")["versions"]
    assert versions[0]["by"] == "hand edit" and versions[0]["summary"] == "hall.window[w3].name"
    assert info.value.data["digest"] == versions[0]["digest"] == d.call("config.get")["digest"]
    # read again, then the change goes in on top of the hand edit, which goes live with it
    reply = _edit(d, [{"op": "set", "path": ["hall", "name"], "value": "新名"}])
    assert set(reply["live"]) == {"hall.name", "hall.window[w3].name"}
    assert "3号窗口（综合）" in d.config_path.read_text()
    assert d.call("hall.state")["name"] == "新名"


def test_rollback_restores_the_previous_hall_exactly(hwd_daemon):
    d = hwd_daemon(HALL)
    first = d.config_path.read_text()
    mode = os.stat(d.config_path).st_mode
    _edit(d, [{"op": "set", "path": ["hall", "window", {"id": "w3"}, "services"], "value": ["bdc"]},
              {"op": "add", "path": ["hall", "service"], "value": {"id": "gs", "name": "工商", "prefix": "G"}}])
    b = d.call("hall.issue_ticket", {"service": "bdc"})
    assert d.call("hall.call_next", {"window": "w3"})["number"] == b["number"]
    d.call("hall.finish", {"window": "w3"})
    reply = d.call("config.rollback", {**WHO})
    assert reply["version"] == 3
    assert d.config_path.read_text() == first and os.stat(d.config_path).st_mode == mode
    assert d.call("config.show", {"version": 3})["text"] == first
    # behaviour: w3 serves sb only again, gs is gone
    b2 = d.call("hall.issue_ticket", {"service": "bdc"})
    assert d.call("hall.call_next", {"window": "w3"}) is None
    with pytest.raises(RpcError) as info:
        d.call("hall.issue_ticket", {"service": "gs"})
    assert info.value.code == errors.UNKNOWN_SERVICE
    assert d.call("hall.call_next", {"window": "w1"})["number"] == b2["number"]
    history = d.call("config.history")["versions"]
    assert history[0]["note"] == "rollback to version 1"
    assert d.call("config.rollback", {"version": 2, **WHO})["version"] == 4
    assert [s["id"] for s in d.call("hall.services")] == ["bdc", "sb", "gs"]


BAD_REQUESTS = [
    ("config.edit", {"ops": "x", **WHO}),
    ("config.edit", {"ops": [], **WHO}),
    ("config.edit", {"ops": [{"op": "set"}], **WHO}),
    ("config.edit", {"ops": [{"op": "jump", "path": ["a"]}], **WHO}),
    ("config.edit", {"ops": [{"op": "set", "path": ["hall", "name"], "value": None}], **WHO}),
    ("config.edit", {"ops": [{"op": "set", "path": ["hall", 3, "x"], "value": 1}], **WHO}),
    ("config.edit", {"ops": [{"op": "set", "path": ["hall", "name", "x"], "value": 1}], **WHO}),
    ("config.edit", {"ops": [{"op": "remove", "path": ["hall", "window", {"id": "zz"}]}], **WHO}),
    ("config.edit", {"ops": [{"op": "remove", "path": ["hall", "window", 9]}], **WHO}),
    ("config.edit", {"ops": [{"op": "add", "path": ["hall", "name"], "value": {"a": 1}}], **WHO}),
    ("config.edit", {"ops": [{"op": "add", "path": ["hall", "window"], "value": {"id": "w1"}}], **WHO}),
    ("config.edit", {"ops": [{"op": "set", "path": [{"id": 1}], "value": 1}], **WHO}),
    ("config.edit", {"ops": [{"op": "set", "path": ["hall", "name"], "value": {"": 1}}], **WHO}),
    ("config.edit", {"ops": [{"op": "set", "path": ["hall", "name"], "value": "x"}]}),
    ("config.apply", {"text": "[hall\n", **WHO}),
    ("config.apply", {"text": 5, **WHO}),
    ("config.show", {"version": 99}),
    ("config.show", {"version": "1"}),
    ("config.rollback", {"version": 99, **WHO}),
    ("config.rollback", {**WHO}),
    ("config.history", {"limit": 0}),
    ("config.restart", {"at": "now"}),
    ("config.check", {}),
]


def test_bad_params_get_error_replies(hwd_daemon):
    d = hwd_daemon(HALL)
    before = d.config_path.read_text()
    for method, params in BAD_REQUESTS:
        with pytest.raises(RpcError) as info:
            d.call(method, params)
        assert info.value.code not in (errors.INTERNAL_ERROR,), (method, params, info.value)
    assert d.call("daemon.ping")["pong"]
    assert d.config_path.read_text() == before
    assert [v["version"] for v in d.call("config.history")["versions"]] == [1]


def test_changes_while_a_script_issues_and_calls(hwd_daemon):
    """Edits applied one after another while another client issues, calls and finishes tickets
    all along: no ticket lost, no call refused or interrupted, the same process."""
    import threading

    from hwd.client import Client

    d = hwd_daemon(HALL)
    pid = d.call("daemon.status")["pid"]
    stop = threading.Event()
    issued: list[int] = []
    finished: list[int] = []
    failures: list[BaseException] = []

    def script() -> None:
        client = Client(d.rpc, timeout=5.0, retries=1)
        try:
            while not stop.is_set():
                issued.append(client.call("hall.issue_ticket", {"service": "bdc"})["id"])
                called = client.call("hall.call_next", {"window": "w1"})
                if called is not None:
                    client.call("hall.start", {"window": "w1"})
                    assert client.call("hall.finish", {"window": "w1"})["id"] == called["id"]
                    finished.append(called["id"])
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)
        finally:
            client.close()

    worker = threading.Thread(target=script)
    worker.start()
    try:
        for i in range(6):
            wait_for(lambda n=len(issued): len(issued) > n + 1, what="the script going on")
            services = ["sb", "bdc"] if i % 2 == 0 else ["sb"]
            _edit(d, [{"op": "set", "path": ["hall", "window", {"id": "w3"}, "services"], "value": services},
                      {"op": "set", "path": ["hall", "name"], "value": f"中心{i}"}])
    finally:
        stop.set()
        worker.join(30)
    assert not failures, failures
    tickets = {t["id"]: t for t in d.call("hall.tickets", {"limit": 5000})}
    assert set(issued) <= set(tickets)
    assert all(tickets[t]["state"] == "done" for t in finished)
    assert all(tickets[t]["state"] in ("waiting", "done", "called") for t in issued)
    assert len(d.call("config.history")["versions"]) == 7
    assert d.call("daemon.status")["pid"] == pid


def test_a_restart_needed_change_waits_for_the_night(hwd_daemon):
    """A [daemon] key is written and reported as needing a restart, the running hwd keeps its old
    value; planned for the night, hwd stops with status 75 at night_restart_at by the hall's clock
    (systemd's RestartForceExitStatus=75 starts it again) and comes back with the new value."""
    d = hwd_daemon(HALL, clock_start="2026-11-23T22:00:00")
    reply = _edit(d, [{"op": "set", "path": ["daemon", "heartbeat_s"], "value": 1.5},
                      {"op": "set", "path": ["hall", "name"], "value": "夜里"}])
    assert reply["restart"] == ["daemon.heartbeat_s"] and reply["live"] == ["hall.name"]
    assert d.call("config.get")["restart_pending"] == ["daemon.heartbeat_s"]
    plan = d.call("config.restart", {"at": "night"})
    assert plan == {"planned": True, "at": "2026-11-24T03:00+08:00", "restart": ["daemon.heartbeat_s"]}
    d.call("clock.set", {"now": "2026-11-24T02:59:00"})
    assert d.proc.poll() is None
    d.call("clock.set", {"now": "2026-11-24T03:00:01"})
    assert d.proc.wait(30) == 75
    d.start()
    assert d.call("hall.state")["name"] == "夜里"
    assert d.call("config.get")["restart_pending"] == []


STAFFED = HALL + '''
[[hall.staff]]
id = "s01"
name = "王小明"
pin_hash = "{hash}"
[[hall.window]]
id = "w5"
name = "5号窗口"
services = ["bdc"]
addresses = ["127.0.0.5"]
'''


def test_a_pin_reset_and_a_new_clerk_set_their_pin_at_the_first_login(hwd_daemon):
    from hwd.hall.pin import hash_pin

    d = hwd_daemon(STAFFED.format(hash=hash_pin("1234")))
    d.call("hall.login", {"window": "w1", "staff": "s01", "pin": "1234"})
    d.call("hall.logout", {"window": "w1"})
    _edit(d, [{"op": "remove", "path": ["hall", "staff", {"id": "s01"}, "pin_hash"]},
              {"op": "add", "path": ["hall", "staff"], "value": {"id": "s02", "name": "李芳"}}])
    for staff in ("s01", "s02"):  # no login without a PIN, and the old one is gone
        for pin in (None, "1234"):
            with pytest.raises(RpcError) as info:
                d.call("hall.login", {"window": "w1", "staff": staff, **({"pin": pin} if pin else {})})
            assert info.value.code == errors.LOGIN_FAILED and info.value.data["wording"] == "set_pin", staff
    with pytest.raises(RpcError) as info:
        d.call("hall.set_pin", {"staff": "s01", "pin": "12ab"})
    assert info.value.data["wording"] == "pin_format"
    with pytest.raises(RpcError) as info:  # the hall lists its window PCs: not from elsewhere
        d.call("hall.set_pin", {"staff": "s01", "pin": "4321", "source": "192.0.2.7"})
    assert info.value.code == errors.LOGIN_FAILED
    assert d.call("hall.set_pin", {"staff": "s01", "pin": "4321", "source": "127.0.0.5"}) == {"staff": "s01",
                                                                                             "set": True}
    with pytest.raises(RpcError) as info:  # set once; then it is a PIN like any other
        d.call("hall.set_pin", {"staff": "s01", "pin": "9999"})
    assert info.value.data["wording"] == "no_pin_reset"
    with pytest.raises(RpcError):
        d.call("hall.login", {"window": "w1", "staff": "s01", "pin": "1234"})
    assert d.call("hall.login", {"window": "w1", "staff": "s01", "pin": "4321"})["staff"] == "s01"
    d.call("hall.set_pin", {"staff": "s02", "pin": "5678"})
    assert d.call("hall.login", {"window": "w3", "staff": "s02", "pin": "5678"})["staff"] == "s02"
    text = d.config_path.read_text()
    assert "4321" not in text and text.count("pin_hash = \"pbkdf2_sha256$") == 2
    versions = d.call("config.history")["versions"]
    assert [v["by"] for v in versions[:2]] == ["s02", "s01"]
    got = d.call("config.get")
    assert "pin_hash" not in str(got["config"])
    assert got["secrets_set"] == ["hall.staff[s01].pin_hash", "hall.staff[s02].pin_hash"]


def test_tomorrow_made_a_holiday_applies_live(hwd_daemon):
    d = hwd_daemon(HALL.replace("always_open = true", 'mon = ["09:00-17:00"]\ntue = ["09:00-17:00"]'),
                   clock_start="2026-11-23T10:00:00")  # a Monday
    d.call("hall.issue_ticket", {"service": "bdc"})
    _edit(d, [{"op": "add", "path": ["hall", "hours", "exception"],
               "value": {"date": "2026-11-24", "hours": [], "note": "临时闭厅"}}])
    d.call("hall.issue_ticket", {"service": "bdc"})  # today is still open
    d.call("clock.set", {"now": "2026-11-24T10:00:00"})
    with pytest.raises(RpcError) as info:
        d.call("hall.issue_ticket", {"service": "bdc"})
    assert info.value.code == errors.OUTSIDE_HOURS
    assert d.call("hall.hours")["today"]["working"] is False
