"""The outbox sink ``central``: every record of the hall's outbox (from record 1) into the county's
PostgreSQL with psycopg 3, many records per transaction (``deliver_batch``: up to ``batch_size``
records the outbox worker hands over in id order, stored with one statement and applied with one
statement per projection, the daily rollup of the days they touch rolled again before the commit).

A record the county cannot hold (a payload the schema refuses) fails its batch; the batch is
then delivered again record by record, each in its own transaction, so that record alone is
``Rejected`` and the others go on. A lost link answers ``DeliveryError`` for the first record
not committed: the worker keeps it (and what follows) pending and retries after its backoff.

Delivery is idempotent — ``records`` has the primary key (hall_id, idempotency key), so a retry
after a lost reply or a 补报 replay is answered ``Sent(duplicate=True)`` and applied nowhere
(hwd.county.ingest). The outbox worker hands records over in id order and holds the sink after a
failure, so a hall that was offline for a week catches up in order.

Besides records, the sink reports the hall itself (``halls`` row): its clock and business day,
its hwd version, and how far its outbox is behind (oldest undelivered record, count), every ``heartbeat_s`` from
its own thread — that is what the county's ``outbox_lag_s`` is made of — and, when it connects,
its name and the names people read for its ids (windows, services, staff, devices: ``halls.names``).
When the database cannot be reached, nothing is lost: records wait in the hall's SQLite.

The county trusts a hall with its own rows only (hwd.county.roles, schema migration 3): with a
login made by ``hwd-central county add-hall`` for another hall id, PostgreSQL refuses every
write; the sink reports that as a delivery error (the records wait) naming the hall id.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from hwd import __version__, outbox
from hwd.county import ingest, schema
from hwd.errors import HwdError

log = logging.getLogger("hwd.county.sink")


NAME_MAX = 64  # characters of a name the county shows (central.queries.TEXT_MAX)


def _bounded(names: dict | None) -> dict | None:
    """The names cut to what the county shows and keeps (``schema.NAMES_MAX_BYTES``): too many
    to send (a hall of thousands of devices?) are not sent, and the county shows ids."""
    if not names:
        return None
    cut = {kind: {str(k)[:NAME_MAX]: str(v)[:NAME_MAX] for k, v in table.items()} for kind, table in names.items()}
    if len(json.dumps(cut, ensure_ascii=False).encode()) > schema.NAMES_MAX_BYTES:
        log.warning("county: the hall's names take more than %d bytes; the county shows ids", schema.NAMES_MAX_BYTES)
        return None
    return cut


def connect(dsn: str, connect_timeout_s: int = 5, **kwargs: Any):
    """A psycopg connection (autocommit: each delivery opens its own transaction)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    extra = {} if "connect_timeout" in conninfo_to_dict(dsn) else {"connect_timeout": connect_timeout_s}
    return psycopg.connect(dsn, autocommit=True, application_name="hwd", **extra, **kwargs)


class RecordError(Exception):
    """This record (not the link) is what the county database refused."""


