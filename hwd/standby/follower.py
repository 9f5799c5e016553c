"""The standby's follower: a thread that applies the hall's log to this PC's database in order,
as the entries come (a watch on the log wakes it), and notes how far it got and when it last
had everything — which is what "in sync" means on the admin page and in ``hwctl standby status``.

It first checks that this database is one the log continues (empty while the log started empty,
or the hall's own database); otherwise it says why and applies nothing, and the PC never
campaigns.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable

from hwd.standby import etcd as E
from hwd.standby.log import Keys
from hwd.standby.replica import LogError, apply_entries, local_seq, read_log

log = logging.getLogger("hwd.standby")

NOT_OURS = "this PC's hall database is not the one the hall's log continues"


def empty(db: sqlite3.Connection) -> bool:
    """No tickets, windows, outbox records or actions: a database nothing has happened in yet."""
    return db.execute("SELECT (SELECT COUNT(*) FROM tickets) + (SELECT COUNT(*) FROM windows) + "
                      "(SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM actions)").fetchone()[0] == 0


def meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


class Follower:
    """Applies the log while this PC is the standby (``start``/``stop``)."""

    def __init__(self, client: E.Etcd, keys: Keys, db_path: Path, period: float, engine_id: str,
                 say: Callable[..., None]):
        self.client, self.keys, self.db_path, self.period, self.engine_id = client, keys, db_path, period, engine_id
        self.say = say
        self.applied = 0
        self.caught_up_at = 0.0  # monotonic: when it last had applied every entry there was
        self.problem: str | None = None  # why this PC cannot follow (nor take over)
        self.checked = False  # the database was found to be one the log continues
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hwd-standby-follow", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run(self) -> None:
        db = sqlite3.connect(self.db_path, isolation_level=None, timeout=30)
        try:
            while not self._stop.is_set():
                try:
                    if not self.checked:
                        self.check(db)
                    revision, entries, more = read_log(self.client, self.keys, local_seq(db), limit=500,
                                                       timeout=self.period * 2)
                    if entries:
                        self.applied = apply_entries(db, entries)
                        if not more:
                            self.caught_up_at = time.monotonic()
                        continue
                    self.applied = local_seq(db)
                    self.caught_up_at = time.monotonic()
                    for _event in self.client.watch(self.keys.log_prefix, self.keys.log_end, revision + 1, 1.0):
                        break
                except LogError as exc:
                    if self.problem != str(exc):
                        log.error("standby %s: %s", self.engine_id, exc)
                    self.problem = str(exc)
                    self._stop.wait(5.0)
                except E.EtcdError as exc:
                    self.say("follow", logging.INFO, "cannot read the log: %s", exc)
                    self._stop.wait(0.5)
                except sqlite3.Error:
                    log.exception("standby %s: applying the log failed", self.engine_id)
                    self._stop.wait(1.0)
        finally:
            db.close()

    def check(self, db: sqlite3.Connection) -> None:
        """May this database follow the hall's log? (It is empty and the log starts empty, or it is
        the hall's database: a copy of the active one, or one that followed before.)"""
        kv = self.client.get(self.keys.genesis, timeout=self.period * 2)
        if kv is not None:
            try:
                genesis: dict[str, Any] = json.loads(kv.value)
            except ValueError:
                genesis = {}
            seq = local_seq(db)
            same_hall = genesis.get("hall") and meta(db, "standby_hall") == genesis.get("hall")
            fresh = genesis.get("fresh") and seq == 0 and empty(db)
            copy = genesis.get("db_id") and meta(db, "db_id") == genesis.get("db_id") and seq >= int(genesis["seq"])
            if not (same_hall or fresh or copy):
                raise LogError(f"{NOT_OURS}: copy the active PC's database here (docs/standby.md, \"A standby "
                               "that cannot follow\")")
        self.checked = True
        if self.problem and self.problem.startswith(NOT_OURS):
            self.problem = None
