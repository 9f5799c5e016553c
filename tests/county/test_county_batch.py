"""The batched ``central`` sink and the daily rollup against a real PostgreSQL: a week offline
catches up in few transactions, in order, once; a link cut mid-batch and a reply lost after the
commit redeliver without counting twice; a bad record is rejected alone; and the rollup the
supervision tables read equals what the raw tickets say — after late and redelivered records too."""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from county_helpers import Cuttable, query, scalar
from daemon_fixture import wait_for

from central import queries
from hwd import outbox, report_words
from bench import hall_days
from hwd.county import rollup
from hwd.hall.config.central import Central
from hwd.county.sink import PostgresSink

START = dt.date(2026, 7, 6)  # a Monday; fixed, never today


class Clock:
    tz = hall_days.TZ

    def now(self):
        return dt.datetime(2026, 7, 13, 9, 0, tzinfo=hall_days.TZ)


def make_sink(dsn: str, hall_id: str, db_path) -> PostgresSink:
    return PostgresSink(Central(dsn=dsn, hall_id=hall_id, heartbeat_s=3600, retry_s=0.1, retry_max_s=0.3,
                                connect_timeout_s=2), db_path, Clock(), f"hall {hall_id}")


def as_records(items, origin: str = "o1", first_id: int = 1) -> list[outbox.Record]:
    return [outbox.Record(first_id + i, f"{origin}:{kind}:{ref}", kind, ref, payload, ts)
            for i, (kind, ref, payload, ts) in enumerate(items)]


def run_worker(path, sink, until, timeout: float = 120) -> None:
    worker = outbox.Worker(path, [sink], poll_s=0.05)
    worker.start()
    try:
        wait_for(until, timeout, "the outbox delivered", tolerate=(sqlite3.Error,))
    finally:
        worker.stop()


def all_sent(path, sink) -> bool:
    db = sqlite3.connect(path)
    try:
        [st_] = outbox.status(db, [sink])
        return st_["pending"] == 0 and st_["error"] == 0
    finally:
        db.close()


RAW = """
SELECT t.hall_id, {col}, COUNT(*), COUNT(t.first_called_ts), COUNT(*) FILTER (WHERE t.state = 'done'),
       COUNT(*) FILTER (WHERE t.state = 'no_show'), COUNT(*) FILTER (WHERE t.state = 'expired'),
       AVG(t.first_called_ts - t.issued_ts),
       percentile_disc(0.5) WITHIN GROUP (ORDER BY t.first_called_ts - t.issued_ts),
       percentile_disc(0.9) WITHIN GROUP (ORDER BY t.first_called_ts - t.issued_ts),
       AVG(t.finished_ts - t.started_ts) FILTER (WHERE t.state = 'done'),
       COUNT(t.score) FILTER (WHERE NOT t.rating_excluded),
       COUNT(*) FILTER (WHERE t.score <= 2 AND NOT t.rating_excluded)
FROM tickets t WHERE t.issued_date BETWEEN %s AND %s AND {col} IS NOT NULL AND t.hall_id = %s
GROUP BY 1, 2 ORDER BY 1, 2"""
COLS = {"hall": "t.hall_id", "window": "t.window_id", "staff": "t.staff", "matter": "t.service"}


