"""``hwctl doctor``: each check on this machine, with temporary configs, real ptys, sockets and
a running hwd; system tools are replaced by a fake runner where their output matters."""

from __future__ import annotations

import io
import os
import pwd
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hwd import config as configuration, doctor
from hwd.client import Client
from hwd.doctor import FAIL, OK, WARN

REPO = Path(__file__).resolve().parents[2]


def levels(rows) -> list[str]:
    return [r.level for r in rows]


def load(tmp_path: Path, devices: str = "", daemon: str = "") -> configuration.Config:
    text = (f'[daemon]\nrpc = "ipc://{tmp_path}/run/rpc"\nevents = "ipc://{tmp_path}/run/events"\n'
            f'state_dir = "{tmp_path}/state"\n{daemon}\n{devices}')
    path = tmp_path / "hwd.toml"
    path.write_text(text, encoding="utf-8")
    return configuration.load(path)


def device(id_: str, url: str, kind: str = "scanner", driver: str = "serial") -> str:
    return f'[[device]]\nid = "{id_}"\nkind = "{kind}"\ndriver = "{driver}"\nurl = "{url}"\n'


@pytest.fixture
def pty_path():
    master, slave = os.openpty()
    yield os.ttyname(slave)
    os.close(master)
    os.close(slave)


def test_config_ok_bad_missing(tmp_path):
    load(tmp_path, device("s1", "sim://s1"))
    rows, cfg = doctor.check_config(tmp_path / "hwd.toml")
    assert levels(rows) == [OK] and cfg is not None and "1 devices" in rows[0].message
    bad = tmp_path / "bad.toml"
    bad.write_text('[daemon]\nrpc = "nonsense"\n\n[[device]]\nid = "x"\nkind = "toaster"\n')
    rows, cfg = doctor.check_config(bad)
    assert cfg is None and set(levels(rows)) == {FAIL} and len(rows) >= 2
    assert all(r.message.startswith(f"{bad}:") for r in rows)  # FILE:LINE KEY: reason, as hwd --check
    rows, cfg = doctor.check_config(tmp_path / "nope.toml")
    assert cfg is None and levels(rows) == [FAIL] and "make install" in rows[0].fix


def test_user_and_groups():
    assert levels(doctor.check_user("no-such-user-hwd-test")) == [FAIL]
    root_groups = doctor.user_groups("root")
    assert root_groups is not None
    rows = doctor.check_user("root", groups=sorted(root_groups)[:1])
    assert rows[0].level == OK and FAIL not in levels(rows[:1])
    rows = doctor.check_user("root", groups=["no-such-group-hwd-test"])
    assert WARN in levels(rows) and "usermod" in rows[1].fix


def test_proc_devices_parsing():
    text = "Character devices:\n  4 ttyS\n188 ttyUSB\n189 usb_device\n\nBlock devices:\n  7 loop\n"
    assert doctor.proc_devices(text) == {4: "ttyS", 188: "ttyUSB", 189: "usb_device"}
    assert 136 in doctor.proc_devices() or not Path("/proc/devices").exists()


def test_access_by_mode(tmp_path):
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    node = tmp_path / "node"
    node.write_text("")
    os.chmod(node, 0o600)
    if os.geteuid() == 0:
        os.chown(node, 0, 0)
        assert not doctor.can_access(node.stat(), "nobody")
        os.chown(node, 0, nobody.pw_gid)
        os.chmod(node, 0o660)
        assert doctor.can_access(node.stat(), "nobody")
        os.chmod(node, 0o640)
        assert not doctor.can_access(node.stat(), "nobody")
        assert doctor.can_access(node.stat(), "nobody", write=False)
    os.chmod(node, 0o666)
    assert doctor.can_access(node.stat(), "nobody")
    assert not doctor.can_access(node.stat(), "no-such-user-hwd-test")


def test_node_checks(tmp_path, pty_path):
    rows = doctor.check_node("p", pty_path, None)
    assert levels(rows) == [OK] and pty_path in rows[0].message
    major = os.major(os.stat(pty_path).st_rdev)
    rows = doctor.check_node("p", pty_path, None, majors={major: "ttyCH341USB"})
    assert rows[0].level == FAIL and "DeviceAllow=char-ttyCH341USB" in rows[0].fix
    assert levels(doctor.check_node("p", str(tmp_path / "ttyUSB9"), None)) == [FAIL]
    (tmp_path / "plain").write_text("")
    rows = doctor.check_node("p", str(tmp_path / "plain"), None)
    assert levels(rows) == [FAIL] and "character device" in rows[0].message


