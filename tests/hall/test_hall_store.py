"""The hall database: WAL, versioned migrations in place, refusal of a newer schema, rollback of
a failed operation, and the calendar and PIN helpers the rules rely on."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from hwd.errors import HwdError
from hwd.hall import pin
from hwd.hall.config import Hours
from hwd.hall.queue.hours import Calendar
from hwd.hall.store import MIGRATIONS, Store, StoreError


def test_wal_and_migration_from_version_1(tmp_path):
    path = tmp_path / "hall.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("INSERT INTO tickets (day, service, seq, number, state, sort_key, issued_ts, origin_service) "
               "VALUES ('2026-11-23', 'bdc', 1, 'B001', 'waiting', 1, 1, 'bdc')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.ticket(1)["number"] == "B001"
    indexes = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "tickets_called" in indexes
    store.close()


def test_newer_schema_is_refused_and_left_unchanged(tmp_path):
    """A rollback: an older hwd names the newer one, says how to go back, and writes nothing (not
    even the journal mode: the newer hwd's database stays byte for byte what it was)."""
    path = tmp_path / "hall.sqlite3"
    store = Store(path)
    store.close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("UPDATE meta SET value = '9.1.0' WHERE key = 'hwd_version'")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match=rf"written by hwd 9\.1\.0 at schema {len(MIGRATIONS) + 1}.*"
                                         rf"reads schema {len(MIGRATIONS)} at most.*Rolling back"):
        Store(path)
    assert path.read_bytes() == before
    assert not (tmp_path / "hall.sqlite3-wal").exists()


def test_the_hwd_version_that_opened_it_is_recorded(tmp_path):
    import hwd

    store = Store(tmp_path / "hall.sqlite3")
    assert store.meta("hwd_version") == hwd.__version__
    store.close()


def test_failed_transaction_leaves_nothing(tmp_path):
    store = Store(tmp_path / "hall.sqlite3")
    with pytest.raises(HwdError):
        with store.tx():
            store.next_seq("bdc", "2026-11-23")
            raise HwdError("quota")
    assert store.issued_count("bdc", "2026-11-23") == 0
    with store.tx():
        assert store.next_seq("bdc", "2026-11-23") == 1
    store.close()
    assert Store(tmp_path / "hall.sqlite3").issued_count("bdc", "2026-11-23") == 1


def test_calendar_exceptions_and_working_days():
    """The configured exceptions alone (the official calendar is tested in test_hall_calendar.py)."""
    hours = Hours(exceptions={"2026-10-01": [], "2026-10-10": ["09:00-12:00"]}, official_calendar=False)
    cal = Calendar(hours)
    assert not cal.is_working_day(dt.date(2026, 10, 1))          # holiday on a Thursday
    assert cal.is_working_day(dt.date(2026, 10, 10))             # extra working Saturday
    assert cal.add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 2)
    assert cal.add_working_days(dt.date(2026, 10, 9), 1) == dt.date(2026, 10, 10)
    tz = dt.timezone(dt.timedelta(hours=8))
    assert cal.next_opening(dt.datetime(2026, 9, 30, 18, 0, tzinfo=tz)) == dt.datetime(2026, 10, 2, 8, 45, tzinfo=tz)
    assert not cal.can_issue(dt.datetime(2026, 9, 30, 12, 30, tzinfo=tz))
    assert cal.can_issue(dt.datetime(2026, 9, 30, 12, 45, tzinfo=tz))


def test_pin_hash():
    stored = pin.hash_pin("1234")
    assert stored.startswith("pbkdf2_sha256$") and "1234" not in stored
    assert pin.check_format(stored) is None and pin.check_format("1234")
    assert pin.verify("1234", stored) and not pin.verify("1235", stored)


def test_the_documented_config_loads(tmp_path):
    """docs/hall.md's configuration example is a valid config (devices declared on a node)."""
    import re
    from pathlib import Path

    from hall_helpers import load_config

    doc = (Path(__file__).parents[2] / "docs" / "hall.md").read_text(encoding="utf-8")
    example = doc.split("## Configuration", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    example = re.sub(r'pin_hash = "[^"]*"', f'pin_hash = "{pin.hash_pin("1234")}"', example)
    devices = "".join(f'[[device]]\nid = "{d}"\nkind = "{k}"\nnode = "pc"\n' for d, k in (
        ("hall-led", "display"), ("win5-led", "display"), ("win5-rate", "keypad"), ("win5-caller", "keypad"),
        ("hall-speaker", "speaker"),
        ("kiosk1-printer", "printer"), ("kiosk1-idcard", "idcard"), ("kiosk1-scanner", "scanner"),
        ("kiosk1-speaker", "speaker")))
    node = f'[[node]]\nid = "pc"\nrpc = "ipc://{tmp_path}/r"\nevents = "ipc://{tmp_path}/e"\n'
    cfg = load_config(tmp_path, node + devices + example)
    assert cfg.hall.windows["5"].display == "win5-led" and cfg.hall.fairness == 3
    assert cfg.hall.windows["5"].evaluator == "win5-rate" and cfg.hall.services["bdc"].code == 2
    assert cfg.hall.kiosks["k1"].speaker == "kiosk1-speaker" and cfg.hall.kiosks["k1"].voice is True
    assert cfg.hall.hours.exceptions["2027-10-01"] == [] and cfg.hall.hours.official_calendar is True
