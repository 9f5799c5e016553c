"""差评 reasons from an evaluation keypad whose keys name their reason (the emulated serial
keypad sends the real bytes; the driver maps them to ``rate:2:attitude``), through a real hwd."""

from __future__ import annotations

from support.waits import wait_for

CONFIG = '''
[[device]]
id = "win5-rate"
kind = "keypad"
driver = "serial"
url = "sim://win5-rate"
keys = { "31" = "rate:5", "34" = "rate:2", "41" = "rate:2:attitude", "42" = "rate:1:efficiency,process" }
prompt = "a5 01 5a"

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
name = "5号窗口"
services = ["bdc"]
keypad = "win5-rate"
'''


def serve(d):
    d.call("hall.issue_ticket", {"service": "bdc"})
    for step in ("call_next", "start", "finish"):
        d.call(f"hall.{step}", {"window": "5"})


def test_reason_keys_of_an_evaluator_rate_with_their_reasons(hwd_daemon):
    d = hwd_daemon(CONFIG)
    d.wait_state("win5-rate", "online")
    ev = d.events("hall.")
    serve(d)
    wait_for(lambda: d.sim("win5-rate", "status")["prompts"] >= 1, what="the rating prompt")
    d.sim("win5-rate", "press", key="42")
    rating = ev.wait("hall.rating", window="5", timeout=10)
    assert (rating["score"], rating["reasons"], rating["channel"]) == (1, ["efficiency", "process"], "keypad")
    serve(d)
    d.sim("win5-rate", "press", key="34")  # the plain 不满意 key: no reason, the score stands
    rating = ev.wait("hall.rating", window="5", timeout=10)
    assert (rating["score"], rating["reasons"]) == (2, [])


def test_a_reason_key_unknown_to_the_hall_is_refused_and_says_so(hwd_daemon):
    d = hwd_daemon(CONFIG.replace("rate:2:attitude", "rate:2:rude"))
    d.wait_state("win5-rate", "online")
    ev = d.events("hall.")
    serve(d)
    d.sim("win5-rate", "press", key="41")
    refused = ev.wait("hall.keypad.refused", window="5", timeout=10)
    assert refused["code"] == 1150 and "差评原因" in refused["message"]
    assert d.call("hall.ratings", {}) == []


def hwctl(d, *args: str) -> str:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "hwd.hwctl", "--config", str(d.config_path), *args],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_hwctl_shows_overdue_work_orders_and_the_outbox(hwd_daemon):
    d = hwd_daemon(CONFIG.replace('[hall]\n', '[hall]\nfollowup_days = 2\n'), start=False)
    d.config_path.write_text(f'[daemon]\nrpc = "{d.rpc}"\nevents = "{d.events_ep}"\nstate_dir = "{d.state_dir}"\n'
                             f'test_clock = true\n\n' + d.config_path.read_text().split("\n\n", 1)[1])
    d.start()
    d.call("clock.set", {"now": "2026-11-23T09:00:00"})  # a Monday
    serve(d)
    r = d.call("hall.rate", {"window": "5", "score": 2})
    assert "no outbox sink configured" in hwctl(d, "outbox")
    [line] = [ln for ln in hwctl(d, "workorders").splitlines() if ln.split()[0] == str(r["workorder"]["id"])]
    assert "open" in line and "2026-11-25" in line and "OVERDUE" not in line
    d.call("clock.set", {"now": "2026-11-26T10:00:00"})
    [line] = [ln for ln in hwctl(d, "workorders", "--overdue").splitlines()[1:]]
    assert line.split()[0] == str(r["workorder"]["id"]) and line.endswith("OVERDUE")
