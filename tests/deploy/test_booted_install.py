"""``make test-install``: the install a field engineer does, on a booted Debian 12 without network.

One container (tests/deploy/booted.py) goes through a hall PC's life, in this order:
a fresh offline install of this tree from its wheelhouse with a clean environment; the services
and the checks a field engineer runs; a crash (``kill -9``), a wedged daemon (``SIGSTOP``: the
watchdog), a reboot with a ticket taken; uninstall (users gone, data kept), a reinstall that
takes the kept data up under new user ids, and purge; the previous version installed
offline, with a morning of tickets called, served and rated, then this tree over it (the
upgrade); then a newer hwd that migrates the database, this tree refused over it (the rollback),
the previous version over it, and the way back the docs give (which puts the previous version
back on the state this tree wrote). The previous version is ``HWD_TEST_PREVIOUS`` (default
``05187d6``, the commit before the offline install was fixed: its own installer needs
``PIP_FIND_LINKS`` offline, given to it here only).

Skipped, with the reason, unless ``HWD_TEST_INSTALL=1`` (``make test-install`` sets it) and this
machine can boot a container (root, systemd-nspawn, a Debian mirror for the first debootstrap).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import booted
from hwd.hall.store import MIGRATIONS

PREVIOUS = os.environ.get("HWD_TEST_PREVIOUS", "05187d6")
CONFIG = "/etc/hwd/hwd.toml"
DB = "/var/lib/hwd/hall.sqlite3"

pytestmark = [
    pytest.mark.skipif(os.environ.get("HWD_TEST_INSTALL") != "1",
                       reason="boots a Debian container: run with make test-install"),
    pytest.mark.timeout(600),
]


# -- the kit: trees and wheelhouses, made on this (connected) machine ---------------------------
@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("kit")
    trees = {"this": booted.export_tree(base / "this")}
    try:
        trees["previous"] = booted.export_tree(base / "previous", PREVIOUS)
    except subprocess.CalledProcessError as exc:  # a shallow clone
        print(f"previous version {PREVIOUS} is not in this clone ({exc}): upgrade and rollback are skipped")
    booted.make_wheelhouse(trees["this"])
    if "previous" in trees:  # a commit's wheelhouse never changes: made once, kept with the cached root
        booted.make_wheelhouse(trees["previous"], cache=f"wheelhouse-{booted.commit_of(PREVIOUS)}")
    # the next version: this tree with one more migration (what any later schema change does)
    future = base / "future"
    shutil.copytree(trees["this"], future, symlinks=True)
    store = future / "hwd" / "hall" / "store.py"
    store.write_text(store.read_text() + '\nMIGRATIONS.append("CREATE TABLE next_version_probe (id INTEGER);")\n')
    init = future / "hwd" / "__init__.py"
    init.write_text(re.sub(r'__version__ = ".*"', '__version__ = "99.0.0"', init.read_text()))
    trees["future"] = future
    return trees


@pytest.fixture(scope="module")
def pc(kit):
    try:
        lower = booted.cached_root("boot")
    except booted.Unavailable as exc:
        pytest.skip(f"cannot boot a hall PC here: {exc}")
    machine = booted.HallPC(lower)
    try:
        machine.boot()
        for name, tree in kit.items():
            machine.copy_in(tree, f"/root/{name}")
        yield machine
    finally:
        machine.close()


# -- helpers -------------------------------------------------------------------------------------
def install(pc: booted.HallPC, tree: str, check: bool = True, **env: str):
    return pc.run(f"cd /root/{tree} && make install WHEELHOUSE=dist/wheelhouse", check=check, timeout=300, env=env)


def install_previous(pc: booted.HallPC, check: bool = True):
    # that version's installer built hwd without --find-links: only PIP_FIND_LINKS got it through
    return install(pc, "previous", check, PIP_FIND_LINKS="/root/previous/dist/wheelhouse")


def call(pc: booted.HallPC, method: str, params: dict | None = None):
    arg = f" '{json.dumps(params, ensure_ascii=False)}'" if params is not None else ""
    return json.loads(pc.run(f"hwctl --config {CONFIG} call {method}{arg}").stdout)


def main_pid(pc: booted.HallPC, unit: str = "hwd") -> int:
    return int(pc.run(f"systemctl show -P MainPID {unit}").stdout.strip())


def wait_for(what: str, probe, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s")


def readyz(pc: booted.HallPC) -> dict | None:
    done = pc.run("python3 -c \"import urllib.request; "
                  "print(urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=2).read().decode())\"",
                  check=False)
    return json.loads(done.stdout) if done.returncode == 0 else None


def services_up(pc: booted.HallPC, timeout: float = 30) -> None:
    wait_for("hwd and hwd-ui active", lambda: pc.run("systemctl is-active hwd hwd-ui", check=False).returncode == 0,
             timeout)
    ready = wait_for("/readyz ok", lambda: readyz(pc), timeout)
    assert ready["ok"] is True and ready["hwd"]["hall"] is True


def open_all_day(pc: booted.HallPC) -> None:
    """The field engineer's edit: the hall issues at any hour (the test never depends on the time
    of day it runs at); a comment of the hall's own marks the file."""
    text = pc.path(CONFIG).read_text()
    text += "\n# 本大厅自己的配置 (the hall's own)\n[hall.hours]\nalways_open = true\n"
    pc.path(CONFIG).write_text(text)
    pc.run("systemctl restart hwd && systemctl restart hwd-ui")
    services_up(pc)