def assert_rollup_matches_raw(dsn: str, hall_id: str, start: dt.date, end: dt.date) -> None:
    """Every supervision table (read from the rollup) against the same figures over the raw tickets,
    its rows in the order people count them (window 9 before 10)."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        for group, col in COLS.items():
            rows = queries.table(conn, group, start, end, hall_id)
            keys = [r[group] for r in rows]
            assert keys == sorted(keys, key=report_words.natural_key), (group, keys)   # window 9 before 10
            got = {r[group]: r for r in rows}
            raw = conn.execute(RAW.format(col=col), (start, end, hall_id)).fetchall()
            assert set(got) == {r[1] for r in raw}, group
            for (_, key, issued, called, served, no_show, expired, mean_wait, p50, p90, mean_service, rated,
                 bad) in raw:
                r = got[key]
                assert (r["issued"], r["called"], r["served"], r["no_show"], r["expired"], r["rated"], r["bad"]) == \
                    (issued, called, served, no_show, expired, rated, bad), (group, key)
                for mine, theirs in ((r["mean_wait_s"], mean_wait), (r["mean_service_s"], mean_service)):
                    assert (mine is None) == (theirs is None) and (mine is None or math.isclose(
                        mine, float(theirs), abs_tol=0.051)), (group, key, mine, theirs)
                for mine, theirs in ((r["p50_wait_s"], p50), (r["p90_wait_s"], p90)):
                    expected = None if theirs is None else rollup.bucket_upper(rollup.bucket_of(theirs))
                    assert mine == expected, (group, key, mine, theirs)
    # and the rollup holds every ticket of those days exactly once
    assert scalar(dsn, "SELECT COALESCE(SUM(issued), 0) FROM daily_rollup WHERE hall_id = %s AND day BETWEEN %s "
                       "AND %s", (hall_id, start, end)) == \
        scalar(dsn, "SELECT COUNT(*) FROM tickets WHERE hall_id = %s AND issued_date BETWEEN %s AND %s",
               (hall_id, start, end))


def test_a_week_offline_catches_up_in_batches_in_order_and_once(tmp_path, pg, county):
    path = tmp_path / "hall.sqlite3"
    n = hall_days.fill_outbox(path, START, 7, 120)
    sink = make_sink(county.role("wk"), "wk", path)
    try:
        run_worker(path, sink, lambda: all_sent(path, sink))
    finally:
        sink.close()
    assert scalar(pg, "SELECT COUNT(*) FROM records WHERE hall_id = 'wk'") == n
    assert scalar(pg, "SELECT COUNT(*) FROM tickets WHERE hall_id = 'wk'") == 7 * 120
    commits = scalar(pg, "SELECT COUNT(DISTINCT received_at) FROM records WHERE hall_id = 'wk'")  # now() per transaction
    assert commits <= math.ceil(n / sink.batch_size) + 2, (commits, n)
    ids = [r[0] for r in query(pg, "SELECT rec_id FROM records WHERE hall_id = 'wk' ORDER BY received_at, rec_id")]
    assert ids == sorted(ids), "delivered in outbox order"
    assert scalar(pg, "SELECT COUNT(DISTINCT day) FROM daily_rollup WHERE hall_id = 'wk'") == 7
    assert_rollup_matches_raw(pg, "wk", START, START + dt.timedelta(days=6))


def test_a_link_cut_mid_batch_redelivers_without_duplicates(tmp_path, pg, pg_server, county):
    path = tmp_path / "hall.sqlite3"
    n = hall_days.fill_outbox(path, START, 3, 400)
    link = Cuttable(pg_server.port)
    dsn = county.role("cut").replace(f"port={pg_server.port}", f"port={link.port}")
    sink = make_sink(dsn, "cut", path)
    worker = outbox.Worker(path, [sink], poll_s=0.05)
    worker.start()
    try:
        wait_for(lambda: scalar(pg, "SELECT COUNT(*) FROM records WHERE hall_id = 'cut'") >= 1000, 60,
                 "some batches in", tolerate=(Exception,))
        link.cut()  # connections reset: the batch on the wire is rolled back, the worker backs off
        time.sleep(0.5)
        link.restore()
        wait_for(lambda: all_sent(path, sink), 120, "caught up after the cut", tolerate=(sqlite3.Error,))
    finally:
        worker.stop()
        sink.close()
        link.cut()
    assert scalar(pg, "SELECT COUNT(*) FROM records WHERE hall_id = 'cut'") == n
    assert scalar(pg, "SELECT COUNT(*) FROM ticket_events WHERE hall_id = 'cut'") == \
        scalar(pg, "SELECT COUNT(*) FROM records WHERE hall_id = 'cut' AND kind = 'ticket'")
    assert_rollup_matches_raw(pg, "cut", START, START + dt.timedelta(days=2))


def test_a_batch_committed_but_not_noted_at_the_hall_is_delivered_again_as_duplicates(tmp_path, pg, county):
    path = tmp_path / "hall.sqlite3"
    n = hall_days.fill_outbox(path, START, 1, 200)
    db = sqlite3.connect(path)
    rows = db.execute("SELECT id, key, kind, ref, payload, ts FROM outbox ORDER BY id LIMIT 300").fetchall()
    db.close()
    import json

    sink = make_sink(county.role("lost"), "lost", path)
    try:
        first = sink.deliver_batch([outbox.Record(i, k, kd, rf, json.loads(p), ts) for i, k, kd, rf, p, ts in rows])
        assert all(isinstance(o, outbox.Sent) and not o.duplicate for o in first)
        # the hall never heard back (killed before noting): the worker sends everything from record 1
        run_worker(path, sink, lambda: all_sent(path, sink))
    finally:
        sink.close()
    assert scalar(pg, "SELECT COUNT(*) FROM records WHERE hall_id = 'lost'") == n
    assert_rollup_matches_raw(pg, "lost", START, START)


def test_a_bad_record_in_a_batch_is_rejected_alone_and_the_rest_go_on(tmp_path, pg, county):
    path = tmp_path / "hall.sqlite3"
    items = list(hall_days.day_records(START, 0, 60))
    bad = next(i for i, it in enumerate(items) if it[0] == "rating")
    kind, ref, payload, ts = items[bad]
    items[bad] = (kind, ref, dict(payload, score=10 ** 12), ts)  # out of the integer column's range
    db_items = items[:]
    from hwd.hall.store import Store

    store = Store(path, "normal")
    with store.tx():
        for kind, ref, payload, ts in db_items:
            outbox.put(store.db, kind, ref, payload, ts)
    store.close()
    sink = make_sink(county.role("bad"), "bad", path)
    try:
        run_worker(path, sink, lambda: all_sent(path, sink))
    finally:
        sink.close()
    db = sqlite3.connect(path)
    states = dict(db.execute("SELECT state, COUNT(*) FROM outbox_delivery GROUP BY state").fetchall())
    reason = db.execute("SELECT last_error FROM outbox_delivery WHERE state = 'rejected'").fetchone()[0]
    db.close()
    assert states == {"sent": len(items) - 1, "rejected": 1}
    assert "refused" in reason
    assert scalar(pg, "SELECT COUNT(*) FROM records WHERE hall_id = 'bad'") == len(items) - 1
    assert_rollup_matches_raw(pg, "bad", START, START)


# -- the rollup against the raw tables, with late and redelivered records -----------------------
_hall_seq = iter(range(1, 10 ** 6))


@st.composite
def deliveries(draw):
    """Three days of a small hall's records, delivered the way a county sees them: in batches of
    any size, some days only after later ones (a hall offline, then 补报 of old days), late ratings
    and 申诉复核 exclusions of old tickets, and any records delivered again."""
    per_day = draw(st.integers(1, 25))
    days = [list(hall_days.day_records(START + dt.timedelta(days=d), d, per_day)) for d in range(3)]
    order = draw(st.permutations([0, 1, 2]))
    stream = [it for d in order for it in days[d]]
    # late changes to old tickets' ratings (the hall writes these after the day is over)
    ratings = [it for it in stream if it[0] == "rating"]
    for kind, ref, payload, ts in draw(st.lists(st.sampled_from(ratings), max_size=4)) if ratings else []:
        change = draw(st.sampled_from(["exclude", "rescore"]))
        late = dict(payload, excluded=True) if change == "exclude" else dict(payload, score=draw(st.integers(1, 5)))
        stream.append(("exclusion" if change == "exclude" else "case", f"{ref}:{len(stream)}", late, ts + 86400))
    records = as_records(stream)
    again = draw(st.lists(st.integers(0, len(records) - 1), max_size=30))
    sends = records + [records[i] for i in sorted(again)]
    cuts = sorted(draw(st.lists(st.integers(1, max(1, len(sends) - 1)), max_size=8, unique=True)))
    return sends, cuts


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(case=deliveries())
def test_the_rollup_equals_the_raw_tables_after_late_and_redelivered_records(tmp_path, pg, county, case):
    sends, cuts = case
    hall_id = f"p{next(_hall_seq)}"
    path = tmp_path / "hall.sqlite3"  # the heartbeat reads its (empty) outbox
    if not path.exists():
        from hwd.hall.store import Store

        Store(path, "normal").close()
    sink = make_sink(county.role(hall_id), hall_id, path)
    try:
        for a, b in zip([0] + cuts, cuts + [len(sends)]):
            outcomes = sink.deliver_batch(sends[a:b])
            assert all(isinstance(o, outbox.Sent) for o in outcomes), outcomes
    finally:
        sink.close()
    assert scalar(pg, "SELECT COUNT(*) FROM records WHERE hall_id = %s", (hall_id,)) == len({r.key for r in sends})
    last = {}  # each rating as its newest record says, however often older ones came again
    for r in sorted(sends, key=lambda r: r.id):
        if r.kind in ("rating", "exclusion", "case"):
            last[r.payload["ticket_id"]] = (r.payload["score"], bool(r.payload.get("excluded")))
    states = {}  # each ticket as its newest record says
    for r in sorted(sends, key=lambda r: r.id):
        if r.kind == "ticket":
            states[r.payload["ticket"]["id"]] = (r.payload["ticket"]["state"], r.payload["ticket"]["window_id"])
    assert {t: (s, w) for t, s, w in query(pg, "SELECT ticket_id, state, window_id FROM tickets WHERE hall_id = %s",
                                           (hall_id,))} == states
    assert dict((t, (s, e)) for t, s, e in query(pg, "SELECT ticket_id, score, rating_excluded FROM tickets "
                                                     "WHERE hall_id = %s AND score IS NOT NULL", (hall_id,))) == last
    assert_rollup_matches_raw(pg, hall_id, START, START + dt.timedelta(days=2))


def test_scores_are_looked_up_by_key_for_a_hall_newer_than_the_statistics(pg):
    """A hall that joins a county database full of others (or catches up after a week) is not in
    the planner's statistics: "hall_id = 'new'" looks like one row. The score update must still
    look each ticket and rating up by its primary key, not scan the hall's rows per batch (that
    made the bench's 43rd hall take seconds per batch, growing as it loaded)."""
    import psycopg

    from hwd.county import ingest, schema

    with psycopg.connect(pg, autocommit=True) as conn:
        schema.migrate(conn)
        conn.execute("INSERT INTO tickets (hall_id, ticket_id, issued_date, state, issued_ts, rec_id) "
                     "SELECT 'h' || (n % 20), n, '2026-07-01', 'done', 0, n FROM generate_series(1, 40000) n")
        conn.execute("INSERT INTO ratings (hall_id, rating_id, ticket_id, score, rec_id) "
                     "SELECT hall_id, ticket_id, ticket_id, 5, rec_id FROM tickets")
        conn.execute("ANALYZE tickets")
        conn.execute("ANALYZE ratings")
        ids = list(range(1, 501))
        plan = "\n".join(row[0] for row in conn.execute(
            "EXPLAIN " + ingest.SCORE, (["new"] * len(ids), ids, ids)).fetchall())
    # the hall id never becomes a constant condition the planner would estimate by itself
    # (the old statement's plan: "Index Cond: (hall_id = 'new'::text)", every row of the hall)
    assert "'new'" not in plan, plan
    conds = [line.strip() for line in plan.splitlines() if "Index Cond" in line]
    assert all("ticket_id" in c or "rating_id" in c for c in conds), plan


