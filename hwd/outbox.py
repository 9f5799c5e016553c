"""A transactional outbox: records written in the same SQLite transaction as the change they
describe, delivered to named sinks (the provincial 好差评 system, later a county database or a
phone notifier) at least once, each with a stable idempotency key so the receiver de-duplicates.

Why: a rating must reach the province even if the network is down for days, the PC is switched
off or hwd is killed between sending and noting it. So nothing is sent from the request path;
the change and its outbox row commit together, and a worker thread per sink delivers afterwards.

Tables (created by the hall store's migrations): ``outbox`` (one row per record: key, kind, ref,
JSON payload, time), ``outbox_sinks`` (each sink's cursor: the last record it has taken up) and
``outbox_delivery`` (per sink and record: pending / sent / rejected / error, attempts, next try,
last error). A sink added later starts from record 1 when ``backfill`` is true, else from now.

A sink is any object with ``name``, ``kinds`` (the explicit list of record kinds it takes: a kind
added later reaches no sink that does not name it), ``backfill`` and ``deliver(record) -> Sent |
Rejected``; raising ``DeliveryError`` means "try again later" (capped exponential backoff, and the
sink waits until then so records keep their order). Rejected is final until a 补报 (``resend``;
the RPC method ``outbox.replay``) puts the record back to pending. A sink that can take many
records at once has ``batch_size`` and ``deliver_batch(records) -> [Sent | Rejected …]`` (in
order; the list may end early with a ``DeliveryError`` for the first record it could not
deliver): the worker then notes a whole batch in one SQLite transaction.

Each sink is delivered to from a thread of its own with its own SQLite connection, so a receiver
that is slow, or holds a connection open on purpose, delays only its own records; a sink bounds
the time of one delivery itself (hwd.upstream.http_post: one deadline for the whole exchange).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence

log = logging.getLogger("hwd.outbox")

STATES = ("pending", "sent", "rejected", "error")
SCAN_BATCH = 500
SEND_BATCH = 50


class DeliveryError(Exception):
    """The receiver could not be reached or failed (5xx, timeout): retry later."""


@dataclass(frozen=True)
class Sent:
    duplicate: bool = False


@dataclass(frozen=True)
class Rejected:
    reason: str


@dataclass(frozen=True)
class Record:
    id: int
    key: str
    kind: str
    ref: str
    payload: dict
    ts: float
    attempts: int = 0
    resent: bool = False  # put back by a 补报 (``resend``); the column and the RPC field are named replay

    @property
    def origin(self) -> str:
        """The hall database the record comes from (a sink that upserts keys rows by origin + ref)."""
        return self.key.split(":", 1)[0]


class Sink(Protocol):
    name: str
    kinds: Sequence[str]
    backfill: bool

    def deliver(self, record: Record) -> Sent | Rejected: ...


def origin(db: sqlite3.Connection) -> str:
    """This database's id, part of every idempotency key (made once, kept in ``meta``)."""
    row = db.execute("SELECT value FROM meta WHERE key = 'outbox_origin'").fetchone()
    if row:
        return row[0]
    value = uuid.uuid4().hex[:16]
    db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('outbox_origin', ?)", (value,))
    return db.execute("SELECT value FROM meta WHERE key = 'outbox_origin'").fetchone()[0]


def put(db: sqlite3.Connection, kind: str, ref: str, payload: dict, ts: float) -> str:
    """Add a record inside the caller's open transaction; returns its idempotency key.

    ``ref`` names the change (e.g. the rating id): one (kind, ref) is one record, so the key is
    the same however often delivery is tried or replayed."""
    key = f"{origin(db)}:{kind}:{ref}"
    body = dict(payload, idempotency_key=key, kind=kind)
    db.execute("INSERT INTO outbox (key, kind, ref, payload, ts) VALUES (?, ?, ?, ?, ?)",
               (key, kind, ref, json.dumps(body, ensure_ascii=False, sort_keys=True), ts))
    return key


