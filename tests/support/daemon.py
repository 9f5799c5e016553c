"""A real ``hwd`` process for scenario tests, talked to over ZeroMQ.

    def test_x(hwd_daemon):
        d = hwd_daemon(config_text)                  # without [daemon]: endpoints in tmp
        d.call("devices.list")
        d.wait_state("kiosk1-printer", "online")
        ev = d.events("scanner.")                    # subscribed when it returns (waits.EventWatcher)
        d.sim("kiosk1-scanner", "scan", text="X")
        ev.wait("scanner.scan", text="X")
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from hwd.client import Client

from support.waits import EventWatcher


class DaemonProcess:
    def __init__(self, workdir: Path, config_text: str, name: str = "hwd", env: dict | None = None,
                 clock_start: str | None = None):
        self.workdir = workdir
        self.run_dir = workdir / f"{name}-run"
        self.state_dir = workdir / f"{name}-state"
        self.rpc = f"ipc://{self.run_dir}/rpc"
        self.events_ep = f"ipc://{self.run_dir}/events"
        text = textwrap.dedent(config_text)
        header = (f'[daemon]\nrpc = "{self.rpc}"\nevents = "{self.events_ep}"\n'
                  f'state_dir = "{self.state_dir}"\nheartbeat_s = 0.5\n'
                  + (f'test_clock = true\ntest_clock_start = "{clock_start}"\n' if clock_start else ""))
        if "[daemon]" not in text:
            text = header + "\n" + text
        elif "rpc =" not in text:  # a [daemon] table with a few keys of its own: add the endpoints
            text = text.replace("[daemon]\n", header, 1)
        self.config_path = workdir / f"{name}.toml"
        self.config_path.write_text(text, encoding="utf-8")
        self.log_path = workdir / f"{name}.log"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.client = Client(self.rpc, timeout=5.0, retries=1)
        self.watchers: list[EventWatcher] = []

    def start(self, wait: bool = True) -> "DaemonProcess":
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "hwd", "--config", str(self.config_path),
                                      "--log-level", "debug"], stdout=self._log, stderr=subprocess.STDOUT,
                                     env=self.env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        sock = Path(self.rpc.removeprefix("ipc://")) if self.rpc.startswith("ipc://") else None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hwd exited with {self.proc.returncode}:\n{self.log()}")
            if sock is not None and not sock.exists():  # not bound yet: no client would get through
                time.sleep(0.02)
                continue
            try:
                Client(self.rpc, timeout=0.3, retries=1).call("daemon.status")
                return
            except Exception:
                time.sleep(0.02)
        raise AssertionError(f"hwd not ready within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def call(self, method: str, params: dict | None = None, **kwargs: Any) -> Any:
        return self.client.call(method, params, **kwargs)

    def sim(self, device: str, action: str, **params: Any) -> Any:
        return self.call("sim.control", {"device": device, "action": action, "params": params})

    def events(self, *prefixes: str) -> EventWatcher:
        """A subscriber to these prefixes, subscribed when it returns."""
        watcher = EventWatcher(self.events_ep, prefixes, lambda text: self.call("daemon.ping", {"echo": text}))
        self.watchers.append(watcher)
        return watcher

    def device(self, device_id: str) -> dict:
        return next(d for d in self.call("devices.list") if d["id"] == device_id)

    def wait_state(self, device_id: str, state: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            row = self.device(device_id)
            if row["state"] == state:
                return row
            if time.monotonic() > deadline:
                raise AssertionError(f"{device_id} is {row['state']} ({row.get('detail')}), not {state}")
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> int | None:
        for watcher in self.watchers:
            watcher.close()
        self.watchers.clear()
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)
