"""The print spool: every job persisted in SQLite (WAL) so no ticket is lost to a paper-out
printer or a restart, and none is printed twice.

States: ``queued → printing → printed | failed(reason) | cancelled | unknown(reason)``
(``unknown``: sent, but the printer never confirmed it came out — see the ``confirm`` option). A job id is chosen by the
caller (or generated); adding an id that exists returns the existing job, so a retried request
never prints again. Moving a job to ``printing`` is a compare-and-set from ``queued``, so a
cancel and the printer cannot both win. Jobs found ``printing`` at start were interrupted mid
print: they may have come out, so they are failed, not printed again (at most once).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

STATES = ("queued", "printing", "printed", "failed", "cancelled", "unknown")
FINAL = ("printed", "failed", "cancelled", "unknown")

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    reason TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    source TEXT,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, seq);
"""


class Spool:
    """A job table. Thread-safe: the RPC thread adds and cancels, the device worker prints."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._born: dict[str, float] = {}  # job id -> time.monotonic() when this process queued it

    def open(self) -> None:
        with self._lock:
            if self._db is not None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            self._db = db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("spool not open")
        return self._db

    def add(self, job_id: str, document: list, source: dict | None = None) -> tuple[dict, bool]:
        """Queue a job; return (job, created). An existing id returns that job untouched."""
        now = time.time()
        with self._lock:
            db = self._conn()
            cur = db.execute("INSERT OR IGNORE INTO jobs (id, state, created, updated, source, document) "
                             "VALUES (?, 'queued', ?, ?, ?, ?)",
                             (job_id, now, now, json.dumps(source or {}, ensure_ascii=False),
                              json.dumps(document, ensure_ascii=False)))
            created = cur.rowcount == 1
            if created:
                self._born[job_id] = time.monotonic()
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row), created

    def get(self, job_id: str) -> dict | None:
        with self._lock:
            row = self._conn().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def document(self, job_id: str) -> list | None:
        with self._lock:
            row = self._conn().execute("SELECT document FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return json.loads(row["document"]) if row else None

    def next_queued(self) -> dict | None:
        with self._lock:
            row = self._conn().execute("SELECT * FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT 1").fetchone()
        return _job(row) if row else None

    def transition(self, job_id: str, new: str, reason: str | None = None,
                   from_states: tuple[str, ...] = ("queued",)) -> bool:
        """Set ``new`` if the job is in one of ``from_states``; return whether it changed."""
        assert new in STATES
        marks = ",".join("?" * len(from_states))
        with self._lock:
            cur = self._conn().execute(
                f"UPDATE jobs SET state = ?, reason = ?, updated = ? WHERE id = ? AND state IN ({marks})",
                (new, reason, time.time(), job_id, *from_states))
            return cur.rowcount == 1

    def age_s(self, job: dict) -> float:
        """How long ago ``job`` was queued: on the monotonic clock for this process's jobs, so a
        jump of the wall clock neither expires them all nor keeps them for ever; for a job from
        before a restart by the wall clock, and as infinitely old when that clock went back since
        (its age is unknown: a stale ticket must never print)."""
        born = self._born.get(job["job"])
        if born is not None:
            return time.monotonic() - born
        age = time.time() - job["created"]
        return age if age >= 0 else float("inf")

    def older_than(self, max_age_s: float) -> list[dict]:
        """Queued jobs queued more than ``max_age_s`` ago."""
        return [j for j in self.in_state("queued") if self.age_s(j) > max_age_s]

    def in_state(self, state: str) -> list[dict]:
        with self._lock:
            rows = self._conn().execute("SELECT * FROM jobs WHERE state = ? ORDER BY seq", (state,)).fetchall()
        return [_job(r) for r in rows]

    def list(self, limit: int = 50, state: str | None = None) -> list[dict]:
        """Newest first."""
        sql, args = "SELECT * FROM jobs", []
        if state:
            sql += " WHERE state = ?"
            args.append(state)
        sql += " ORDER BY seq DESC LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self._conn().execute(sql, args).fetchall()
        return [_job(r) for r in rows]

    def count(self, state: str) -> int:
        with self._lock:
            return self._conn().execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (state,)).fetchone()[0]

    def prune(self, keep_s: float = 7 * 86400) -> int:
        """Forget finished jobs older than ``keep_s``."""
        with self._lock:
            cur = self._conn().execute(f"DELETE FROM jobs WHERE state IN {FINAL!r} AND updated < ?",
                                       (time.time() - keep_s,))
            return cur.rowcount


def _job(row: sqlite3.Row) -> dict:
    job: dict[str, Any] = {"job": row["id"], "state": row["state"], "created": row["created"],
                           "updated": row["updated"]}
    if row["reason"]:
        job["reason"] = row["reason"]
    source = json.loads(row["source"] or "{}")
    if source:
        job.update(source)
    return job
