"""TCP endpoints with CURVE (known key served, unknown refused) and the hwctl command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

from support.ports import free_port
from hwd.client import Client, Subscriber, Unreachable
from hwd.keys import keygen

SCANNER = '''
[[device]]
id = "s1"
kind = "scanner"
driver = "serial"
url = "sim://s1"
'''


def hwctl(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hwd.hwctl", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def curve_daemon(hwd_daemon, tmp_path):
    server_pub, server_sec = keygen(tmp_path / "server", "server")
    known_pub, known_sec = keygen(tmp_path / "known", "kiosk")
    _, stranger_sec = keygen(tmp_path / "stranger", "stranger")
    clients = tmp_path / "clients"
    clients.mkdir()
    shutil.copy(known_pub, clients)
    rpc, events = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    d = hwd_daemon(f'''
        [daemon]
        rpc = "{rpc}"
        events = "{events}"
        state_dir = "{tmp_path / 'state'}"
        server_key = "{server_sec}"
        clients_dir = "{clients}"
        heartbeat_s = 0.3
    ''' + SCANNER, start=False)
    d.rpc, d.events_ep = rpc, events
    d.start(wait=False)
    d.keys = {"server": server_pub, "known": known_sec, "stranger": stranger_sec}
    deadline = time.monotonic() + 15
    while True:
        try:
            Client(rpc, timeout=0.5, retries=1, server_key=server_pub, client_key=known_sec).call("daemon.status")
            return d
        except Unreachable:
            assert time.monotonic() < deadline and d.proc.poll() is None, d.log()


def test_tcp_endpoint_serves_a_known_client_key(curve_daemon):
    d = curve_daemon
    client = Client(d.rpc, timeout=2, retries=1, server_key=d.keys["server"], client_key=d.keys["known"])
    assert client.call("devices.list")[0]["id"] == "s1"
    sub = Subscriber(d.events_ep, ["daemon.heartbeat"], server_key=d.keys["server"], client_key=d.keys["known"])
    try:
        assert sub.recv(timeout=5) is not None
    finally:
        sub.close()


def test_tcp_endpoint_refuses_an_unknown_client_key_and_plain_clients(curve_daemon):
    d = curve_daemon
    stranger = Client(d.rpc, timeout=0.7, retries=1, server_key=d.keys["server"], client_key=d.keys["stranger"])
    with pytest.raises(Unreachable):
        stranger.call("devices.list")
    plain = Client(d.rpc, timeout=0.7, retries=1)
    with pytest.raises(Unreachable):
        plain.call("devices.list")
    sub = Subscriber(d.events_ep, [""], server_key=d.keys["server"], client_key=d.keys["stranger"])
    try:
        assert sub.recv(timeout=1.5) is None
    finally:
        sub.close()
    # hwctl with the daemon's own config and an explicit client key
    ok = hwctl("--rpc", d.rpc, "--server-key", str(d.keys["server"]), "--client-key", str(d.keys["known"]), "devices")
    assert ok.returncode == 0 and "s1" in ok.stdout


def test_tcp_without_keys_needs_insecure(tmp_path, hwd_daemon):
    port = free_port()
    d = hwd_daemon(f'''
        [daemon]
        rpc = "tcp://127.0.0.1:{port}"
        events = "tcp://127.0.0.1:{free_port()}"
        state_dir = "{tmp_path / 's'}"
        insecure = true
    ''' + SCANNER, start=False)
    d.rpc = f"tcp://127.0.0.1:{port}"
    d.client = Client(d.rpc, timeout=5, retries=1)
    d.start()
    assert d.call("devices.list")[0]["id"] == "s1"
    assert "WITHOUT encryption" in d.log()


def test_hwctl_devices_call_events_and_errors(hwd_daemon):
    d = hwd_daemon(SCANNER)
    d.wait_state("s1", "online")
    cfg = str(d.config_path)
    out = hwctl("--config", cfg, "devices")
    assert out.returncode == 0 and "s1" in out.stdout and "online" in out.stdout
    rows = json.loads(hwctl("--config", cfg, "devices", "--json").stdout)
    assert rows[0]["state"] == "online"
    status = hwctl("--config", cfg, "call", "daemon.status")
    assert status.returncode == 0 and json.loads(status.stdout)["version"]
    bad = hwctl("--config", cfg, "call", "no.such.method", "{}")
    assert bad.returncode == 1 and "error -32601 METHOD_NOT_FOUND: unknown method" in bad.stderr
    badjson = hwctl("--config", cfg, "call", "devices.list", "{oops")
    assert badjson.returncode == 1 and "not JSON" in badjson.stderr
    events = subprocess.Popen([sys.executable, "-m", "hwd.hwctl", "--config", cfg, "events", "scanner.", "--count", "1",
                               "--timeout", "20"], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 15
    while events.poll() is None and time.monotonic() < deadline:
        d.sim("s1", "scan", text="VIA-HWCTL")
        time.sleep(0.3)
    line = events.communicate(timeout=20)[0].strip().splitlines()[0]
    assert json.loads(line)["text"] == "VIA-HWCTL"
    sim = hwctl("--config", cfg, "sim", "s1", "status")
    assert json.loads(sim.stdout)["plugged"] is True


def test_hwctl_says_clearly_when_no_daemon_answers(tmp_path):
    started = time.monotonic()
    out = hwctl("--rpc", f"ipc://{tmp_path}/none", "--timeout-rpc", "0.5", "devices")
    assert out.returncode == 3 and "did not answer" in out.stderr
    assert time.monotonic() - started < 20


def test_hwctl_keygen_writes_a_key_pair(tmp_path):
    out = hwctl("keygen", str(tmp_path / "k"), "--name", "pc5")
    assert out.returncode == 0
    assert (tmp_path / "k" / "pc5.key").exists() and (tmp_path / "k" / "pc5.key_secret").stat().st_mode & 0o077 == 0
