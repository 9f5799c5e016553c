"""The serial keypad through a real hwd daemon and its emulator on a pty."""

from __future__ import annotations

import pytest

from hwd.client import RpcError

CONFIG = '''
[[device]]
id = "win5-rate"
kind = "keypad"
driver = "serial"
url = "sim://win5-rate"
keys = { "31" = "rate:5", "32" = "rate:4", "33" = "rate:3", "34" = "rate:2", "35" = "rate:1", "1b41" = "call_next", "1b4142" = "transfer:bdc" }
prompt = "a5 01 5a"
sequence_timeout_ms = 100
'''


def test_press_becomes_keypad_key(hwd_daemon):
    d = hwd_daemon(CONFIG)
    d.wait_state("win5-rate", "online")
    ev = d.events("keypad.")
    d.sim("win5-rate", "press", key="31")
    assert ev.wait("keypad.key", key="31")["action"] == "rate:5"
    d.sim("win5-rate", "press", key="rate:1")
    assert ev.wait("keypad.key", key="35")["action"] == "rate:1"
    # multi-byte keys, also when the bytes trickle in, and the longest sequence wins
    d.sim("win5-rate", "split", key="call_next")
    assert ev.wait("keypad.key", key="1b41")["action"] == "call_next"
    d.sim("win5-rate", "press", key="transfer:bdc")
    assert ev.wait("keypad.key", key="1b4142")["action"] == "transfer:bdc"
    # unmapped bytes are dropped and the next key still works
    d.sim("win5-rate", "garbage", data="ff00")
    d.sim("win5-rate", "press", key="32")
    assert ev.wait("keypad.key", key="32")["action"] == "rate:4"
    assert [e for e in ev.until_marker() if e["topic"] == "keypad.key"] == []
    assert "unmapped bytes ff 00" in d.log()


def test_prompt_sends_bytes(hwd_daemon):
    d = hwd_daemon(CONFIG)
    d.wait_state("win5-rate", "online")
    assert d.call("keypad.prompt", {"device": "win5-rate"}) == {"prompted": True}
    import time
    deadline = time.monotonic() + 5
    while d.sim("win5-rate", "status")["prompts"] < 1:
        assert time.monotonic() < deadline, "the prompt never reached the keypad"
        time.sleep(0.05)


def test_unplug_and_plug(hwd_daemon):
    d = hwd_daemon(CONFIG)
    d.wait_state("win5-rate", "online")
    d.sim("win5-rate", "unplug")
    d.wait_state("win5-rate", "offline")
    with pytest.raises(RpcError):
        d.call("keypad.prompt", {"device": "win5-rate"})
    d.sim("win5-rate", "plug")
    d.wait_state("win5-rate", "online")
    ev = d.events("keypad.")
    d.sim("win5-rate", "press", key="33")
    assert ev.wait("keypad.key", key="33")["action"] == "rate:3"


def test_bad_key_maps_are_config_errors(hwd_daemon, tmp_path):
    import subprocess
    import sys
    bad = tmp_path / "bad.toml"
    bad.write_text('''
[[device]]
id = "k1"
kind = "keypad"
driver = "serial"
url = "sim://k1"
keys = { "3" = "rate:5", "32" = "rate:9" }

[[device]]
id = "k2"
kind = "keypad"
driver = "evdev"
url = "evdev:///dev/input/by-id/x"
keys = { KEY_F1 = "transfer:", KEY_NOPE = "rate:1" }
''')
    done = subprocess.run([sys.executable, "-m", "hwd", "--config", str(bad), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "k1" in done.stdout + done.stderr or "keys" in done.stdout + done.stderr
    out = done.stdout + done.stderr
    assert "hex" in out and "transfer:<service id>" in out
