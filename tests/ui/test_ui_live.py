"""Live updates through the real ``hwd-ui`` server (waitress): SSE ids are hwd seqs,
Last-Event-ID resumes or asks for a resync, a restarted hwd makes pages resync, the kiosk stream
carries only its own reader, and one stream over ``max_streams`` gets 503 + Retry-After."""

from __future__ import annotations

import http.client
import json
import time

from support.halls import STAFF_PIN
from support.ui import UiProcess


class Sse:
    """A minimal SSE client over http.client (no browser needed for these checks)."""

    def __init__(self, port: int, path: str, headers: dict | None = None, timeout: float = 10):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.conn.request("GET", path, headers=headers or {})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status

    def next(self, topic: str | None = None, timeout: float = 10) -> dict:
        """The next event (of ``topic``): {"id", "event", "data"}."""
        deadline = time.monotonic() + timeout
        current: dict = {}
        while time.monotonic() < deadline:
            line = self.resp.fp.readline().decode()
            if not line:
                raise AssertionError("stream closed")
            line = line.rstrip("\r\n")
            if line.startswith("id: "):
                current["id"] = line[4:]
            elif line.startswith("event: "):
                current["event"] = line[7:]
            elif line.startswith("data: "):
                current["data"] = json.loads(line[6:])
            elif line == "" and current:
                if topic is None or current.get("event") == topic:
                    return current
                current = {}
        raise AssertionError(f"no {topic} event within {timeout} s")

    def close(self) -> None:
        self.conn.close()


def test_sse_ids_resume_and_resync(hall, ui_server):
    live = Sse(ui_server.port, "/live?topic=hall.")
    assert live.status == 200 and live.resp.getheader("Content-Type").startswith("text/event-stream")
    live.next("hello")
    hall.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})
    ev = live.next("hall.window.state")
    seq = int(ev["id"])
    assert ev["data"]["seq"] == seq and ev["data"]["id"] == "5" and ev["data"]["state"] == "open"
    # a browser that reconnects with Last-Event-ID gets what it missed from the ring
    again = Sse(ui_server.port, "/live?topic=hall.", {"Last-Event-ID": str(seq - 1)})
    replay = again.next("hall.window.state")
    assert replay["id"] == str(seq)
    for stale in ("0", "999999999", "abc"):
        old = Sse(ui_server.port, "/live?topic=hall.", {"Last-Event-ID": stale})
        assert old.next()["event"] == "resync", stale
        old.close()
    # idcard events are never on the public stream
    public = Sse(ui_server.port, "/live?topic=idcard.")
    public.next("hello")
    kiosk = Sse(ui_server.port, "/kiosk/k1/live")
    kiosk.next("hello")
    hall.sim("k1-idcard", "place", card="resident")
    card = kiosk.next("idcard.inserted", timeout=15)
    assert card["data"]["device"] == "k1-idcard" and "*" in card["data"]["name"]
    hall.call("hall.logout", {"window": "5", "staff": "s01"})
    assert public.next("daemon.heartbeat")  # heartbeats flow; the card did not
    for stream in (live, again, public, kiosk):
        stream.close()


def test_restarted_hwd_makes_pages_resync(hall, ui_server):
    live = Sse(ui_server.port, "/live?topic=hall.")
    live.next("daemon.heartbeat")
    hall.stop()
    hall.start()
    assert live.next("resync", timeout=20)["data"]["reason"]
    live.close()


def test_over_capacity_gets_503_then_recovers(hall):
    config = hall.config_path.with_name("small.toml")
    config.write_text(hall.config_path.read_text(encoding="utf-8") + "max_streams = 3\nkeepalive_s = 0.5\n",
                      encoding="utf-8")
    server = UiProcess(config)
    try:
        streams = [Sse(server.port, "/live") for _ in range(3)]
        assert all(s.status == 200 for s in streams)
        extra = Sse(server.port, "/live")
        assert extra.status == 503 and int(extra.resp.getheader("Retry-After")) > 0
        extra.close()
        assert Sse(server.port, "/healthz").status == 200  # ordinary requests still answered
        streams.pop().close()
        deadline = time.monotonic() + 15
        while True:  # the server notices the closed stream at its next keepalive
            retry = Sse(server.port, "/live")
            if retry.status == 200 or time.monotonic() > deadline:
                break
            retry.close()
            time.sleep(0.3)
        assert retry.status == 200
        retry.close()
        for s in streams:
            s.close()
    finally:
        server.stop()
