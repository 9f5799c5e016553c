"""The hall engine in-process (real method table, event bus, SQLite, test clock): the rules a
kiosk and a counter meet, each with its error code and Chinese message."""

from __future__ import annotations

import asyncio

import pytest

from hwd import errors
from hwd.errors import HwdError
from hwd.hall.pin import hash_pin
from hall_helpers import HALL, EngineHarness, load_config


def run(tmp_path, body, hall: str = HALL, now: str = "2026-11-23T09:00:00"):
    """Run ``body(harness)`` against a started engine whose test clock is at ``now``."""
    async def main():
        h = await EngineHarness(load_config(tmp_path, hall, start=now)).start()
        try:
            await h.call("clock.set", {"now": now})
            return await body(h)
        finally:
            await h.stop()
    return asyncio.run(main())


async def refused(h, method, params, code):
    with pytest.raises(HwdError) as info:
        await h.call(method, params)
    assert info.value.code == code, info.value
    return info.value.message


def test_a_whole_day_without_staff(tmp_path):
    async def body(h):
        t1 = await h.call("hall.issue_ticket", {"service": "bdc"})
        t2 = await h.call("hall.issue_ticket", {"service": "bdc"})
        assert (t1["number"], t2["number"]) == ("B001", "B002")
        assert t2["waiting_ahead"] == 1 and t1["printed"] is False and t1["print_error"]
        called = await h.call("hall.call_next", {"window": "5"})
        assert called["number"] == "B001" and called["window"] == "5"
        await h.call("clock.advance", {"seconds": 60})
        assert (await h.call("hall.start", {"window": "5"}))["state"] == "serving"
        await h.call("clock.advance", {"seconds": 240})
        done = await h.call("hall.finish", {"window": "5"})
        assert done["state"] == "done" and done["rating_state"] == "pending"
        rating = await h.call("hall.rate", {"window": "5", "score": 5})
        assert rating["level"] == "非常满意" and rating["ticket"] == t1["id"] and not rating["bad"]
        [row] = await h.call("hall.stats", {"group_by": "service"})
        assert row["service"] == "bdc" and row["issued"] == 2 and row["served"] == 1
        assert row["mean_service_s"] == 240 and row["mean_wait_s"] == 0
        assert row["ratings"]["非常满意"] == 1 and row["rating_rate"] == 1.0
        assert [r["window"] for r in await h.call("hall.stats", {"group_by": "window"})] == ["5"]
        topics = h.topics()
        for topic in ("hall.ticket.issued", "hall.ticket.called", "hall.ticket.done", "hall.window.state",
                      "hall.rating.requested", "hall.rating"):
            assert topic in topics
        snap = await h.call("hall.state")
        assert snap["seq"] == h.bus.seq
        assert {q["service"]: q["waiting"] for q in snap["queues"]} == {"bdc": 1, "sb": 0}
        assert snap["recent_calls"][0]["number"] == "B001"
        csv_text = await h.call("hall.export", {"what": "stats"})
        assert csv_text.splitlines()[0].startswith("service,issued,called,served")
        assert "非常满意" in csv_text
    run(tmp_path, body)


def test_rule_violations_have_codes_and_chinese_messages(tmp_path):
    async def body(h):
        assert "业务" in await refused(h, "hall.issue_ticket", {"service": "nope"}, errors.UNKNOWN_SERVICE)
        for _ in range(3):
            await h.call("hall.issue_ticket", {"service": "sb"})
        assert await refused(h, "hall.issue_ticket", {"service": "sb"}, errors.QUOTA_REACHED) == "今日该业务号源已取完"
        await h.call("hall.pause", {"window": "6", "reason": "午休"})
        assert await refused(h, "hall.call_next", {"window": "6"}, errors.WINDOW_PAUSED) == "该窗口已暂停服务"
        assert (await h.call("hall.resume", {"window": "6"}))["state"] == "open"
        await refused(h, "hall.finish", {"window": "6"}, errors.NO_CURRENT_TICKET)
        await refused(h, "hall.call_next", {"window": "99"}, errors.UNKNOWN_WINDOW)
        await h.call("hall.call_next", {"window": "6"})
        await refused(h, "hall.call_next", {"window": "6"}, errors.BAD_STATE)
        await refused(h, "hall.issue_ticket", {"service": "sb", "kiosk": "k9"}, errors.UNKNOWN_KIOSK)
        # the next day the quota is fresh and numbers restart
        await h.call("clock.advance", {"seconds": 86400})
        assert (await h.call("hall.issue_ticket", {"service": "sb"}))["number"] == "A001"
    run(tmp_path, body)


