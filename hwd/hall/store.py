"""The hall's durable state in SQLite (WAL): tickets, per-day counters, windows, ratings,
appointments, locker deposits and an action log.

Every change runs in ``with store.tx():`` and is committed before the engine replies or
publishes, so a ``kill -9`` at any moment loses nothing acknowledged. With ``[hall.standby]`` the
connection comes from ``connect`` (hwd.standby.replica): its transactions are appended to the
hall's replicated log before they commit; without it, plain ``sqlite3.connect``. The schema is versioned
with ``PRAGMA user_version``; ``MIGRATIONS[n]`` brings version n to n+1, so a newer hwd opens an
older hall database in place. An older hwd refuses a newer database without writing to it, and
meta ``hwd_version`` names the hwd that last opened it, for that refusal's message (and
scripts/statecheck.py refuses such a rollback before installing anything).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator

from hwd import __version__

log = logging.getLogger("hwd.hall.store")

MIGRATIONS = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        day TEXT NOT NULL, service TEXT NOT NULL, seq INTEGER NOT NULL, number TEXT NOT NULL,
        priority TEXT NOT NULL DEFAULT 'normal', state TEXT NOT NULL, sort_key REAL NOT NULL,
        issued_ts REAL NOT NULL, kiosk TEXT, holder TEXT, appointment TEXT,
        origin_service TEXT NOT NULL,  -- the service that issued the number (service changes on transfer)
        window TEXT, staff TEXT, called_ts REAL, first_called_ts REAL, started_ts REAL,
        finished_ts REAL, recalls INTEGER NOT NULL DEFAULT 0, requeues INTEGER NOT NULL DEFAULT 0,
        transfers INTEGER NOT NULL DEFAULT 0, printed INTEGER NOT NULL DEFAULT 0, print_error TEXT,
        rating_state TEXT, rating_deadline REAL,
        UNIQUE (origin_service, day, seq));
    CREATE INDEX tickets_waiting ON tickets (service, priority = 'normal', sort_key) WHERE state = 'waiting';
    CREATE INDEX tickets_day ON tickets (day);
    CREATE INDEX tickets_issued ON tickets (issued_ts);
    CREATE INDEX tickets_open ON tickets (state) WHERE state IN ('waiting', 'called');
    CREATE INDEX tickets_rating ON tickets (rating_deadline) WHERE rating_state = 'pending';
    CREATE TABLE counters (service TEXT NOT NULL, day TEXT NOT NULL, last INTEGER NOT NULL,
                           PRIMARY KEY (service, day));
    CREATE TABLE windows (id TEXT PRIMARY KEY, state TEXT NOT NULL, staff TEXT, current INTEGER,
                          reason TEXT, streak INTEGER NOT NULL DEFAULT 0, since REAL,
                          last_done INTEGER);
    CREATE TABLE ratings (
        id INTEGER PRIMARY KEY, ticket INTEGER NOT NULL UNIQUE, number TEXT, score INTEGER NOT NULL,
        window TEXT, staff TEXT, service TEXT, channel TEXT, ts REAL NOT NULL, day TEXT NOT NULL,
        bad INTEGER NOT NULL, reason TEXT, followup_due TEXT, followup_state TEXT,
        followup_note TEXT, followup_ts REAL, followup_by TEXT);
    CREATE INDEX ratings_ts ON ratings (ts);
    CREATE TABLE appointments (code TEXT PRIMARY KEY, service TEXT NOT NULL, slot_ts REAL NOT NULL,
                               slot_end REAL NOT NULL, person TEXT, ticket INTEGER, created_ts REAL);
    CREATE INDEX appointments_person ON appointments (person);
    CREATE TABLE actions (id INTEGER PRIMARY KEY, ts REAL NOT NULL, ticket INTEGER, window TEXT,
                          staff TEXT, action TEXT NOT NULL, detail TEXT);
    """,
    # 2: hall.state's recent calls without scanning every ticket ever issued
    """
    CREATE INDEX tickets_called ON tickets (called_ts) WHERE called_ts IS NOT NULL;
    """,
    # 3: 好差评 records the upstream needs, 差评 work orders (append-only steps), and the outbox
    """
    ALTER TABLE tickets ADD COLUMN case_no TEXT;
    ALTER TABLE ratings ADD COLUMN region_code TEXT;
    ALTER TABLE ratings ADD COLUMN service_start REAL;
    ALTER TABLE ratings ADD COLUMN service_end REAL;
    ALTER TABLE ratings ADD COLUMN labels TEXT;
    ALTER TABLE ratings ADD COLUMN matter_code TEXT;
    ALTER TABLE ratings ADD COLUMN impl_code TEXT;
    ALTER TABLE ratings ADD COLUMN matter_version TEXT;
    ALTER TABLE ratings ADD COLUMN case_no TEXT;
    ALTER TABLE ratings ADD COLUMN excluded INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE workorders (
        id INTEGER PRIMARY KEY, rating INTEGER NOT NULL UNIQUE REFERENCES ratings (id),
        state TEXT NOT NULL, verdict TEXT, opened_ts REAL NOT NULL, callback_due TEXT, due TEXT NOT NULL,
        closed_ts REAL);
    CREATE INDEX workorders_state ON workorders (state);
    CREATE TABLE workorder_steps (
        id INTEGER PRIMARY KEY, workorder INTEGER NOT NULL REFERENCES workorders (id), step TEXT NOT NULL,
        from_state TEXT NOT NULL, to_state TEXT NOT NULL, verdict TEXT, note TEXT, staff TEXT, ts REAL NOT NULL);
    CREATE INDEX workorder_steps_order ON workorder_steps (workorder, id);
    CREATE TRIGGER workorder_steps_no_update BEFORE UPDATE ON workorder_steps
        BEGIN SELECT RAISE(ABORT, 'work-order steps are append-only'); END;
    CREATE TRIGGER workorder_steps_no_delete BEFORE DELETE ON workorder_steps
        BEGIN SELECT RAISE(ABORT, 'work-order steps are append-only'); END;
    CREATE TABLE outbox (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
                         ref TEXT NOT NULL, payload TEXT NOT NULL, ts REAL NOT NULL);
    CREATE TABLE outbox_sinks (name TEXT PRIMARY KEY, cursor INTEGER NOT NULL);
    CREATE TABLE outbox_delivery (
        record INTEGER NOT NULL REFERENCES outbox (id), sink TEXT NOT NULL, state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, next_ts REAL NOT NULL, last_error TEXT, sent_ts REAL,
        replay INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (sink, record));
    CREATE INDEX outbox_delivery_due ON outbox_delivery (sink, state, record);
    """,
    # 4: the window a recent call went to, after the ticket was requeued or transferred
    """
    CREATE INDEX actions_ticket ON actions (ticket, id) WHERE action IN ('call', 'recall');
    """,
    # 5: guide desk (导办台): the desk that issued a ticket, the staff who checked the citizen's
    # documents for its priority class, and the citizen's matter of a 帮办代办 (assisted) ticket
    """
    ALTER TABLE tickets ADD COLUMN desk TEXT;
    ALTER TABLE tickets ADD COLUMN verified_by TEXT;
    ALTER TABLE tickets ADD COLUMN matter TEXT;
    """,
    # 6: security (docs/security.md): the RPC request that issued a ticket, so a retry across a crash finds it;
    # enrolled rating pads (secrets stored hashed)
    """
    ALTER TABLE tickets ADD COLUMN request_key TEXT;
    CREATE INDEX tickets_request ON tickets (request_key) WHERE request_key IS NOT NULL;
    CREATE TABLE rating_pads (id TEXT PRIMARY KEY, window TEXT NOT NULL, secret_hash TEXT NOT NULL,
                              enrolled_ts REAL NOT NULL, last_used_ts REAL);
    """,
    # 7: 实名评价 opt-in (hwd.hall.ratings.holders): a ticket's card holder, sealed, until the province has
    # the rating; the masked forms for the preview
    """
    CREATE TABLE rating_holders (ticket INTEGER PRIMARY KEY, rating INTEGER UNIQUE, sealed BLOB NOT NULL,
                                 shown TEXT NOT NULL, stored_ts REAL NOT NULL);
    """,
    # 8: the 24-hour area's locker (智能取件柜, hwd.hall.pickup): results deposited for a ticket or a
    # 办件编号 and picked up by code or ID card (both kept only as keyed hashes: the code can be said
    # again from its nonce and the hall's key), and the doors' alarms (left open, forced, jammed)
    """
    CREATE TABLE deposits (
        id INTEGER PRIMARY KEY, state TEXT NOT NULL, device TEXT NOT NULL, door INTEGER NOT NULL,
        ticket INTEGER, number TEXT, case_no TEXT, nonce TEXT NOT NULL, code_hash TEXT NOT NULL,
        person TEXT, staff TEXT, window TEXT, created_ts REAL NOT NULL, deposited_ts REAL,
        opened_ts REAL, picked_ts REAL, ended_ts REAL, kiosk TEXT, via TEXT);
    CREATE UNIQUE INDEX deposits_door_busy ON deposits (device, door)
        WHERE state IN ('loading', 'waiting', 'collecting');
    CREATE INDEX deposits_code ON deposits (code_hash) WHERE state = 'waiting';
    CREATE INDEX deposits_person ON deposits (person) WHERE state = 'waiting' AND person IS NOT NULL;
    CREATE INDEX deposits_ticket ON deposits (ticket) WHERE ticket IS NOT NULL;
    CREATE TABLE locker_alarms (
        id INTEGER PRIMARY KEY, device TEXT NOT NULL, door INTEGER, kind TEXT NOT NULL, deposit INTEGER,
        raised_ts REAL NOT NULL, detail TEXT, cleared_ts REAL, cleared_by TEXT, note TEXT);
    CREATE INDEX locker_alarms_open ON locker_alarms (device, door, kind) WHERE cleared_ts IS NULL;
    """,
    # 9: the matter (事项, [[hall.service.matter]]) a clerk handled: on the ticket, and on its rating;
    # clerks who must set a new PIN at their next login (their pin_hash removed, or added without one)
    """
    ALTER TABLE tickets ADD COLUMN matter_id TEXT;
    ALTER TABLE ratings ADD COLUMN matter_id TEXT;
    ALTER TABLE ratings ADD COLUMN matter_name TEXT;
    CREATE TABLE pin_resets (staff TEXT PRIMARY KEY, ts REAL NOT NULL);
    """,
]


