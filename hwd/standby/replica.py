"""Statement replication of the hall database through etcd: the active engine's connections
capture what each transaction changed and append it to the log, fenced on leadership, before the
local COMMIT; followers apply the log in order.

The order that gives RPO 0: a transaction's statements run locally (inside ``BEGIN IMMEDIATE``,
so they hold SQLite's write lock), then the entry is appended to etcd in a transaction that only
succeeds while this engine's leader key is the one it created (its lease alive) and the entry's
number is free, then the local COMMIT, then the reply and the events. A failed or fenced append
rolls the local transaction back and the caller gets an error, so nothing is acknowledged that
a quorum does not hold; a crash between the append and the COMMIT leaves an entry this engine
applies from the log when it comes back. The write lock also makes the log's order the order of
the local commits (the outbox worker's own connection takes part the same way).

``Capture`` is the connection class (``sqlite3.connect(factory=...)``); it intercepts ``BEGIN``,
``COMMIT`` and ``ROLLBACK`` as the hall store and the outbox worker issue them, so neither needs
to know about replication. A statement outside a transaction that may write is wrapped in one.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
import time
from typing import Any, Callable, Iterable

from hwd.standby import etcd as E
from hwd.standby.log import Entry, Keys

log = logging.getLogger("hwd.standby.replica")

SEQ_KEY = "standby_seq"  # meta: the last log entry this database holds (never replicated itself)
_READS = ("SELECT", "PRAGMA", "EXPLAIN")
# functions whose result a replay would not reproduce (the hall binds times and random ids instead)
_NONDETERMINISTIC = {"random", "randomblob"}
# what a log entry may do when it is applied: rows only, never schema, pragmas or other files
_APPLY_ALLOWED = {sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE, sqlite3.SQLITE_READ,
                  sqlite3.SQLITE_SELECT, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


class ReplicationError(sqlite3.OperationalError):
    """The change could not be made durable in the hall's quorum; nothing of it was committed here.
    (A subclass of sqlite3's error, so every caller treats it as the storage failure it is.)"""


class Fenced(ReplicationError):
    """This engine is not (or no longer) the active one: its leadership ended."""


class LogError(Exception):
    """The log cannot be applied to this database (a gap, a newer schema, another database)."""


def local_seq(db: sqlite3.Connection) -> int:
    row = sqlite3.Connection.execute(db, "SELECT value FROM meta WHERE key = ?", (SEQ_KEY,)).fetchone()
    return int(row[0]) if row else 0


def _set_seq(db: sqlite3.Connection, seq: int) -> None:
    sqlite3.Connection.execute(db, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                                   "SET value = excluded.value", (SEQ_KEY, str(seq)))


def schema_version(db: sqlite3.Connection) -> int:
    return sqlite3.Connection.execute(db, "PRAGMA user_version").fetchone()[0]


def _apply_guard(action: int, arg1: Any, arg2: Any, dbname: Any, source: Any) -> int:
    if action in _APPLY_ALLOWED:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _capture_guard(action: int, arg1: Any, arg2: Any, dbname: Any, source: Any) -> int:
    if action == sqlite3.SQLITE_FUNCTION and str(arg2).lower() in _NONDETERMINISTIC:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def apply_entries(db: sqlite3.Connection, entries: Iterable[Entry], in_tx: bool = False) -> int:
    """Apply entries in order (one transaction unless ``in_tx``: the caller's); returns the last
    number applied. Entries this database holds already are skipped; a gap is a LogError."""
    own = not in_tx
    if own:
        sqlite3.Connection.execute(db, "BEGIN IMMEDIATE")
    try:
        seq = local_seq(db)
        version = schema_version(db)
        db.set_authorizer(_apply_guard)
        try:
            for entry in entries:
                if entry.seq <= seq:
                    continue
                if entry.seq != seq + 1:
                    raise LogError(f"log entry {entry.seq} follows {seq}: entries {seq + 1}..{entry.seq - 1} are "
                                   "gone from etcd (trimmed); this PC needs a copy of the active database")
                if entry.schema > version:
                    raise LogError(f"log entry {entry.seq} was written by a newer hwd (schema {entry.schema}, "
                                   f"this PC has {version}): upgrade hwd on this PC")
                for sql, params in entry.statements:
                    sqlite3.Connection.execute(db, sql, params)
                seq = entry.seq
        finally:
            db.set_authorizer(_capture_guard if isinstance(db, Capture) else None)
        _set_seq(db, seq)
    except BaseException:
        if own:
            sqlite3.Connection.execute(db, "ROLLBACK")
        raise
    if own:
        sqlite3.Connection.execute(db, "COMMIT")
    return seq


def read_log(client: E.Etcd, keys: Keys, after: int, limit: int = 200, timeout: float | None = None,
             deadline: float | None = None) -> tuple[int, list[Entry], bool]:
    """Entries after number ``after`` (at most ``limit``): (etcd revision, entries, more left)."""
    revision, kvs, more = client.range(keys.log(after + 1), keys.log_end, limit=limit, timeout=timeout,
                                       deadline=deadline)
    return revision, [Entry.decode(kv.value) for kv in kvs], more


class Replicator:
    """The active engine's side: appends each transaction, fenced on its leadership. One per
    engine, shared by every connection to its database (the store's and the outbox worker's)."""

    def __init__(self, client: E.Etcd, keys: Keys, engine_id: str, lease_s: float):
        self.client = client
        self.keys = keys
        self.engine_id = engine_id
        self.lease_s = lease_s
        self.term = 0  # the leader key's create revision while active; 0: not active
        self.lease_ok_until = 0.0  # monotonic: the lease may have run out after this
        self.needs_catchup = False  # an append's outcome is unknown: read the log before the next write
        self.on_lost: Callable[[str], None] = lambda reason: None
        self.appended = 0
        self.last_seq = 0  # the last entry this engine wrote or applied (its database's head)
        self.last_error: str | None = None
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self.term > 0

    def fence(self, reason: str) -> None:
        """Stop writing at once (leadership lost or given up)."""
        if self.term:
            log.warning("standby %s: writes fenced: %s", self.engine_id, reason)
        self.term = 0

    # -- called by Capture inside the local transaction --------------------------------------------
    def begin(self, db: sqlite3.Connection) -> None:
        """A transaction starts: refuse it at once when this engine cannot write; first apply what
        the log holds beyond this database when an earlier append's outcome was unknown."""
        if not self.needs_catchup:
            return
        self._check_lease()
        with self._lock:
            if self.needs_catchup:
                try:
                    self.catch_up(db, self.lease_ok_until)
                except E.EtcdError as exc:
                    raise ReplicationError(f"cannot read the hall's log to catch up: {exc}") from None
                self.needs_catchup = False

    def _check_lease(self) -> None:
        if not self.term:
            raise Fenced(f"this PC ({self.engine_id}) is not the active hall engine")
        if time.monotonic() > self.lease_ok_until:
            self.on_lost("lease keep-alive failed for longer than the lease")
            raise Fenced(f"this PC ({self.engine_id}) lost contact with etcd for longer than its lease")

    def catch_up(self, db: sqlite3.Connection, deadline: float) -> int:
        """Apply (inside ``db``'s open transaction) every entry the log has beyond this database."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise E.Unavailable("the lease ran out while reading the log")
            _, entries, more = read_log(self.client, self.keys, local_seq(db), timeout=min(left, self.lease_s / 3),
                                        deadline=deadline)
            seq = apply_entries(db, entries, in_tx=True) if entries else local_seq(db)
            if not more:
                self.last_seq = max(self.last_seq, seq)
                return seq

    def commit(self, db: sqlite3.Connection, statements: list) -> None:
        """Append the transaction's statements; raise (ReplicationError) unless the quorum has them."""
        if not statements:
            return
        term = self.term
        self._check_lease()
        seq = local_seq(db) + 1
        entry = Entry(seq, schema_version(db), self.engine_id, term, secrets.token_hex(6), time.time(), statements)
        self._append(entry, entry.encode())
        _set_seq(db, seq)
        self.appended += 1
        self.last_seq = seq

    def _append(self, entry: Entry, value: bytes) -> None:
        key = self.keys.log(entry.seq)
        compare = [E.cmp_create(self.keys.leader, entry.term), E.cmp_create(key, 0)]
        success = [E.op_put(key, value)]
        failure = [E.op_range(self.keys.leader), E.op_range(key)]
        deadline = min(time.monotonic() + self.lease_s, self.lease_ok_until)  # never past the lease
        per_try = max(0.3, self.lease_s / 3)
        while True:
            try:
                ok, _rev, responses = self.client.txn(compare, success, failure, timeout=per_try, deadline=deadline)
            except E.Unavailable as exc:
                if time.monotonic() < deadline and self.term == entry.term:
                    continue
                if time.monotonic() >= self.lease_ok_until:
                    self.on_lost("the lease ran out while etcd did not answer")
                self.needs_catchup = True  # it may have been written: read the log before writing again
                self.last_error = f"etcd unavailable: {exc}"
                raise ReplicationError(f"the hall's etcd quorum did not confirm entry {entry.seq}: {exc}") from None
            except E.EtcdError as exc:
                self.needs_catchup = True
                self.last_error = str(exc)
                raise ReplicationError(f"etcd refused entry {entry.seq}: {exc}") from None
            if ok:
                self.last_error = None
                return
            leader = E.kvs_of(responses[0].get("response_range") or {}) if responses else []
            found = E.kvs_of(responses[1].get("response_range") or {}) if len(responses) > 1 else []
            if found and found[0].value == value:
                return  # an earlier try that timed out went through
            if not leader or leader[0].create_revision != entry.term:
                self.on_lost("the leader key is gone or belongs to another engine")
                self.last_error = "fenced"
                raise Fenced(f"this PC ({self.engine_id}) is no longer the active hall engine")
            self.needs_catchup = True
            self.last_error = f"log entry {entry.seq} exists already"
            raise ReplicationError(f"log entry {entry.seq} was written by someone else: catching up")


class Capture(sqlite3.Connection):
    """A connection whose transactions are replicated by ``replicator`` (set after connecting)."""

    replicator: Replicator | None = None

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._statements: list | None = None  # None: no transaction open
        self._migration = False  # the transaction sets PRAGMA user_version: every PC migrates itself

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        head = sql.lstrip()[:9].upper()
        if head.startswith("BEGIN"):
            return self._begin()
        if head.startswith(("COMMIT", "END")):
            return self._commit()
        if head.startswith("ROLLBACK"):
            if " TO " in sql.upper():
                raise sqlite3.NotSupportedError("savepoints are not replicated")
            return self._rollback()
        if head.startswith(("SAVEPOINT", "RELEASE")):
            raise sqlite3.NotSupportedError("savepoints are not replicated")
        if self._statements is None:
            if head.startswith(_READS):
                return super().execute(sql, parameters)
            self._begin()
            try:
                cursor = self.execute(sql, parameters)
            except BaseException:
                self._rollback()
                raise
            self._commit()
            return cursor
        if head.startswith("PRAGMA") and "USER_VERSION" in sql.upper():
            self._migration = True
        before = self.total_changes
        cursor = super().execute(sql, parameters)
        if self.total_changes != before:
            self._statements.append((sql, parameters))
        return cursor

    def executemany(self, sql: str, seq_of_parameters: Iterable, /) -> sqlite3.Cursor:  # type: ignore[override]
        cursor = None
        for parameters in seq_of_parameters:
            cursor = self.execute(sql, parameters)
        return cursor if cursor is not None else super().execute("SELECT 0 WHERE 0")

    def executescript(self, script: str, /) -> sqlite3.Cursor:  # type: ignore[override]
        raise sqlite3.NotSupportedError("executescript is not replicated")

    def _begin(self) -> sqlite3.Cursor:
        cursor = super().execute("BEGIN IMMEDIATE")  # the write lock now: the log's order is the commit order
        self._statements = []
        self._migration = False
        try:
            if self.replicator is not None:
                self.replicator.begin(self)
        except BaseException:
            self._rollback()
            raise
        return cursor

    def _commit(self) -> sqlite3.Cursor:
        statements, self._statements = self._statements, None
        if statements is None:
            return super().execute("SELECT 0 WHERE 0")
        try:
            if self.replicator is not None and not self._migration:
                self.replicator.commit(self, statements)
        except BaseException:
            super().execute("ROLLBACK")
            raise
        try:
            return super().execute("COMMIT")
        except sqlite3.Error:
            # the entry is in the log but not here: apply it from the log before writing again
            if self.replicator is not None:
                self.replicator.needs_catchup = True
            super().execute("ROLLBACK")
            raise

    def _rollback(self) -> sqlite3.Cursor:
        if self._statements is None:
            return super().execute("SELECT 0 WHERE 0")  # already rolled back (a failed COMMIT did it)
        self._statements = None
        return super().execute("ROLLBACK")


def connector(replicator: Replicator) -> Callable[..., sqlite3.Connection]:
    """``sqlite3.connect`` for the active engine's connections: replicated, and refusing
    functions whose results a replay would not reproduce."""
    def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs["factory"] = Capture
        conn = sqlite3.connect(database, *args, **kwargs)
        conn.replicator = replicator
        conn.set_authorizer(_capture_guard)
        return conn
    return connect