HOURS_HALL = HALL.replace("always_open = true", 'early_minutes = 15\nsat = []\n')


def test_outside_hours_says_when_the_hall_opens(tmp_path):
    async def body(h):
        # Saturday 10:00: closed until Monday 08:45 (15 minutes early)
        message = await refused(h, "hall.issue_ticket", {"service": "bdc"}, errors.OUTSIDE_HOURS)
        assert "11月23日" in message and "08:45" in message, message
        await h.call("clock.set", {"now": "2026-11-23T08:50:00"})
        ticket = await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("clock.set", {"now": "2026-11-23T12:10:00"})
        message = await refused(h, "hall.issue_ticket", {"service": "bdc"}, errors.OUTSIDE_HOURS)
        assert "今天 12:45" in message
        # a ticket taken before closing is still served after closing
        await h.call("clock.set", {"now": "2026-11-23T17:40:00"})
        assert (await h.call("hall.call_next", {"window": "5"}))["id"] == ticket["id"]
    run(tmp_path, body, HOURS_HALL, now="2026-11-21T10:00:00")


def test_day_rollover_expires_unserved_and_restarts_numbering(tmp_path):
    async def body(h):
        a = await h.call("hall.issue_ticket", {"service": "bdc"})
        b = await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("hall.call_next", {"window": "5"})
        await h.call("clock.set", {"now": "2026-11-23T23:00:00"})
        assert (await h.call("hall.ticket", {"ticket": b["id"]}))["state"] == "waiting"
        await h.call("clock.set", {"now": "2026-11-23T23:31:00"})     # expire_at default 23:30
        assert (await h.call("hall.ticket", {"ticket": a["id"]}))["state"] == "expired"
        assert (await h.call("hall.ticket", {"ticket": b["id"]}))["state"] == "expired"
        assert "hall.day.rollover" in h.topics()
        snap = await h.call("hall.state")
        assert snap["windows"][0]["state"] == "open" and snap["windows"][0]["current"] is None
        await h.call("clock.set", {"now": "2026-11-24T09:00:00"})
        assert (await h.call("hall.issue_ticket", {"service": "bdc"}))["number"] == "B001"
        assert await h.call("hall.call_next", {"window": "5"}) is not None
        [row] = await h.call("hall.stats", {"from": "2026-11-23", "to": "2026-11-23", "group_by": "day"})
        assert row["expired"] == 2 and row["issued"] == 2
    run(tmp_path, body)


def test_rating_timeout_is_unrated_and_one_rating_per_ticket(tmp_path):
    async def body(h):
        for _ in range(2):
            await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("hall.call_next", {"window": "5"})
        first = await h.call("hall.finish", {"window": "5"})
        await h.call("clock.advance", {"seconds": 31})
        assert (await h.call("hall.ticket", {"ticket": first["id"]}))["rating_state"] == "unrated"
        await refused(h, "hall.rate", {"window": "5", "score": 4}, errors.NO_CURRENT_TICKET)
        assert "hall.rating.unrated" in h.topics()
        await h.call("hall.call_next", {"window": "5"})
        await h.call("hall.finish", {"window": "5"})
        bad = await h.call("hall.rate", {"window": "5", "score": 1, "reason": "态度差"})
        assert bad["bad"] and bad["level"] == "非常不满意" and bad["followup_state"] == "open"
        assert bad["followup_due"] == "2026-11-30"     # 5 working days after Monday 23rd
        await refused(h, "hall.rate", {"window": "5", "score": 5}, errors.ALREADY_RATED)
        assert [r["id"] for r in await h.call("hall.ratings", {"bad": True, "open": True})] == [bad["id"]]
        handled = await h.call("hall.followup", {"rating": bad["id"], "note": "已电话回访致歉", "staff": "s1"})
        assert handled["followup_state"] == "done"
        assert await h.call("hall.ratings", {"bad": True, "open": True}) == []
        [row] = await h.call("hall.stats", {"group_by": "window"})
        assert row["served"] == 2 and row["rated"] == 1 and row["unrated"] == 1 and row["rating_rate"] == 0.5
        assert row["ratings"]["非常不满意"] == 1 and sum(row["ratings"].values()) == 1
    run(tmp_path, body)


