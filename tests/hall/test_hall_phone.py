"""The phone's view of a ticket (issue 18): ``hall.phone_board`` and ``hall.phone_view`` by the
ticket's token, the token itself (no ticket id, today only), the ticket QR that opens the page,
and rating by phone sharing 一次一评 with the window's keypad/pad.

In-process engine (real method table, bus, SQLite, test clock set before each test)."""

from __future__ import annotations

from hwd import errors
from hall_helpers import HALL
from test_hall_engine import refused, run

PRIORITY = HALL + "[hall.priority]\nfairness = 2\n"


async def token_of(h, ticket: dict) -> str:
    return (await h.call("hall.ticket_token", {"ticket": ticket["id"]}))["token"]


def test_the_board_is_each_tickets_own_view_by_token(tmp_path):
    async def body(h):
        tickets = []
        for _ in range(4):
            tickets.append(await h.call("hall.issue_ticket", {"service": "bdc"}))
            await h.call("clock.advance", {"seconds": 30})
        await h.call("hall.prioritize", {"ticket": tickets[3]["id"], "priority": "elderly"})
        tokens = [await token_of(h, t) for t in tickets]
        for t, token in zip(tickets, tokens):
            assert len(token) == 22
            assert "." not in token, "no ticket id in clear"
        board = await h.call("hall.phone_board")
        assert set(board["tickets"]) == set(tokens)
        views = [board["tickets"][tok] for tok in tokens]
        for t, view in zip(tickets, views):
            assert view["ahead"] == (await h.call("hall.ticket", {"ticket": t["id"]}))["waiting_ahead"]
            assert "id" not in view and "holder" not in view
        assert views[3]["ahead"] == 0 and views[3]["priority"] and views[3]["priority_text"] == "优先办理"
        assert [v["ahead"] for v in views[:3]] == [1, 2, 3]
        assert board["service_windows"]["bdc"] == ["不动产登记 5号窗口"]

        await h.call("hall.call_next", {"window": "5"})      # the elderly ticket
        await h.call("hall.recall", {"window": "5"})
        called = (await h.call("hall.phone_view", {"token": tokens[3]}))["ticket"]
        assert (called["state"], called["window"], called["window_name"], called["recalls"]) == \
            ("called", "5", "不动产登记 5号窗口", 1)
        assert (await h.call("hall.phone_view", {"token": tokens[0]}))["ticket"]["ahead"] == 0
        await h.call("hall.finish", {"window": "5"})
        done = (await h.call("hall.phone_view", {"token": tokens[3]}))["ticket"]
        assert (done["state"], done["rating"]) == ("done", "pending") and done["rating_deadline"]
        await refused(h, "hall.phone_view", {"token": tokens[3][:-1] + ("A" if tokens[3][-1] != "A" else "B")},
                      errors.BAD_RATING_TOKEN)
        await refused(h, "hall.phone_view", {"token": "x" * 500}, errors.BAD_RATING_TOKEN)
    run(tmp_path, body, PRIORITY)


def test_a_phone_rates_once_and_the_keypad_cannot_rate_again(tmp_path):
    async def body(h):
        t = await h.call("hall.issue_ticket", {"service": "bdc"})
        token = await token_of(h, t)
        await refused(h, "hall.rate", {"token": token, "score": 5}, errors.NO_CURRENT_TICKET)  # not served yet
        await h.call("hall.call_next", {"window": "5"})
        await h.call("hall.finish", {"window": "5"})
        rating = await h.call("hall.rate", {"token": token, "score": 2})
        assert rating["channel"] == "phone" and rating["channel_name"] == "二维码" and rating["bad"]
        await refused(h, "hall.rate", {"window": "5", "score": 5}, errors.ALREADY_RATED)
        await refused(h, "hall.rate", {"token": token, "score": 4}, errors.ALREADY_RATED)
        assert (await h.call("hall.phone_view", {"token": token}))["ticket"]["rating"] == "rated"
    run(tmp_path, body)