def _statements(script: str) -> list[str]:
    """Split a migration into statements (a trigger body holds ``;`` of its own)."""
    out, buf = [], ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n;"):
                out.append(buf.strip())
            buf = ""
    return out


class StoreError(Exception):
    """The hall database cannot be opened or written."""


def newer_schema(path: Any, version: int, db: sqlite3.Connection) -> str:
    """What an hwd too old for its hall database says (it changes nothing in it)."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'hwd_version'").fetchone()
    except sqlite3.Error:
        row = None
    by = f" by hwd {row[0]}" if row else ""
    return (f"{path} was written{by} at schema {version}; this hwd {__version__} reads schema {len(MIGRATIONS)} "
            "at most and left it unchanged: install that newer hwd again, or restore the copy made before "
            "the upgrade (/var/backups/hwd/hall-before-install-*; docs/deploy.md, \"Rolling back\")")


class Store:
    def __init__(self, path: Path | str, sync: str = "full",
                 connect: Callable[..., sqlite3.Connection] = sqlite3.connect):
        self.path = Path(path) if str(path) != ":memory:" else path
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connect = connect
        self.db = connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):  # before anything is written, even the journal mode
            message = newer_schema(self.path, version, self.db)
            self.db.close()
            raise StoreError(message)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute(f"PRAGMA synchronous = {sync.upper()}")
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA busy_timeout = 5000")
        self._depth = 0
        self.on_log: Callable[..., None] | None = None
        self.migrate()
        self.db_id = self._database_id()

    # -- plumbing ----------------------------------------------------------------------------
    def migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for n in range(version, len(MIGRATIONS)):
            log.info("migrating %s to schema %d", self.path, n + 1)
            with self.tx():
                for statement in _statements(MIGRATIONS[n]):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {n + 1}")
        if self.meta("hwd_version") != __version__:  # names the newer hwd if an older one is put back
            with self.tx():
                self.set_meta("hwd_version", __version__)

    def _database_id(self) -> str:
        """A random id made once per hall database: printer job ids carry it, so a database reset
        (ticket ids start again at 1) never reuses a job id the printer's spool already knows."""
        found = self.meta("db_id")
        if found:
            return found
        with self.tx():
            self.set_meta("db_id", secrets.token_hex(4))
        return self.meta("db_id")

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction (nested calls join the outer one); committed when the block ends."""
        if self._depth:
            self._depth += 1
            try:
                yield self.db
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.db
        except BaseException:
            self._depth = 0
            self.db.execute("ROLLBACK")
            raise
        self._depth = 0
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def one(self, sql: str, args: tuple = ()) -> dict | None:
        row = self.db.execute(sql, args).fetchone()
        return dict(row) if row is not None else None

    def all(self, sql: str, args: tuple = ()) -> list[dict]:
        return [dict(r) for r in self.db.execute(sql, args).fetchall()]

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = ?",
                        (key, value, value))

    # -- tickets -----------------------------------------------------------------------------
    def next_seq(self, service: str, day: str) -> int:
        """The next ticket number of ``service`` on ``day`` (inside the issuing transaction)."""
        row = self.db.execute("SELECT last FROM counters WHERE service = ? AND day = ?", (service, day)).fetchone()
        seq = (row[0] if row else 0) + 1
        self.db.execute("INSERT INTO counters (service, day, last) VALUES (?, ?, ?) "
                        "ON CONFLICT (service, day) DO UPDATE SET last = ?", (service, day, seq, seq))
        return seq

    def max_sort_key(self, day: str) -> float:
        """The latest queue position handed out on ``day`` (0 when none)."""
        return self.db.execute("SELECT COALESCE(MAX(sort_key), 0) FROM tickets WHERE day = ?", (day,)).fetchone()[0]

    def issued_count(self, service: str, day: str) -> int:
        row = self.db.execute("SELECT last FROM counters WHERE service = ? AND day = ?", (service, day)).fetchone()
        return row[0] if row else 0

    def insert_ticket(self, **values: Any) -> int:
        keys = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        return self.db.execute(f"INSERT INTO tickets ({keys}) VALUES ({marks})", tuple(values.values())).lastrowid

    def update_ticket(self, ticket_id: int, **values: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        self.db.execute(f"UPDATE tickets SET {sets} WHERE id = ?", tuple(values.values()) + (ticket_id,))

    def ticket(self, ticket_id: int) -> dict | None:
        return self.one("SELECT * FROM tickets WHERE id = ?", (ticket_id,))

    def ticket_by_number(self, number: str, day: str | None = None) -> dict | None:
        if day is None:
            return self.one("SELECT * FROM tickets WHERE number = ? ORDER BY id DESC LIMIT 1", (number,))
        return self.one("SELECT * FROM tickets WHERE number = ? AND day = ? ORDER BY id DESC LIMIT 1", (number, day))

    def heads(self, service: str) -> list[dict]:
        """The oldest waiting ticket of each class (normal, elderly, …) in ``service``."""
        out = {}
        normal = self.one("SELECT id, sort_key, priority FROM tickets WHERE state = 'waiting' AND service = ? "
                          "AND priority = 'normal' ORDER BY sort_key, id LIMIT 1", (service,))
        if normal is not None:
            out["normal"] = normal
        for row in self.all("SELECT id, sort_key, priority FROM tickets WHERE state = 'waiting' AND service = ? "
                            "AND priority != 'normal' ORDER BY sort_key, id", (service,)):
            out.setdefault(row["priority"], row)
        return list(out.values())

    def waiting(self) -> list[dict]:
        """Every waiting ticket (id, service, priority, sort_key), oldest first."""
        return self.all("SELECT id, service, priority, sort_key FROM tickets WHERE state = 'waiting' "
                        "ORDER BY sort_key, id")

    def called_window(self, ticket_id: int) -> str | None:
        """The window the ticket was last called to (it keeps no window once requeued or transferred)."""
        row = self.db.execute("SELECT window FROM actions WHERE ticket = ? AND action IN ('call', 'recall') "
                              "ORDER BY id DESC LIMIT 1", (ticket_id,)).fetchone()
        return row[0] if row else None

    def key_behind(self, service: str, n: int, default: float) -> float:
        """A sort key that places a ticket right behind the ``n``-th waiting ticket of ``service``
        (or last, when fewer are waiting; ``default`` when none are)."""
        keys = [r[0] for r in self.db.execute("SELECT sort_key FROM tickets WHERE state = 'waiting' AND service = ? "
                                              "ORDER BY sort_key, id LIMIT 2 OFFSET ?", (service, n - 1))]
        if not keys:
            row = self.db.execute("SELECT MAX(sort_key) FROM tickets WHERE state = 'waiting' AND service = ?",
                                  (service,)).fetchone()
            return default if row[0] is None else row[0] + 1e-3
        if len(keys) == 2 and keys[1] > keys[0]:
            return (keys[0] + keys[1]) / 2
        return keys[0] + 1e-6

    def queue_counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for row in self.db.execute("SELECT service, priority = 'normal' AS normal, COUNT(*) FROM tickets "
                                   "WHERE state = 'waiting' GROUP BY service, normal"):
            entry = out.setdefault(row[0], {"waiting": 0, "priority": 0})
            entry["waiting"] += row[2]
            if not row[1]:
                entry["priority"] += row[2]
        return out

    def log(self, ts: float, action: str, ticket: int | None = None, window: str | None = None,
            staff: str | None = None, detail: str | None = None) -> None:
        aid = self.db.execute("INSERT INTO actions (ts, ticket, window, staff, action, detail) VALUES (?, ?, ?, ?, ?, ?)",
                              (ts, ticket, window, staff, action, detail)).lastrowid
        if self.on_log is not None:  # e.g. the county feed (hwd.county.feed): same transaction
            self.on_log(aid, ts, action, ticket, window, staff, detail)

    # -- windows -----------------------------------------------------------------------------
    def window(self, window_id: str) -> dict | None:
        return self.one("SELECT * FROM windows WHERE id = ?", (window_id,))

    def save_window(self, row: dict) -> None:
        self.db.execute("INSERT INTO windows (id, state, staff, current, reason, streak, since, last_done) "
                        "VALUES (:id, :state, :staff, :current, :reason, :streak, :since, :last_done) "
                        "ON CONFLICT (id) DO UPDATE SET state = :state, staff = :staff, current = :current, "
                        "reason = :reason, streak = :streak, since = :since, last_done = :last_done", row)
