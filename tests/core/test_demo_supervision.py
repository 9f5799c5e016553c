"""``make demo`` keeps its processes running as systemd would (issue 14 item 12): kill -9 hwd and
it comes back, while hwd-ui keeps serving (the same process) and sees hwd again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from support.waits import wait_for
from support.ports import free_port
from hwd.client import Client

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(p) for p in text.split()}


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_killed_hwd_is_restarted_and_the_pages_stay_up(tmp_path):
    run = tmp_path / "run"
    config = tmp_path / "demo.toml"
    config.write_text(f'''
[daemon]
rpc = "ipc://{run}/rpc"
events = "ipc://{run}/events"
state_dir = "{tmp_path / 'state'}"
heartbeat_s = 0.5

[hall]
name = "演示大厅"
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
[[hall.window]]
id = "1"
name = "1号窗口"
services = ["bdc"]
[[hall.kiosk]]
id = "k1"
''', encoding="utf-8")
    port = free_port()
    log = open(tmp_path / "demo.log", "wb")
    demo = subprocess.Popen([sys.executable, "-m", "hwd.demo", "--config", str(config), "--port", str(port)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    client = Client(f"ipc://{run}/rpc", timeout=1.0, retries=1)
    base = f"http://127.0.0.1:{port}"
    try:
        first = wait_for(lambda: client.call("daemon.status")["pid"], timeout=30, what="hwd up",
                         tolerate=(Exception,))
        wait_for(lambda: _get(base + "/healthz")[0] == 200, timeout=30, what="hwd-ui up", tolerate=(OSError,))
        [ui_pid] = _children(demo.pid) - {first}
        ticket = client.call("hall.issue_ticket", {"service": "bdc"})

        os.kill(first, signal.SIGKILL)
        second = wait_for(lambda: client.call("daemon.status")["pid"] != first and client.call("daemon.status")["pid"],
                          timeout=30, what="hwd restarted", tolerate=(Exception,))
        assert demo.poll() is None, "the demo keeps running"
        assert _children(demo.pid) == {second, ui_pid}, "hwd-ui is the same process, hwd a new one"
        # hwd-ui reaches the new hwd again, which kept the ticket issued before the kill
        status, body = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(_get(base + "/display/state")),
                                timeout=30, what="the display's state through hwd-ui", tolerate=(OSError,))
        assert json.loads(body)["ok"] is True
        assert client.call("hall.ticket", {"ticket": ticket["id"]})["number"] == ticket["number"]
        assert "died (killed by SIGKILL); restarting" in (tmp_path / "demo.log").read_text()
    finally:
        demo.send_signal(signal.SIGTERM)
        try:
            demo.wait(15)
        except subprocess.TimeoutExpired:
            demo.kill()
        log.close()
    assert demo.returncode == 0


def test_the_supervisor_backs_off_and_leaves_a_clean_exit_alone(tmp_path, monkeypatch):
    """Restart=on-failure semantics with real processes: a failing child is started again with a
    doubling delay, a child that exits 0 stays stopped."""
    from hwd import supervise

    monkeypatch.setattr(supervise, "FIRST_DELAY_S", 0.05)
    said: list[str] = []
    sup = supervise.Supervisor(say=said.append)
    failing = sup.add("failing", [sys.executable, "-c", "raise SystemExit(3)"])
    clean = sup.add("clean", [sys.executable, "-c", "pass"])
    failing.delay = supervise.FIRST_DELAY_S
    for child in (failing, clean):
        sup.start(child)
    delays = []

    def step() -> bool:
        sup.check()
        if failing.restart_at is not None and (not delays or delays[-1] != failing.delay):
            delays.append(failing.delay)
        return failing.restarts >= 3 and clean.done

    wait_for(step, timeout=30, what="three restarts of the failing child", interval=0.01)
    assert delays[:3] == [0.1, 0.2, 0.4], delays
    assert clean.done and clean.restarts == 0 and not sup.all_done()
    assert "demo: failing died (exit status 3); restarting in 0.05 s" in said
    assert "demo: clean exited; not restarted" in said
    sup.stop()