def test_a_token_says_its_end_the_day_after_and_expires_then(tmp_path):
    async def body(h):
        t = await h.call("hall.issue_ticket", {"service": "bdc"})
        token = await token_of(h, t)
        view = await h.call("hall.phone_view", {"token": token})
        assert view["ticket"]["state"] == "waiting" and view["service_windows"]["bdc"] == ["不动产登记 5号窗口"]
        await h.call("clock.advance", {"seconds": 86400})
        ended = await h.call("hall.phone_view", {"token": token})       # its own end, not 链接无效
        assert ended["ticket"]["state"] == "expired" and ended["day"] == "2026-11-24"
        assert (await h.call("hall.phone_board"))["tickets"][token]["state"] == "expired"
        await refused(h, "hall.cancel", {"token": token}, errors.BAD_STATE)
        await h.call("clock.advance", {"seconds": 86400})
        await refused(h, "hall.phone_view", {"token": token}, errors.BAD_RATING_TOKEN)
        assert token not in (await h.call("hall.phone_board"))["tickets"]
    run(tmp_path, body)


def test_a_phone_rates_in_its_own_window_after_the_pads(tmp_path):
    """The pad's rating_timeout_s (30 s here) is over: the pad and keypad may not rate, the phone
    may, for phone_rating_timeout_s (24 h by default) after finish, across the day's end."""
    async def body(h):
        first = await h.call("hall.issue_ticket", {"service": "bdc"})
        second = await h.call("hall.issue_ticket", {"service": "bdc"})
        tokens = [await token_of(h, t) for t in (first, second)]
        for _ in range(2):
            await h.call("hall.call_next", {"window": "5"})
            await h.call("hall.finish", {"window": "5"})
        await h.call("clock.advance", {"seconds": 120})
        await refused(h, "hall.rate", {"window": "5", "score": 5}, errors.NO_CURRENT_TICKET)
        late = (await h.call("hall.phone_view", {"token": tokens[1]}))["ticket"]
        assert late["rating"] == "unrated" and late["can_rate"] and late["rate_until"].startswith("2026-11-24T09:0")
        rating = await h.call("hall.rate", {"token": tokens[1], "score": 4})
        assert rating["channel"] == "phone" and rating["score"] == 4
        await h.call("clock.set", {"now": "2026-11-24T08:00:00"})        # the next business day
        assert (await h.call("hall.phone_view", {"token": tokens[0]}))["ticket"]["can_rate"]
        await h.call("clock.set", {"now": "2026-11-24T09:30:00"})        # 24 h after finish
        assert "can_rate" not in (await h.call("hall.phone_view", {"token": tokens[0]}))["ticket"]
        await refused(h, "hall.rate", {"token": tokens[0], "score": 5}, errors.NO_CURRENT_TICKET)
    run(tmp_path, body)


def test_a_phone_leaves_the_queue_with_its_own_token_only_while_waiting(tmp_path):
    async def body(h):
        mine = await h.call("hall.issue_ticket", {"service": "bdc"})
        other = await h.call("hall.issue_ticket", {"service": "bdc"})
        token = await token_of(h, mine)
        assert (await h.call("hall.ticket", {"ticket": other["id"]}))["waiting_ahead"] == 1
        h.events.clear()
        gone = await h.call("hall.cancel", {"token": token})
        assert gone["id"] == mine["id"] and gone["state"] == "cancelled"
        assert [t for t, _ in h.events] == ["hall.ticket.cancelled"]
        assert (await h.call("hall.ticket", {"ticket": other["id"]}))["waiting_ahead"] == 0
        assert (await h.call("hall.phone_view", {"token": token}))["ticket"]["state"] == "cancelled"
        await refused(h, "hall.cancel", {"token": token}, errors.BAD_STATE)
        assert (await h.call("hall.call_next", {"window": "5"}))["id"] == other["id"]
        await refused(h, "hall.cancel", {"token": await token_of(h, other)}, errors.BAD_STATE)  # called
        await refused(h, "hall.cancel", {"token": "A" * 22}, errors.BAD_RATING_TOKEN)
    run(tmp_path, body)


