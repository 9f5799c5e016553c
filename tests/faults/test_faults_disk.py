"""The state disk full: the hall database lives on a 2 MiB tmpfs that a filler file fills up.
``hall.issue_ticket`` (and the other writing operations) then fail with 1115 STORAGE_ERROR and a
Chinese message, nothing acknowledged is lost, the database stays intact (``PRAGMA
integrity_check``), and issuing works again, numbering without a gap, as soon as space returns —
without restarting hwd."""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from hwd.client import Client, RpcError

from faults_helpers import can_mount, hall, tmpfs, wait_for
from support.devices import printer

STORAGE_ERROR = 1115


def fill(directory: Path) -> Path:
    """Write a filler file until the filesystem is full (to the last byte); returns it."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        size = 65536
        while size:
            try:
                os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                size //= 2
    finally:
        os.close(fd)
    return filler


def expect_storage_error(call) -> RpcError:
    with pytest.raises(RpcError) as info:
        call()
    assert info.value.code == STORAGE_ERROR, (info.value.code, info.value.message)
    assert info.value.message == "系统存储故障，请联系工作人员"
    return info.value


@pytest.mark.faults
@pytest.mark.fast
@pytest.mark.skipif(can_mount() is not None, reason=str(can_mount()))
def test_disk_full_gives_1115_then_recovers(hwd_daemon, tmp_path):
    disk = tmp_path / "disk"
    with tmpfs(disk, "2m"):
        db = disk / "hall.sqlite3"
        d = hwd_daemon(hall(services=2, windows=2, database=str(db)))
        acked = [d.call("hall.issue_ticket", {"service": "s0"}) for _ in range(5)]
        assert [t["number"] for t in acked] == ["A001", "A002", "A003", "A004", "A005"]
        called = d.call("hall.call_next", {"window": "w1"})

        filler = fill(disk)
        # every writing operation is refused with 1115 (a few tries: SQLite may still find room in
        # pages it already owns, but the disk is full, so it soon needs a new one)
        refused = None
        for i in range(200):
            try:
                acked.append(d.call("hall.issue_ticket", {"service": "s0", "priority": "normal"}))
            except RpcError as exc:
                refused = exc
                break
        assert refused is not None, "a full disk never refused a ticket"
        assert refused.code == STORAGE_ERROR and refused.message == "系统存储故障，请联系工作人员", \
            (refused.code, refused.message)
        expect_storage_error(lambda: d.call("hall.issue_ticket", {"service": "s1"}))
        expect_storage_error(lambda: d.call("hall.finish", {"window": "w1"}))
        # reads still work, and the daemon is alive
        assert d.call("hall.state")["windows"]
        assert d.call("daemon.status")["pid"] == d.proc.pid

        os.unlink(filler)
        after = d.call("hall.issue_ticket", {"service": "s0"})
        assert int(after["number"][1:]) == int(acked[-1]["number"][1:]) + 1, "numbering has a gap or a repeat"
        assert d.call("hall.finish", {"window": "w1"})["id"] == called["id"]
        assert d.call("hall.rate", {"window": "w1", "score": 5})["score"] == 5
        stored = {t["id"]: t["number"] for t in d.call("hall.tickets", {"limit": 1000})}
        assert all(stored.get(t["id"]) == t["number"] for t in acked + [after]), "an acknowledged ticket is lost"
        d.stop()
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            numbers = sorted(int(r[0][1:]) for r in conn.execute("SELECT number FROM tickets WHERE origin_service='s0'"))
        assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.faults
@pytest.mark.skipif(can_mount() is not None, reason=str(can_mount()))
def test_disk_fills_while_a_ticket_is_printing(hwd_daemon, tmp_path):
    """The ticket is committed, then the disk fills while the kiosk waits for the printer: the
    kiosk still gets its (valid) ticket with ``printed: false`` — not an internal error for a
    ticket that exists — and the ticket is stored."""
    disk = tmp_path / "disk"
    with tmpfs(disk, "2m"):
        db = disk / "hall.sqlite3"
        d = hwd_daemon(hall(services=1, windows=1, kiosks=1, devices=printer("k1-printer", status_interval=0.2, timeout_s=1.0),
                            kiosk_values=lambda i: {"printer": "k1-printer"}, database=str(db), print_wait_ms=2500))
        d.wait_state("k1-printer", "online")
        d.call("hall.issue_ticket", {"service": "s0"})
        d.sim("k1-printer", "paper", state="out")
        d.wait_state("k1-printer", "fault")
        replies: list = []

        def issue() -> None:
            try:
                replies.append(Client(d.rpc, timeout=15.0, retries=1).call(
                    "hall.issue_ticket", {"service": "s0", "kiosk": "k1"}))
            except RpcError as exc:
                replies.append(exc)

        thread = threading.Thread(target=issue)
        thread.start()
        wait_for(lambda: len(d.call("hall.tickets", {"limit": 10})) == 2, what="the ticket committed")
        filler = fill(disk)
        thread.join(30)
        [reply] = replies
        assert not isinstance(reply, RpcError), f"a committed ticket was answered with an error: {reply}"
        assert reply["number"] == "A002" and reply["printed"] is False and reply["print_error"]
        os.unlink(filler)
        assert d.call("hall.ticket", {"ticket": reply["id"]})["number"] == "A002"
        assert d.call("hall.issue_ticket", {"service": "s0"})["number"] == "A003"
        d.stop()
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
