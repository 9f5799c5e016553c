"""The systemd units, checked the way systemd reads them: ``systemd-analyze verify`` on each unit,
``systemd-analyze security --offline=true`` on the services, and their paths against the
install layout of scripts/install.sh.

How verify is run: ``verify`` insists that every Exec*= binary exists and that the units the
unit refers to (multi-user.target, ...) can be loaded. So each test stages an install with
``DESTDIR=<tmp root> NO_VENV=1 scripts/install.sh`` (the real file list, no venv, no system
change), puts an executable stub at every absolute path the units execute (/opt/hwd/venv/bin/hwd,
/usr/bin/cage, ...), copies the host's own unit directory (/usr/lib/systemd/system) into the root,
and runs ``systemd-analyze verify --root=<tmp root> --man=no UNIT``.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"
UNITS = sorted(p.name for p in SYSTEMD.glob("*.service"))
TIMERS = sorted(p.name for p in SYSTEMD.glob("*.timer"))
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (make sysdeps)")
PREFIX = "/opt/hwd"


def unit_entries(name: str) -> list[tuple[str, str, str]]:
    """(section, key, value) for every line of a unit file, repeated keys kept."""
    rows, section = [], ""
    for raw in (SYSTEMD / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        rows.append((section, key.strip(), value.strip()))
    return rows


def values(name: str, key: str) -> list[str]:
    return [v for _, k, v in unit_entries(name) if k == key]


def exec_paths(name: str) -> list[str]:
    paths = []
    for key in ("ExecStart", "ExecStartPre", "ExecStartPost", "ExecStop", "ExecReload"):
        for value in values(name, key):
            paths.append(value.lstrip("-@:+!").split()[0])
    return paths


def stage(root: Path, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "DESTDIR": str(root), "NO_VENV": "1", **env}
    done = subprocess.run(["sh", str(REPO / "scripts" / "install.sh")], env=full, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture
def staged_root(tmp_path):
    root = tmp_path / "root"
    stage(root)
    for unit in UNITS:
        for path in exec_paths(unit):
            stub = root / path.lstrip("/")
            if not stub.exists():
                stub.parent.mkdir(parents=True, exist_ok=True)
                stub.write_text("#!/bin/sh\nexit 0\n")
                stub.chmod(0o755)
    system_units = Path("/usr/lib/systemd/system")
    if not system_units.is_dir():
        system_units = Path("/lib/systemd/system")
    if system_units.is_dir():
        shutil.copytree(system_units, root / "usr/lib/systemd/system", symlinks=True, dirs_exist_ok=True)
    return root


def verify(root: Path, unit: str) -> subprocess.CompletedProcess:
    return subprocess.run([ANALYZE, "verify", f"--root={root}", "--man=no", unit], capture_output=True,
                          text=True, timeout=60, cwd=root)


def test_units_parse():
    assert {"hwd.service", "hwd-ui.service", "hwd-kiosk.service", "hwd-kiosk-x11.service"} <= set(UNITS)
    for unit in UNITS:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        parser.read_string((SYSTEMD / unit).read_text())
        # a service its timer starts (hwd-metrics) is not enabled itself
        started_by_timer = unit.replace(".service", ".timer") in TIMERS
        assert {"Unit", "Service"} | (set() if started_by_timer else {"Install"}) <= set(parser.sections()), unit
    for timer in TIMERS:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read_string((SYSTEMD / timer).read_text())
        assert {"Unit", "Timer", "Install"} <= set(parser.sections()), timer
        assert timer.replace(".timer", ".service") in UNITS, timer


@needs_analyze
@pytest.mark.parametrize("unit", UNITS + TIMERS)
def test_systemd_analyze_verify(staged_root, unit):
    assert (staged_root / "etc/systemd/system" / unit).is_file()
    done = verify(staged_root, unit)
    assert done.returncode == 0 and not done.stderr.strip(), done.stdout + done.stderr


@needs_analyze
def test_verify_is_not_vacuous(staged_root):
    """The same verify rejects a unit with an error, so a pass above means something."""
    unit = staged_root / "etc/systemd/system/hwd.service"
    good = unit.read_text()
    unit.write_text(good.replace("Type=notify", "Type=notifyy"))
    assert "notifyy" in verify(staged_root, "hwd.service").stderr
    unit.write_text(good)
    (staged_root / "opt/hwd/venv/bin/hwd").unlink()
    done = verify(staged_root, "hwd.service")
    assert done.returncode != 0 and "/opt/hwd/venv/bin/hwd" in done.stderr


def exposure(unit: str) -> float:
    done = subprocess.run([ANALYZE, "security", "--offline=true", "--no-pager", str(SYSTEMD / unit)],
                          capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout + done.stderr)
    assert match, done.stdout + done.stderr
    return float(match.group(1))


@needs_analyze
def test_hwd_service_exposure():
    assert exposure("hwd.service") <= 3.0


@needs_analyze
def test_hwd_ui_service_exposure():
    assert exposure("hwd-ui.service") <= 3.0


def test_exec_paths_match_install_layout(tmp_path):
    """Every program the units start is where install.sh puts it (or a system tool)."""
    root = tmp_path / "root"
    stage(root)
    scripts = configparser.ConfigParser()
    scripts.read(REPO / "setup.cfg")
    console = {line.split("=")[0].strip() for line in scripts["options.entry_points"]["console_scripts"].splitlines()
               if line.strip()}
    assert values("hwd.service", "ExecStart") == [f"{PREFIX}/venv/bin/hwd --config /etc/hwd/hwd.toml"]
    assert values("hwd.service", "ExecStartPre") == [f"{PREFIX}/venv/bin/hwd --config /etc/hwd/hwd.toml --check"]
    assert values("hwd-ui.service", "ExecStart")[0].startswith(f"{PREFIX}/venv/bin/hwd-ui --config /etc/hwd/hwd.toml")
    for unit in UNITS:
        for path in exec_paths(unit):
            if path.startswith(f"{PREFIX}/venv/bin/"):
                assert Path(path).name in console, f"{unit}: {path} is no console script of setup.cfg"
            elif path.startswith(PREFIX):
                assert (root / path.lstrip("/")).is_file(), f"{unit}: install.sh does not install {path}"
            else:
                assert path.startswith("/usr/bin/"), f"{unit}: {path}"
        for env_file in values(unit, "EnvironmentFile"):
            assert (root / env_file.lstrip("-/")).is_file(), f"{unit}: install.sh does not create {env_file}"
    assert (root / "etc/hwd/hwd.toml").is_file()
    assert (root / "etc/systemd/system/multi-user.target.wants/hwd.service").is_symlink()


def test_hwd_service_contract():
    def one(key: str) -> str:
        found = values("hwd.service", key)
        assert len(found) == 1, f"{key}: {found}"
        return found[0]

    assert one("Type") == "notify" and one("NotifyAccess") == "main"
    assert one("Restart") == "on-failure" and one("WatchdogSec")
    assert one("User") == "hwd"
    assert set(one("SupplementaryGroups").split()) == {"dialout", "lp", "input", "audio"}
    assert one("StateDirectory") == "hwd" and one("RuntimeDirectory") == "hwd"
    assert one("ConfigurationDirectory") == "hwd"
    # hwd writes its config by renaming a new file over it (hwd.configstore): /etc/hwd is writable
    assert one("ReadWritePaths") == "/etc/hwd"
    assert one("SuccessExitStatus") == one("RestartForceExitStatus") == "75"  # the night restart
    assert one("RuntimeDirectoryMode") == "0750" and one("RuntimeDirectoryPreserve") == "restart"
    assert one("ExecStartPre").endswith("--check")
    assert one("DevicePolicy") == "closed"
    assert "PrivateDevices" not in {k for _, k, _ in unit_entries("hwd.service")}
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "MemoryDenyWriteExecute", "LockPersonality"):
        assert one(key) == "yes", key
    assert one("ProtectSystem") == "strict"
    assert "AF_NETLINK" in one("RestrictAddressFamilies")


def test_device_classes_agree_with_doctor():
    from hwd import doctor

    allowed = {v.split()[0].removeprefix("char-") for v in values("hwd.service", "DeviceAllow")
               if v.startswith("char-")}
    assert allowed == set(doctor.ALLOWED_CLASSES)
    assert set(values("hwd.service", "SupplementaryGroups")[0].split()) == set(doctor.DEVICE_GROUPS)


def test_kiosk_browser_flags():
    script = (SYSTEMD / "hwd-kiosk-browser").read_text()
    for flag in ("--kiosk", "--disable-pinch", "--overscroll-history-navigation=0",
                 "--autoplay-policy=no-user-gesture-required", "--user-data-dir=", "--noerrdialogs",
                 "--disable-session-crashed-bubble"):
        assert flag in script, flag
    assert subprocess.run(["sh", "-n", str(SYSTEMD / "hwd-kiosk-browser")]).returncode == 0
    for unit in ("hwd-kiosk.service", "hwd-kiosk-x11.service"):
        assert values(unit, "EnvironmentFile") == ["-/etc/hwd/kiosk.env"]
        assert values(unit, "User") == ["hwd-kiosk"]
        assert values(unit, "PAMName") == ["hwd-kiosk"]
    assert (SYSTEMD / "pam.d" / "hwd-kiosk").is_file()


def test_kiosk_browser_runs_with_the_url(tmp_path):
    """The wrapper execs chromium with the URL from the environment and its own profile."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "chromium").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS_OUT"\n')
    (fake / "chromium").chmod(0o755)
    out = tmp_path / "args"
    env = {"PATH": f"{fake}:/usr/bin:/bin", "HWD_KIOSK_URL": "http://10.0.0.2:8080/kiosk/k1",
           "STATE_DIRECTORY": str(tmp_path / "state"), "ARGS_OUT": str(out), "HWD_KIOSK_WAIT": "0"}
    done = subprocess.run(["sh", str(SYSTEMD / "hwd-kiosk-browser")], env=env, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    args = out.read_text().splitlines()
    assert args[args.index("--kiosk") + 1] == "http://10.0.0.2:8080/kiosk/k1"
    assert f"--user-data-dir={tmp_path / 'state' / 'chromium'}" in args


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="systemd-sysusers is not installed")
def test_sysusers_snippet(tmp_path):
    (tmp_path / "etc").mkdir()
    done = subprocess.run(["systemd-sysusers", f"--root={tmp_path}", "--dry-run",
                           str(SYSTEMD / "sysusers.d" / "hwd.conf")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for user in ("hwd", "hwd-ui", "hwd-kiosk"):
        assert f"Creating user '{user}'" in done.stdout + done.stderr


def test_tmpfiles_snippet():
    users = {line.split()[1] for line in (SYSTEMD / "sysusers.d" / "hwd.conf").read_text().splitlines()
             if line.startswith("u ")}
    for line in (SYSTEMD / "tmpfiles.d" / "hwd.conf").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, path, mode, user, group, age = line.split()
        assert kind in ("d", "z") and path.startswith("/") and re.fullmatch(r"[0-3][0-7]{3}", mode), line
        assert user in users | {"root"} and group in users | {"root"}, line
        if path == "/etc/hwd":  # group hwd may add (hwd renames its own hwd.toml); setgid, sticky; root's,
            assert (user, group, mode) == ("root", "hwd", "3770"), line  # as tmpfiles takes no root file under a user's
        if path == "/etc/hwd/hwd.toml":
            assert (user, group, mode) == ("hwd", "hwd", "0640"), line
        if path.startswith("/etc/hwd/keys"):  # never writable by hwd
            assert user == "root", line


def test_kiosk_browser_waits_for_the_pages(tmp_path):
    """Chromium starts only once the URL answers: here curl fails twice, then succeeds."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "chromium").write_text('#!/bin/sh\necho started > "$ARGS_OUT"\n')
    (fake / "curl").write_text('#!/bin/sh\necho x >> "$CURL_LOG"\n[ "$(wc -l < "$CURL_LOG")" -ge 3 ]\n')
    (fake / "sleep").write_text("#!/bin/sh\nexit 0\n")
    for name in ("chromium", "curl", "sleep"):
        (fake / name).chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin", "HWD_KIOSK_URL": "http://127.0.0.1:9/display",
           "STATE_DIRECTORY": str(tmp_path / "state"), "ARGS_OUT": str(tmp_path / "out"),
           "CURL_LOG": str(tmp_path / "curl.log")}
    done = subprocess.run(["sh", str(SYSTEMD / "hwd-kiosk-browser")], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "curl.log").read_text().count("x") == 3
    assert (tmp_path / "out").read_text().strip() == "started"


@needs_analyze
def test_hwd_metrics_service_exposure():
    assert exposure("hwd-metrics.service") <= 3.0


@needs_analyze
def test_hwd_central_service_exposure():
    assert exposure("hwd-central.service") <= 3.0


def test_hwd_central_service_runs_unprivileged_from_a_credential():
    assert values("hwd-central.service", "ExecStart") == \
        [f"{PREFIX}/venv/bin/hwd-central --config ${{CREDENTIALS_DIRECTORY}}/central.toml"]
    assert values("hwd-central.service", "LoadCredential") == ["central.toml:/etc/hwd/central.toml"]
    assert values("hwd-central.service", "DynamicUser") == ["yes"]