class PostgresSink:
    # ratings, work orders …, tickets, windows, devices, the locker's deposits and alarms
    kinds = outbox.RATING_KINDS + outbox.FEED_KINDS + outbox.PICKUP_KINDS
    backfill = True
    batch_size = 2000  # records per transaction: a week offline (84,000 records) is 42 commits

    def __init__(self, cfg: Any, db_path: Path | str, clock: Any, hall_name: str, name: str = "central",
                 names: dict | None = None):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise HwdError("[hall.central] needs psycopg 3: pip install 'hwd[central]'") from None
        self.cfg, self.db_path, self.clock, self.hall_name, self.name = cfg, str(db_path), clock, hall_name, name
        self.names = _bounded(names)  # window, service, staff and device names by id, for the county's pages
        self.retry_s, self.retry_max_s = cfg.retry_s, cfg.retry_max_s  # the outbox worker's backoff for this sink
        self._conn = None
        self._lock = threading.Lock()  # one connection, used by the worker and the heartbeat
        self._stop = threading.Event()
        self._hb = threading.Thread(target=self._heartbeat_loop, name="hwd-county-heartbeat", daemon=True)
        self._hb.start()

    # -- the connection ----------------------------------------------------------------------
    def _connection(self):
        if self._conn is None or self._conn.closed:
            import psycopg

            self._conn = connect(self.cfg.dsn, self.cfg.connect_timeout_s)
            try:
                schema.migrate(self._conn)  # a no-op read when hwd-central has migrated it
            except psycopg.errors.InsufficientPrivilege:
                have = schema.version(self._conn)
                self._drop()
                raise outbox.DeliveryError(
                    f"the county database has schema {have}, this hall needs {len(schema.MIGRATIONS)}, and a "
                    "hall's login may not migrate it: upgrade and restart hwd-central (it migrates at start)") from None
            from psycopg.types.json import Jsonb

            self._conn.execute("INSERT INTO halls (hall_id, name, names) VALUES (%s, %s, %s) ON CONFLICT (hall_id) "
                               "DO UPDATE SET name = EXCLUDED.name, names = COALESCE(EXCLUDED.names, halls.names)",
                               (self.cfg.hall_id, self.hall_name, Jsonb(self.names) if self.names else None))
            log.info("county database connected (hall %s)", self.cfg.hall_id)
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
        self._conn = None

    # -- the Sink protocol -------------------------------------------------------------------
    def deliver(self, record: outbox.Record) -> outbox.Sent | outbox.Rejected:
        [outcome] = self.deliver_batch([record])
        if isinstance(outcome, outbox.DeliveryError):
            raise outcome
        return outcome

    def deliver_batch(self, records: list[outbox.Record]) -> list:
        """Outcomes in the records' order: Sent or Rejected each, the list ending early with a
        DeliveryError for the first record the county did not commit (the rest were not tried)."""
        with self._lock:
            try:
                return self._commit(records)
            except outbox.DeliveryError as exc:
                return [exc]
            except RecordError as exc:
                if len(records) == 1:
                    return [outbox.Rejected(f"county database refused the record: {exc}")]
                log.warning("county: a record of records %d–%d was refused (%s); delivering them one by one",
                            records[0].id, records[-1].id, exc)
            out: list = []
            for record in records:
                try:
                    out += self._commit([record])
                except RecordError as exc:
                    out.append(outbox.Rejected(f"county database refused the record: {exc}"))
                except outbox.DeliveryError as exc:
                    out.append(exc)
                    break
            return out

    def _commit(self, records: list[outbox.Record]) -> list[outbox.Sent]:
        """All of ``records`` in one transaction, or none (RecordError / DeliveryError)."""
        import psycopg

        try:
            conn = self._connection()
            with conn.transaction():
                fresh = ingest.store_many(conn, self.cfg.hall_id, records)
        except psycopg.errors.ProgramLimitExceeded as exc:  # e.g. a text too long for an index: this record
            raise RecordError(str(exc).strip()[:300]) from None
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._drop()
            raise outbox.DeliveryError(f"county database: {str(exc).strip()[:300]}") from None
        except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:
            raise RecordError(str(exc).strip()[:300]) from None
        except psycopg.errors.InsufficientPrivilege as exc:  # the county's row-level security, or a missing grant
            self._drop()
            log.error("county database refused hall %s: %s", self.cfg.hall_id, str(exc).strip()[:300])
            raise outbox.DeliveryError(
                f"county database refused hall {self.cfg.hall_id!r} to this login: {str(exc).strip()[:300]} "
                "(a hall's login writes only the rows of the hall id the county made it for with "
                "`hwd-central county add-hall`: check [hall.central] hall_id and dsn)") from None
        except psycopg.Error as exc:
            self._drop()
            raise outbox.DeliveryError(f"county database error: {str(exc).strip()[:300]}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a payload without what its kind needs
            self._drop()  # the transaction was cut short in Python: start clean
            raise RecordError(f"malformed {type(exc).__name__}: {exc}") from None
        return [outbox.Sent(duplicate=r.key not in fresh) for r in records]

    def close(self) -> None:
        self._stop.set()
        self._hb.join(2.0)
        with self._lock:
            self._drop()

    # -- the hall's own report ----------------------------------------------------------------
    def backlog(self, db: sqlite3.Connection) -> tuple[int, float | None]:
        return outbox.backlog(db, self)

    def report(self) -> None:
        """Tell the county this hall's clock, business day and outbox backlog."""
        import psycopg

        db = sqlite3.connect(self.db_path, timeout=5)
        try:
            pending, oldest = self.backlog(db)
            last = db.execute("SELECT MAX(record) FROM outbox_delivery WHERE sink = ? AND state = 'sent'",
                              (self.name,)).fetchone()[0] or 0
        finally:
            db.close()
        now = self.clock.now()
        lag = max(0.0, now.timestamp() - oldest) if oldest is not None else 0.0
        with self._lock:
            try:
                self._connection().execute(
                    "UPDATE halls SET tz = %s, today = %s, reported_ts = %s, received_at = now(), "
                    "lag_at_report_s = %s, pending = %s, heartbeat_s = %s, last_record_id = %s, hwd_version = %s "
                    "WHERE hall_id = %s",
                    (str(self.clock.tz), now.date().isoformat(), now.timestamp(), lag, pending,
                     self.cfg.heartbeat_s, last, __version__, self.cfg.hall_id))
            except psycopg.Error as exc:
                self._drop()
                log.debug("county heartbeat failed: %s", exc)

    def _heartbeat_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.report()
            except sqlite3.Error:
                log.exception("county heartbeat: cannot read the outbox")
            except Exception:
                log.exception("county heartbeat failed")
            self._stop.wait(self.cfg.heartbeat_s)