def test_row_security_keeps_every_lookup_keyed(pg, county):
    """A hall's role writes under row-level security (a policy "hall_id = its own hall" on every
    table). The policy must not turn the sink's lookups into scans of the hall's rows: as the
    hall's own role — custom plans and the generic plans a prepared statement gets after five
    runs — the score update still finds each ticket and rating by its whole primary key, and
    no statement of a batch scans tickets, ratings or the rollup."""
    import psycopg

    from hwd.county import ingest

    dsn = county.role("new")  # migrates the database as hwd-central, then the hall's role
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("INSERT INTO tickets (hall_id, ticket_id, issued_date, state, issued_ts, rec_id) "
                     "SELECT 'h' || (n % 20), n, '2026-07-01'::date + n % 30, 'done', 0, n "
                     "FROM generate_series(1, 40000) n")
        conn.execute("INSERT INTO ratings (hall_id, rating_id, ticket_id, score, rec_id) "
                     "SELECT hall_id, ticket_id, ticket_id, 5, rec_id FROM tickets")
        conn.execute("ANALYZE tickets")
        conn.execute("ANALYZE ratings")
    ids = list(range(1, 501))
    day = dt.date(2026, 7, 1)
    ticket_row = (1, day, day, "s", "s", "A001", "normal", "done", "1", "s01", None, 0.0, 1.0, 1.0, 2.0, 3.0, 0,
                  0, 0, "rated", 1)
    rating_row = (1, 1, 5, "1", "s01", "s", "pad", None, day, "[]", False, 1)
    statements = {
        "score": (ingest.SCORE, (["new"] * len(ids), ids, ids)),
        "tickets": (ingest.MANY["ticket"], ("new", *[[v] for v in ticket_row])),
        "ratings": (ingest.MANY["rating"], ("new", *[[v] for v in rating_row])),
        "reroll delete": (rollup.REROLL_DELETE, {"hall": "new", "tickets": ids}),
        "reroll insert": (rollup.REROLL_INSERT, {"hall": "new", "tickets": ids}),
    }
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("SELECT current_user, county_hall()").fetchone()[1] == "new"
        for mode in ("force_custom_plan", "force_generic_plan"):
            conn.execute(f"SET plan_cache_mode = {mode}")
            for name, (sql, args) in statements.items():
                with conn.transaction():
                    conn.execute("PREPARE s AS " + _numbered(sql))
                    plan = "\n".join(r[0] for r in psycopg.ClientCursor(conn).execute(
                        f"EXPLAIN EXECUTE s({', '.join(['%s'] * len(args))})", _in_order(sql, args)).fetchall())
                    conn.execute("DEALLOCATE s")
                assert "Seq Scan" not in plan, (mode, name, plan)
                if name == "score":
                    conds = [line.strip() for line in plan.splitlines() if "Index Cond" in line]
                    assert len(conds) == 2 and all(("ticket_id" in c or "rating_id" in c) and "hall_id" in c
                                                   for c in conds), (mode, plan)


def _numbered(sql: str) -> str:
    """psycopg's placeholders (%s, %b, %(name)s) as $1, $2 … (a name keeps its number), for PREPARE."""
    import itertools
    import re

    numbers: dict[str, int] = {}
    positional = itertools.count(1)

    def number(m) -> str:
        if m.group(1):
            return f"${numbers.setdefault(m.group(1), len(numbers) + 1)}"
        return f"${next(positional)}"
    return re.sub(r"%\((\w+)\)s|%[sb]", number, sql)


def _in_order(sql: str, args) -> list:
    """The arguments in $n order."""
    import re

    if isinstance(args, dict):
        order = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
        return [args[k] for k in order]
    return list(args)
