"""The RPC replay store: what a retried request (same ``client`` and ``id``) gets back instead of
running twice.

Entries are keyed on ``(client, id)`` and remember a fingerprint of the method and its params,
so a reused id for a *different* request is refused instead of answered with an old reply. The
in-memory part is capped in bytes (the encoded replies), not in entries. Replies of
state-changing methods are also written to a small SQLite journal in the state directory before
they are sent: a retry that arrives after a ``kill -9`` and a restart gets the same answer. A
request that was started but whose reply never reached the journal (the daemon died while it
ran) is marked *begun*; its method's ``recover`` hook (for example ``hall.issue_ticket``: the
ticket committed under this request key) answers it, or the retry is refused, never run twice.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("hwd.replay")

REPLAY_SECONDS = 300
JOURNAL_MAX_REPLY = 64 * 1024  # larger replies (emulator echoes) stay in memory only: disk stays small
JOURNAL_MAX_BYTES = 64 * 1024 * 1024  # a flood of state changes within the 5 minutes: oldest go first


def request_key(client: str, req_id: Any) -> str:
    return json.dumps([client, req_id], ensure_ascii=False, separators=(",", ":"))


def fingerprint(method: str, params: Any) -> str:
    text = json.dumps([method, params], ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class MemoryCache:
    """Recent replies (encoded bytes, or a future of them) by request key, capped in bytes."""

    def __init__(self, max_bytes: int, seconds: float = REPLAY_SECONDS):
        self.max_bytes = max_bytes
        self.seconds = seconds
        self.items: collections.OrderedDict[str, list] = collections.OrderedDict()  # key -> [stamp, fp, reply, size]
        self.bytes = 0

    def get(self, key: str) -> list | None:
        self.expire()
        return self.items.get(key)

    def put(self, key: str, fp: str, reply: Any, size: int) -> None:
        old = self.items.pop(key, None)
        if old is not None:
            self.bytes -= old[3]
        self.items[key] = [time.monotonic(), fp, reply, size]
        self.bytes += size
        self.expire()

    def resize(self, key: str, reply: bytes) -> None:
        """A pending entry's reply arrived: keep the bytes and count them."""
        entry = self.items.get(key)
        if entry is not None:
            self.bytes += len(reply) - entry[3]
            entry[2], entry[3] = reply, len(reply)
            self.expire()

    def expire(self) -> None:
        now = time.monotonic()
        while self.items:
            key, entry = next(iter(self.items.items()))
            if now - entry[0] < self.seconds and self.bytes <= self.max_bytes:
                break
            self.items.popitem(last=False)
            self.bytes -= entry[3]


class Journal:
    """Replies of state-changing requests on disk (SQLite, WAL): survive a kill -9."""

    def __init__(self, path: Path | str, seconds: float = REPLAY_SECONDS, max_bytes: int = JOURNAL_MAX_BYTES):
        self.seconds, self.max_bytes = seconds, max_bytes
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across a process crash
        self.db.execute("CREATE TABLE IF NOT EXISTS replay (key TEXT PRIMARY KEY, fp TEXT NOT NULL, "
                        "method TEXT NOT NULL, ts REAL NOT NULL, reply BLOB)")
        self._last_purge = 0.0
        self.purge()

    def get(self, key: str) -> tuple[str, str, bytes | None] | None:
        try:
            row = self.db.execute("SELECT fp, method, reply, ts FROM replay WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            self._trouble(exc)
            return None
        if row is None or abs(time.time() - row[3]) > self.seconds:  # a clock stepped back: not fresh either
            return None
        return row[0], row[1], row[2]

    def begin(self, key: str, fp: str, method: str) -> None:
        try:
            self.db.execute("INSERT OR REPLACE INTO replay (key, fp, method, ts, reply) VALUES (?, ?, ?, ?, NULL)",
                            (key, fp, method, time.time()))
            if time.monotonic() - self._last_purge > 30:
                self.purge()
        except sqlite3.Error as exc:  # e.g. the disk is full: the request still runs, as before
            self._trouble(exc)

    def finish(self, key: str, reply: bytes) -> None:
        try:
            if len(reply) > JOURNAL_MAX_REPLY:
                self.db.execute("DELETE FROM replay WHERE key = ?", (key,))
            else:
                self.db.execute("UPDATE replay SET reply = ? WHERE key = ?", (reply, key))
        except sqlite3.Error as exc:
            self._trouble(exc)

    def _trouble(self, exc: Exception) -> None:
        from hwd.audit import AUDIT

        AUDIT.warning("replay-journal", "the replay journal cannot be used (%s): retries across a restart "
                      "may run again until it can", exc)

    def purge(self) -> None:
        """Forget replies older than the replay window (or stamped ahead of a clock that stepped
        back), then the oldest while the rest hold more than ``max_bytes``."""
        self._last_purge = time.monotonic()
        now = time.time()
        self.db.execute("DELETE FROM replay WHERE ts < ? OR ts > ?", (now - self.seconds, now + self.seconds))
        held = self.db.execute("SELECT COALESCE(SUM(LENGTH(reply)), 0) + 200 * COUNT(*) FROM replay").fetchone()[0]
        if held > self.max_bytes:
            self.db.execute("DELETE FROM replay WHERE key IN (SELECT key FROM (SELECT key, SUM(LENGTH(reply) + 200) "
                            "OVER (ORDER BY ts DESC) AS newer FROM replay) WHERE newer > ?)", (self.max_bytes,))

    def close(self) -> None:
        self.db.close()
