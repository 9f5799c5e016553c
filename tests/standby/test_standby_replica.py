"""The replicated hall database against one real etcd member: the hall's own rules write through
the replicating connection, the log replayed on another database gives the same rows; a fenced
or unconfirmed write is rolled back and never committed; an entry whose append reply was lost is
applied before the next write; migrations and ``random()`` are not replicated."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import time
import urllib.request

import pytest

from hwd import clock as clocks
from hwd.hall.queue.core import HallCore
from hwd.hall.store import Store
from hwd.standby import etcd as E
from hwd.standby.log import Keys
from hwd.standby.hosting import SchemaOnly
from hwd.standby.replica import (Fenced, ReplicationError, Replicator, apply_entries, connector, local_seq,
                                 read_log)

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "hall"))
from hall_helpers import load_config  # noqa: E402
from history import tables  # noqa: E402


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def etcd_url(tmp_path_factory):
    binary = shutil.which("etcd") or "/usr/bin/etcd"
    if not Path(binary).exists():
        pytest.skip("etcd is not installed (scripts/sysdeps.sh installs etcd-server)")
    d = tmp_path_factory.mktemp("etcd")
    client, peer = _port(), _port()
    url = f"http://127.0.0.1:{client}"
    with open(d / "etcd.log", "wb") as log:
        proc = subprocess.Popen([binary, "--name", "one", "--data-dir", str(d / "data"), "--listen-client-urls", url,
                                 "--advertise-client-urls", url, "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                                 "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                                 "--initial-cluster", f"one=http://127.0.0.1:{peer}", "--log-level", "warn",
                                 "--logger", "zap"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(url + "/v3/maintenance/status", b"{}"), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        proc.kill()
        proc.wait()


class Active:
    """A won leadership and a replicated store, as a promoted engine has."""

    def __init__(self, url: str, path: Path, prefix: str):
        self.etcd = E.Etcd([url], timeout=2.0)
        self.keys = Keys(prefix)
        self.lease, _ = self.etcd.grant(30)
        won, self.term, _ = self.etcd.txn([E.cmp_create(self.keys.leader, 0)],
                                          [E.op_put(self.keys.leader, b'{"engine": "a"}', self.lease)])
        assert won
        self.replicator = Replicator(self.etcd, self.keys, "a", 3.0)
        self.replicator.term = self.term
        self.replicator.lease_ok_until = time.monotonic() + 3600
        self.store = Store(path, "normal", connector(self.replicator))


@pytest.fixture
def active(etcd_url, tmp_path, request):
    return Active(etcd_url, tmp_path / "a.sqlite3", f"/test/{request.node.name}")


def follow(active: Active, path: Path) -> int:
    SchemaOnly(path).close()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        seq = 0
        while True:
            _, entries, more = read_log(active.etcd, active.keys, local_seq(db), limit=100)
            if entries:
                seq = apply_entries(db, entries)
            if not more:
                return seq
    finally:
        db.close()


def test_the_log_replayed_gives_the_same_hall(active, tmp_path):
    cfg = load_config(tmp_path)
    core = HallCore(cfg.hall, active.store, clocks.from_config(cfg.daemon))
    for i in range(12):
        core.issue("bdc" if i % 5 else "sb")
    for _ in range(5):
        core.call_next("5")
        core.finish("5")
        core.ratings.rate(1 if _ % 2 else 5, window="5", channel="rpc", reasons=["attitude"] if _ % 2 else None)
    core.call_next("6")
    active.store.db.execute("UPDATE windows SET reason = 'autocommit' WHERE id = '6'")  # a write outside tx()
    assert active.replicator.appended > 20
    seq = follow(active, tmp_path / "b.sqlite3")
    assert seq == local_seq(active.store.db)
    assert tables(tmp_path / "a.sqlite3") == tables(tmp_path / "b.sqlite3")
    # a standby that went on from a later point applies only what it lacks
    core.issue("bdc")
    assert follow(active, tmp_path / "b.sqlite3") == seq + 1
    assert tables(tmp_path / "a.sqlite3") == tables(tmp_path / "b.sqlite3")


def test_a_fenced_write_is_rolled_back(active, tmp_path):
    cfg = load_config(tmp_path)
    core = HallCore(cfg.hall, active.store, clocks.from_config(cfg.daemon))
    core.issue("bdc")
    before = local_seq(active.store.db)
    active.etcd.revoke(active.lease)  # leadership gone (its key went with the lease)
    with pytest.raises(Fenced):
        core.issue("bdc")
    assert active.store.one("SELECT COUNT(*) AS n FROM tickets")["n"] == 1
    assert local_seq(active.store.db) == before
    with active.store.tx():  # the connection is usable again (no transaction left open)
        pass


def test_writes_stop_when_the_lease_may_have_run_out(active, tmp_path):
    active.replicator.lease_ok_until = time.monotonic() - 0.1
    lost = []
    active.replicator.on_lost = lost.append
    t0 = time.monotonic()
    with pytest.raises(Fenced):
        with active.store.tx():
            active.store.set_meta("x", "1")
    assert time.monotonic() - t0 < 0.5, "refused without waiting for etcd"
    assert lost and active.store.meta("x") is None


def test_an_unconfirmed_write_commits_nothing(active, tmp_path):
    active.replicator.client = E.Etcd(["http://127.0.0.1:9"], timeout=0.2)  # nobody there
    active.replicator.lease_ok_until = time.monotonic() + 1.0
    with pytest.raises(ReplicationError):
        with active.store.tx():
            active.store.set_meta("x", "1")
    assert active.store.meta("x") is None and active.replicator.needs_catchup


def test_an_entry_whose_reply_was_lost_is_applied_before_the_next_write(active, tmp_path):
    """The append reached etcd but the engine never heard so: it rolled back; the entry is in the
    log, so the engine applies it before it writes anything else."""
    db = active.store.db
    sqlite3.Connection.execute(db, "BEGIN IMMEDIATE")
    sqlite3.Connection.execute(db, "INSERT INTO meta (key, value) VALUES ('lost', 'reply')")
    active.replicator.commit(db, [("INSERT INTO meta (key, value) VALUES ('lost', 'reply')", ())])
    sqlite3.Connection.execute(db, "ROLLBACK")  # as if the reply had been lost: nothing here
    active.replicator.needs_catchup = True
    assert active.store.meta("lost") is None
    with active.store.tx():
        active.store.set_meta("next", "1")
    assert active.store.meta("lost") == "reply" and active.store.meta("next") == "1"
    assert follow(active, tmp_path / "b.sqlite3") == local_seq(db)


def test_migrations_and_random_are_not_replicated(active, tmp_path):
    n = active.replicator.appended
    with active.store.tx():
        active.store.db.execute("CREATE TABLE extra (x)")
        active.store.db.execute("INSERT INTO extra VALUES (1)")
        active.store.db.execute("PRAGMA user_version = 6")
    assert active.replicator.appended == n, "a migration was appended"
    with pytest.raises(sqlite3.DatabaseError, match="random"):
        active.store.db.execute("UPDATE meta SET value = random() WHERE key = 'db_id'")


def test_the_entry_is_in_etcd_before_the_local_commit(active, tmp_path):
    seen = []
    real = active.replicator._append

    def append(entry, value):
        real(entry, value)
        seen.append(json.loads(value[1:]) if value[:1] == b"j" else None)
        other = sqlite3.connect(tmp_path / "a.sqlite3")
        seen.append(other.execute("SELECT value FROM meta WHERE key = 'order'").fetchone())
        other.close()
    active.replicator._append = append
    with active.store.tx():
        active.store.set_meta("order", "checked")
    assert seen[0]["s"] and seen[1] is None, "the row was committed before etcd had the entry"
    assert active.store.meta("order") == "checked"


def test_etcd_over_tls_with_client_certificates(tmp_path):
    """The hall's etcd as docs/deploy.md sets it up (TLS, client-cert-auth, certificates from
    ``hwctl standby certs``): hwd's client with its certificate reads and writes; without one,
    or with another CA's, it is refused."""
    from hwd.standby import certs

    binary = shutil.which("etcd") or "/usr/bin/etcd"
    if not Path(binary).exists():
        pytest.skip("etcd is not installed (scripts/sysdeps.sh installs etcd-server)")
    (server, server_key), (client, client_key) = certs.make(tmp_path / "keys", [("one", "127.0.0.1"),
                                                                                  ("hwd", "127.0.0.1")])
    ca = tmp_path / "keys" / "hall-ca.pem"
    port, peer = _port(), _port()
    url = f"https://127.0.0.1:{port}"
    with open(tmp_path / "etcd.log", "wb") as log:
        proc = subprocess.Popen([binary, "--name", "one", "--data-dir", str(tmp_path / "data"),
                                 "--listen-client-urls", url, "--advertise-client-urls", url,
                                 "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                                 "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                                 "--initial-cluster", f"one=http://127.0.0.1:{peer}", "--client-cert-auth",
                                 "--trusted-ca-file", str(ca), "--cert-file", str(server), "--key-file",
                                 str(server_key), "--log-level", "warn", "--logger", "zap"],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        good = E.Etcd([url], ca=ca, cert=client, key=client_key, timeout=1.0)
        deadline = time.monotonic() + 20
        while True:
            try:
                good.put(b"/tls/x", b"1")
                break
            except E.EtcdError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert good.get(b"/tls/x").value == b"1"
        with pytest.raises(E.Unavailable):
            E.Etcd([url], ca=ca, timeout=0.5).get(b"/tls/x")  # no client certificate
        other = certs.make(tmp_path / "other", [("intruder", "127.0.0.1")])[0]
        with pytest.raises(E.Unavailable):
            E.Etcd([url], ca=ca, cert=other[0], key=other[1], timeout=0.5).get(b"/tls/x")
    finally:
        proc.kill()
        proc.wait()