# The record kinds a hall writes, by what they are for. A sink names the kinds it takes; these
# are the defaults of the sinks hwd has and what a configured ``kinds`` list is checked against.
# 好差评 records (hwd.hall.ratings.rules, hwd.hall.ratings.workorders): what the province takes by default
RATING_KINDS = ("rating", "unrated", "case", "workorder", "exclusion")
# the hall's operations for the county (hwd.county.feed): tickets with their holder's masked name
# and priority class, window sessions with staff, device states
FEED_KINDS = ("ticket", "window", "device")
# the 24-hour area's locker for the county (hwd.hall.pickup.records): deposits and their steps,
# the doors' alarms; never the pickup code or the card
PICKUP_KINDS = ("deposit", "locker_alarm")
# kinds that carry a capability (a ticket's phone link, hwd.hall.phone.notices): only the notify sink
# takes them; a configured kinds list of any other sink may not name them
PRIVATE_KINDS = ("phone_notice",)
KINDS = RATING_KINDS + FEED_KINDS + PICKUP_KINDS + PRIVATE_KINDS


def _kinds_sql(kinds: Sequence[str]) -> tuple[str, tuple]:
    return f" AND kind IN ({', '.join('?' for _ in kinds)})", tuple(kinds)


def check_kinds(sink: Any) -> None:
    """A sink must name its kinds: a list of strings (empty takes nothing)."""
    kinds = getattr(sink, "kinds", None)
    if isinstance(kinds, str) or not isinstance(kinds, (list, tuple)) or not all(isinstance(k, str) for k in kinds):
        raise ValueError(f"outbox sink {getattr(sink, 'name', sink)!r}: kinds must be an explicit list of record "
                         f"kinds, got {kinds!r}")


def status(db: sqlite3.Connection, sinks: Iterable[Sink]) -> list[dict]:
    """Per sink: counts by state (records not yet taken up count as pending), the oldest pending
    record's time and the last error."""
    out = []
    for sink in sinks:
        counts = {s: 0 for s in STATES}
        for state, n in db.execute("SELECT state, COUNT(*) FROM outbox_delivery WHERE sink = ? GROUP BY state",
                                   (sink.name,)):
            counts[state] = n
        row = db.execute("SELECT cursor FROM outbox_sinks WHERE name = ?", (sink.name,)).fetchone()
        cursor = row[0] if row else (0 if sink.backfill else _max_id(db))
        extra, args = _kinds_sql(sink.kinds)
        counts["pending"] += db.execute(f"SELECT COUNT(*) FROM outbox WHERE id > ?{extra}",
                                        (cursor,) + args).fetchone()[0]
        oldest = db.execute("SELECT MIN(o.ts) FROM outbox_delivery d JOIN outbox o ON o.id = d.record "
                            "WHERE d.sink = ? AND d.state IN ('pending', 'error')", (sink.name,)).fetchone()[0]
        unseen = db.execute(f"SELECT MIN(ts) FROM outbox WHERE id > ?{extra}", (cursor,) + args).fetchone()[0]
        oldest = min((t for t in (oldest, unseen) if t is not None), default=None)
        last = db.execute("SELECT last_error, record FROM outbox_delivery WHERE sink = ? AND last_error IS NOT NULL "
                          "ORDER BY next_ts DESC LIMIT 1", (sink.name,)).fetchone()
        out.append({"sink": sink.name, **counts, "oldest_pending_ts": oldest,
                    "last_error": last[0] if last else None, "last_error_record": last[1] if last else None})
    return out


def backlog(db: sqlite3.Connection, sink: Sink) -> tuple[int, float | None]:
    """The sink's undelivered records (pending, in error, or not yet taken up) and the oldest
    one's time — ``status`` without its counts of what was delivered, so it reads only the
    undelivered rows through indexes: /metrics asks on every scrape, the county sink every
    heartbeat, and a hall with a million delivered records answers as fast as a new one."""
    n, oldest = db.execute("SELECT COUNT(*), MIN(o.ts) FROM outbox_delivery d JOIN outbox o ON o.id = d.record "
                           "WHERE d.sink = ? AND d.state IN ('pending', 'error')", (sink.name,)).fetchone()
    row = db.execute("SELECT cursor FROM outbox_sinks WHERE name = ?", (sink.name,)).fetchone()
    cursor = row[0] if row else (0 if sink.backfill else _max_id(db))
    extra, args = _kinds_sql(sink.kinds)
    unseen, unseen_ts = db.execute(f"SELECT COUNT(*), MIN(ts) FROM outbox WHERE id > ?{extra}",
                                   (cursor,) + args).fetchone()
    return n + unseen, min((t for t in (oldest, unseen_ts) if t is not None), default=None)


