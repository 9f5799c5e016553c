"""Config checking: every problem at once, as FILE:LINE KEY: reason, exit 2; nothing opened."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from hwd import config
from hwd.errors import ConfigError
from hwd.tomlmap import LineMap

SCANNER = '''
[[device]]
id = "s1"
kind = "scanner"
driver = "serial"
url = "sim://s1"
'''


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        config.loads(textwrap.dedent(text), "hall.toml")
    return exc.value.problems


def test_valid_config_loads_typed_objects(tmp_path):
    cfg = config.loads(f'[daemon]\nstate_dir = "{tmp_path}"\nlog_level = "debug"\n' + SCANNER, tmp_path / "x.toml")
    assert cfg.daemon.state_dir == tmp_path
    assert cfg.daemon.log_level == "debug"
    (dev,) = cfg.devices
    assert (dev.id, dev.kind, dev.driver, dev.url.scheme) == ("s1", "scanner", "serial", "sim")
    assert dev.options == {"baudrate": 9600, "encoding": "utf-8", "max_length": 512, "char_timeout_ms": 1000}


@pytest.mark.parametrize("text, expected", [
    ("[daemon]\nrpcc = 'ipc:///tmp/x'\n", "hall.toml:2 daemon.rpcc: unknown key (did you mean 'rpc'?)"),
    ("[daemon]\nheartbeat_s = 'fast'\n", "hall.toml:2 daemon.heartbeat_s: expected a number, got a string"),
    ("[daemon]\nrpc = 'http://x'\n", "hall.toml:2 daemon.rpc: expected ipc:///path or tcp://host:port"),
    ("[daemon]\nrpc = 'tcp://0.0.0.0:5555'\n", "hall.toml:2 daemon.rpc: a tcp:// endpoint needs CURVE keys"),
    (SCANNER.replace('kind = "scanner"', 'kind = "toaster"'), "hall.toml:4 device[0].kind: 'toaster' is not one of"),
    (SCANNER.replace('driver = "serial"', 'driver = "hid"'), "hall.toml:5 device[0].driver: unknown driver 'hid' for kind scanner; known: evdev, serial"),
    (SCANNER.replace('sim://s1', 'serial://dev/ttyUSB0'), "hall.toml:6 device[0].url: serial:// takes an absolute path"),
    (SCANNER.replace('sim://s1', 'usb://0416:5011'), "hall.toml:6 device[0].url: driver serial does not take usb:// URLs"),
    (SCANNER.replace('sim://s1', 'serial:///dev/ttyUSB0?baud=9600'), "hall.toml:6 device[0].url: unknown serial parameter 'baud'"),
    (SCANNER + 'baudrate = "fast"\n', "hall.toml:7 device[0].baudrate: expected an integer, got a string"),
    (SCANNER + 'colour = "red"\n', "hall.toml:7 device[0].colour: unknown key"),
    (SCANNER + SCANNER, "hall.toml:9 device[1].id: duplicate device id 's1'"),
    (SCANNER + 'node = "pc9"\n', "hall.toml:7 device[0].node: unknown node 'pc9'"),
    ("[daemon]\n[frobnicate]\nx = 1\n", "hall.toml:2 frobnicate: unknown key"),
    ("[daemon]\nrpc = \n", "hall.toml:2 syntax: Invalid value"),
    ('[[device]]\nid = "bad id!"\nkind = "scanner"\ndriver = "serial"\nurl = "sim://x"\n', "hall.toml:2 device[0].id: ids are"),
    ('[[device]]\nkind = "scanner"\ndriver = "serial"\nurl = "sim://x"\n', "hall.toml:1 device[0].id: required key is missing"),
])
def test_each_kind_of_mistake_is_reported_with_its_line(text, expected):
    found = problems(text)
    assert any(p.startswith(expected) for p in found), found


def test_three_mistakes_give_three_lines_and_exit_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(textwrap.dedent('''
        [daemon]
        log_level = "loud"

        [[device]]
        id = "s1"
        kind = "scanner"
        driver = "serial"
        url = "sim://s1"
        speed = 3

        [[device]]
        id = "s2"
        kind = "scanner"
        driver = "serial"
        url = "ftp://x"
    '''))
    proc = subprocess.run([sys.executable, "-m", "hwd", "--config", str(path), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.startswith(f"{path}:")]
    assert [line.split(" ", 1)[0] for line in lines] == [f"{path}:3", f"{path}:10", f"{path}:16"], proc.stderr
    assert "daemon.log_level" in lines[0] and "device[0].speed" in lines[1] and "device[1].url" in lines[2]


def test_check_of_a_good_config_exits_0_and_opens_nothing(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(f'[daemon]\nstate_dir = "{tmp_path / "state"}"\n' + SCANNER)
    proc = subprocess.run([sys.executable, "-m", "hwd", "--config", str(path), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "ok (1 devices" in proc.stdout
    assert not (tmp_path / "state").exists()


def test_bad_config_starts_nothing(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(f'[daemon]\nstate_dir = "{tmp_path / "state"}"\nrpc = "ipc://{tmp_path}/rpc"\n'
                    + SCANNER + "oops = 1\n")
    proc = subprocess.run([sys.executable, "-m", "hwd", "--config", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert not (tmp_path / "state").exists() and not (tmp_path / "rpc").exists()


def test_missing_file_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "hwd", "--config", str(tmp_path / "none.toml"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "cannot read" in proc.stderr


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    cfg = config.loads('[daemon]\nstate_dir = "state"\nrpc = "ipc://run/rpc"\n', tmp_path / "h.toml")
    assert cfg.daemon.state_dir == tmp_path / "state"
    assert cfg.daemon.rpc == f"ipc://{tmp_path}/run/rpc"


def test_line_map_handles_arrays_of_tables_inline_tables_and_multiline_arrays():
    m = LineMap(textwrap.dedent('''\
        [[device]]
        id = "a"
        frame = [
          "A5", "{addr}",
          "x = 1",
        ]
        keys = { KEY_F1 = "rate:5" }
        [[device]]
        id = "b"
        [[hall.window]]
        id = "5"
        [hall.hours]
        mon = ["09:00-12:00"]
    '''))
    assert m.line_of(("device", 0, "frame")) == 3
    assert m.line_of(("device", 0, "keys", "KEY_F1")) == 7
    assert m.line_of(("device", 1, "id")) == 9
    assert m.line_of(("device", 1, "url")) == 8
    assert m.line_of(("hall", "window", 0, "id")) == 11
    assert m.line_of(("hall", "hours", "mon")) == 13