def rows(pc: booted.HallPC, sql: str) -> list[dict]:
    out = pc.run(f"sqlite3 -json {DB} \"{sql}\"").stdout.strip()
    return json.loads(out) if out else []


def tickets(pc: booted.HallPC) -> list[dict]:
    return rows(pc, "SELECT id, day, number, service, state, window FROM tickets ORDER BY id")


def ratings(pc: booted.HallPC) -> list[dict]:
    return rows(pc, "SELECT * FROM ratings ORDER BY id")


def schema(pc: booted.HallPC) -> int:
    return int(pc.run(f"sqlite3 {DB} 'PRAGMA user_version'").stdout.strip())


def dump(pc: booted.HallPC) -> str:
    return pc.run(f"sqlite3 {DB} .dump").stdout


def serve_and_rate(pc: booted.HallPC, score: int) -> dict:
    ticket = call(pc, "hall.call_next", {"window": "1"})
    call(pc, "hall.start", {"window": "1"})
    call(pc, "hall.finish", {"window": "1"})
    call(pc, "hall.rate", {"window": "1", "score": score})
    return ticket


# -- a fresh hall PC -----------------------------------------------------------------------------
def test_fresh_offline_install(pc):
    done = install(pc, "this")
    assert "install: done" in done.stdout
    services_up(pc)
    doctor = pc.run(f"hwctl --config {CONFIG} doctor", check=False)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert not re.search(r"^FAIL", doctor.stdout, re.M), doctor.stdout
    open_all_day(pc)


def test_the_config_changes_live_under_the_sandbox(pc):
    """hwd writes /etc/hwd/hwd.toml itself (hwctl config set, as the admin page does) under the
    unit's sandbox: the file keeps its mode, the running hwd takes it, a rollback goes back."""
    before = main_pid(pc)
    original = pc.path(CONFIG).read_text()
    pc.run(f"hwctl --config {CONFIG} config set hall.name '\"装机测试大厅\"'")
    assert call(pc, "hall.state")["name"] == "装机测试大厅"
    assert pc.run(f"stat -c %a {CONFIG}").stdout.strip() == "640"
    pc.run(f"hwctl --config {CONFIG} config rollback")
    assert pc.path(CONFIG).read_text() == original
    assert main_pid(pc) == before
    assert pc.run("stat -c %U:%a /etc/hwd/keys").stdout.strip() == "root:750"
    assert pc.run("stat -c %U:%G:%a /etc/hwd").stdout.strip() == "root:hwd:3770"
    assert pc.run(f"stat -c %U:%G {CONFIG}").stdout.strip() == "hwd:hwd"