def test_devices_of_a_config(tmp_path, pty_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    open_port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        cfg = load(tmp_path, device("emu", "sim://emu") + device("pty", f"serial://{pty_path}")
                   + device("gone", "serial:///dev/hwd/not-plugged-in")
                   + device("net", f"tcp://127.0.0.1:{open_port}")
                   + device("down", f"tcp://127.0.0.1:{closed_port}"))
        stable = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"
        rows = doctor.check_devices(cfg, user=None, by_id={os.path.realpath(pty_path): stable}, tcp_timeout=5)
    finally:
        listener.close()
    by_name: dict[str, list] = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    assert levels(by_name["device emu"]) == [OK]
    assert levels(by_name["device pty"]) == [OK, WARN] and by_name["device pty"][1].fix == f"use serial://{stable}"
    assert levels(by_name["device gone"]) == [FAIL]
    assert levels(by_name["device net"]) == [OK]
    assert levels(by_name["device down"]) == [FAIL]


def test_serial_port_listing(tmp_path, pty_path):
    (tmp_path / "by-id").mkdir()
    (tmp_path / "by-id" / "usb-FTDI_FT232R_A10KZ3X4-if00-port0").symlink_to(pty_path)
    found = doctor.serial_by_id(tmp_path / "by-id")
    assert found == {os.path.realpath(pty_path): str(tmp_path / "by-id" / "usb-FTDI_FT232R_A10KZ3X4-if00-port0")}
    rows = doctor.check_serial_ports(found)
    assert levels(rows) == [OK] and "FT232R" in rows[0].message
    assert levels(doctor.check_serial_ports({})) == [OK]
    assert doctor.serial_by_id(tmp_path / "missing") == {}


def fake(outputs: dict[str, tuple[int, str] | None]):
    return lambda cmd: outputs.get(cmd[0])


def test_tools_with_a_fake_runner(tmp_path):
    speaker_cfg = load(tmp_path, device("spk", "sim://spk"))
    assert levels(doctor.check_sound(None, fake({"aplay": None}))) == [WARN]
    assert levels(doctor.check_sound(None, fake({"aplay": (0, "**** List ****\n")}))) == [WARN]
    rows = doctor.check_sound(speaker_cfg, fake({"aplay": (0, "card 0: PCH [HDA Intel PCH], device 0: ALC\n")}))
    assert levels(rows) == [OK] and "card 0" in rows[0].message
    assert levels(doctor.check_fonts(None, fake({"fc-list": (0, "")}))) == [WARN]
    hall = configuration.loads('[daemon]\nstate_dir = "x"\n[hall]\nname = "h"\n[[hall.service]]\nid = "a"\n'
                               'name = "A"\nprefix = "A"\n', tmp_path / "h.toml")
    assert levels(doctor.check_fonts(hall, fake({"fc-list": (0, "")}))) == [FAIL]
    assert levels(doctor.check_fonts(hall, fake({"fc-list": (0, "Noto Sans CJK SC,Noto Sans CJK SC Regular\n")}))) == [OK]
    assert levels(doctor.check_espeak(None, fake({}))) == [WARN]
    assert levels(doctor.check_espeak(None, fake({"espeak-ng": (0, "eSpeak NG text-to-speech: 1.51  Data at: /x\n")}))) == [OK]


def test_tools_on_this_machine():
    """The real commands: whatever is installed, every check gives a result and never raises."""
    for check in (doctor.check_sound, doctor.check_fonts, doctor.check_espeak):
        rows = check()
        assert rows and all(r.level in (OK, WARN, FAIL) for r in rows)
    assert doctor.check_chromium()[0].level in (OK, WARN, FAIL)
    assert doctor.check_service()[0].level in (OK, WARN, FAIL)
    assert all(r.level == WARN for r in doctor.check_interference())


def test_keys(tmp_path):
    from hwd.keys import keygen

    cfg = load(tmp_path, device("s1", "sim://s1"))
    assert levels(doctor.check_keys(cfg)) == [OK]
    keys = tmp_path / "keys"
    _, server_secret = keygen(keys, "server")
    clients = tmp_path / "clients"
    public, _ = keygen(clients, "kiosk1")
    (clients / "kiosk1.key_secret").unlink()
    tcp = (f'rpc = "tcp://127.0.0.1:5999"\nevents = "tcp://127.0.0.1:5998"\nserver_key = "{server_secret}"\n'
           f'clients_dir = "{clients}"\n')
    text = (tmp_path / "hwd.toml").read_text().replace(f'rpc = "ipc://{tmp_path}/run/rpc"\n', "") \
        .replace(f'events = "ipc://{tmp_path}/run/events"\n', tcp)
    (tmp_path / "tcp.toml").write_text(text)
    cfg = configuration.load(tmp_path / "tcp.toml")
    rows = doctor.check_keys(cfg, user=None)
    assert levels(rows) == [OK, OK] and "1 allowed client" in rows[-1].message
    os.chmod(server_secret, 0o644)
    rows = doctor.check_keys(cfg, user=None)
    assert rows[0].level == FAIL and "chmod 0640" in rows[0].fix


def test_endpoint_and_socket_of_a_running_daemon(hwd_daemon):
    d = hwd_daemon(device("s1", "sim://s1"))
    rows = doctor.check_endpoint(Client(d.rpc, timeout=10, retries=1))
    assert rows[0].level == OK and "hwd" in rows[0].message
    assert levels(doctor.check_ipc(d.rpc)) == [OK]
    d.stop()
    rows = doctor.check_endpoint(Client(d.rpc, timeout=0.3, retries=1))
    assert levels(rows) == [FAIL] and "systemctl status hwd" in rows[0].fix
    assert levels(doctor.check_ipc(d.rpc)) == [FAIL]
    assert doctor.check_ipc("tcp://127.0.0.1:1") == []


def test_report_and_exit_status():
    out = io.StringIO()
    assert doctor.report([doctor.Result(OK, "a", "fine"), doctor.Result(WARN, "b", "hm", "do x")], out) == 0
    assert doctor.report([doctor.Result(FAIL, "c", "broken", "do y")], out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("OK    a") and "do x" in lines[1] and lines[1].startswith("WARN")
    assert any(line.startswith("FAIL  c") and line.endswith("-> do y") for line in lines)


def test_hwctl_doctor_command(hwd_daemon):
    """The whole command, as a field engineer runs it: one line per check, exit 0 iff no FAIL."""
    d = hwd_daemon(device("s1", "sim://s1"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "hwd.hwctl", "--config", str(d.config_path), "--timeout-rpc", "10",
                           "doctor"], capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    checks = [line for line in lines[:-1]]
    assert checks and all(line.split()[0] in (OK, WARN, FAIL) for line in checks), done.stdout + done.stderr
    assert any(line.startswith("OK    config") for line in checks)
    assert any(line.startswith("OK    daemon") for line in checks)
    assert done.returncode == (1 if any(line.startswith(FAIL) for line in checks) else 0)


def test_pages_check(tmp_path):
    """hwd-ui's /readyz, served here by a tiny HTTP server standing in for the pages."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        status = 200

        def do_GET(self):  # noqa: N802 (http.server's naming)
            body = b'{"ok": true}' if self.path == "/readyz" else b"{}"
            self.send_response(Handler.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        cfg = load(tmp_path, daemon=f'\n[ui]\nhost = "0.0.0.0"\nport = {port}\n')
        rows = doctor.check_pages(cfg, timeout=10)
        assert levels(rows) == [OK] and "reaches hwd" in rows[0].message
        Handler.status = 503
        rows = doctor.check_pages(cfg, timeout=10)
        assert levels(rows) == [FAIL] and "HTTP 503" in rows[0].message
    finally:
        server.shutdown()
        server.server_close()
    assert levels(doctor.check_pages(cfg, timeout=10)) == [FAIL]
    assert doctor.check_pages(load(tmp_path)) == []


def test_kiosk_tools(tmp_path, monkeypatch):
    """With the kiosk unit enabled, a missing browser or compositor is a FAIL, not a WARN."""
    wants = tmp_path / "graphical.target.wants"
    wants.mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    rows = doctor.check_chromium(fake({}), wants=wants)
    assert levels(rows) == [WARN]
    (wants / "hwd-kiosk.service").symlink_to("/etc/systemd/system/hwd-kiosk.service")
    rows = doctor.check_chromium(fake({}), wants=wants)
    assert levels(rows) == [FAIL, FAIL, FAIL]
    assert [r.fix for r in rows[:2]] == ["apt install cage", "apt install xwayland"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("cage", "Xwayland", "chromium"):
        (bin_dir / tool).write_text("#!/bin/sh\n")
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    rows = doctor.check_chromium(fake({"chromium": (0, "Chromium 1.2.3\n")}), wants=wants)
    assert levels(rows) == [OK] and rows[0].message == "Chromium 1.2.3"


def test_run_checks_with_a_bad_config_and_no_daemon(tmp_path):
    """Every check still runs and reports when the config is broken and nothing answers."""
    import argparse

    bad = tmp_path / "bad.toml"
    bad.write_text("[daemon\n")
    rows = doctor.run_checks(argparse.Namespace(config=str(bad), rpc=None), None, runner=fake({}))
    names = [r.name for r in rows]
    assert rows[0].name == "config" and rows[0].level == FAIL and ":1 " in rows[0].message
    assert "daemon" in names and next(r for r in rows if r.name == "daemon").level == FAIL
    out = io.StringIO()
    assert doctor.report(rows, out) == 1
