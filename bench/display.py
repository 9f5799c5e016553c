"""The hall display: ``hall.call_next`` → the call event at a browser display client, with 200
live clients connected, and beside it the same figure for a client that polls every 2 s (what
the most popular open-source queue manager's display does).

The push clients are raw HTTP connections to hwd-ui's ``/live?topic=hall.`` (the stream the
/display page's EventSource opens), read with one selector; the polling clients are threads that
GET ``/display/state`` every 2 s from a random phase, as independent screens would.
"""

from __future__ import annotations

import http.client
import json
import random
import selectors
import socket
import subprocess
import sys
import threading
import time

from bench.common import Daemon, Result, fmt_pct, percentiles
from hwd.client import Client

HALL = '''
[hall]
name = "基准测试大厅"
[hall.hours]
always_open = true
[[hall.service]]
id = "a"
name = "综合业务"
prefix = "A"
[[hall.window]]
id = "1"
name = "1号窗口"
services = ["a"]
[ui]
max_streams = 400
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ui:
    def __init__(self, daemon: Daemon):
        self.port = _free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "kiosk_ui.cli", "--config", str(daemon.config),
                                      "--host", "127.0.0.1", "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("hwd-ui did not become ready")

    def rss_kb(self) -> int:
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class PushClients:
    """N SSE connections; records when each sees a ``hall.ticket.called`` for a number."""

    def __init__(self, port: int, n: int):
        self.sel = selectors.DefaultSelector()
        self.bufs: dict[socket.socket, bytes] = {}
        self.seen: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        for _ in range(n):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(b"GET /live?topic=hall. HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
            sock.setblocking(False)
            self.bufs[sock] = b""
            self.sel.register(sock, selectors.EVENT_READ)
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while self.running:
            for key, _ in self.sel.select(timeout=0.2):
                sock = key.fileobj
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                now = time.perf_counter()
                if not data:
                    self.sel.unregister(sock)
                    continue
                buf = self.bufs[sock] + data
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    event = b"".join(line[5:].strip() for line in block.split(b"\n") if line.startswith(b"data:"))
                    if b"hall.ticket.called" in block and event:
                        try:
                            number = json.loads(event).get("number")
                        except ValueError:
                            continue
                        with self.lock:
                            self.seen.setdefault(number, []).append(now)
                self.bufs[sock] = buf

    def wait(self, number: str, n: int, timeout: float = 10) -> list[float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.seen.get(number, [])) >= n:
                    return list(self.seen[number])
            time.sleep(0.002)
        raise TimeoutError(f"only {len(self.seen.get(number, []))} of {n} clients saw {number}")

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        for sock in self.bufs:
            sock.close()


class Poller(threading.Thread):
    """A display that GETs /display/state every ``period`` seconds, from a random phase."""

    def __init__(self, port: int, period: float, seen: dict, lock: threading.Lock, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.period, self.seen, self.lock, self.stop_event = port, period, seen, lock, stop

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        last = None
        self.stop_event.wait(random.uniform(0, self.period))
        while not self.stop_event.is_set():
            started = time.perf_counter()
            try:
                conn.request("GET", "/display/state")
                body = json.loads(conn.getresponse().read())
            except (OSError, ValueError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                continue
            now = time.perf_counter()
            number = (body.get("latest") or {}).get("number")
            if number != last and number is not None:
                with self.lock:
                    self.seen.setdefault(number, []).append(now)
                last = number
            self.stop_event.wait(max(0.0, self.period - (time.perf_counter() - started)))


def call_to_display(clients: int = 200, calls: int = 6, pollers: int = 100, poll_calls: int = 10) -> Result:
    d = Daemon(HALL, "display").start()
    ui = Ui(d)
    client = Client(d.rpc, timeout=10, retries=1)
    push_ms: list[float] = []
    poll_ms: list[float] = []
    try:
        for _ in range(calls + poll_calls + 2):
            client.call("hall.issue_ticket", {"service": "a"})
        push = PushClients(ui.port, clients)
        time.sleep(2)
        for i in range(calls + 1):
            t0 = time.perf_counter()
            ticket = client.call("hall.call_next", {"window": "1"})
            arrivals = push.wait(ticket["number"], clients)
            if i:  # the first call warms up
                push_ms += [(t - t0) * 1000 for t in arrivals]
            client.call("hall.start", {"window": "1"})
            client.call("hall.finish", {"window": "1"})
            time.sleep(0.3)
        rss_ui = ui.rss_kb()
        push.close()
        seen: dict[str, list[float]] = {}
        lock, stop = threading.Lock(), threading.Event()
        threads = [Poller(ui.port, 2.0, seen, lock, stop) for _ in range(pollers)]
        for t in threads:
            t.start()
        time.sleep(3)
        for _ in range(poll_calls):
            t0 = time.perf_counter()
            ticket = client.call("hall.call_next", {"window": "1"})
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with lock:
                    if len(seen.get(ticket["number"], [])) >= pollers:
                        break
                time.sleep(0.01)
            with lock:
                poll_ms += [(t - t0) * 1000 for t in seen.get(ticket["number"], [])]
            client.call("hall.start", {"window": "1"})
            client.call("hall.finish", {"window": "1"})
            time.sleep(random.uniform(0.1, 0.5))
        stop.set()
        rss_hwd = d.rss_kb()
    finally:
        ui.stop()
        d.stop()
    p, q = percentiles(push_ms), percentiles(poll_ms)
    return Result(f"`hall.call_next` → event at a browser display client, {clients} clients connected",
                  "p99 ≤ 50 ms", f"push p99 {p['p99']:.1f} ms; 2-s polling p99 {q['p99']:.0f} ms",
                  p["p99"] <= 50,
                  f"{clients} SSE connections to hwd-ui's `/live?topic=hall.` (what /display's EventSource opens), "
                  f"{calls} calls after one warm-up; clock from sending `hall.call_next` to each client reading the "
                  f"`hall.ticket.called` event. Polling comparison: {pollers} clients GET `/display/state` every 2 s "
                  f"from random phases, {poll_calls} calls; clock to each client's first poll that shows the call.",
                  len(push_ms), {"push (hwd SSE)": fmt_pct(p), "2-second polling": fmt_pct(q),
                                 "hwd-ui resident memory with the clients connected": f"{rss_ui / 1024:.0f} MB",
                                 "hwd resident memory after the run": f"{rss_hwd / 1024:.0f} MB"})


BENCHES = [call_to_display]
