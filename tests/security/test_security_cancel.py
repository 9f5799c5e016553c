"""取消排队 from the phone (issue 24 §4), attacked from other machines of the hall LAN (127.0.0.2 …):

- only the ticket's own token cancels it, and only that ticket; a guessed token is a miss like any
  other (the same 404, the same per-address count, then 429);
- only while it waits: a called ticket stays called;
- only as JSON, which a cross-site form cannot send (415), on the phone server and on the main port;
- over RPC, ``hall.cancel`` takes a token and nothing else: a ticket id or number cancels nothing.

Real hwd, the phone server of a hwd-ui app in this process, the main port through Flask's client.
"""

from __future__ import annotations

import http.client
import json

import pytest

from hwd import errors
from hwd.client import RpcError
from security_helpers import hall
from support.ports import free_port

pytest.importorskip("aiohttp", reason="aiohttp is not installed (hwd[ui])")

GUESS = "C" * 22


def _post(port: int, path: str, body: bytes, content_type: str, source: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20, source_address=(source, 0))
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": content_type})
        resp = conn.getresponse()
        data = resp.read()
        try:
            return resp.status, json.loads(data)
        except ValueError:
            return resp.status, {}
    finally:
        conn.close()


def _state(d, ticket: dict) -> str:
    return d.call("hall.ticket", {"ticket": ticket["id"]})["state"]


def test_only_the_tickets_own_token_cancels_it_only_while_waiting_only_as_json(hwd_daemon):
    from kiosk_ui import create_app, phone_server

    d = hwd_daemon(hall() + "\n[ui]\nphone_port = 0\n")
    mine, other, third = (d.call("hall.issue_ticket", {"service": "s0"}) for _ in range(3))
    token = d.call("hall.ticket_token", {"ticket": mine["id"]})["token"]
    third_token = d.call("hall.ticket_token", {"ticket": third["id"]})["token"]
    app = create_app(str(d.config_path))
    link = app.extensions["hwd"]
    link.settings.phone_port = free_port()
    link.settings.phone_misses = 3
    link.live()
    server = phone_server.start(link, link.settings, "127.0.0.1")
    try:
        import time

        end = time.monotonic() + 20
        while not server.hub.get(token) and time.monotonic() < end:
            time.sleep(0.05)
        port = server.port
        # a cross-site form (text/plain, urlencoded) cannot cancel
        for kind in ("application/x-www-form-urlencoded", "text/plain"):
            status, _ = _post(port, f"/t/{token}/cancel", b"{}", kind, "127.0.0.5")
            assert status == 415
        assert _state(d, mine) == "waiting"
        # a guessed token: the same 404 as any unknown link, counted, then refused
        for _ in range(3):
            status, _ = _post(port, f"/t/{GUESS}/cancel", b"{}", "application/json", "127.0.0.6")
            assert status == 404
        status, _ = _post(port, f"/t/{token}/cancel", b"{}", "application/json", "127.0.0.6")
        assert status == 429 and _state(d, mine) == "waiting", "a guesser is blocked, even with a real token"
        # the owner's phone: its own ticket only
        status, reply = _post(port, f"/t/{token}/cancel", b"{}", "application/json", "127.0.0.2")
        assert (status, reply.get("state")) == (200, "cancelled")
        assert [_state(d, t) for t in (mine, other, third)] == ["cancelled", "waiting", "waiting"]
        status, reply = _post(port, f"/t/{token}/cancel", b"{}", "application/json", "127.0.0.2")
        assert status == 409 and "不在排队中" in reply["error"]
        # a called ticket stays called
        called = d.call("hall.call_next", {"window": "w1"})
        assert called["id"] == other["id"]
        other_token = d.call("hall.ticket_token", {"ticket": other["id"]})["token"]
        end = time.monotonic() + 20
        while not server.hub.get(other_token) and time.monotonic() < end:
            time.sleep(0.05)
        status, _ = _post(port, f"/t/{other_token}/cancel", b"{}", "application/json", "127.0.0.3")
        assert status == 409 and _state(d, other) == "called"
        # the main port's /t/: the same rules
        client = app.test_client()
        phone = {"REMOTE_ADDR": "127.0.0.4"}
        form = client.post(f"/t/{third_token}/cancel", data="{}", content_type="text/plain", environ_base=phone)
        assert form.status_code == 415 and _state(d, third) == "waiting"
        assert client.post(f"/t/{GUESS}/cancel", json={}, environ_base=phone).status_code == 404
    finally:
        server.hub.stop()
        server.stop()
        link.live().stop()

    # over RPC: a token, nothing else
    for params in ({"ticket": third["id"]}, {"ticket": third["number"]}, {}, {"token": third_token, "ticket": 1}):
        with pytest.raises(RpcError) as info:
            d.call("hall.cancel", params)
        assert info.value.code == errors.INVALID_PARAMS, params
    assert _state(d, third) == "waiting"
    assert d.call("hall.cancel", {"token": third_token})["state"] == "cancelled"