def test_metrics_on_the_port_and_for_node_exporter(pc):
    """/metrics from this PC, and hwd-metrics.timer's textfile under its sandbox, both pass promtool."""
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (make sysdeps: prometheus)")
    page = pc.run("python3 -c \"import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("
                  "'http://127.0.0.1:8080/metrics', timeout=5).read().decode())\"").stdout
    assert "hwd_up 1.0" in page and "hwd_hall_queue_length" in page
    pc.run("mkdir -p /var/lib/prometheus/node-exporter && systemctl enable --now hwd-metrics.timer")
    textfile = pc.path("/var/lib/prometheus/node-exporter/hwd.prom")
    wait_for("hwd-metrics.timer's first textfile", textfile.exists, 30)
    for text in (page.encode(), textfile.read_bytes()):
        checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, timeout=60)
        assert checked.returncode == 0 and not checked.stdout.strip(), checked
    assert "hwd_up 1.0" in textfile.read_text()


def test_kill_9_is_back_within_10_s(pc):
    before = main_pid(pc)
    pc.run(f"kill -9 {before}")
    wait_for("hwd restarted after kill -9",
             lambda: main_pid(pc) not in (0, before) and pc.run("systemctl is-active hwd", check=False).returncode == 0,
             10)
    services_up(pc)


def test_a_stopped_hwd_is_restarted_by_the_watchdog(pc):
    before = main_pid(pc)
    pc.run(f"kill -STOP {before}")
    wait_for("hwd restarted by the watchdog", lambda: main_pid(pc) not in (0, before), 60, interval=1)
    assert "Watchdog timeout" in pc.run("journalctl -u hwd -b --no-pager").stdout
    services_up(pc)


def test_a_ticket_survives_a_reboot_and_numbering_goes_on(pc):
    first = call(pc, "hall.issue_ticket", {"service": "zh"})
    day = tickets(pc)[-1]["day"]
    pc.reboot()
    services_up(pc, 60)
    kept = [t for t in tickets(pc) if t["number"] == first["number"] and t["day"] == day]
    assert kept and kept[0]["state"] == "waiting"
    second = call(pc, "hall.issue_ticket", {"service": "zh"})
    if tickets(pc)[-1]["day"] == day:  # the hall's day may have turned at midnight in between
        assert int(second["number"][1:]) == int(first["number"][1:]) + 1


def test_uninstall_keeps_the_data_and_a_reinstall_takes_it_up(pc):
    before = tickets(pc)
    pc.run("cd /root/this && make uninstall")
    left = pc.run("ls /etc/systemd/system/ /usr/local/bin/ /opt").stdout
    assert "hwd" not in left, left
    assert "hwd" not in pc.run("systemctl list-unit-files --no-legend", check=False).stdout
    for user in ("hwd", "hwd-ui", "hwd-kiosk"):
        assert pc.run(f"getent passwd {user}", check=False).returncode != 0, user
    assert pc.path(DB).exists() and pc.path(CONFIG).exists()
    # another package takes the freed ids meanwhile: the next install's users get other ones
    pc.run("for u in squat1 squat2 squat3; do useradd --system --no-create-home $u; done")
    again = install(pc, "this")
    assert "giving /var/lib/hwd (kept from an earlier install) to user hwd" in again.stdout, again.stdout
    services_up(pc)
    assert tickets(pc) == before and pc.path(CONFIG).read_text().endswith("always_open = true\n")
    call(pc, "hall.issue_ticket", {"service": "zh"})  # the kept database is writable by the new hwd


def test_purge(pc):
    pc.run("cd /root/this && make uninstall PURGE=1 && for u in squat1 squat2 squat3; do userdel $u; done")
    for user in ("hwd", "hwd-ui", "hwd-kiosk"):
        assert pc.run(f"getent passwd {user}", check=False).returncode != 0, user
        assert pc.run(f"getent group {user}", check=False).returncode != 0, user
    assert not pc.path("/var/lib/hwd").exists() and not pc.path("/etc/hwd").exists()
    assert "hwd" not in pc.run("ls /etc/systemd/system/ /usr/local/bin/ /opt").stdout


# -- upgrade and rollback ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def morning(pc, kit):
    """The previous version installed on the purged PC, with a morning of work: two tickets
    served and rated, one called, one waiting."""
    if "previous" not in kit:
        pytest.skip(f"the previous version {PREVIOUS} is not in this clone")
    install_previous(pc)
    services_up(pc)
    open_all_day(pc)
    for _ in range(4):
        call(pc, "hall.issue_ticket", {"service": "zh"})
    serve_and_rate(pc, 5)
    serve_and_rate(pc, 2)
    call(pc, "hall.call_next", {"window": "1"})
    return {"config": pc.path(CONFIG).read_bytes(), "tickets": tickets(pc), "ratings": ratings(pc)}


