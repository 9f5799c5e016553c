"""``[hall.standby]``: every problem as ``file:line key: reason``, and a hall without it runs as
before (no etcd, no guarded methods, the standby package not even imported)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from hwd import config as configuration
from hwd.errors import ConfigError

HALL = '''
[daemon]
rpc = "ipc://{d}/rpc"
events = "ipc://{d}/events"
state_dir = "{d}/state"

[hall]
[[hall.service]]
id = "s0"
name = "不动产登记"
prefix = "A"
[[hall.window]]
id = "w1"
name = "1号窗口"
services = ["s0"]
'''

STANDBY = '''
[hall.standby]
this = "a"
etcd = ["http://127.0.0.11:2379", "http://127.0.0.12:2379", "http://127.0.0.13:2379"]
insecure = true
[[hall.standby.engine]]
id = "a"
rpc = "ipc://{d}/a"
events = "ipc://{d}/ae"
[[hall.standby.engine]]
id = "b"
rpc = "ipc://{d}/b"
events = "ipc://{d}/be"
'''


def load(tmp_path, text: str):
    path = tmp_path / "hwd.toml"
    path.write_text(textwrap.dedent(text).format(d=tmp_path), encoding="utf-8")
    return configuration.load(path)


def problems(tmp_path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return caught.value.problems


def test_a_valid_standby(tmp_path):
    cfg = load(tmp_path, HALL + STANDBY)
    sb = cfg.hall.standby
    assert sb.this == "a" and sb.me.id == "a" and [e.id for e in sb.engines] == ["a", "b"]
    assert sb.lease_s == 3.0 and sb.prefix == "/hwd/hall"


@pytest.mark.parametrize("change, where, words", [
    (('this = "a"', 'this = "x"'), "hall.standby.this", "not one of the engines"),
    (('insecure = true', 'insecure = false'), "hall.standby.etcd[0]", "use https://"),
    (('"http://127.0.0.11:2379"', '"127.0.0.11"'), "hall.standby.etcd[0]", "expected http(s)://host:port"),
    (('etcd = [', 'lease_s = 1\netcd = ['), "hall.standby.lease_s", "below the minimum"),
    (('etcd = ["http://127.0.0.11:2379", "http://127.0.0.12:2379", "http://127.0.0.13:2379"]', 'etcd = []'),
     "hall.standby.etcd", "needs the etcd members"),
    (('id = "b"', 'id = "a"'), "hall.standby.engine[1].id", "duplicate engine id"),
    (('rpc = "ipc://{d}/a"', 'rpc = "tcp://127.0.0.11:5555"'), "hall.standby.engine[0].server_key",
     "needs its public certificate"),
    (('insecure = true', 'insecure = true\nsurprise = 1'), "hall.standby.surprise", "unknown"),
])
def test_problems_name_their_line(tmp_path, change, where, words):
    text = HALL + STANDBY.replace(*change)
    found = problems(tmp_path, text)
    line = next((p for p in found if f" {where}:" in p), None)
    assert line is not None, found
    assert words in line and line.startswith(str(tmp_path / "hwd.toml") + ":")


def test_exactly_two_engines(tmp_path):
    text = HALL + STANDBY + '[[hall.standby.engine]]\nid = "c"\nrpc = "ipc://{d}/c"\nevents = "ipc://{d}/ce"\n'
    assert any("exactly two engine PCs" in p for p in problems(tmp_path, text))


def test_https_needs_the_ca(tmp_path):
    text = HALL + STANDBY.replace("http://", "https://").replace("insecure = true\n", "")
    assert any("hall.standby.etcd_ca" in p and "CA certificate" in p for p in problems(tmp_path, text))


def test_without_standby_nothing_changes(tmp_path):
    """No [hall.standby]: the daemon's method table is the plain one, the engine a HallEngine, and
    nothing of the standby (etcd client, controller) is imported, so no process, no thread, no
    latency is added (bench/standby.py measures issue_ticket side by side)."""
    path = tmp_path / "hwd.toml"
    path.write_text(textwrap.dedent(HALL).format(d=tmp_path), encoding="utf-8")
    code = textwrap.dedent(f'''
        import sys
        from hwd import config, daemon
        from hwd.rpc import MethodTable
        d = daemon.Daemon(config.load({str(path)!r}))
        assert type(d.methods) is MethodTable, type(d.methods)
        assert d.engine_pc
        loaded = [m for m in sys.modules if m.startswith("hwd.standby")]
        assert not loaded, loaded
        print("plain")
    ''')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "plain" in out.stdout, out.stderr


def test_a_pc_that_only_follows_runs_no_engine(tmp_path):
    cfg = load(tmp_path, HALL + STANDBY.replace('this = "a"', 'this = ""'))
    from hwd import daemon
    d = daemon.Daemon(cfg)
    assert not d.engine_pc


def test_tcp_engines_need_this_pcs_client_key(tmp_path):
    from hwd.keys import keygen

    public, _ = keygen(tmp_path / "keys", "a")
    text = HALL + STANDBY.replace('rpc = "ipc://{d}/a"', f'rpc = "tcp://127.0.0.11:5555"\nserver_key = "{public}"')
    found = problems(tmp_path, text)
    assert any("hall.standby.client_key" in p and "CURVE" in p for p in found), found
