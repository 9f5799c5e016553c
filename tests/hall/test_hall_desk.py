"""The guide desk (导办台) rules in-process (issue 14 item 13): a staff login checked like the
counter's, priority classes only after the documents were checked, 帮办代办 tickets routed to
the 帮办代办 window with the citizen's matter kept, and the config of desks."""

from __future__ import annotations

import asyncio

import pytest

from hwd import config as configuration, errors
from hwd.errors import ConfigError, HwdError
from hwd.hall.pin import hash_pin
from hall_helpers import EngineHarness, load_config

DESK_HALL = f'''
[hall]
name = "测试政务服务中心"
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
[[hall.service]]
id = "bbdb"
name = "帮办代办"
prefix = "H"
[[hall.window]]
id = "5"
name = "5号窗口"
services = ["bdc"]
[[hall.window]]
id = "9"
name = "帮办代办窗口"
kind = "帮办代办"
services = ["bbdb"]
[[hall.desk]]
id = "d1"
name = "一楼导办台"
[[hall.staff]]
id = "s01"
name = "王小明"
pin_hash = "{hash_pin("1357", iterations=1000)}"
'''


def run(tmp_path, body, hall: str = DESK_HALL):
    async def main():
        h = await EngineHarness(load_config(tmp_path, hall)).start()
        try:
            await h.call("clock.set", {"now": "2026-11-23T09:00:00"})
            for window in h.cfg.hall.windows:
                await h.call("hall.login", {"window": window, "staff": "s01", "pin": "1357"})
            return await body(h)
        finally:
            await h.stop()
    return asyncio.run(main())


async def refused(h, method, params, code):
    with pytest.raises(HwdError) as info:
        await h.call(method, params)
    assert info.value.code == code, info.value
    return info.value.message


def test_desk_login_uses_the_staff_pin_check(tmp_path):
    async def body(h):
        assert "工号或密码错误" in await refused(h, "hall.desk_login", {"desk": "d1", "staff": "s01", "pin": "0000"},
                                                 errors.LOGIN_FAILED)
        await refused(h, "hall.desk_login", {"desk": "d1", "staff": "nobody", "pin": "1357"}, errors.LOGIN_FAILED)
        await refused(h, "hall.desk_login", {"desk": "zz", "staff": "s01", "pin": "1357"}, errors.UNKNOWN_DESK)
        ok = await h.call("hall.desk_login", {"desk": "d1", "staff": "s01", "pin": "1357"})
        assert ok == {"desk": "d1", "name": "一楼导办台", "staff": "s01"}
        h.engine.cfg.staff["s01"].roles = ["counter"]  # 窗口受理 only ([[hall.staff]] roles)
        assert "岗位不是导办" in await refused(h, "hall.desk_login", {"desk": "d1", "staff": "s01", "pin": "1357"},
                                                 errors.LOGIN_FAILED)
        assert "工号或密码错误" in await refused(h, "hall.desk_login", {"desk": "d1", "staff": "s01", "pin": "0000"},
                                                 errors.LOGIN_FAILED), "a guess learns nothing of the role"
    run(tmp_path, body)