def records(db: sqlite3.Connection, sink: str, state: str | None = None, limit: int = 100) -> list[dict]:
    where, args = "d.sink = ?", [sink]
    if state:
        where += " AND d.state = ?"
        args.append(state)
    rows = db.execute(f"SELECT o.id, o.key, o.kind, o.ref, o.ts, d.state, d.attempts, d.last_error, d.sent_ts, "
                      f"d.replay FROM outbox_delivery d JOIN outbox o ON o.id = d.record WHERE {where} "
                      f"ORDER BY o.id DESC LIMIT ?", (*args, limit)).fetchall()
    keys = ("id", "key", "kind", "ref", "ts", "state", "attempts", "last_error", "sent_ts", "replay")
    return [dict(zip(keys, r)) for r in rows]


def resend(db: sqlite3.Connection, sink: str, ids: Sequence[int] | None = None, since: float | None = None,
           until: float | None = None, states: Sequence[str] = ("sent", "rejected")) -> int:
    """补报: put delivered (or rejected) records back to pending, marked as resent. Call inside a
    transaction; the keys stay the same, so a receiver that has them already keeps one copy."""
    where, args = [f"d.state IN ({', '.join('?' for _ in states)})"], list(states)
    if ids:
        where.append(f"d.record IN ({', '.join('?' for _ in ids)})")
        args += list(ids)
    if since is not None:
        where.append("o.ts >= ?")
        args.append(since)
    if until is not None:
        where.append("o.ts < ?")
        args.append(until)
    return db.execute(f"UPDATE outbox_delivery SET state = 'pending', attempts = 0, next_ts = 0, replay = 1, "
                      f"last_error = NULL WHERE sink = ? AND record IN (SELECT d.record FROM outbox_delivery d "
                      f"JOIN outbox o ON o.id = d.record WHERE d.sink = ? AND {' AND '.join(where)})",
                      (sink, sink, *args)).rowcount


def _max_id(db: sqlite3.Connection) -> int:
    return db.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()[0]


def backoff(attempts: int, first: float, cap: float) -> float:
    """Delay before try ``attempts + 1``: first, 2×first, 4×first … at most ``cap``."""
    return min(cap, first * (2 ** max(0, attempts - 1)))


def _cursor(db: sqlite3.Connection, sink: Any) -> int:
    """The sink's cursor, made on first sight (record 0 with ``backfill``, else the newest), inside
    the caller's transaction."""
    row = db.execute("SELECT cursor FROM outbox_sinks WHERE name = ?", (sink.name,)).fetchone()
    if row is not None:
        return row[0]
    cursor = 0 if getattr(sink, "backfill", True) else _max_id(db)
    db.execute("INSERT INTO outbox_sinks (name, cursor) VALUES (?, ?)", (sink.name, cursor))
    return cursor


class _Lane:
    """One sink's thread and what only that thread changes (its backoff hold)."""

    def __init__(self, sink: Any):
        self.sink = sink
        self.wake = threading.Event()
        self.hold = 0.0  # monotonic time before which the sink is not tried
        self.thread: threading.Thread | None = None


