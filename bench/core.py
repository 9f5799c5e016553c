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

from bench.common import ROOT, Daemon, Result, fmt_pct, percentiles

SCANNER = '[[device]]\nid = "s1"\nkind = "scanner"\ndriver = "serial"\nurl = "sim://s1"\n'


def _echo_ceiling(seconds: float) -> float:
    """Round trips per second against a bare pyzmq ROUTER that answers JSON in a blocking loop:
    the floor that libzmq's ipc transport and Python set on this machine, for context."""
    script = ("import zmq,json,sys\nctx=zmq.Context();s=ctx.socket(zmq.ROUTER);s.bind(sys.argv[1])\n"
              "while True:\n f=s.recv_multipart();r=json.loads(f[-1])\n"
              " f[-1]=json.dumps({'jsonrpc':'2.0','id':r['id'],'result':{'pong':True}}).encode();s.send_multipart(f)\n")
    endpoint = f"ipc://{tempfile.mkdtemp(prefix='hwd-echo-')}/echo"
    proc = subprocess.Popen([sys.executable, "-c", script, endpoint])
    try:
        return _sequential(endpoint, seconds)[0]
    finally:
        proc.kill()
        proc.wait()


def _sequential(endpoint: str, seconds: float) -> tuple[float, list[float]]:
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(endpoint)
    payload = b'{"jsonrpc":"2.0","id":1,"method":"daemon.ping"}'
    for _ in range(500):  # warm up
        sock.send(payload)
        sock.recv()
    samples = []
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        sock.send(payload)
        sock.recv()
        samples.append((time.perf_counter() - t0) * 1000)
    rate = len(samples) / (time.perf_counter() - start)
    sock.close()
    return rate, samples


def _pipelined(endpoint: str, seconds: float, window: int = 32) -> float:
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(endpoint)
    payload = b'{"jsonrpc":"2.0","id":1,"method":"daemon.ping"}'
    for _ in range(window):
        sock.send(payload)
    done = 0
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        sock.recv()
        done += 1
        sock.send(payload)
    rate = done / (time.perf_counter() - start)
    for _ in range(window):
        sock.recv()
    sock.close()
    return rate


def rpc_round_trips(seconds: float = 3.0) -> Result:
    d = Daemon(SCANNER, "rpc").start()
    try:
        sequential, samples = _sequential(d.rpc, seconds)
        pipelined = _pipelined(d.rpc, seconds)
    finally:
        d.stop()
    ceiling = _echo_ceiling(seconds)
    p = percentiles(samples)
    return Result("RPC round trips, one client, ipc", "≥ 10 000 /s",
                  f"{pipelined:,.0f} /s with 32 in flight; {sequential:,.0f} /s one at a time",
                  pipelined >= 10_000,
                  f"one DEALER client sends `daemon.ping` for {seconds:.0f} s each way: one request at a time "
                  "(each waits for its reply), and with 32 requests in flight (a DEALER is asynchronous; a "
                  "new request goes out as each reply comes back). One at a time is bound by the latency of "
                  "libzmq's ipc transport and Python at both ends: a bare pyzmq ROUTER that answers the same "
                  "JSON in a blocking loop, measured in the same run, is the ceiling beside it.", len(samples),
                  {"one at a time": f"{sequential:,.0f} /s; round trip {fmt_pct(p)}",
                   "32 in flight": f"{pipelined:,.0f} /s",
                   "ceiling: bare pyzmq JSON echo, one at a time": f"{ceiling:,.0f} /s"})


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
