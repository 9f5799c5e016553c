"""The hall side of the county link against a real PostgreSQL: ``[hall.central]`` puts every
ticket change, window session step, rating, work-order step and device state into the outbox in
the change's transaction; the ``central`` sink upserts them, in order, once."""

from __future__ import annotations

import sqlite3

import pytest

from support.daemon import DaemonProcess
from support.waits import wait_for
from county_helpers import MONDAY, hall_config, query, scalar

from hwd.county import schema


@pytest.fixture
def hall(tmp_path, county):
    """A hall feeding the county with the role ``hwd-central county add-hall`` made for it."""
    procs = []

    def make(hall_id: str = "h1", port: int | None = None, name: str = "hall"):
        d = DaemonProcess(tmp_path, "", name)
        d.config_path.write_text(hall_config(d, county.add_hall(hall_id, port=port), hall_id), encoding="utf-8")
        procs.append(d)
        return d
    yield make
    for d in procs:
        d.stop()


def a_morning(d) -> None:
    d.call("clock.set", {"now": MONDAY})
    d.call("hall.login", {"window": "1", "staff": "s01"})
    d.call("hall.login", {"window": "2", "staff": "s02"})
    for service in ("bdc", "sb", "sb", "bdc"):
        d.call("hall.issue_ticket", {"service": service})
    d.call("clock.advance", {"seconds": 120})
    d.call("hall.call_next", {"window": "1"})
    d.call("hall.start", {"window": "1"})
    d.call("clock.advance", {"seconds": 300})
    d.call("hall.finish", {"window": "1"})
    d.call("hall.rate", {"window": "1", "score": 1, "reasons": ["attitude"]})
    d.call("hall.call_next", {"window": "2"})
    d.call("hall.pause", {"window": "2", "reason": "break"})


def outbox_count(d) -> int:
    db = sqlite3.connect(d.state_dir / "hall.sqlite3")
    try:
        return db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    finally:
        db.close()