STAFF_HALL = HALL + f'''
[[hall.staff]]
id = "s1"
name = "张三"
pin_hash = "{hash_pin('1234')}"
windows = ["5"]
[[hall.staff]]
id = "s2"
name = "李四"
'''


def test_staff_login_pin_and_takeover(tmp_path):
    async def body(h):
        await h.call("hall.issue_ticket", {"service": "bdc"})
        assert await refused(h, "hall.call_next", {"window": "5"}, errors.NOT_LOGGED_IN) == "请先登录窗口"
        await refused(h, "hall.login", {"window": "5", "staff": "s1", "pin": "0000"}, errors.LOGIN_FAILED)
        await refused(h, "hall.login", {"window": "5", "staff": "s1"}, errors.LOGIN_FAILED)
        await refused(h, "hall.login", {"window": "6", "staff": "s1", "pin": "1234"}, errors.LOGIN_FAILED)
        window = await h.call("hall.login", {"window": "5", "staff": "s1", "pin": "1234"})
        assert window["state"] == "open" and window["staff_name"] == "张三"
        called = await h.call("hall.call_next", {"window": "5"})
        assert called["staff"] == "s1"
        # AB岗: B takes over the window with its current ticket
        window = await h.call("hall.login", {"window": "5", "staff": "s2"})
        assert window["staff"] == "s2" and window["current"] == called["number"]
        assert (await h.call("hall.finish", {"window": "5"}))["staff"] == "s2"
        await refused(h, "hall.logout", {"window": "5", "staff": "s1"}, errors.NOT_LOGGED_IN)
        assert (await h.call("hall.logout", {"window": "5", "staff": "s2"}))["state"] == "closed"
        [row] = await h.call("hall.stats", {"group_by": "staff"})
        assert row["staff"] == "s2" and row["served"] == 1
    run(tmp_path, body, STAFF_HALL)


def test_card_age_gives_priority_and_fairness_bounds_it(tmp_path):
    from drivers.idcard.tokens import TokenStore

    reader = '[[device]]\nid = "r1"\nkind = "idcard"\ndriver = "sam"\nurl = "sim://r1"\n'
    hall = reader + HALL + '[[hall.kiosk]]\nid = "k1"\nidcard = "r1"\n'

    async def body(h):
        tokens = TokenStore()
        h.manager.extras["card_tokens"] = tokens
        old_card = {"name": "王老五", "birth": "1950-01-02", "id_number": "110101195001020017"}
        young = tokens.issue({"name": "赵六", "birth": "1990-05-06", "id_number": "110101199005060014"}, device="r1")
        n1 = await h.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1", "card_token": young})
        assert n1["priority"] == "normal" and n1["holder"] == "赵*"
        elderly = []
        for _ in range(4):  # the card placed again each time: a token issues one ticket
            await h.call("clock.advance", {"seconds": 10})
            elderly.append(await h.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1",
                                                              "card_token": tokens.issue(old_card, device="r1")}))
        assert {t["priority"] for t in elderly} == {"elderly"}
        assert all("110101" not in str(e) for _, e in h.events), "no ID number on the bus"
        assert all("holder" not in e for _, e in h.events)
        await refused(h, "hall.issue_ticket", {"service": "bdc", "kiosk": "k1", "card_token": "gone"},
                      errors.CARD_TOKEN_EXPIRED)
        order = []
        for _ in range(5):
            t = await h.call("hall.call_next", {"window": "5"})
            order.append(t["number"])
            await h.call("hall.finish", {"window": "5"})
        # default fairness 3: three elderly overtake, then the waiting normal ticket goes
        assert order == ["B002", "B003", "B004", "B001", "B005"]
        # staff may raise a waiting ticket's class (e.g. a wheelchair user seen at the desk)
        a = await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("clock.advance", {"seconds": 10})
        b = await h.call("hall.issue_ticket", {"service": "bdc"})
        assert (await h.call("hall.prioritize", {"ticket": b["number"], "priority": "disabled"}))["priority"] == "disabled"
        assert (await h.call("hall.call_next", {"window": "5"}))["id"] == b["id"]
        await refused(h, "hall.prioritize", {"ticket": b["id"], "priority": "normal"}, errors.BAD_STATE)
        assert a["priority"] == "normal"
    run(tmp_path, body, hall)


