"""A busy hall under load: a real hwd and the real hwd-ui (waitress), 200 live display clients
on the display page's stream (SSE ``/live?topic=hall.``, raw sockets read by two selector
threads), 10 kiosks issuing tickets through the kiosk page's API (HTTP, with CSRF, as the
kiosk's browser does) and 50 counters calling and finishing through RPC — for 60 s in
``make faults`` and 10 s in ``make test``.

Proved: zero errors (every issue answered 200 with a ticket, every counter call answered, no
display stream refused, lost or told to resync); every ``hall.ticket.called`` event of every
acknowledged call reaches every one of the 200 display clients; no ticket is called twice;
and the resident memory of hwd and of hwd-ui stays flat: RSS at the end is at most
``RSS_TOLERANCE_KIB`` (16 MiB) above RSS after the warm-up (a third of the run).
"""

from __future__ import annotations

import http.client
import json
import random
import re
import selectors
import socket
import threading
import time

import pytest

from hwd.client import Client

from faults_helpers import hall, rss_kib, wait_for
from support.ui import UiProcess

RSS_TOLERANCE_KIB = 16 * 1024
CALLED = b"event: hall.ticket.called"


class Displays:
    """``n`` SSE clients of /live?topic=hall., read by ``threads`` selector threads."""

    def __init__(self, port: int, n: int, threads: int = 2):
        self.port = port
        self.clients = []
        self.stop = threading.Event()
        self.errors: list[str] = []
        for _ in range(n):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(b"GET /live?topic=hall. HTTP/1.1\r\nHost: hall\r\nAccept: text/event-stream\r\n\r\n")
            sock.setblocking(False)
            self.clients.append({"sock": sock, "buf": b"", "status": None, "called": set(), "hello": False})
        groups = [self.clients[i::threads] for i in range(threads)]
        self.threads = [threading.Thread(target=self._read, args=(g,), daemon=True) for g in groups]
        for thread in self.threads:
            thread.start()

    def _read(self, group: list[dict]) -> None:
        sel = selectors.DefaultSelector()
        for client in group:
            sel.register(client["sock"], selectors.EVENT_READ, client)
        while not self.stop.is_set():
            for key, _ in sel.select(timeout=0.2):
                client = key.data
                try:
                    data = client["sock"].recv(262144)
                except BlockingIOError:
                    continue
                except OSError as exc:
                    data = b""
                    self.errors.append(f"recv: {exc}")
                if not data:
                    sel.unregister(client["sock"])
                    self.errors.append(f"a display stream was closed (status {client['status']})")
                    continue
                client["buf"] += data
                if client["status"] is None and b"\r\n" in client["buf"]:
                    client["status"] = int(client["buf"].split(b" ", 2)[1])
                    if client["status"] != 200:
                        self.errors.append(f"display stream answered {client['status']}")
                    client["buf"] = client["buf"].split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in client["buf"] else b""
                *blocks, client["buf"] = client["buf"].split(b"\n\n")
                for block in blocks:
                    self._event(client, block)
        sel.close()

    def _event(self, client: dict, block: bytes) -> None:
        # chunked transfer encoding puts size lines between events: find the event lines
        if b"event: resync" in block:
            self.errors.append("a display was told to resync (it missed events)")
        elif b"event: hello" in block:
            client["hello"] = True
        elif CALLED in block:
            try:
                data = block[block.index(b"data: ") + 6:].split(b"\n", 1)[0]
                client["called"].add(json.loads(data)["id"])
            except (ValueError, KeyError) as exc:
                self.errors.append(f"a bad event on a display stream: {exc!r} in {block[:200]!r}")

    def ready(self) -> bool:
        return all(c["hello"] for c in self.clients)

    def missing(self, called: set[int]) -> int:
        return sum(len(called - c["called"]) for c in self.clients)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(5)
        for client in self.clients:
            client["sock"].close()


