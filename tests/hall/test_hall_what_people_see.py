"""What the engine tells citizens (issue 14): every call names its window, a priority ticket's
real place in the queue, a used appointment code, digit codes, and one no-show rule.

In-process engine (real method table, bus, SQLite, test clock set before each test)."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from hwd import errors
from hwd.hall.queue import selection
from hall_helpers import HALL, load_config
from test_hall_engine import refused, run


def test_recent_calls_keep_their_window_after_no_show_and_transfer(tmp_path):
    hall = HALL + "[hall.no_show]\nrequeue_after = 1\n"

    async def body(h):
        first = await h.call("hall.issue_ticket", {"service": "bdc"})
        other = await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("hall.call_next", {"window": "5"})
        await h.call("hall.no_show", {"window": "5"})        # first no-show: requeued, no window of its own
        latest = (await h.call("hall.state"))["recent_calls"][0]
        assert latest["number"] == first["number"]
        assert (latest["window"], latest["window_name"]) == ("5", "不动产登记 5号窗口")
        await h.call("clock.advance", {"seconds": 5})
        called = await h.call("hall.call_next", {"window": "5"})
        assert called["number"] == other["number"]
        await h.call("hall.transfer", {"window": "5", "service": "sb"})   # waiting again, at no window
        calls = (await h.call("hall.state"))["recent_calls"]
        assert [(c["number"], c["window_name"]) for c in calls] == [
            (other["number"], "不动产登记 5号窗口"), (first["number"], "不动产登记 5号窗口")]
        await h.call("clock.advance", {"seconds": 5})
        again = await h.call("hall.call_next", {"window": "6"})          # the transferred ticket, at 6
        assert again["number"] == other["number"]
        latest = (await h.call("hall.state"))["recent_calls"][0]
        assert (latest["number"], latest["window_name"]) == (other["number"], "社保 6号窗口")
        assert all(c["window_name"] for c in (await h.call("hall.state"))["recent_calls"])
    run(tmp_path, body, hall)


def test_an_elderly_ticket_called_next_shows_nobody_ahead_and_says_priority(tmp_path):
    from drivers.idcard.tokens import TokenStore

    async def body(h):
        tokens = TokenStore()
        h.manager.extras["card_tokens"] = tokens
        for _ in range(2):
            await h.call("hall.issue_ticket", {"service": "bdc"})
            await h.call("clock.advance", {"seconds": 10})
        old = tokens.issue({"name": "王老五", "birth": "1950-01-02", "id_number": "110101195001020017"}, device="r1")
        elderly = await h.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1", "card_token": old})
        assert elderly["priority"] == "elderly"
        assert elderly["waiting_ahead"] == 0, "called next, so nobody is ahead"
        assert (await h.call("hall.ticket", {"ticket": elderly["id"]}))["waiting_ahead"] == 0
        later = await h.call("hall.issue_ticket", {"service": "bdc"})
        assert later["waiting_ahead"] == 3
        assert (await h.call("hall.call_next", {"window": "5"}))["id"] == elderly["id"]
    reader = '[[device]]\nid = "r1"\nkind = "idcard"\ndriver = "sam"\nurl = "sim://r1"\n'
    run(tmp_path, body, reader + HALL + '[[hall.kiosk]]\nid = "k1"\nidcard = "r1"\n')


@settings(max_examples=60, deadline=None)
@given(classes=st.lists(st.booleans(), min_size=1, max_size=14), streak=st.integers(0, 3),
       fairness=st.integers(1, 3))
def test_the_count_ahead_is_the_order_the_rules_call(classes, streak, fairness):
    """One window, one service: calling again and again by ``pick`` reaches each ticket after
    exactly ``ahead`` other calls (the whole hall's version: test_hall_prediction.py)."""
    tickets = [selection.Ticket(i, "a", "elderly" if p else "normal", float(i)) for i, p in enumerate(classes)]
    s = min(streak, fairness)
    expected = {t: p.ahead for t, p in selection.places([selection.Caller("1", ("a",), None, s)], tickets,
                                                        fairness).items()}
    waiting, order = list(tickets), []
    while waiting:
        heads: dict = {}
        for t in waiting:
            heads.setdefault("a", {}).setdefault(t.cls, t)
        caller = selection.Caller("1", ("a",), None, s)
        picked = selection.pick(caller, heads, fairness)
        s = selection.next_streak(s, picked, selection.normal_waiting(caller, heads))
        waiting.remove(picked)
        order.append(picked.id)
    assert {t: order.index(t) for t in range(len(tickets))} == expected


def test_a_used_appointment_code_says_what_happened(tmp_path):
    async def body(h):
        await h.call("clock.set", {"now": "2026-11-23T09:50:00"})
        await h.call("hall.book", {"service": "bdc", "slot": "2026-11-23T10:00:00", "code": "55001"})
        ticket = await h.call("hall.checkin", {"code": "55001"})
        h.events.clear()
        again = await h.call("hall.checkin", {"code": "55001"})
        assert again["id"] == ticket["id"] and again["checked_in"] is True
        assert [e for t, e in h.events if t == "hall.checkin"][0]["ticket"] == ticket["id"], \
            "a re-scan is announced, so the kiosk shows the ticket"
        await h.call("hall.call_next", {"window": "5"})
        await h.call("hall.finish", {"window": "5"})
        message = await refused(h, "hall.checkin", {"code": "55001"}, errors.APPOINTMENT_USED)
        assert ticket["number"] in message and "已办结" in message and "09:50" in message
    run(tmp_path, body)


def test_generated_appointment_codes_use_the_configured_alphabet(tmp_path):
    async def body(h):
        codes = [(await h.call("hall.book", {"service": "bdc", "slot": "2026-11-23T10:00:00"}))["code"]
                 for _ in range(20)]
        return codes
    codes = run(tmp_path / "digits", body)
    assert all(c.isdigit() and len(c) == 8 for c in codes), codes
    hall = HALL + '[hall.appointments]\ncode_alphabet = "ABC123"\ncode_length = 6\n'
    codes = run(tmp_path / "letters", body, hall)
    assert all(len(c) == 6 and set(c) <= set("ABC123") for c in codes), codes


def test_one_no_show_rule_said_from_the_requeue_rule(tmp_path):
    from hwd.hall.config import no_show_rule

    def text(extra: str, name: str) -> str:
        return load_config(tmp_path / name, HALL + extra).hall.no_show_text
    assert text("", "default") == no_show_rule(0) == "过号请重新取号"
    requeue = text("[hall.no_show]\nrequeue_after = 3\n", "requeue")
    assert "顺延3位" in requeue and "重新排队" in requeue
    own = text('[hall.no_show]\nrequeue_after = 3\nnotice = "过号请到服务台咨询"\n', "own")
    assert own == "过号请到服务台咨询"
