"""hwd under systemd's notify protocol (sd_notify(3)), without systemd: the test binds the
datagram socket systemd would, runs the real ``hwd`` with NOTIFY_SOCKET and WATCHDOG_USEC, and
checks READY=1, repeated WATCHDOG=1, and STOPPING=1 with exit 0 on SIGTERM — what hwd.service's
Type=notify and WatchdogSec= rely on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _config(tmp: Path) -> Path:
    path = tmp / "hwd.toml"
    path.write_text(f'''[daemon]
rpc = "ipc://{tmp}/run/rpc"
events = "ipc://{tmp}/run/events"
state_dir = "{tmp}/state"

[[device]]
id = "s1"
kind = "scanner"
driver = "serial"
url = "sim://s1"
''', encoding="utf-8")
    return path


def _messages(sock: socket.socket, until: str, deadline: float) -> list[str]:
    """Receive datagrams until one holds ``until``; every KEY=VALUE line seen, in order."""
    seen: list[str] = []
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data = sock.recv(4096)
        except socket.timeout:
            break
        lines = data.decode().splitlines()
        seen += lines
        if until in lines:
            return seen
    raise AssertionError(f"no {until} within the time allowed; got {seen}")


@pytest.fixture
def notify_socket(tmp_path):
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    yield sock, path
    sock.close()


def test_ready_watchdog_stopping(tmp_path, notify_socket):
    sock, path = notify_socket
    env = {**os.environ, "NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "400000",
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("WATCHDOG_PID", None)
    log = open(tmp_path / "hwd.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "hwd", "--config", str(_config(tmp_path))],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    try:
        # generous limits: a loaded 2-core machine; nothing here measures time
        before = _messages(sock, "READY=1", time.monotonic() + 60)
        assert "WATCHDOG=1" not in before, "a watchdog ping before READY=1"
        after = _messages(sock, "WATCHDOG=1", time.monotonic() + 60)
        after += _messages(sock, "WATCHDOG=1", time.monotonic() + 60)
        after += _messages(sock, "WATCHDOG=1", time.monotonic() + 60)
        assert after.count("WATCHDOG=1") >= 3
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        _messages(sock, "STOPPING=1", time.monotonic() + 60)
        assert proc.wait(timeout=60) == 0, (tmp_path / "hwd.log").read_text(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    # the sockets hwd.service's clients connect to were bound before READY and removed at exit
    assert not (tmp_path / "run" / "rpc").exists()


def test_no_watchdog_when_not_asked(tmp_path, notify_socket):
    """WATCHDOG_PID naming another process means the pings are not ours to send (sd_notify(3))."""
    sock, path = notify_socket
    env = {**os.environ, "NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1",
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    log = open(tmp_path / "hwd.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "hwd", "--config", str(_config(tmp_path))],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    try:
        _messages(sock, "READY=1", time.monotonic() + 60)
        proc.send_signal(signal.SIGTERM)
        rest = _messages(sock, "STOPPING=1", time.monotonic() + 60)
        assert "WATCHDOG=1" not in rest
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


MDWE_WRAPPER = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(65, 1, 0, 0, 0) != 0:  # NO_NEW_PRIVS, SET_MDWE
    sys.exit(77)
os.execv(sys.executable, [sys.executable, "-m", "hwd", "--config", sys.argv[1]])
"""


def test_ready_under_memory_deny_write_execute(tmp_path, notify_socket):
    """hwd.service sets MemoryDenyWriteExecute=yes and NoNewPrivileges=yes: the daemon (CPython,
    pyzmq, pyserial, the emulators) must start under them. The kernel's PR_SET_MDWE (Linux 6.3+)
    is the same refusal of writable+executable memory, kept across exec."""
    sock, path = notify_socket
    env = {**os.environ, "NOTIFY_SOCKET": str(path),
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("WATCHDOG_USEC", None)
    log = open(tmp_path / "hwd.log", "wb")
    proc = subprocess.Popen([sys.executable, "-c", MDWE_WRAPPER, str(_config(tmp_path))], stdout=log,
                            stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    try:
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while "READY=1" not in seen:
            if proc.poll() is not None:
                if proc.returncode == 77:
                    pytest.skip("this kernel has no PR_SET_MDWE (Linux < 6.3)")
                raise AssertionError(f"hwd exited with {proc.returncode}:\n"
                                     + (tmp_path / "hwd.log").read_text(errors="replace"))
            assert time.monotonic() < deadline, "no READY=1 within 60 s"
            sock.settimeout(0.5)
            try:
                seen += sock.recv(4096).decode().splitlines()
            except socket.timeout:
                continue
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
