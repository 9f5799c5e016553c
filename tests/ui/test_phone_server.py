"""The phone server (issue 18) over a real hwd: the page by token, SSE and long-poll updates on a
call, ETag/304, rating by phone, and the limits a script on the hall LAN meets — unknown tokens
rate-limited per address, the same 404 for every kind of wrong token, requests per address,
body size and content type.

The hub and the aiohttp server run in this process on a loopback port, over hwd-ui's real RPC
link (kiosk_ui.create_app) to a real daemon."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from conftest import STAFF_PIN, free_port

pytest.importorskip("aiohttp", reason="aiohttp is not installed (hwd[ui])")


@pytest.fixture
def phones(hall):
    from kiosk_ui import create_app, phone_server

    app = create_app(hall.config_path)
    link = app.extensions["hwd"]
    link.settings.phone_port = free_port()
    link.settings.phone_misses = 5
    link.settings.phone_per_address = 4
    link.live()
    server = phone_server.start(link, link.settings, "127.0.0.1")
    server.hub.period_s = 1.0
    yield server
    server.hub.stop()
    server.stop()
    link.live().stop()


PHONE = "127.0.0.2"  # a phone on the hall WiFi: not one of the hall's configured machines


def get(server, path, headers=None, method="GET", body=None, source=PHONE):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=40, source_address=(source, 0))
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), data


def wait_for(fn, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def issued(hall, server, n=1, service="bdc"):
    if hall.call("hall.state")["windows"][0]["state"] == "closed":
        hall.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})
    tickets = [hall.call("hall.issue_ticket", {"service": service}) for _ in range(n)]
    tokens = [hall.call("hall.ticket_token", {"ticket": t["id"]})["token"] for t in tickets]
    if server is not None:
        wait_for(lambda: all(server.hub.get(tok) for tok in tokens))
    return tickets, tokens


def sse_events(server, token):
    """An open SSE stream; yields each event's (name, data)."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=15, source_address=(PHONE, 0))
    sock.sendall(f"GET /t/{token}/events HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    buf = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buf += chunk
            while b"\n\n" in buf:
                block, buf = buf.split(b"\n\n", 1)
                name, data = None, None
                for line in block.split(b"\n"):
                    if line.startswith(b"event: "):
                        name = line[7:].decode()
                    elif line.startswith(b"data: "):
                        data = json.loads(line[6:])
                if name:
                    yield name, data
    finally:
        sock.close()


def test_the_page_follows_the_ticket_from_waiting_to_called_by_sse_and_long_poll(hall, phones):
    tickets, tokens = issued(hall, phones, 5)
    status, headers, body = get(phones, f"/t/{tokens[4]}")
    page = body.decode()
    assert status == 200 and tickets[4]["number"] in page and "前面还有 4 人等候" in page
    assert headers["Referrer-Policy"] == "no-referrer" and "default-src 'none'" in headers["Content-Security-Policy"]
    assert "http://" not in page.replace("http://127.0.0.1", "") and "https://" not in page, "no external asset"

    status, headers, body = get(phones, f"/t/{tokens[4]}/state")
    etag = headers["ETag"]
    assert status == 200 and json.loads(body)["tone"] == "wait"
    assert get(phones, f"/t/{tokens[4]}/state", {"If-None-Match": etag})[0] == 304

    stream = sse_events(phones, tokens[1])
    name, first = next(stream)
    assert name == "ticket" and first["ahead"] == 1 and first["tone"] == "soon" and first["headline"] == "即将叫号"
    hall.call("hall.call_next", {"window": "5"})
    name, update = next(stream)
    assert update["ahead"] == 0 and update["headline"] == "下一位就是您"
    # a long poll with the old ETag returns as soon as the ticket changes
    hall.call("hall.finish", {"window": "5"})
    status, headers, body = get(phones, f"/t/{tokens[4]}/state?wait=20", {"If-None-Match": etag})
    assert status == 200 and json.loads(body)["ahead"] == 3  # a long poll that timed out would be a 304
    hall.call("hall.call_next", {"window": "5"})
    called = next(stream)[1]
    assert called["tone"] == "call" and called["headline"] == "请到5号窗口" and called["alert"]
    hall.call("hall.recall", {"window": "5"})
    recalled = next(stream)[1]
    assert recalled["lines"][0] == "再次呼叫，请立即前往" and recalled["alert_key"] != called["alert_key"]


def test_a_phone_rates_once_with_reasons(hall, phones):
    tickets, tokens = issued(hall, phones, 1)
    hall.call("hall.call_next", {"window": "5"})
    hall.call("hall.finish", {"window": "5"})
    wait_for(lambda: json.loads(phones.hub.get(tokens[0]).body)["rate"])
    rate = f"/t/{tokens[0]}/rate"
    assert get(phones, rate, {"Content-Type": "application/x-www-form-urlencoded"}, "POST", "score=5")[0] == 415
    assert get(phones, rate, {"Content-Type": "application/json"}, "POST", '{"score": 9}')[0] == 400
    assert get(phones, rate, {"Content-Type": "application/json"}, "POST", "x" * 5000)[0] == 413
    status, _, body = get(phones, rate, {"Content-Type": "application/json"}, "POST", json.dumps({"score": 5}))
    assert status == 200 and json.loads(body)["level"] == "非常满意"
    status, _, body = get(phones, rate, {"Content-Type": "application/json"}, "POST", json.dumps({"score": 1}))
    assert status == 409 and "已经评价" in json.loads(body)["error"] or "已评价" in json.loads(body)["error"]
    done = wait_for(lambda: (lambda p: p if p["headline"] == "感谢您的评价" else None)(
        json.loads(phones.hub.get(tokens[0]).body)))
    assert done["tone"] == "done"
    assert hall.call("hall.ratings", {})[0]["channel"] == "phone"


def test_guessing_tokens_gets_nowhere(hall, phones):
    tickets, tokens = issued(hall, phones, 1)
    wrong = ["A" * 22, tokens[0][:-1] + ("B" if tokens[0][-1] == "A" else "A"), "short", "%2e%2e%2fetc"]
    bodies = set()
    for bad in wrong:
        status, _, body = get(phones, f"/t/{bad}")
        assert status == 404 and "链接无效或已过期" in body.decode() and tickets[0]["number"] not in body.decode()
        bodies.add(body)
    assert len(bodies) == 1, "every wrong token gets the same page"
    assert get(phones, "/t/" + "B" * 22 + "/state")[0] == 404
    # the fifth miss of this address: now even a right token is refused for a while
    status, _, body = get(phones, f"/t/{tokens[0]}")
    assert status == 429 and "访问过于频繁" in body.decode()
    assert phones.refused["too many unknown tokens"] >= 1


def test_one_address_holds_a_few_streams_only(hall, phones):
    _, tokens = issued(hall, phones, 1)
    streams = [sse_events(phones, tokens[0]) for _ in range(4)]
    for s in streams:
        assert next(s)[0] == "ticket"
    wait_for(lambda: phones.requests.held(PHONE) == 4)
    assert get(phones, f"/t/{tokens[0]}/state")[0] == 429
    for s in streams:
        s.close()
    wait_for(lambda: phones.requests.held(PHONE) == 0)
    assert get(phones, f"/t/{tokens[0]}/state")[0] == 200
    assert get(phones, f"/t/{tokens[0]}/state", source="127.0.0.1")[0] == 200, "the hall's own PC is not capped"


def test_idle_sockets_of_one_address_are_capped_too(hall, phones):
    """Connections that never send a request are counted at accept: twice phone_per_address (8
    here) are held, the ninth is closed at once."""
    _, tokens = issued(hall, phones, 1)
    idle = [socket.create_connection(("127.0.0.1", phones.port), timeout=5, source_address=(PHONE, 0))
            for _ in range(8)]
    wait_for(lambda: phones.connections.held(PHONE) == 8)
    extra = socket.create_connection(("127.0.0.1", phones.port), timeout=5, source_address=(PHONE, 0))
    assert extra.recv(1) == b"", "closed by the server at once"
    extra.close()
    assert phones.refused["connections per address"] == 1
    for s in idle:
        s.close()
    wait_for(lambda: phones.connections.held(PHONE) == 0)
    assert get(phones, f"/t/{tokens[0]}/state")[0] == 200


def test_the_main_port_serves_the_same_page_by_polling(hall, client):
    """``/t/<token>`` on hwd-ui's own port (kiosk_ui.phone): no phone server in this process,
    so it asks hwd; the same words, ETag/304, rating without a session, the same 404 and limit."""
    _, tokens = issued(hall, None, 2)
    phone = {"REMOTE_ADDR": PHONE}
    resp = client.get(f"/t/{tokens[1]}", environ_base=phone)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "前面还有 1 人" in page and '"poll"' in page
    assert "'nonce-" in resp.headers["Content-Security-Policy"]
    state = client.get(f"/t/{tokens[1]}/state", environ_base=phone)
    assert state.json["headline"] == "即将叫号"
    assert client.get(f"/t/{tokens[1]}/state", headers={"If-None-Match": state.headers["ETag"]},
                      environ_base=phone).status_code == 304
    hall.call("hall.call_next", {"window": "5"})
    hall.call("hall.finish", {"window": "5"})
    assert client.post(f"/t/{tokens[0]}/rate", data="score=5", environ_base=phone).status_code == 415
    rated = client.post(f"/t/{tokens[0]}/rate", json={"score": 4}, environ_base=phone)
    assert rated.status_code == 200 and rated.json["level"] == "满意", rated.get_data(as_text=True)
    assert client.post(f"/t/{tokens[0]}/rate", json={"score": 4}, environ_base=phone).status_code == 409
    misses = [client.get(f"/t/{'C' * 22}", environ_base=phone) for _ in range(20)]
    assert {r.status_code for r in misses} == {404} and len({r.get_data() for r in misses}) == 1
    assert client.get(f"/t/{tokens[1]}", environ_base=phone).status_code == 429
    assert client.get(f"/t/{tokens[1]}").status_code == 200, "the hall's own PC is not limited"
