"""Measure how many live (SSE) clients a running hwd-ui holds, and how late events reach them.

    python -m bench.live_clients --url http://127.0.0.1:8080 --clients 250 --beats 10

Opens ``--clients`` connections to ``/live`` from one thread (selectors, raw sockets), then
waits for ``--beats`` daemon heartbeats. For each heartbeat every client receives, the delay is
``receive time − the event's ts`` (hwd stamps events when it publishes them; same machine, same
clock). Prints how many streams were accepted, refused (503) or lost, and the delay
percentiles. A tool for docs/ui.md, not a test (nothing here asserts a timing), nor part of hwd-ui.
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import sys
import time
from urllib.parse import urlsplit


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run(url: str, clients: int, beats: int, path: str = "/live?topic=daemon.") -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    sel = selectors.DefaultSelector()
    state: dict[socket.socket, dict] = {}
    for _ in range(clients):
        sock = socket.create_connection((host, port), timeout=10)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
        sock.setblocking(False)
        state[sock] = {"buf": b"", "status": None, "beats": 0}
        sel.register(sock, selectors.EVENT_READ)
    delays: list[float] = []
    lost = 0
    deadline = time.monotonic() + beats * 5 + 20
    while time.monotonic() < deadline:
        pending = [st for st in state.values() if st["status"] is None or (st["status"] == 200 and st["beats"] < beats)]
        if not pending:
            break
        for key, _ in sel.select(timeout=0.5):
            sock = key.fileobj
            st = state[sock]
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            now = time.time()
            if not data:  # closed: a 503 answer ends here; a live stream must not
                sel.unregister(sock)
                if st["status"] != 503:
                    lost += 1
                    st["status"] = -1
                continue
            st["buf"] += data
            if st["status"] is None and b"\r\n" in st["buf"]:
                st["status"] = int(st["buf"].split(b" ", 2)[1])
            while b"\n\n" in st["buf"]:
                block, st["buf"] = st["buf"].split(b"\n\n", 1)
                for line in block.split(b"\n"):
                    line = line.strip(b"\r")
                    if line.startswith(b"data: ") and b'"daemon.heartbeat"' in line:
                        delays.append(now - json.loads(line[6:])["ts"])
                        st["beats"] += 1
    statuses = [st["status"] for st in state.values()]
    for sock in state:
        sock.close()
    delays_ms = [d * 1000 for d in delays]
    return {"clients": clients, "accepted": statuses.count(200), "refused_503": statuses.count(503), "lost": lost,
            "events": len(delays_ms), "p50_ms": round(_percentile(delays_ms, 0.5), 1),
            "p99_ms": round(_percentile(delays_ms, 0.99), 1), "max_ms": round(max(delays_ms, default=float("nan")), 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.live_clients", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--clients", type=int, default=250)
    p.add_argument("--beats", type=int, default=10)
    args = p.parse_args(argv)
    result = run(args.url, args.clients, args.beats)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
