"""The hall through a real hwd process: a day from the command line (hwctl), crash safety under
``kill -9``, and the day rollover moved by the test clock over RPC."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading

import pytest

from hwd.client import Client, RpcError

from hall_helpers import HALL

MINIMAL = '''
[hall]
name = "某某县政务服务中心"
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
[[hall.window]]
id = "5"
name = "不动产登记 5号窗口"
services = ["bdc"]
'''


def hwctl(d, *args: str):
    out = subprocess.run([sys.executable, "-m", "hwd.hwctl", "--config", str(d.config_path), *args],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else None


def test_a_day_from_the_command_line(hwd_daemon):
    d = hwd_daemon(MINIMAL)
    ev = d.events("hall.")
    ticket = hwctl(d, "call", "hall.issue_ticket", '{"service": "bdc"}')
    assert ticket["number"] == "B001" and ticket["printed"] is False
    assert ev.wait("hall.ticket.issued")["number"] == "B001"
    assert hwctl(d, "call", "hall.call_next", '{"window": "5"}')["number"] == "B001"
    called = ev.wait("hall.ticket.called", number="B001")
    assert called["window"] == "5" and called["seq"] > 0 and called["ts"] > 0
    hwctl(d, "call", "hall.start", '{"window": "5"}')
    assert hwctl(d, "call", "hall.finish", '{"window": "5"}')["state"] == "done"
    assert ev.wait("hall.rating.requested", window="5")["timeout_s"] > 0
    assert hwctl(d, "call", "hall.rate", '{"window": "5", "score": 4}')["level"] == "满意"
    assert ev.wait("hall.rating")["score"] == 4
    day = ticket["issued_at"][:10]  # not "today": the test may straddle midnight (make test-dates)
    [row] = hwctl(d, "call", "hall.stats", json.dumps({"group_by": "service", "from": day, "to": day}))
    assert (row["issued"], row["served"], row["rated"]) == (1, 1, 1)
    assert hwctl(d, "call", "hall.call_next", '{"window": "5"}') is None
    with pytest.raises(RpcError) as info:
        d.call("hall.issue_ticket", {"service": "nope"})
    assert info.value.code == 1104 and info.value.message == "没有该业务，请重新选择"
    with pytest.raises(RpcError) as info:
        d.call("clock.set", {"now": "2026-11-23T09:00:00"})
    assert info.value.code == -32601, "no test clock unless [daemon] test_clock = true"


def test_kill_9_loses_nothing_acknowledged(hwd_daemon):
    d = hwd_daemon(HALL.replace("quota = 3", "quota = 0"))
    acked: dict[int, str] = {}
    done: set[int] = set()
    rated: set[int] = set()
    stop = threading.Event()

    def worker():
        client = Client(d.rpc, timeout=2.0, retries=1)
        rng = random.Random(7)
        while not stop.is_set():
            try:
                if rng.random() < 0.6:
                    t = client.call("hall.issue_ticket", {"service": rng.choice(["bdc", "sb"])})
                    acked[t["id"]] = t["number"]
                else:
                    w = rng.choice(["5", "6"])
                    if client.call("hall.call_next", {"window": w}) is not None:
                        done.add(client.call("hall.finish", {"window": w})["id"])
                        if rng.random() < 0.5:
                            rated.add(client.call("hall.rate", {"window": w, "score": rng.randint(1, 5)})["id"])
            except RpcError:
                pass  # e.g. call_next while the window still holds a ticket called before the kill
            except Exception:
                return  # the daemon was killed under us
        client.close()

    for _round in range(3):
        thread = threading.Thread(target=worker)
        thread.start()
        deadline = len(acked) + 25
        while len(acked) < deadline and thread.is_alive():
            thread.join(0.02)
        d.kill()
        stop.set()
        thread.join(10)
        stop.clear()
        d.start()
        stored = {t["id"]: t for t in d.call("hall.tickets", {"limit": 5000})}
        assert set(acked) <= set(stored), "an acknowledged ticket is missing after kill -9"
        assert all(stored[i]["number"] == n for i, n in acked.items())
        assert all(stored[i]["state"] == "done" for i in done)
        assert rated <= {r["id"] for r in d.call("hall.ratings", {"limit": 5000})}, "an acknowledged rating is missing"
        for service, prefix in (("bdc", "B"), ("sb", "A")):
            numbers = sorted(int(t["number"][1:]) for t in stored.values() if t["number"][0] == prefix)
            assert numbers == list(range(1, len(numbers) + 1)), f"{service}: numbering has a gap or a repeat"
    nxt = d.call("hall.issue_ticket", {"service": "bdc"})
    assert int(nxt["number"][1:]) == 1 + max(int(t["number"][1:]) for t in stored.values() if t["number"][0] == "B")


def test_day_rollover_with_the_test_clock(hwd_daemon):
    d = hwd_daemon(MINIMAL.replace("always_open = true", "sat = []"), start=False)
    d.config_path.write_text(d.config_path.read_text().replace("heartbeat_s = 0.5\n",
                                                               "heartbeat_s = 0.5\ntest_clock = true\n"
                                                               'test_clock_start = "2026-11-23T16:50:00"\n'))
    d.start()
    ev = d.events("hall.")
    t = d.call("hall.issue_ticket", {"service": "bdc"})
    late = d.call("hall.issue_ticket", {"service": "bdc"})
    d.call("clock.set", {"now": "2026-11-23T17:30:00"})
    with pytest.raises(RpcError) as info:
        d.call("hall.issue_ticket", {"service": "bdc"})
    assert info.value.code == 1102 and "明天 08:45" in info.value.message
    assert d.call("hall.call_next", {"window": "5"})["id"] == t["id"], "taken before closing: still served"
    d.call("hall.finish", {"window": "5"})
    d.call("clock.set", {"now": "2026-11-24T08:50:00"})
    assert ev.wait("hall.day.rollover")["expired"] == 1
    assert d.call("hall.ticket", {"ticket": late["id"]})["state"] == "expired"
    assert d.call("hall.issue_ticket", {"service": "bdc"})["number"] == "B001"
    # the rollover survives a restart: the expired ticket stays expired, numbering continues
    d.kill()
    d.config_path.write_text(d.config_path.read_text().replace("2026-11-23T16:50:00", "2026-11-24T09:00:00"))
    d.start()
    assert d.call("hall.issue_ticket", {"service": "bdc"})["number"] == "B002"
    assert d.call("hall.call_next", {"window": "5"})["number"] == "B001"
