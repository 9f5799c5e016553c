"""Issue 13 item 1: ratings cannot be forged. Attacked as the issue did it, against the real
hwd and the real hwd-ui over loopback: a script on the LAN (127.0.0.9) rates through ``/rate/1``
a ticket that window 5 has just finished, with and without a pad of its own; the ticket id is
not on the anonymous ``/live`` stream; phones need the ticket's own token; ``hall.rate`` over
the local RPC socket works as before.
"""

from __future__ import annotations

import json

import pytest

from hwd import errors
from hwd.client import RpcError
from security_helpers import Browser, hall, read_for, sse_open
from support.ui import UiProcess

UI = '\n[ui]\nrpc_timeout_s = 3.0\n'


@pytest.fixture
def site(hwd_daemon):
    d = hwd_daemon(hall() + UI)
    ui = UiProcess(d.config_path)
    yield d, ui
    ui.stop()


def _finish_one(d, window: str) -> dict:
    ticket = d.call("hall.issue_ticket", {"service": "s0"})
    d.call("hall.call_next", {"window": window})
    d.call("hall.finish", {"window": window})
    return ticket


def _pad_cookie(browser: Browser, pad: dict) -> None:
    browser.cookies["hwd_pad"] = f"{pad['secret']}.{pad['pad']}"


def test_a_script_cannot_rate_what_another_window_finished(site):
    d, ui = site
    pad5 = d.call("hall.pad.enroll", {"window": "w5"})
    pad1 = d.call("hall.pad.enroll", {"window": "w1"})
    stream = sse_open(ui.port, "/live?topic=hall.rating", "127.0.0.9")
    read_for(stream, 0.5)
    ticket = _finish_one(d, "w5")
    seen = read_for(stream, 1.5).decode()
    stream.close()
    assert "hall.rating.requested" in seen
    event = json.loads(next(line[6:] for line in seen.splitlines() if line.startswith("data: {")
                            and "rating.requested" in line))
    assert "ticket" not in event and event["window"] == "w5"

    script = Browser(ui, "127.0.0.9")
    # 1. no pad at all: /rate/1 with window 5's ticket, as the issue's script did
    status, body = script.post_json("/rate/w1/api/rate", {"score": 1, "ticket": ticket["id"]})
    assert status == 403 and body["code"] == errors.UNKNOWN_PAD
    # 2. a made-up pad and secret
    script.cookies["hwd_pad"] = "guess.pad-w5-000000"
    status, body = script.post_json("/rate/w5/api/rate", {"score": 1})
    assert status == 403 and body["code"] == errors.UNKNOWN_PAD
    # 3. window 1's real pad (stolen) sent to window 5's page, and to its own page for w5's ticket
    _pad_cookie(script, pad1)
    status, body = script.post_json("/rate/w5/api/rate", {"score": 1})
    assert status == 403 and body["code"] == errors.RATING_CHANNEL_REFUSED
    status, body = script.post_json("/rate/w1/api/rate", {"score": 1, "ticket": ticket["id"]})
    assert status in (403, 409) and body["code"] in (errors.RATING_CHANNEL_REFUSED, errors.NO_CURRENT_TICKET)
    # 4. straight at hwd with window 1's pad: refused too
    with pytest.raises(RpcError) as exc:
        d.call("hall.rate", {"score": 1, "pad": pad1["pad"], "secret": pad1["secret"], "window": "w5"})
    assert exc.value.code == errors.RATING_CHANNEL_REFUSED
    assert d.call("hall.ticket", {"ticket": ticket["id"]})["rating_state"] == "pending"

    # the citizen's own rating page at window 5 is accepted, for that ticket only
    citizen = Browser(ui, "127.0.0.5")
    _pad_cookie(citizen, pad5)
    status, body = citizen.post_json("/rate/w5/api/rate", {"score": 5})
    assert status == 200 and body["rating"]["ticket"] == ticket["id"] and body["rating"]["score"] == 5
    assert body["rating"]["channel"] == "pad"


def test_a_re_enrolled_window_refuses_the_old_pad(site):
    d, _ = site
    old = d.call("hall.pad.enroll", {"window": "w5"})
    new = d.call("hall.pad.enroll", {"window": "w5"})
    _finish_one(d, "w5")
    with pytest.raises(RpcError) as exc:
        d.call("hall.rate", {"score": 2, "pad": old["pad"], "secret": old["secret"], "window": "w5"})
    assert exc.value.code == errors.UNKNOWN_PAD
    assert d.call("hall.rate", {"score": 4, "pad": new["pad"], "secret": new["secret"], "window": "w5"})["score"] == 4
    assert [p["pad"] for p in d.call("hall.pad.list")] == [new["pad"]]


def test_a_pad_rates_only_within_the_timeout(hwd_daemon):
    d = hwd_daemon(hall(hall_extra="").replace("rating_timeout_s = 600", "rating_timeout_s = 1"))
    pad = d.call("hall.pad.enroll", {"window": "w5"})
    _finish_one(d, "w5")
    from support.waits import wait_for
    wait_for(lambda: d.call("hall.tickets", {"day": d.call("hall.state")["day"]})[0]["rating_state"] == "unrated",
             timeout=10, what="the rating timed out")
    with pytest.raises(RpcError) as exc:
        d.call("hall.rate", {"score": 1, "pad": pad["pad"], "secret": pad["secret"], "window": "w5"})
    assert exc.value.code == errors.NO_CURRENT_TICKET


def test_phone_ratings_need_the_tickets_own_token(hwd_daemon):
    d = hwd_daemon(hall())
    first = _finish_one(d, "w5")
    second = _finish_one(d, "w1")
    token = d.call("hall.ticket_token", {"ticket": first["id"]})["token"]
    other = d.call("hall.ticket_token", {"ticket": second["id"]})["token"]
    assert len(token) == 22 and "." not in token and token != other, "an HMAC only: no ticket id in clear"
    forged = [f"{first['id']}.{'A' * 22}", "A" * 22, token[:-1] + ("B" if token[-1] == "A" else "A"), "x",
              f"{first['id']}", f"{2 ** 70}.{'A' * 22}", token + "A", token.upper()]
    for bad in forged:
        with pytest.raises(RpcError) as exc:
            d.call("hall.rate", {"score": 1, "token": bad})
        assert exc.value.code == errors.BAD_RATING_TOKEN, bad
    with pytest.raises(RpcError) as exc:
        d.call("hall.rate", {"score": 1, "token": token, "ticket": second["id"]})
    assert exc.value.code == errors.BAD_RATING_TOKEN
    rating = d.call("hall.rate", {"score": 4, "token": token})
    assert rating["ticket"] == first["id"] and rating["channel"] == "phone"
    # the same token cannot rate twice, and the trusted RPC client rates window 1 as before
    with pytest.raises(RpcError) as exc:
        d.call("hall.rate", {"score": 1, "token": token})
    assert exc.value.code == errors.ALREADY_RATED
    assert d.call("hall.rate", {"window": "w1", "score": 3})["ticket"] == second["id"]