class Worker:
    """Delivers outbox records to its sinks, each from a thread of its own with its own SQLite
    connection: one sink's slow or stalled receiver never delays another's records."""

    def __init__(self, path: Path | str, sinks: Sequence[Any], retry_s: float = 5.0, retry_max_s: float = 600.0,
                 poll_s: float = 5.0, connect: Any = sqlite3.connect):
        self.path = str(path)
        self.connect = connect  # the hall store's (replicated with [hall.standby]: hwd.standby.replica)
        self.sinks = list(sinks)
        names = [s.name for s in self.sinks]
        if len(set(names)) != len(names):
            raise ValueError(f"outbox sinks need distinct names: {names}")
        for sink in self.sinks:
            check_kinds(sink)
        self.retry_s, self.retry_max_s, self.poll_s = retry_s, retry_max_s, poll_s
        self._stop = threading.Event()
        self._lanes = [_Lane(sink) for sink in self.sinks]

    def start(self) -> None:
        if not self.sinks:
            return
        self._enrol()
        for lane in self._lanes:
            lane.thread = threading.Thread(target=self._run, args=(lane,), name=f"hwd-outbox-{lane.sink.name}",
                                           daemon=True)
            lane.thread.start()

    def notify(self) -> None:
        """A record was committed: look now instead of at the next poll (backoff holds stay)."""
        for lane in self._lanes:
            lane.wake.set()

    def wake_all(self) -> None:
        """Forget the backoff holds too (after a 补报 request or an operator's retry)."""
        for lane in self._lanes:
            lane.hold = 0.0
            lane.wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every sink's thread; a delivery under way ends by its own deadline (a thread
        still in one after ``timeout`` is a daemon thread and does not hold the process)."""
        self._stop.set()
        for lane in self._lanes:
            lane.wake.set()
        end = time.monotonic() + timeout
        for lane in self._lanes:
            if lane.thread is not None:
                lane.thread.join(max(0.0, end - time.monotonic()))
        for sink in self.sinks:
            close = getattr(sink, "close", None)
            if close:
                close()

    # -- each sink's thread ----------------------------------------------------------------
    def _run(self, lane: _Lane) -> None:
        sink = lane.sink
        db = self.connect(self.path, isolation_level=None)
        db.execute("PRAGMA busy_timeout = 5000")
        try:
            while not self._stop.is_set():
                lane.wake.clear()  # before looking: a record committed meanwhile wakes the next wait
                try:
                    wait = min(self.poll_s, self._pass(db, lane))
                except sqlite3.Error:
                    log.exception("outbox %s: database error; retrying", sink.name)
                    wait = 1.0
                except Exception:  # a sink's bug: it retries later, the other sinks never notice
                    log.exception("outbox %s: sink failed", sink.name)
                    wait = self.retry_s
                lane.wake.wait(max(0.01, wait))
        finally:
            db.close()

    def _enrol(self) -> None:
        """Give each new sink its cursor now, before any record is written: a sink without
        ``backfill`` starts at the newest record as the daemon starts, not whenever the thread
        first gets to it (a record of the first moments would be skipped)."""
        db = self.connect(self.path, timeout=30, isolation_level=None)
        try:
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'outbox_sinks'").fetchone() is None:
                return  # no hall store here yet: the thread enrols them when it gets there
            db.execute("BEGIN IMMEDIATE")
            for sink in self.sinks:
                _cursor(db, sink)
            db.execute("COMMIT")
        finally:
            db.close()

    def _take_up(self, db: sqlite3.Connection, sink: Any, scan: int = SCAN_BATCH) -> bool:
        """Give the sink a delivery row for each of the next ``scan`` records past its cursor; True
        when more wait."""
        db.execute("BEGIN IMMEDIATE")
        try:
            cursor = _cursor(db, sink)
            extra, args = _kinds_sql(sink.kinds)
            top, n = db.execute("SELECT MAX(id), COUNT(*) FROM (SELECT id FROM outbox WHERE id > ? ORDER BY id "
                                "LIMIT ?)", (cursor, scan)).fetchone()
            if top is not None:
                db.execute(f"INSERT OR IGNORE INTO outbox_delivery (record, sink, state, next_ts) "
                           f"SELECT id, ?, 'pending', 0 FROM outbox WHERE id > ? AND id <= ?{extra}",
                           (sink.name, cursor, top) + args)
                db.execute("UPDATE outbox_sinks SET cursor = ? WHERE name = ?", (top, sink.name))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return n >= scan

    def _pass(self, db: sqlite3.Connection, lane: _Lane) -> float:
        """Deliver what is due; returns how long until this sink needs looking at again."""
        sink = lane.sink
        limit = getattr(sink, "batch_size", None) or SEND_BATCH
        more = self._take_up(db, sink, max(SCAN_BATCH, limit))  # a batch can be as big as the sink takes
        held = lane.hold - time.monotonic()
        if held > 0:
            return held
        now = time.time()
        rows = db.execute("SELECT o.id, o.key, o.kind, o.ref, o.payload, o.ts, d.attempts, d.replay, d.next_ts "
                          "FROM outbox_delivery d JOIN outbox o ON o.id = d.record WHERE d.sink = ? "
                          "AND d.state IN ('pending', 'error') ORDER BY o.id LIMIT ?",
                          (sink.name, limit)).fetchall()
        if hasattr(sink, "deliver_batch"):
            return self._pass_batch(db, lane, rows, more, limit)
        for rid, key, kind, ref, payload, ts, attempts, rep, next_ts in rows:
            if self._stop.is_set():
                return 0.0
            if next_ts > now:  # an earlier failure's backoff, also after a restart
                return next_ts - now
            record = Record(rid, key, kind, ref, json.loads(payload), ts, attempts, bool(rep))
            try:
                outcome = sink.deliver(record)
            except DeliveryError as exc:
                delay = backoff(attempts + 1, getattr(sink, "retry_s", None) or self.retry_s,  # a sink may have its own
                                getattr(sink, "retry_max_s", None) or self.retry_max_s)
                self._note(db, sink.name, rid, "error", attempts + 1, time.time() + delay, str(exc)[:500])
                lane.hold = time.monotonic() + delay
                log.warning("outbox %s: record %d (%s) not delivered, try %d in %.1fs: %s", sink.name, rid, kind,
                            attempts + 2, delay, exc)
                return delay
            if isinstance(outcome, Rejected):
                self._note(db, sink.name, rid, "rejected", attempts + 1, 0, outcome.reason[:500])
                log.warning("outbox %s: record %d (%s) rejected: %s", sink.name, rid, kind, outcome.reason)
            else:
                self._note(db, sink.name, rid, "sent", attempts + 1, 0, None, sent=True)
            now = time.time()
        return self.poll_s if len(rows) < SEND_BATCH and not more else 0.0

    def _pass_batch(self, db: sqlite3.Connection, lane: _Lane, rows: list, more: bool, limit: int) -> float:
        sink = lane.sink
        now = time.time()
        due = []
        for rid, key, kind, ref, payload, ts, attempts, rep, next_ts in rows:
            if next_ts > now:  # an earlier failure's backoff: the batch stops before it
                if not due:
                    return next_ts - now
                break
            due.append(Record(rid, key, kind, ref, json.loads(payload), ts, attempts, bool(rep)))
        if not due:
            return self.poll_s if not more else 0.0
        outcomes = sink.deliver_batch(due)
        failed = None
        db.execute("BEGIN IMMEDIATE")  # the other sinks' threads write too: take the lock before reading
        try:
            for record, outcome in zip(due, outcomes):
                if isinstance(outcome, DeliveryError):
                    failed = (record, outcome)
                    break
                if isinstance(outcome, Rejected):
                    self._note(db, sink.name, record.id, "rejected", record.attempts + 1, 0, outcome.reason[:500])
                    log.warning("outbox %s: record %d (%s) rejected: %s", sink.name, record.id, record.kind,
                                outcome.reason)
                else:
                    self._note(db, sink.name, record.id, "sent", record.attempts + 1, 0, None, sent=True)
            if failed:
                record, exc = failed
                delay = backoff(record.attempts + 1, getattr(sink, "retry_s", None) or self.retry_s,
                                getattr(sink, "retry_max_s", None) or self.retry_max_s)
                self._note(db, sink.name, record.id, "error", record.attempts + 1, time.time() + delay, str(exc)[:500])
                lane.hold = time.monotonic() + delay
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if failed:
            log.warning("outbox %s: record %d (%s) not delivered, try %d in %.1fs: %s", sink.name, failed[0].id,
                        failed[0].kind, failed[0].attempts + 2, delay, failed[1])
            return delay
        return self.poll_s if len(rows) < limit and not more else 0.0

    @staticmethod
    def _note(db: sqlite3.Connection, sink: str, rid: int, state: str, attempts: int, next_ts: float,
              error: str | None, sent: bool = False) -> None:
        db.execute("UPDATE outbox_delivery SET state = ?, attempts = ?, next_ts = ?, last_error = ?, "
                   "sent_ts = CASE WHEN ? THEN ? ELSE sent_ts END WHERE sink = ? AND record = ?",
                   (state, attempts, next_ts, error, sent, time.time(), sink, rid))