def test_transfer_keeps_place_and_no_show_rule(tmp_path):
    hall = HALL + "[hall.no_show]\nmin_recalls = 1\nrequeue_after = 1\n"

    async def body(h):
        early = await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("clock.advance", {"seconds": 60})
        later = []
        for _ in range(2):
            await h.call("clock.advance", {"seconds": 10})
            later.append(await h.call("hall.issue_ticket", {"service": "sb"}))
        await h.call("hall.call_next", {"window": "5"})
        moved = await h.call("hall.transfer", {"window": "5", "service": "sb"})
        assert moved["number"] == early["number"] and moved["origin_service"] == "bdc"
        # window 6 serves sb only: the transferred ticket is first by its issue time
        assert (await h.call("hall.call_next", {"window": "6"}))["id"] == early["id"]
        await refused(h, "hall.no_show", {"window": "6"}, errors.BAD_STATE)
        await h.call("hall.recall", {"window": "6"})
        requeued = await h.call("hall.no_show", {"window": "6"})
        assert requeued["state"] == "waiting"
        assert (await h.call("hall.call_next", {"window": "6"}))["id"] == later[0]["id"]
        await h.call("hall.finish", {"window": "6"})
        assert (await h.call("hall.call_next", {"window": "6"}))["id"] == early["id"]
        await h.call("hall.recall", {"window": "6"})
        assert (await h.call("hall.no_show", {"window": "6"}))["state"] == "no_show"
    run(tmp_path, body, hall)


def test_concurrent_issues_are_unique_and_gap_free(tmp_path):
    async def body(h):
        tickets = await asyncio.gather(*(h.call("hall.issue_ticket", {"service": "bdc"}) for _ in range(60)))
        assert sorted(t["number"] for t in tickets) == [f"B{i:03d}" for i in range(1, 61)]
    run(tmp_path, body)


def test_appointment_checkin(tmp_path):
    async def body(h):
        appt = await h.call("hall.book", {"service": "bdc", "slot": "2026-11-23T10:00:00", "code": "Q7"})
        await h.call("hall.issue_ticket", {"service": "bdc"})
        await refused(h, "hall.checkin", {"code": "nope"}, errors.UNKNOWN_APPOINTMENT)
        await h.call("clock.set", {"now": "2026-11-23T09:45:00"})
        ticket = await h.call("hall.checkin", {"code": appt["code"]})
        assert ticket["priority"] == "appointment" and ticket["appointment"] == "Q7"
        again = await h.call("hall.issue_ticket", {"service": "bdc", "appointment": "Q7"})
        assert again["id"] == ticket["id"], "checking in twice gives the same ticket"
        assert (await h.call("hall.call_next", {"window": "5"}))["id"] == ticket["id"]
    run(tmp_path, body)


def test_bad_hall_configs_are_listed(tmp_path):
    from hwd.errors import ConfigError
    bad = HALL.replace('services = ["sb"]', 'services = ["sb", "xx"]').replace('prefix = "A"', 'prefix = "B"') \
        .replace("always_open = true", 'always_open = true\nmon = ["17:00-09:00"]')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, bad)
    text = "\n".join(info.value.problems)
    assert "unknown service 'xx'" in text and "already used" in text and "ends before it starts" in text


