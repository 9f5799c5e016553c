"""Core figures: RPC round trips per second (one client, ipc), start to READY, resident memory."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zmq

from bench.common import ROOT, Daemon, Result, percentiles

SCANNER = '[[device]]\nid = "s1"\nkind = "scanner"\ndriver = "serial"\nurl = "sim://s1"\n'


def rpc_round_trips(seconds: float = 3.0) -> Result:
    d = Daemon(SCANNER, "rpc").start()
    try:
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(d.rpc)
        payload = b'{"jsonrpc":"2.0","id":1,"method":"daemon.ping"}'
        for _ in range(500):  # warm up
            sock.send(payload)
            sock.recv()
        n = 0
        samples = []
        end = time.perf_counter() + seconds
        start = time.perf_counter()
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            sock.send(payload)
            sock.recv()
            samples.append((time.perf_counter() - t0) * 1000)
            n += 1
        rate = n / (time.perf_counter() - start)
        sock.close()
    finally:
        d.stop()
    p = percentiles(samples)
    return Result("RPC round trips, one client, ipc", "≥ 10 000 /s", f"{rate:,.0f} /s (round trip p99 {p['p99']:.3f} ms)",
                  rate >= 10_000, f"one DEALER client sends `daemon.ping` and waits for each reply, for {seconds:.0f} s "
                  "after 500 warm-up calls; daemon with one emulated device", n)


def start_to_ready(runs: int = 10) -> Result:
    samples = []
    for _ in range(runs):
        tmp = Path(tempfile.mkdtemp(prefix="hwd-ready-"))
        cfg = tmp / "hwd.toml"
        cfg.write_text(f'[daemon]\nrpc = "ipc://{tmp}/rpc"\nevents = "ipc://{tmp}/events"\n'
                       f'state_dir = "{tmp}/state"\nlog_level = "warning"\n' + _demo_body(), encoding="utf-8")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(tmp / "notify"))
        sock.settimeout(30)
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "hwd", "--config", str(cfg)],
                                env={**os.environ, "NOTIFY_SOCKET": str(tmp / "notify")},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                data = sock.recv(4096).decode()
                if "READY=1" in data.split("\n"):
                    samples.append((time.perf_counter() - t0) * 1000)
                    break
        finally:
            proc.terminate()
            proc.wait(10)
            sock.close()
    p = percentiles(samples)
    return Result("start to READY (sd_notify), demo config", "≤ 1 s", f"median {p['p50']:.0f} ms, max {p['max']:.0f} ms",
                  p["max"] <= 1000, f"{runs} cold starts of `python -m hwd` with the demo config's devices; time from "
                  "exec to the READY=1 datagram on a NOTIFY_SOCKET the benchmark binds", runs)


def _demo_body() -> str:
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    return re.sub(r"(?ms)^\[daemon\].*?(?=^\[)", "", text)


def resident_memory(settle_s: float = 5.0) -> Result:
    d = Daemon(_demo_body(), "mem").start()
    try:
        time.sleep(settle_s)
        rss = d.rss_kb()
    finally:
        d.stop()
    return Result("hwd resident memory, demo config", "≤ 60 MB", f"{rss / 1024:.1f} MB", rss / 1024 <= 60,
                  f"VmRSS of the hwd process {settle_s:.0f} s after start with config/demo.toml (every device emulated; "
                  "the emulators run inside the daemon, so this overstates a real hall PC)", 1)


BENCHES = [rpc_round_trips, start_to_ready, resident_memory]
