"""Phone notices (issue 18's hook for WeChat/SMS, hwd.hall.phone.notices): a ticket's moments —
即将叫号, the call with its window, a recall, a transfer, a no-show, the rating — reach a
gateway once each, signed like push-json (the gateway here is hwd.upstream.emulator, which
checks every signature); the province's "every kind" sink never sees them, as they carry the
ticket's phone link. In-process engine, real outbox worker and HTTP over loopback."""

from __future__ import annotations

import asyncio
import time

from hall_helpers import HALL
from test_hall_engine import run

from hwd.upstream.emulator import Province

NOTIFY_SECRET = "gateway-secret"
PROVINCE_SECRET = "province-secret"


def told(gateway: Province) -> list[dict]:
    """What the gateway accepted, in the order it came (the outbox's order)."""
    with gateway.lock:
        return list(gateway.records.values())


async def until(fn, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not fn():
        assert time.monotonic() < deadline, "not delivered in time"
        await asyncio.sleep(0.05)


def test_each_moment_of_a_ticket_is_told_once_and_only_to_the_gateway(tmp_path):
    gateway = Province(NOTIFY_SECRET).up()
    province = Province(PROVINCE_SECRET).up()
    hall = HALL + (f'[hall.notify]\nurl = "{gateway.url}"\nsecret = "{NOTIFY_SECRET}"\nalert_ahead = 1\n'
                   f'retry_s = 0.1\n[hall.upstream]\nadapter = "push-json"\nurl = "{province.url}"\n'
                   f'secret = "{PROVINCE_SECRET}"\nretry_s = 0.1\n')

    async def body(h):
        tickets = [await h.call("hall.issue_ticket", {"service": "bdc"}) for _ in range(4)]
        token = (await h.call("hall.ticket_token", {"ticket": tickets[3]["id"]}))["token"]
        for _ in range(2):  # B004 goes from 3 ahead to 1: 即将叫号
            await h.call("hall.call_next", {"window": "5"})
            await h.call("hall.finish", {"window": "5"})
        await h.call("hall.call_next", {"window": "5"})       # B003; B004 next: still the same moment
        # B003 to 社保, first in its queue; window 5 serves 社保 too and calls B004 first, then 6 B003
        await h.call("hall.transfer", {"window": "5", "service": "sb"})
        await h.call("hall.call_next", {"window": "6"})       # B003 at 6号 …
        await h.call("hall.no_show", {"window": "6"})         # … does not come
        await h.call("hall.call_next", {"window": "5"})       # B004 called …
        await h.call("hall.recall", {"window": "5"})          # … and again
        await h.call("hall.finish", {"window": "5"})          # the rating opens
        await h.call("hall.rate", {"window": "5", "score": 5})
        try:
            await until(lambda: len([n for n in told(gateway) if n["number"] == "B004"]) >= 4 and province.records)
        except AssertionError:
            raise AssertionError(("told", [(n["number"], n["notice"]) for n in told(gateway)],
                                  "province", province.requests)) from None
        await asyncio.sleep(0.3)  # anything more would arrive now
        return token

    try:
        token = run(tmp_path, body, hall)
        mine = [n for n in told(gateway) if n["token"] == token]
        assert [n["notice"] for n in mine] == ["soon", "call", "recall", "rate"], mine
        soon, call, recall, rate = mine
        assert soon["text"] == "B004号即将叫号：前面还有1人，请留意叫号" and soon["ahead"] == 1
        assert call["text"] == "请B004号到不动产登记 5号窗口办理" and call["window"] == "5"
        assert recall["text"] == "再次呼叫：请B004号到不动产登记 5号窗口办理"
        assert rate["text"] == "B004号已办结，请为本次服务评价"
        assert all(n["url"] is None and n["day"] == "2026-11-23" for n in mine)  # no [ui] public_url here
        b003 = [n for n in told(gateway) if n["number"] == "B003"]
        assert [n["notice"] for n in b003] == ["soon", "call", "soon", "call", "no_show"], b003
        assert b003[2]["text"] == "B003号已转到社保，即将叫号：前面还有1人，请留意叫号"
        assert b003[3]["window"] == "6" and b003[4]["text"].startswith("B003号已过号。")
        assert gateway.duplicates == 0
        assert province.records and all(body.get("kind") != "phone_notice" for body in province.records.values()), \
            "the province gets the rating, never a phone link"
    finally:
        gateway.down()
        province.down()


def test_a_restart_tells_nothing_twice(tmp_path):
    gateway = Province(NOTIFY_SECRET).up()
    hall = HALL + f'[hall.notify]\nurl = "{gateway.url}"\nsecret = "{NOTIFY_SECRET}"\nretry_s = 0.1\n'

    async def first(h):
        for _ in range(2):
            await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("hall.call_next", {"window": "5"})
        await until(lambda: len(told(gateway)) >= 3)

    async def again(h):
        await h.call("hall.issue_ticket", {"service": "bdc"})  # a change: every ticket's moment is looked at
        await until(lambda: len(told(gateway)) >= 4)
        await asyncio.sleep(0.3)

    try:
        run(tmp_path, first, hall)
        assert [n["notice"] for n in told(gateway)] == ["soon", "soon", "call"]
        run(tmp_path, again, hall)  # the same state dir and day: B001 still called, B002 still next
        assert [n["notice"] for n in told(gateway)] == ["soon", "soon", "call", "soon"]
        assert gateway.duplicates == 0
    finally:
        gateway.down()


def test_a_bad_notify_table_lists_every_problem(tmp_path):
    import pytest

    from hwd import config as configuration
    from hwd.errors import ConfigError

    text = HALL + '[hall.notify]\nurl = "ftp://gateway"\nalert_ahead = -1\n'
    with pytest.raises(ConfigError) as info:
        configuration.loads(text, tmp_path / "hwd.toml")
    problems = "\n".join(info.value.problems)
    for key in ("hall.notify.url", "hall.notify.alert_ahead"):
        assert f" {key}:" in problems, problems
    text = HALL + '[hall.notify]\nurl = "http://127.0.0.1:9/n"\n'
    with pytest.raises(ConfigError) as info:
        configuration.loads(text, tmp_path / "hwd.toml")
    assert "hall.notify.secret: notices are signed" in "\n".join(info.value.problems)