def test_upgrade_keeps_config_and_state(pc, morning):
    install(pc, "this")
    services_up(pc)
    assert pc.path(CONFIG).read_bytes() == morning["config"]
    assert tickets(pc) == morning["tickets"]
    # the morning's ratings as they were; the columns later migrations added are empty
    kept = [{k: r[k] for k in morning["ratings"][0]} for r in ratings(pc)]
    assert kept == morning["ratings"] and len(morning["ratings"]) == 2
    assert all(v is None for r in ratings(pc) for k, v in r.items() if k not in morning["ratings"][0])
    assert schema(pc) == len(MIGRATIONS)
    assert list(pc.path("/var/backups/hwd").glob("hall-before-install-*.sqlite3"))
    # the queue goes on where it was: the called ticket is served, the waiting one is next
    for method in ("hall.start", "hall.finish"):
        call(pc, method, {"window": "1"})
    call(pc, "hall.rate", {"window": "1", "score": 4})
    assert call(pc, "hall.call_next", {"window": "1"})["number"] == morning["tickets"][3]["number"]


def test_rollback_over_a_newer_schema_is_refused(pc):
    install(pc, "future")
    services_up(pc)
    assert schema(pc) == len(MIGRATIONS) + 1
    before, pid = dump(pc), main_pid(pc)
    refused = install(pc, "this", check=False)
    assert refused.returncode != 0
    assert "newer than this tree's hwd" in refused.stderr and "nothing was changed" in refused.stderr, refused.stderr
    assert dump(pc) == before
    assert main_pid(pc) == pid
    assert pc.run("/opt/hwd/venv/bin/hwd --version").stdout.strip() == "hwd 99.0.0"
    services_up(pc)


def test_previous_version_over_a_newer_schema_then_the_documented_way_back(pc):
    """The previous version's installer does not check: it installs, and its hwd refuses the
    database without changing it (its message in the journal). Then docs/deploy.md's way back:
    the previous version runs on the copy of what this tree wrote, nothing lost."""
    before = dump(pc)
    old = install_previous(pc, check=False)  # its installer ends with the restart that fails
    assert old.returncode != 0 and "Job for hwd.service failed" in old.stderr, old.stdout + old.stderr
    wait_for("the previous hwd refusing the newer database",
             lambda: re.search(r"was written by (a newer hwd|hwd 99\.0\.0)",
                               pc.run("journalctl -u hwd -b --no-pager").stdout), 30)
    assert pc.run("systemctl is-active hwd", check=False).stdout.strip() != "active"
    assert dump(pc) == before
    # docs/deploy.md, "Rolling back": keep the newer state aside, put back the copy the upgrade's
    # installer made at the previous version's schema, install the previous version (a schema older
    # than this tree's when this tree added migrations: what was done since the upgrade stays in
    # the newer copy set aside)
    copies = {int(m.group(1)): name for name in pc.run("ls /var/backups/hwd").stdout.split()
              if (m := re.fullmatch(r"hall-before-install-.*-schema(\d+)\.sqlite3", name))}
    previous_schema = min(copies)
    pc.run("systemctl stop hwd-ui hwd && "
           "sqlite3 /var/lib/hwd/hall.sqlite3 \".backup /var/backups/hwd/hall-newer-$(date +%F-%H%M%S).sqlite3\" && "
           f"sqlite3 /var/lib/hwd/hall.sqlite3 \".restore /var/backups/hwd/{copies[previous_schema]}\"")
    assert schema(pc) == previous_schema <= len(MIGRATIONS)
    install_previous(pc)
    services_up(pc)
    assert len(ratings(pc)) == (3 if previous_schema == len(MIGRATIONS) else 2)
    pc.run("cd /root/this && make uninstall PURGE=1")
    assert not pc.path("/var/lib/hwd").exists() and "hwd" not in pc.run("ls /etc/systemd/system").stdout