def test_stats_waits_p90_and_hours(tmp_path):
    async def body(h):
        # ten tickets at 09:00; the n-th is called after n minutes, served 2 minutes each
        for _ in range(10):
            await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("clock.set", {"now": "2026-11-23T10:30:00"})
        late = await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("clock.set", {"now": "2026-11-23T09:00:00"})
        for n in range(1, 11):
            await h.call("clock.set", {"now": f"2026-11-23T09:{n:02d}:00"})
            await h.call("hall.call_next", {"window": "5"})
            await h.call("clock.advance", {"seconds": 30})
            await h.call("hall.start", {"window": "5"})
            await h.call("clock.advance", {"seconds": 120})
            await h.call("hall.finish", {"window": "5"})
        rows = await h.call("hall.stats", {"group_by": "hour", "from": "2026-11-23", "to": "2026-11-23"})
        nine, ten = rows
        assert (nine["hour"], nine["issued"], nine["served"]) == ("09", 10, 10)
        assert nine["mean_wait_s"] == 330.0 and nine["p90_wait_s"] == 540.0   # waits 60..600 s
        assert nine["mean_service_s"] == 120.0
        assert (ten["hour"], ten["issued"], ten["waiting"], ten["mean_wait_s"]) == ("10", 1, 1, None)
        assert (await h.call("hall.stats", {"from": "2026-11-24", "to": "2026-11-24"})) == []
        tickets = await h.call("hall.export", {"what": "tickets", "from": "2026-11-23"})
        assert len(tickets.splitlines()) == 12 and late["number"] in tickets
    run(tmp_path, body)


def test_24_hour_hall_numbers_never_repeat_among_waiting_tickets(tmp_path):
    async def body(h):
        first = await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("clock.set", {"now": "2026-11-23T23:40:00"})     # after expire_at 23:30
        night = await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("clock.set", {"now": "2026-11-24T00:10:00"})
        morning = await h.call("hall.issue_ticket", {"service": "bdc"})
        assert (first["day"], first["number"]) == ("2026-11-23", "B001")
        assert (night["day"], night["number"]) == ("2026-11-24", "B001")
        assert (morning["day"], morning["number"]) == ("2026-11-24", "B002")
        waiting = await h.call("hall.tickets", {"state": "waiting"})
        assert [t["number"] for t in waiting] == ["B001", "B002"]
        assert (await h.call("hall.ticket", {"ticket": first["id"]}))["state"] == "expired"
    run(tmp_path, body, now="2026-11-23T10:00:00")


def test_a_ticket_records_the_request_that_issued_it_and_a_cut_off_retry_gets_it(tmp_path):
    """The RPC layer hands the request key to ``hall.issue_ticket`` (no context variable): the
    ticket row keeps it, and the method's ``recover`` hook finds that ticket for a retry whose
    first reply a crash cut off."""
    import json

    from hwd.replay import request_key
    from hwd.rpc import RpcServer

    async def body(h):
        server = RpcServer(None, h.methods)
        request = {"jsonrpc": "2.0", "id": 7, "client": "kiosk-1", "method": "hall.issue_ticket",
                   "params": {"service": "bdc"}}
        reply = json.loads(await server.handle(json.dumps(request).encode()))
        ticket = reply["result"]
        key = request_key("kiosk-1", 7)
        row = h.engine.store.one("SELECT request_key FROM tickets WHERE id = ?", (ticket["id"],))
        assert row["request_key"] == key
        recovered = h.methods.methods["hall.issue_ticket"].recover(key)
        assert (recovered["id"], recovered["number"]) == (ticket["id"], ticket["number"])
        assert h.methods.methods["hall.issue_ticket"].recover(request_key("kiosk-1", 8)) is None
        plain = await h.call("hall.issue_ticket", {"service": "bdc"})  # in-process: no request key
        assert h.engine.store.one("SELECT request_key FROM tickets WHERE id = ?", (plain["id"],))["request_key"] is None
    run(tmp_path, body)