def test_after_the_days_hours_the_phone_never_says_soon(tmp_path):
    """A hall closing at 17:00 with tickets still waiting (issue 24 §4)."""
    hall = HALL.replace("always_open = true", 'always_open = false\nmon = ["09:00-17:00"]\nofficial_calendar = false')

    async def body(h):
        t = await h.call("hall.issue_ticket", {"service": "bdc"})
        token = await token_of(h, t)
        assert "after_hours" not in (await h.call("hall.phone_view", {"token": token}))["ticket"]
        await h.call("clock.set", {"now": "2026-11-23T17:10:00"})
        view = (await h.call("hall.phone_view", {"token": token}))["ticket"]
        assert view["after_hours"] and view["calling"], "window 5 is still open: still called"
        await h.call("hall.pause", {"window": "5"})
        view = (await h.call("hall.phone_view", {"token": token}))["ticket"]
        assert view["after_hours"] and not view["calling"]
    run(tmp_path, body, hall, now="2026-11-23T16:00:00")


def test_the_ticket_qr_opens_the_phone_page_once_public_url_is_set(tmp_path):
    hall = HALL + '\n[ui]\npublic_url = "http://10.1.2.3:8081/"\n'

    async def body(h):
        t = await h.call("hall.issue_ticket", {"service": "bdc"})
        token = await token_of(h, t)
        assert t["qr"] == f"http://10.1.2.3:8081/t/{token}"
        assert (await h.call("hall.ticket_token", {"ticket": t["id"]}))["url"] == t["qr"]
    run(tmp_path, body, hall)

    async def default(h):
        t = await h.call("hall.issue_ticket", {"service": "bdc"})
        assert t["qr"] == f"HWD-TICKET:{t['day']}:{t['number']}:{t['id']}"
    run(tmp_path / "plain", default)


def test_transfer_requeue_and_no_show_reach_the_phone_view(tmp_path):
    hall = HALL + "[hall.no_show]\nrequeue_after = 1\n"

    async def body(h):
        t = await h.call("hall.issue_ticket", {"service": "bdc"})
        token = await token_of(h, t)
        await h.call("hall.call_next", {"window": "5"})
        await h.call("hall.transfer", {"window": "5", "service": "sb"})
        moved = (await h.call("hall.phone_view", {"token": token}))["ticket"]
        assert (moved["state"], moved["service"], moved["from_service_name"], moved["window"]) == \
            ("waiting", "sb", "不动产登记", None)
        await h.call("hall.call_next", {"window": "6"})
        await h.call("hall.no_show", {"window": "6"})        # first no-show: requeued
        again = (await h.call("hall.phone_view", {"token": token}))["ticket"]
        assert again["state"] == "waiting" and again["requeued"] and again["ahead"] == 0
        await h.call("hall.call_next", {"window": "6"})
        await h.call("hall.no_show", {"window": "6"})
        assert (await h.call("hall.phone_view", {"token": token}))["ticket"]["state"] == "no_show"
    run(tmp_path, body, hall)


def test_a_board_since_an_earlier_one_carries_only_what_changed(tmp_path):
    async def body(h):
        for service in ("bdc", "bdc", "sb", "sb"):
            await h.call("hall.issue_ticket", {"service": service})
        first = await h.call("hall.phone_board")
        assert first["full"] and len(first["tickets"]) == 4
        same = await h.call("hall.phone_board", {"since": first["version"]})
        assert not same["full"] and same["tickets"] == {} and same["version"] == first["version"]
        await h.call("hall.call_next", {"window": "6"})         # the sb queue moves, bdc does not
        delta = await h.call("hall.phone_board", {"since": first["version"]})
        full = await h.call("hall.phone_board")
        assert not delta["full"] and len(delta["tickets"]) == 2 and delta["removed"] == []
        merged = {**first["tickets"], **delta["tickets"]}
        assert merged == full["tickets"], "an old board plus the changes is the new board"
        assert (await h.call("hall.phone_board", {"since": "elsewhere:1"}))["full"]
        await h.call("clock.advance", {"seconds": 86400})        # a new day: every old token is gone
        assert (await h.call("hall.phone_board", {"since": full["version"]}))["full"]
    run(tmp_path, body)
