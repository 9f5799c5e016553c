"""scripts/install.sh and uninstall.sh (and their make targets), staged under DESTDIR in tmp:
the file layout, the hall's config never overwritten, upgrades keeping config and state,
uninstall keeping /etc/hwd and /var/lib/hwd unless PURGE=1. Nothing is installed on this machine;
the venv step is skipped (NO_VENV=1): it is pip's job, exercised by a real `make install`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def sh(script: str, root: Path, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "DESTDIR": str(root), "NO_VENV": "1", **env}
    done = subprocess.run(["sh", str(REPO / "scripts" / script)], env=full, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def files(root: Path) -> set[str]:
    return {"/" + str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def test_layout(tmp_path):
    root = tmp_path / "root"
    sh("install.sh", root)
    have = files(root)
    for path in ("/etc/hwd/hwd.toml", "/etc/hwd/hwd.toml.example", "/etc/hwd/hwd-ui.env", "/etc/hwd/kiosk.env",
                 "/etc/systemd/system/hwd.service", "/etc/systemd/system/hwd-ui.service",
                 "/etc/systemd/system/hwd-kiosk.service", "/etc/systemd/system/hwd-kiosk-x11.service",
                 "/etc/udev/rules.d/60-hwd.rules", "/etc/udev/rules.d/61-hwd-local.rules",
                 "/etc/sysusers.d/hwd.conf", "/etc/tmpfiles.d/hwd.conf", "/etc/pam.d/hwd-kiosk",
                 "/opt/hwd/bin/hwd-kiosk-browser", "/opt/hwd/share/install-manifest.txt",
                 "/usr/local/bin/hwd", "/usr/local/bin/hwctl"):
        assert path in have, path
    assert os.readlink(root / "usr/local/bin/hwctl") == "/opt/hwd/venv/bin/hwctl"
    assert (root / "etc/hwd/hwd.toml").stat().st_mode & 0o777 == 0o640
    assert (root / "etc/hwd").stat().st_mode & 0o777 == 0o750
    assert os.access(root / "opt/hwd/bin/hwd-kiosk-browser", os.X_OK)
    wants = root / "etc/systemd/system/multi-user.target.wants"
    if shutil.which("systemctl"):
        assert {p.name for p in wants.iterdir()} == {"hwd.service", "hwd-ui.service"}


def test_options_ui_and_kiosk(tmp_path):
    if not shutil.which("systemctl"):
        pytest.skip("systemctl is not installed: enabling is not tested")
    root = tmp_path / "root"
    sh("install.sh", root, UI="0", KIOSK="1")
    assert {p.name for p in (root / "etc/systemd/system/multi-user.target.wants").iterdir()} == {"hwd.service"}
    assert (root / "etc/systemd/system/graphical.target.wants/hwd-kiosk.service").is_symlink()


def test_upgrade_keeps_config_and_state(tmp_path):
    root = tmp_path / "root"
    sh("install.sh", root)
    config = root / "etc/hwd/hwd.toml"
    config.write_text("# the hall's own config\n")
    local_rules = root / "etc/udev/rules.d/61-hwd-local.rules"
    local_rules.write_text('SUBSYSTEM=="tty", ENV{ID_SERIAL_SHORT}=="X", SYMLINK+="hwd/x"\n')
    state = root / "var/lib/hwd/hall.sqlite3"
    state.parent.mkdir(parents=True)
    state.write_bytes(b"tickets")
    (root / "etc/hwd/hwd.toml.example").write_text("old example")
    (root / "etc/systemd/system/hwd.service").write_text("old unit")
    out = sh("install.sh", root).stdout
    assert "keeping /etc/hwd/hwd.toml" in out
    assert config.read_text() == "# the hall's own config\n"
    assert "SYMLINK" in local_rules.read_text()
    assert state.read_bytes() == b"tickets"
    assert (root / "etc/hwd/hwd.toml.example").read_text() == (REPO / "config/hwd.example.toml").read_text()
    assert (root / "etc/systemd/system/hwd.service").read_text() == (REPO / "systemd/hwd.service").read_text()


def test_uninstall_keeps_data_unless_purge(tmp_path):
    root = tmp_path / "root"
    sh("install.sh", root)
    (root / "var/lib/hwd").mkdir(parents=True)
    (root / "var/lib/hwd/hall.sqlite3").write_bytes(b"tickets")
    sh("uninstall.sh", root)
    left = files(root)
    assert not (root / "opt/hwd").exists()
    assert not any(p.startswith(("/etc/systemd/", "/usr/local/bin/", "/etc/pam.d/", "/etc/sysusers.d/"))
                   for p in left), left
    assert "/etc/udev/rules.d/60-hwd.rules" not in left
    assert {"/etc/hwd/hwd.toml", "/var/lib/hwd/hall.sqlite3", "/etc/udev/rules.d/61-hwd-local.rules"} <= left
    sh("install.sh", root)  # reinstall over the kept data: still the hall's config
    sh("uninstall.sh", root, PURGE="1")
    assert not (root / "etc/hwd").exists() and not (root / "var/lib/hwd").exists()
    assert not (root / "etc/udev/rules.d/61-hwd-local.rules").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_targets(tmp_path):
    root = tmp_path / "root"
    base = ["make", "-s", "-C", str(REPO), "-f", "Makefile", "-f", "mk/install.mk"]
    done = subprocess.run(base + ["install", f"DESTDIR={root}", "NO_VENV=1"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (root / "etc/systemd/system/hwd.service").is_file()
    done = subprocess.run(base + ["uninstall", f"DESTDIR={root}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (root / "etc/systemd/system/hwd.service").exists()


def test_example_config_passes_check():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    import sys

    done = subprocess.run([sys.executable, "-m", "hwd", "--config", str(REPO / "config/hwd.example.toml"), "--check"],
                          capture_output=True, text=True, env=env, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
