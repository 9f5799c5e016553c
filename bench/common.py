"""What every benchmark shares: percentiles, the machine's description, a daemon to measure."""

from __future__ import annotations

import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Result:
    figure: str
    target: str
    value: str
    ok: bool | None
    method: str
    samples: int = 0
    details: dict = field(default_factory=dict)


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    s = sorted(samples_ms)
    def pick(q: float) -> float:
        return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]
    return {"n": len(s), "p50": pick(0.50), "p90": pick(0.90), "p99": pick(0.99), "max": s[-1],
            "mean": statistics.fmean(s)}


def fmt_pct(p: dict) -> str:
    return f"p50 {p['p50']:.2f} · p90 {p['p90']:.2f} · p99 {p['p99']:.2f} · max {p['max']:.2f} ms (n={p['n']})"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        text = Path("/proc/cpuinfo").read_text()
        m = re.search(r"model name\s*:\s*(.+)", text)
        cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f", {kb / 1048576:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores{mem}; Linux {platform.release()}; "
            f"Python {platform.python_version()}; host {socket.gethostname()}")


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


class Daemon:
    """A real hwd process on private ipc endpoints, for benchmarks."""

    def __init__(self, body: str, name: str = "bench", extra_env: dict | None = None):
        self.tmp = Path(tempfile.mkdtemp(prefix=f"hwd-{name}-"))
        self.rpc = f"ipc://{self.tmp}/rpc"
        self.events = f"ipc://{self.tmp}/events"
        self.config = self.tmp / "hwd.toml"
        self.config.write_text(f'[daemon]\nrpc = "{self.rpc}"\nevents = "{self.events}"\n'
                               f'state_dir = "{self.tmp / "state"}"\nlog_level = "warning"\n\n'
                               + textwrap.dedent(body), encoding="utf-8")
        self.env = {**os.environ, **(extra_env or {})}
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Daemon":
        from hwd.client import Client, Unreachable

        self.log = open(self.tmp / "hwd.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "hwd", "--config", str(self.config)],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        client = Client(self.rpc, timeout=0.3, retries=1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                client.call("daemon.status")
                return self
            except Unreachable:
                if self.proc.poll() is not None:
                    break
        raise RuntimeError(f"hwd did not start: {(self.tmp / 'hwd.log').read_text()}")

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
