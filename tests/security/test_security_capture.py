"""Issue 22 item 7: ``hwctl capture -o FILE`` wrote the capture 0644 under the caller's umask,
so any local user could read what went over a device's wire. Attacked with the loosest umask:
a new capture, one over an existing world-readable file, a symlink planted where the file goes,
and the daemon-side ``?capture=FILE`` recording; and a device that shares its port with an
ID-card reader (its capture would hold the card's bytes)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from hwd import capture
from hwd.ports import open_serial
from hwd.url import parse
from security_helpers import scanner
from support.ports import free_port


def _hwctl(d, *args: str) -> subprocess.CompletedProcess:
    def loose_umask() -> None:
        os.umask(0)

    return subprocess.run([sys.executable, "-m", "hwd.hwctl", "--config", str(d.config_path), *args],
                          capture_output=True, text=True, timeout=60, preexec_fn=loose_umask)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_hwctl_capture_files_are_private_whatever_the_umask(hwd_daemon, tmp_path):
    d = hwd_daemon(scanner("scan1"))
    d.wait_state("scan1", "online")
    new = tmp_path / "new.jsonl"
    out = _hwctl(d, "capture", "scan1", "--seconds", "0.2", "-o", str(new))
    assert out.returncode == 0, out.stderr
    assert _mode(new) == 0o600
    capture.load(new)  # a real capture file

    old = tmp_path / "old.jsonl"
    old.write_text("left over\n")
    os.chmod(old, 0o666)
    out = _hwctl(d, "capture", "scan1", "--seconds", "0.2", "-o", str(old))
    assert out.returncode == 0, out.stderr
    assert _mode(old) == 0o600 and "left over" not in old.read_text()

    # a symlink planted where the capture goes: refused, its target untouched
    target = tmp_path / "victim.txt"
    target.write_text("precious\n")
    link = tmp_path / "planted.jsonl"
    link.symlink_to(target)
    out = _hwctl(d, "capture", "scan1", "--seconds", "0.2", "-o", str(link))
    assert out.returncode == 1 and "symlink" in out.stderr, out.stderr
    assert target.read_text() == "precious\n"


def test_capture_url_option_writes_a_private_file(tmp_path):
    path = tmp_path / "loop.jsonl"
    before = os.umask(0)
    try:
        port = open_serial(parse(f"loop://?capture={path}"), timeout=0.1)
    finally:
        os.umask(before)
    port.write(b"\x02A001\x03")
    port.read(6)
    port.close()
    assert _mode(path) == 0o600
    assert [d for _, _, d in capture.load(path)[1]] == [b"\x02A001\x03", b"\x02A001\x03"]


def test_a_device_sharing_a_card_readers_port_is_not_captured(hwd_daemon):
    port = free_port()  # nothing listens: both devices stay offline, the port is what counts
    d = hwd_daemon(f'''
[[device]]
id = "reader"
kind = "idcard"
driver = "sam"
url = "tcp://127.0.0.1:{port}"
[[device]]
id = "scan-on-same-port"
kind = "scanner"
driver = "serial"
url = "tcp://127.0.0.1:{port}"
''')
    out = _hwctl(d, "capture", "scan-on-same-port", "--seconds", "0.2", "-o", str(d.workdir / "x.jsonl"))
    assert out.returncode == 1 and "error 1030" in out.stderr and "reader" in out.stderr, out.stderr
    assert not (d.workdir / "x.jsonl").exists()