def test_a_military_ticket_needs_checked_documents_and_goes_first(tmp_path):
    async def body(h):
        normal = await h.call("hall.issue_ticket", {"service": "bdc"})
        await refused(h, "hall.desk_issue", {"desk": "d1", "service": "bdc"}, errors.NOT_LOGGED_IN)
        msg = await refused(h, "hall.desk_issue", {"desk": "d1", "service": "bdc", "priority": "military",
                                                   "staff": "s01"}, errors.NOT_VERIFIED)
        assert "核验" in msg
        await refused(h, "hall.desk_issue", {"desk": "d1", "service": "bdc", "priority": "appointment",
                                             "staff": "s01", "verified": True}, errors.INVALID_PARAMS)
        mil = await h.call("hall.desk_issue", {"desk": "d1", "service": "bdc", "priority": "military",
                                               "staff": "s01", "verified": True})
        assert (mil["priority"], mil["desk"], mil["verified_by"], mil["number"]) == ("military", "d1", "s01", "B002")
        assert mil["printed"] is False and "二维码" not in mil["print_error"] and mil["qr"].endswith(f":{mil['id']}")
        assert "导办台没有打印机" in mil["print_error"]
        assert (await h.call("hall.call_next", {"window": "5"}))["id"] == mil["id"], "军人依法优先"
        await h.call("hall.start", {"window": "5"})
        await h.call("hall.finish", {"window": "5"})
        assert (await h.call("hall.call_next", {"window": "5"}))["id"] == normal["id"]
        stored = await h.call("hall.ticket", {"ticket": mil["id"]})
        assert stored["verified_by"] == "s01" and stored["desk"] == "d1"
        assert "hall.desk.issued" in h.topics()
    run(tmp_path, body)


def test_an_assisted_ticket_goes_to_the_assisted_window_with_its_matter(tmp_path):
    async def body(h):
        t = await h.call("hall.desk_issue", {"desk": "d1", "service": "bdc", "assisted": True, "staff": "s01"})
        assert (t["service"], t["matter"], t["matter_name"], t["number"]) == ("bbdb", "bdc", "不动产登记", "H001")
        assert await h.call("hall.call_next", {"window": "5"}) is None, "not at an ordinary window"
        assert (await h.call("hall.call_next", {"window": "9"}))["id"] == t["id"]
        both = await h.call("hall.desk_issue", {"desk": "d1", "service": "bdc", "assisted": True,
                                                "priority": "disabled", "verified": True, "staff": "s01"})
        assert (both["service"], both["priority"], both["matter"]) == ("bbdb", "disabled", "bdc")
    run(tmp_path, body)


def test_no_assisted_window_means_no_assisted_ticket(tmp_path):
    hall = DESK_HALL.replace('kind = "帮办代办"\n', "")
    async def body(h):
        await refused(h, "hall.desk_issue", {"desk": "d1", "service": "bdc", "assisted": True, "staff": "s01"},
                      errors.NO_ASSISTED_SERVICE)
    run(tmp_path, body, hall)


def test_desk_config_problems_are_listed(tmp_path):
    text = ('[daemon]\nstate_dir = "/tmp/x"\n' + DESK_HALL
            + '\n[[hall.desk]]\nid = "d2"\nname = "二楼"\nprinter = "nope"\nservices = ["zz"]\n'
            + '[[hall.desk]]\nid = "d1"\nname = "重复"\n').replace('[hall.hours]', 'assisted_service = "xx"\n[hall.hours]')
    with pytest.raises(ConfigError) as info:
        configuration.loads(text, tmp_path / "hwd.toml")
    problems = "\n".join(info.value.problems)
    assert "hall.desk[1].printer: unknown device 'nope'" in problems
    assert "hall.desk[1].services[0]: unknown service 'zz'" in problems
    assert "duplicate desk id 'd1'" in problems
    assert "hall.assisted_service: unknown service 'xx'" in problems


def test_the_desk_reprints_only_a_ticket_still_waiting(tmp_path):
    async def body(h):
        t = await h.call("hall.issue_ticket", {"service": "bdc"})
        again = await h.call("hall.reprint", {"ticket": t["number"], "desk": "d1"})
        assert again["id"] == t["id"] and again["printed"] is False and "导办台没有打印机" in again["print_error"]
        await refused(h, "hall.reprint", {"ticket": t["number"], "desk": "zz"}, errors.UNKNOWN_DESK)
        await h.call("hall.call_next", {"window": "5"})
        await h.call("hall.start", {"window": "5"})
        await h.call("hall.finish", {"window": "5"})
        assert "不能补打" in await refused(h, "hall.reprint", {"ticket": t["number"], "desk": "d1"}, errors.BAD_STATE)
    run(tmp_path, body)
