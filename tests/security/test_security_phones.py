"""Issue 22 item 7 and the phone page's caches, attacked:

- IPv6: every phone on a hall's WiFi shares one /64, and misses were counted per /64, so 20 wrong
  links from one phone blocked every phone; now each phone's address has its ``phone_misses``
  and the /64 a looser ``phone_misses_per_64`` (a script walking the /64's addresses still meets
  a bound);
- the phone server speaks HTTPS with ``phone_tls_certificate`` (here one from ``hwctl tls``),
  counts a socket before its handshake and closes one whose handshake and head do not come
  within ``header_timeout_s``;
- the phone server's sockets meet the main port's rules: slow ones closed by the head deadline,
  the last ``reserved_connections`` kept for the hall's machines;
- conditional GETs: another ticket's ETag never gets a 304, two tickets never share an ETag,
  and nothing of a ticket may be kept by a cache on the WiFi (``no-store, private``).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time

import pytest

from hwd.errors import ConfigError
from security_helpers import hall, read_for
from support.ports import free_port

pytest.importorskip("aiohttp", reason="aiohttp is not installed (hwd[ui])")

NONE = "C" * 22  # a token no ticket has


def _tickets(d, n: int) -> list[tuple[dict, str]]:
    tickets = [d.call("hall.issue_ticket", {"service": "s0"}) for _ in range(n)]
    return [(t, d.call("hall.ticket_token", {"ticket": t["id"]})["token"]) for t in tickets]


def _wait(fn, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


class Phones:
    """The phone server of a hwd-ui app, in this process, on a free port."""

    def __init__(self, config_path, **settings):
        from kiosk_ui import create_app, phone_server

        self.app = create_app(str(config_path))
        self.link = self.app.extensions["hwd"]
        self.link.settings.phone_port = free_port()
        for key, value in settings.items():
            setattr(self.link.settings, key, value)
        self.link.live()
        self.server = phone_server.start(self.link, self.link.settings, "127.0.0.1")
        self.server.hub.period_s = 1.0

    def stop(self) -> None:
        self.server.hub.stop()
        self.server.stop()
        self.link.live().stop()

    def get(self, path: str, source: str = "127.0.0.2", headers: dict | None = None,
            context: ssl.SSLContext | None = None) -> tuple[int, dict, bytes]:
        if context is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20, source_address=(source, 0))
        else:
            conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=20, source_address=(source, 0),
                                               context=context)
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()


# -- IPv6 phones ---------------------------------------------------------------------------------

def test_one_phones_misses_do_not_block_the_other_phones_of_its_64(hwd_daemon):
    """On the main port's /t/ (the same miss count as the phone server's), from IPv6 phones of
    one WiFi /64."""
    from kiosk_ui import create_app

    d = hwd_daemon(hall() + "\n[ui]\nphone_port = 0\n")
    (ticket, token), = _tickets(d, 1)
    client = create_app(str(d.config_path), {"TESTING": True}).test_client()

    def get(path: str, remote: str) -> int:
        return client.get(path, environ_base={"REMOTE_ADDR": remote}).status_code

    wifi = "2001:db8:1:2::"
    assert {get(f"/t/{NONE}", wifi + "a") for _ in range(20)} == {404}  # phone_misses = 20
    assert get(f"/t/{token}", wifi + "a") == 429, "that phone is refused for a while"
    assert get(f"/t/{token}", wifi + "b") == 200, "a phone beside it is not"
    # a script walking the /64's addresses: the /64 as a whole has phone_misses_per_64 (200)
    for i in range(1, 11):
        assert {get(f"/t/{NONE}", f"{wifi}{i:x}00") for _ in range(18)} == {404}
    assert get(f"/t/{token}", wifi + "c") == 429, "the /64's budget is spent"
    assert get(f"/t/{token}", "2001:db8:1:3::c") == 200, "another /64 is not held"
    assert get(f"/t/{token}", "10.1.2.3") == 200


# -- the phone server's sockets ------------------------------------------------------------------

class Drip:
    """Sockets that send a request head a byte at a time; which of them the server closed."""

    def __init__(self, port: int, sources: list[str], per_source: int):
        self.socks = []
        for source in sources:
            for _ in range(per_source):
                sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
                sock.setblocking(False)
                self.socks.append(sock)
        self.closed: set[socket.socket] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        head = b"GET /t/" + NONE.encode() + b" HTTP/1.1\r\nHost: hall\r\nX-Slow: "
        i = 0
        while not self.stop.is_set() and len(self.closed) < len(self.socks):
            for sock in self.socks:
                if sock in self.closed:
                    continue
                try:
                    sock.send(head[i:i + 1] or b"a")
                    if sock.recv(4096) == b"":
                        self.closed.add(sock)
                except BlockingIOError:
                    pass
                except OSError:
                    self.closed.add(sock)
            i += 1
            self.stop.wait(0.5)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for sock in self.socks:
            sock.close()


def test_slow_phones_are_closed_and_the_hall_keeps_its_connections(hwd_daemon):
    """12 addresses × 2 slow sockets fill the 24 connections not reserved (32 in all, 8 kept):
    a 13th address is refused at accept, this PC still gets its page, and every slow socket is
    closed by the head deadline although it never stops sending."""
    d = hwd_daemon(hall() + "\n[ui]\nphone_port = 0\n")
    (ticket, token), = _tickets(d, 1)
    phones = Phones(d.config_path, phone_per_address=1, phone_max_clients=16, reserved_connections=8,
                    header_timeout_s=3.0)
    drip = None
    try:
        _wait(lambda: phones.server.hub.get(token))
        drip = Drip(phones.server.port, [f"127.0.0.{i}" for i in range(30, 42)], 2)
        _wait(lambda: phones.server.connections.open_public == 24)
        late = socket.create_connection(("127.0.0.1", phones.server.port), timeout=5, source_address=("127.0.0.42", 0))
        assert late.recv(1) == b"", "closed at accept: the rest is kept for the hall's machines"
        late.close()
        assert phones.server.refused["connections"] >= 1
        status, _, body = phones.get(f"/t/{token}/state", source="127.0.0.1")
        assert status == 200 and json.loads(body)["number"] == ticket["number"]
        drip.thread.join(30)
        assert len(drip.closed) == len(drip.socks), f"{len(drip.socks) - len(drip.closed)} slow sockets still open"
        _wait(lambda: phones.server.connections.open_public == 0)
    finally:
        if drip is not None:
            drip.close()
        phones.stop()


def test_the_phone_server_speaks_https_with_a_certificate_of_hwctl_tls(hwd_daemon, tmp_path):
    from hwd import config as configuration
    from hwd import hwctl

    assert hwctl.main(["tls", str(tmp_path / "tls"), "127.0.0.1", "localhost", "--hall", "测试大厅"]) == 0
    cert, key = tmp_path / "tls" / "server.pem", tmp_path / "tls" / "server.key"
    ui = f'\n[ui]\nphone_port = 0\nphone_tls_certificate = "{cert}"\nphone_tls_key = "{key}"\n'
    d = hwd_daemon(hall() + ui + 'public_url = "https://127.0.0.1:8081"\n')
    plain = tmp_path / "plain.toml"
    plain.write_text(d.config_path.read_text().replace("https://", "http://"), encoding="utf-8")
    with pytest.raises(ConfigError, match="ui.public_url"):
        configuration.load(plain)  # a QR must not send phones to plain HTTP on a TLS port

    (ticket, token), = _tickets(d, 1)
    phones = Phones(d.config_path, phone_per_address=2, header_timeout_s=3.0)
    context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "hall-ca.pem"))
    silent = []
    try:
        _wait(lambda: phones.server.hub.get(token))
        status, headers, body = phones.get(f"/t/{token}", context=context)
        assert status == 200 and ticket["number"] in body.decode() and "no-store" in headers["cache-control"]
        with pytest.raises((OSError, http.client.HTTPException)):
            phones.get(f"/t/{token}")  # plain HTTP on the TLS port gets no page
        # sockets that never send a ClientHello: counted at accept, before any handshake ...
        silent = [socket.create_connection(("127.0.0.1", phones.server.port), timeout=10,
                                           source_address=("127.0.0.5", 0)) for _ in range(4)]
        _wait(lambda: phones.server.connections.held("127.0.0.5") == 4)
        extra = socket.create_connection(("127.0.0.1", phones.server.port), timeout=10, source_address=("127.0.0.5", 0))
        assert extra.recv(1) == b"" and phones.server.refused["connections per address"] == 1
        extra.close()
        # ... and closed when the handshake does not come within header_timeout_s
        for sock in silent:
            assert read_for(sock, 20) == b"", "closed by the server, nothing sent"
        _wait(lambda: phones.server.connections.held("127.0.0.5") == 0)
        assert phones.get(f"/t/{token}/state", source="127.0.0.5", context=context)[0] == 200
    finally:
        for sock in silent:
            sock.close()
        phones.stop()


# -- ETags and caches ----------------------------------------------------------------------------

def _no_store(headers: dict) -> bool:
    value = headers.get("cache-control", "")
    return "no-store" in value and "private" in value


def test_another_tickets_etag_gets_no_304_and_no_cache_may_keep_a_page(hwd_daemon):
    d = hwd_daemon(hall() + "\n[ui]\nphone_port = 0\n")
    (a, token_a), (b, token_b) = _tickets(d, 2)
    phones = Phones(d.config_path, phone_misses=3)
    try:
        _wait(lambda: phones.server.hub.get(token_a) and phones.server.hub.get(token_b))
        status, headers_a, _ = phones.get(f"/t/{token_a}/state")
        etag_a = headers_a["etag"]
        status, headers, body = phones.get(f"/t/{token_b}/state", headers={"If-None-Match": etag_a})
        assert status == 200 and json.loads(body)["number"] == b["number"], "B's own state, not a 304"
        assert headers["etag"] != etag_a and _no_store(headers) and _no_store(headers_a)
        status, headers, body = phones.get(f"/t/{token_b}/state", headers={"If-None-Match": headers["etag"]})
        assert status == 304 and body == b"" and _no_store(headers)
        status, headers, _ = phones.get(f"/t/{token_b}")
        assert status == 200 and _no_store(headers)
        sock = socket.create_connection(("127.0.0.1", phones.server.port), timeout=10, source_address=("127.0.0.2", 0))
        sock.sendall(f"GET /t/{token_b}/events HTTP/1.1\r\nHost: hall\r\n\r\n".encode())
        head = read_for(sock, 2).split(b"\r\n\r\n")[0].decode().lower()
        sock.close()
        assert "text/event-stream" in head and "no-store" in head and "private" in head
        for _ in range(3):
            status, headers, _ = phones.get(f"/t/{NONE}/state")
            assert status == 404 and _no_store(headers)
        status, headers, _ = phones.get(f"/t/{token_b}/state")
        assert status == 429 and _no_store(headers)
    finally:
        phones.stop()


def test_the_main_ports_etags_are_bound_to_the_ticket(hwd_daemon):
    """Without a phone server in the process the main port's /t/ asks hwd and makes its own
    ETags: another ticket's never gets a 304, and no cache may keep the state."""
    from kiosk_ui import create_app, phone_pages

    d = hwd_daemon(hall() + "\n[ui]\nphone_port = 0\n")
    (a, token_a), (b, token_b) = _tickets(d, 2)
    client = create_app(str(d.config_path), {"TESTING": True}).test_client()
    phone = {"REMOTE_ADDR": "127.0.0.2"}
    state_a = client.get(f"/t/{token_a}/state", environ_base=phone)
    other = client.get(f"/t/{token_b}/state", headers={"If-None-Match": state_a.headers["ETag"]}, environ_base=phone)
    assert other.status_code == 200 and other.json["number"] == b["number"]
    assert _no_store({k.lower(): v for k, v in state_a.headers.items()})
    again = client.get(f"/t/{token_b}/state", headers={"If-None-Match": other.headers["ETag"]}, environ_base=phone)
    assert again.status_code == 304 and _no_store({k.lower(): v for k, v in again.headers.items()})
    view = d.call("hall.phone_view", {"token": token_a})
    same = [phone_pages.entry_of(view, 3, token) for token in (token_a, token_b)]
    assert same[0].body == same[1].body and same[0].etag != same[1].etag, "equal pages, distinct ETags"