def test_the_schema_is_versioned_and_migrating_twice_is_a_no_op(pg):
    import psycopg

    with psycopg.connect(pg, autocommit=True) as conn:
        assert schema.version(conn) == 0
        assert schema.migrate(conn) == len(schema.MIGRATIONS)
        assert schema.migrate(conn) == len(schema.MIGRATIONS)
        assert [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")] == \
            list(range(1, len(schema.MIGRATIONS) + 1))


def test_a_morning_reaches_the_county_once_and_a_replay_counts_nothing_twice(hall, pg):
    d = hall("h1").start()
    a_morning(d)
    n = outbox_count(d)
    wait_for(lambda: scalar(pg, "SELECT COUNT(*) FROM records WHERE hall_id = 'h1'") == n, 20, "all records in", tolerate=(Exception,))
    tickets = {r[0]: r[1:] for r in query(pg, "SELECT number, state, window_id, staff, issued_date::text "
                                              "FROM tickets WHERE hall_id = 'h1'")}
    assert tickets["B001"] == ("done", "1", "s01", "2026-11-23")
    assert tickets["A001"][:2] == ("called", "2")
    assert sorted(s for s, *_ in tickets.values()).count("waiting") == 2
    assert query(pg, "SELECT score, window_id, staff FROM ratings WHERE hall_id = 'h1'") == [(1, "1", "s01")]
    assert scalar(pg, "SELECT state FROM workorders WHERE hall_id = 'h1'") == "open"
    assert query(pg, "SELECT window_id, state, staff, reason FROM windows WHERE hall_id = 'h1' ORDER BY 1") == \
        [("1", "open", "s01", None), ("2", "paused", "s02", "break")]
    actions = [r[0] for r in query(pg, "SELECT action FROM ticket_events e JOIN tickets t USING (hall_id, ticket_id) "
                                       "WHERE t.number = 'B001' ORDER BY action_id")]
    assert actions == ["issue", "call", "start", "finish", "rate"]
    times = query(pg, "SELECT first_called_ts - issued_ts, finished_ts - started_ts FROM tickets WHERE number = 'B001'")
    assert times == [(120.0, 300.0)]
    assert scalar(pg, "SELECT COUNT(*) FROM records WHERE payload::text LIKE %s", ("%id_number%",)) == 0
    # 补报 of everything: the same keys again, nothing applied twice
    events_before = scalar(pg, "SELECT COUNT(*) FROM ticket_events")
    replayed = d.call("outbox.replay", {"sink": "central"})
    assert replayed["replayed"] == n
    wait_for(lambda: d.call("outbox.status")["sinks"][0]["pending"] == 0, 20, "replay delivered")
    assert scalar(pg, "SELECT COUNT(*) FROM records") == n
    assert scalar(pg, "SELECT COUNT(*) FROM ticket_events") == events_before


def test_a_hall_offline_keeps_working_and_catches_up_in_order(hall, pg, pg_server):
    d = hall("h2", port=1)  # nothing listens there: the link is down
    d.start()
    a_morning(d)
    n = outbox_count(d)
    assert d.call("hall.stats", {"group_by": "service"})  # the hall answers as before
    d.stop()
    text = d.config_path.read_text(encoding="utf-8")
    d.config_path.write_text(text.replace("port=1 ", f"port={pg_server.port} "), encoding="utf-8")
    d.start()
    wait_for(lambda: scalar(pg, "SELECT COUNT(*) FROM records WHERE hall_id = 'h2'") >= n, 20, "caught up", tolerate=(Exception,))
    ids = [r[0] for r in query(pg, "SELECT rec_id FROM records WHERE hall_id = 'h2' ORDER BY received_at, rec_id")]
    assert ids == sorted(ids), "delivered in outbox order"
    assert scalar(pg, "SELECT COUNT(*) FROM tickets WHERE hall_id = 'h2'") == 4


def test_without_the_section_the_hall_writes_nothing_for_the_county(hwd_daemon):
    d = hwd_daemon('''
[hall]
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
[[hall.window]]
id = "1"
name = "1号窗口"
services = ["bdc"]
''')
    d.call("hall.issue_ticket", {"service": "bdc"})
    d.call("hall.call_next", {"window": "1"})
    assert outbox_count(d) == 0
    assert d.call("outbox.status")["sinks"] == []


PRINTER = '''
[[device]]
id = "k1-printer"
kind = "printer"
driver = "escpos"
url = "sim://k1-printer"
status_interval = 0.2
'''


def test_a_printer_out_of_paper_is_a_faulted_device_at_the_county(tmp_path, pg, county):
    d = DaemonProcess(tmp_path, "", "dev")
    text = hall_config(d, county.add_hall("h9"), "h9")
    d.config_path.write_text(text.replace("\n[hall]\n", PRINTER + "\n[hall]\n", 1), encoding="utf-8")
    d.start()
    try:
        d.wait_state("k1-printer", "online")
        state = lambda: query(pg, "SELECT state FROM devices WHERE hall_id = 'h9' AND device = 'k1-printer'")
        wait_for(lambda: state() == [("online",)], 20, "online at the county", tolerate=(Exception,))
        d.sim("k1-printer", "paper", state="out")
        d.wait_state("k1-printer", "fault")
        wait_for(lambda: state() == [("fault",)], 20, "the fault at the county")
        from central import queries
        import psycopg

        with psycopg.connect(pg) as conn:
            [row] = queries.halls(conn, "Asia/Shanghai")
        assert row["hall_id"] == "h9" and row["devices_faulted"] == 1
        d.sim("k1-printer", "paper", state="ok")
        wait_for(lambda: state() == [("online",)], 20, "back online at the county")
        kinds = [r[0] for r in query(pg, "SELECT state FROM device_events WHERE device = 'k1-printer' ORDER BY rec_id")]
        assert "fault" in kinds and kinds[-1] == "online"
    finally:
        d.stop()


def test_a_hall_newer_than_the_county_schema_waits_with_a_clear_error(tmp_path, pg, county):
    """A hall's role may not migrate the county database (hwd-central does, at start): a hall
    upgraded before hwd-central keeps its records and says what to do."""
    import datetime as dt

    from hwd import outbox
    from bench import hall_days
    from hwd.hall.config.central import Central
    from hwd.county.sink import PostgresSink
    from hwd.hall.store import Store

    dsn = county.role("early")
    query(pg, "DELETE FROM schema_version WHERE version = %s RETURNING version", (len(schema.MIGRATIONS),))
    path = tmp_path / "hall.sqlite3"
    Store(path, "normal").close()
    sink = PostgresSink(Central(dsn=dsn, hall_id="early", heartbeat_s=3600), path, _Clock(), "early")
    try:
        items = list(hall_days.day_records(dt.date(2026, 7, 6), 0, 2))
        [outcome] = sink.deliver_batch([outbox.Record(i + 1, f"o:{k}:{r}", k, r, p, ts)
                                        for i, (k, r, p, ts) in enumerate(items)])
    finally:
        sink.close()
    assert isinstance(outcome, outbox.DeliveryError), outcome
    assert "upgrade and restart hwd-central" in str(outcome)
    assert scalar(pg, "SELECT COUNT(*) FROM records") == 0


class _Clock:
    def __init__(self):
        from bench import hall_days

        self.tz = hall_days.TZ

    def now(self):
        import datetime as dt

        return dt.datetime(2026, 7, 6, 17, 0, tzinfo=self.tz)