def kiosk(port: int, kiosk_id: str, stop: threading.Event, issued: list, errors: list, pace: float) -> None:
    """The kiosk's browser: load the page (session cookie + CSRF token), then issue tickets."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", f"/kiosk/{kiosk_id}")
    resp = conn.getresponse()
    html = resp.read().decode()
    cookie = resp.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf" content="([^"]+)"', html).group(1)
    rng = random.Random(kiosk_id)
    while not stop.is_set():
        body = json.dumps({"service": rng.choice(["s0", "s1", "s2"])})
        try:
            conn.request("POST", f"/kiosk/{kiosk_id}/api/ticket", body,
                         {"Content-Type": "application/json", "X-CSRF-Token": token, "Cookie": cookie})
            resp = conn.getresponse()
            reply = json.loads(resp.read())
        except (OSError, http.client.HTTPException, ValueError) as exc:
            errors.append(f"kiosk {kiosk_id}: {exc!r}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        if resp.status != 200 or not reply.get("ok"):
            errors.append(f"kiosk {kiosk_id}: {resp.status} {reply}")
        else:
            issued.append(reply["ticket"]["number"])
        stop.wait(rng.uniform(0.5, 1.5) * pace)
    conn.close()


def counter(endpoint: str, windows: list[str], stop: threading.Event, called: list, errors: list, pace: float) -> None:
    """Clerks at several windows: call, serve a moment, finish."""
    client = Client(endpoint, timeout=15.0, retries=1)
    rng = random.Random(windows[0])
    busy: dict[str, float] = {}
    while not stop.is_set():
        now = time.monotonic()
        for w in windows:
            try:
                if w in busy and now >= busy[w]:
                    client.call("hall.finish", {"window": w})
                    del busy[w]
                elif w not in busy:
                    t = client.call("hall.call_next", {"window": w})
                    if t is not None:
                        called.append(t["id"])
                        busy[w] = now + rng.uniform(1.0, 3.0) * pace
            except Exception as exc:  # zero errors allowed
                errors.append(f"counter {w}: {exc!r}")
        stop.wait(0.2 * pace)
    client.close()


def run(hwd_daemon, seconds: float, displays_n: int, kiosks: int, counters: int) -> None:
    windows = [f"w{i}" for i in range(1, counters + 1)]
    d = hwd_daemon(hall(services=3, windows=counters, kiosks=kiosks))
    for i in range(30):
        d.call("hall.issue_ticket", {"service": f"s{i % 3}"})
    ui = UiProcess(d.config_path)
    displays = None
    try:
        displays = Displays(ui.port, displays_n)
        wait_for(displays.ready, timeout=60, what="every display stream open")
        stop = threading.Event()
        issued: list = []
        called: list = []
        errors: list = []
        workers = [threading.Thread(target=kiosk, args=(ui.port, f"k{i}", stop, issued, errors, 1.0))
                   for i in range(1, kiosks + 1)]
        # 50 counters: 10 client threads of 5 windows each
        workers += [threading.Thread(target=counter, args=(d.rpc, windows[i::10], stop, called, errors, 1.0))
                    for i in range(min(10, counters))]
        for worker in workers:
            worker.start()
        time.sleep(seconds / 3)  # warm-up
        rss0 = {"hwd": rss_kib(d.proc.pid), "hwd-ui": rss_kib(ui.proc.pid)}
        time.sleep(seconds - seconds / 3)
        rss1 = {"hwd": rss_kib(d.proc.pid), "hwd-ui": rss_kib(ui.proc.pid)}
        stop.set()
        for worker in workers:
            worker.join(60)
        assert not errors, errors[:5]
        assert issued and called, "no load was generated"
        assert len(called) == len(set(called)), "a ticket was called twice"
        want = set(called)
        wait_for(lambda: displays.missing(want) == 0, timeout=60,
                 what=f"every call on every display ({displays.missing(want)} missing)")
        assert not displays.errors, displays.errors[:5]
        for name in rss0:
            growth = rss1[name] - rss0[name]
            assert growth <= RSS_TOLERANCE_KIB, f"{name} RSS grew {growth} KiB after warm-up ({rss0} -> {rss1})"
        print(f"load: {len(issued)} issued over HTTP, {len(called)} calls to {displays_n} displays; "
              f"RSS KiB after warm-up {rss0}, at the end {rss1}")
    finally:
        if displays is not None:
            displays.close()
        ui.stop()


@pytest.mark.faults
@pytest.mark.fast
@pytest.mark.timeout(180)
def test_load_quick(hwd_daemon):
    run(hwd_daemon, seconds=10, displays_n=200, kiosks=10, counters=50)


@pytest.mark.faults
@pytest.mark.timeout(300)
def test_load_60s(hwd_daemon):
    run(hwd_daemon, seconds=60, displays_n=200, kiosks=10, counters=50)
