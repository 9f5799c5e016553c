"""The county database at scale: 60 halls × 2,000 tickets a day × 90 days (with ratings) in one
PostgreSQL (a throw-away server, hwd.county.localpg), then

- load through the sink: the first ``HWD_BENCH_COUNTY_SINK_HALLS`` halls' quarters (default 4;
  60 for the full load: ~61 M records, ~80 min and ~60 GB on this machine) as the outbox records
  a hall writes (bench.hall_days, the last day's last 5 % still waiting), delivered by the real
  batched ``central`` sink (``PostgresSink.deliver_batch``, 2,000 records per transaction, the
  daily rollup kept in the same transactions) from two processes at once — records/s;
- the other halls' tickets (if any) generated inside PostgreSQL (INSERT … SELECT over
  generate_series, the shapes the sink writes) and their rollup rolled from them, for a quick
  run; the figures say how many halls went which way;
- catch-up: one hall's 7 days offline (its real outbox records, ~5.6 per ticket) through the
  real outbox worker and the sink — records/s;
- the all-halls page (central.queries.halls, live tables) and a quarter's per-window table of
  one hall and of the whole county (central.queries.table, the daily rollup): p50/p99.

``HWD_BENCH_COUNTY_DAYS`` / ``HWD_BENCH_COUNTY_HALLS`` shrink the quarter for a quick run (the
figures then say so).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Result, fmt_pct, percentiles
from hwd.county import rollup

START = dt.date(2026, 7, 1)  # 90 days from here lie in one calendar quarter (Q3); a fixed date, never today
TZ = "Asia/Shanghai"


def hall_id(h: int) -> str:
    return f"h{h:02d}"


def _fill(conn, first: int, halls: int, days: int, per_day: int) -> float:
    """Halls ``first`` … ``halls``: their quarter's tickets and ratings generated in PostgreSQL, and
    every hall's windows, devices and work orders; returns seconds taken."""
    t0 = time.monotonic()
    gen = [hall_id(h) for h in range(first, halls + 1)]
    conn.execute("""
        INSERT INTO halls (hall_id, name, tz, today, reported_ts, received_at, heartbeat_s)
        SELECT 'h' || lpad(h::text, 2, '0'), '镇便民服务中心 ' || h, %(tz)s, %(last)s::date,
               extract(epoch FROM now()), now(), 30
        FROM generate_series(1, %(halls)s) h
        ON CONFLICT (hall_id) DO UPDATE SET tz = EXCLUDED.tz, today = EXCLUDED.today,
            reported_ts = EXCLUDED.reported_ts, received_at = EXCLUDED.received_at, heartbeat_s = 30""",
                 {"tz": TZ, "last": START + dt.timedelta(days=days - 1), "halls": halls})
    # a ticket: issued through the day, waits 0-30 min, served 2-12 min at one of 12 windows;
    # the last day's last 5 % are still waiting (the queue "now")
    conn.execute("""
        INSERT INTO tickets (hall_id, ticket_id, day, issued_date, service, origin_service, number, priority,
                             state, window_id, staff, issued_ts, first_called_ts, called_ts, started_ts,
                             finished_ts, rating_state, rec_id, score)
        SELECT hall, tid, day, day, svc, svc, 'A' || lpad(n::text, 4, '0'), 'normal',
               CASE WHEN open_ THEN 'waiting' WHEN n %% 17 = 0 THEN 'no_show' ELSE 'done' END,
               CASE WHEN open_ THEN NULL ELSE w END, CASE WHEN open_ THEN NULL ELSE 's' || w END,
               issued, CASE WHEN open_ THEN NULL ELSE issued + wait END,
               CASE WHEN open_ THEN NULL ELSE issued + wait END,
               CASE WHEN open_ OR n %% 17 = 0 THEN NULL ELSE issued + wait + 30 END,
               CASE WHEN open_ OR n %% 17 = 0 THEN NULL ELSE issued + wait + 30 + serve END,
               CASE WHEN open_ OR n %% 17 = 0 THEN NULL WHEN n %% 5 = 0 THEN 'unrated' ELSE 'rated' END,
               tid * 6,
               CASE WHEN open_ OR n %% 17 = 0 OR n %% 5 = 0 THEN NULL
                    ELSE 5 - (tid %% 23 = 0)::int * 4 - (tid %% 3 = 0)::int END
        FROM (SELECT 'h' || lpad(h::text, 2, '0') AS hall, d * 100000 + n AS tid, %(start)s::date + d AS day, n,
                     'svc' || (n %% 8) AS svc, ((n * 7) %% 12 + 1)::text AS w,
                     extract(epoch FROM (%(start)s::date + d)::timestamp AT TIME ZONE %(tz)s) + 30600
                         + n * (27000.0 / %(per_day)s) AS issued,
                     ((n * 7919) %% 1800)::float AS wait, 120 + ((n * 104729) %% 600)::float AS serve,
                     d = %(days)s - 1 AND n > %(per_day)s * 0.95 AS open_
              -- in the order they arrive: day by day, each moment's ticket of every hall in turn
              FROM generate_series(0, %(days)s - 1) d
                   CROSS JOIN LATERAL generate_series(1, %(per_day)s + 0 * d) n
                   CROSS JOIN LATERAL generate_series(%(first)s, %(halls)s + 0 * n) h) g""",
                 {"start": START, "tz": TZ, "first": first, "halls": halls, "days": days, "per_day": per_day})
    conn.execute("""
        INSERT INTO ratings (hall_id, rating_id, ticket_id, score, window_id, staff, service, channel, rated_at,
                             rated_date, labels, excluded, rec_id)
        SELECT hall_id, ticket_id, ticket_id, score, window_id, staff, service, 'keypad', to_timestamp(finished_ts),
               issued_date, '[]', false, rec_id + 5
        FROM tickets WHERE score IS NOT NULL AND hall_id = ANY(%(gen)s)""", {"gen": gen})
    conn.execute("""
        INSERT INTO workorders (hall_id, workorder_id, rating_id, state, due, rec_id)
        SELECT hall_id, rating_id, rating_id, CASE WHEN rated_date < %(last)s::date - 7 THEN 'closed' ELSE 'open' END,
               rated_date + 7, rec_id FROM ratings WHERE score <= 2""",
                 {"last": START + dt.timedelta(days=days - 1)})  # every hall's: the sink's halls have none
    conn.execute("""
        INSERT INTO windows (hall_id, window_id, state, staff, since, rec_id)
        SELECT hall_id, w::text, CASE WHEN w = 12 THEN 'paused' WHEN w = 11 THEN 'closed' ELSE 'open' END,
               's' || w, 0, 0 FROM halls, generate_series(1, 12) w""")
    conn.execute("""
        INSERT INTO devices (hall_id, device, kind, state, since, rec_id)
        SELECT hall_id, 'dev' || k, 'printer', CASE WHEN k = 1 AND hall_id < 'h05' THEN 'fault' ELSE 'online' END,
               0, 0 FROM halls, generate_series(1, 20) k""")
    rollup.rebuild(conn, gen)  # what the sink would have rolled, had these tickets come through it
    conn.execute("VACUUM ANALYZE")  # what autovacuum does after a day: the visibility map for index-only scans
    return time.monotonic() - t0


def _load_halls(args: tuple) -> tuple[int, int, float]:
    """One process: these halls' quarters through the real sink, hall after hall, day after day,
    ``PostgresSink.batch_size`` records per transaction. Returns (records, tickets, seconds)."""
    dsns, halls, days, per_day, tmp = args
    from hwd import outbox
    from hwd.clock import SystemClock
    from bench import hall_days
    from hwd.hall.config.central import Central
    from hwd.county.sink import PostgresSink
    from hwd.hall.store import Store

    records = tickets = 0
    t0 = time.monotonic()
    for h in halls:
        t_hall, before = time.monotonic(), records
        path = Path(tmp) / f"{hall_id(h)}.sqlite3"
        Store(path, "normal").close()  # the sink's heartbeat reads its (empty) outbox
        sink = PostgresSink(Central(dsn=dsns[hall_id(h)], hall_id=hall_id(h), heartbeat_s=3600), path, SystemClock(),
                            f"镇便民服务中心 {h}")
        try:
            batch: list = []
            for kind, ref, payload, ts in hall_days.hall_records(START, days, per_day, open_share=0.05):
                records += 1
                tickets += kind == "ticket" and payload["action"] == "issue"
                batch.append(outbox.Record(records, f"{hall_id(h)}:{kind}:{ref}", kind, ref, payload, ts))
                if len(batch) == sink.batch_size:
                    _deliver(sink, batch)
                    batch = []
            if batch:
                _deliver(sink, batch)
        finally:
            sink.close()
        took = time.monotonic() - t_hall
        print(f"bench county: {hall_id(h)} through the sink, {records - before:,} records in {took:.0f} s "
              f"({(records - before) / took:,.0f}/s)", file=sys.stderr, flush=True)
    return records, tickets, time.monotonic() - t0


def _deliver(sink, batch: list) -> None:
    from hwd import outbox

    outcomes = sink.deliver_batch(batch)
    if len(outcomes) != len(batch) or not all(isinstance(o, outbox.Sent) for o in outcomes):
        raise RuntimeError(f"the sink did not take the batch: {outcomes[-1]!r}")


def _hall_dsn(conn, pg, hall: str) -> str:
    """The hall's own role, as ``hwd-central county add-hall`` makes it: the sink writes under the
    county's row-level security, as a hall does (over the socket, which the scratch server trusts)."""
    from hwd.county import roles

    role, password = roles.add_hall(conn, hall)
    return roles.hall_dsn(str(pg.dir), pg.port, pg.dbname, role, password, "disable")


def _through_the_sink(conn, pg, halls: int, days: int, per_day: int, processes: int) -> tuple[int, int, float]:
    """The first ``halls`` halls through the sink from ``processes`` processes; (records, tickets, wall s)."""
    import multiprocessing

    dsns = {hall_id(h): _hall_dsn(conn, pg, hall_id(h)) for h in range(1, halls + 1)}
    tmp = tempfile.mkdtemp(prefix="hwd-bench-county-load-")
    shares = [list(range(1 + k, halls + 1, processes)) for k in range(processes)]
    t0 = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        done = pool.map(_load_halls, [(dsns, share, days, per_day, tmp) for share in shares if share])
    return sum(d[0] for d in done), sum(d[1] for d in done), time.monotonic() - t0


def _timed(fn, runs: int) -> dict:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return percentiles(samples)


def county_database_at_scale() -> list[Result]:
    import psycopg

    from central import queries
    from hwd import outbox
    from hwd.clock import SystemClock
    from bench import hall_days
    from hwd.county import schema
    from hwd.hall.config.central import Central
    from hwd.county.localpg import LocalPostgres
    from hwd.county.sink import PostgresSink

    halls = int(os.environ.get("HWD_BENCH_COUNTY_HALLS", 60))
    days = int(os.environ.get("HWD_BENCH_COUNTY_DAYS", 90))
    sink_halls = min(halls, int(os.environ.get("HWD_BENCH_COUNTY_SINK_HALLS", 4)))
    processes = 2
    per_day = 2000
    scale = f"{halls} halls × {per_day:,} tickets/day × {days} days = {halls * days * per_day:,} tickets"
    t_bench = time.monotonic()
    with LocalPostgres() as pg, psycopg.connect(pg.dsn, autocommit=True) as conn:
        schema.migrate(conn)
        # 1. the first halls' quarters through the sink
        load_records, load_tickets, load_s = _through_the_sink(conn, pg, sink_halls, days, per_day, processes)
        load_rate = load_records / load_s
        # 2. the others generated in the database
        fill_s = _fill(conn, sink_halls + 1, halls, days, per_day)
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        counts = conn.execute("SELECT (SELECT COUNT(*) FROM tickets), (SELECT COUNT(*) FROM ratings), "
                              "(SELECT COUNT(*) FROM daily_rollup), (SELECT COUNT(*) FROM records)").fetchone()

        # 3. catch-up: 7 days of one new hall through the worker and the sink
        tmp = Path(tempfile.mkdtemp(prefix="hwd-bench-county-"))
        offline_days = int(os.environ.get("HWD_BENCH_COUNTY_OFFLINE_DAYS", 7))
        n = hall_days.fill_outbox(tmp / "hall.sqlite3", START, offline_days, per_day)
        sink = PostgresSink(Central(dsn=_hall_dsn(conn, pg, "catchup"), hall_id="catchup", heartbeat_s=3600),
                            tmp / "hall.sqlite3",
                            SystemClock(), "补报测试大厅")
        worker = outbox.Worker(tmp / "hall.sqlite3", [sink], poll_s=0.2)
        t0 = time.monotonic()
        worker.start()
        db = sqlite3.connect(tmp / "hall.sqlite3")
        while True:
            [st] = outbox.status(db, [sink])
            if st["pending"] == 0 and st["error"] == 0:
                break
            time.sleep(0.2)
        catchup_s = time.monotonic() - t0
        worker.stop()
        db.close()
        stored = conn.execute("SELECT COUNT(*) FROM records WHERE hall_id = 'catchup'").fetchone()[0]
        commits = conn.execute("SELECT COUNT(DISTINCT received_at) FROM records WHERE hall_id = 'catchup'").fetchone()[0]
        rate = n / catchup_s

        # 4. the county's questions
        conn.execute("VACUUM ANALYZE")
        halls_ms = _timed(lambda: queries.halls(conn, TZ), 50)
        q_start, q_end = queries.period_bounds("quarter", START + dt.timedelta(days=days - 1))
        one = hall_id(min(halls, sink_halls + 1))  # a hall generated in the database, like most
        one_ms = _timed(lambda: queries.table(conn, "window", q_start, q_end, one), 20)
        one_sink_ms = _timed(lambda: queries.table(conn, "window", q_start, q_end, hall_id(1)), 20)
        county_ms = _timed(lambda: queries.table(conn, "window", q_start, q_end), 20)
        in_quarter = conn.execute("SELECT COUNT(*) FROM tickets WHERE hall_id = %s AND issued_date BETWEEN %s "
                                  "AND %s", (one, q_start, q_end)).fetchone()[0]
        rollup_rows = conn.execute("SELECT COUNT(*) FROM daily_rollup WHERE day BETWEEN %s AND %s",
                                   (q_start, q_end)).fetchone()[0]
    total_min = (time.monotonic() - t_bench) / 60
    quarter = f"{q_start} – {q_end}"
    generated = (f", {halls - sink_halls} halls generated in PostgreSQL in {fill_s:.0f} s (with their rollup)"
                 if sink_halls < halls else " — every hall through the sink")
    data = (f"{scale}: {sink_halls} halls ({load_tickets:,} tickets) through the sink{generated}; {counts[0]:,} "
            f"tickets, {counts[1]:,} ratings, {counts[3]:,} records, {counts[2]:,} rollup rows; database {size}; "
            f"the whole bench ran {total_min:.0f} min")
    full_records = round(load_records / max(1, load_tickets) * halls * days * per_day)
    return [
        Result(f"county: load through the sink ({sink_halls} of {halls} halls' quarters, {processes} processes)", "—",
               f"{load_rate:,.0f} records/s ({load_records:,} records, {load_tickets:,} tickets in {load_s:.0f} s)",
               None,
               f"the first {sink_halls} halls' {days} days × {per_day:,} tickets as their outboxes hold them "
               "(bench.hall_days: issue, call, start, finish, rate or unrated as `ticket` records, the `rating` "
               f"record; no-shows issue, call, no_show; the last day's last 5 % only issued) delivered by the real `central` sink "
               f"(`PostgresSink.deliver_batch`, each hall with its own role under the county's row-level security, "
               f"{PostgresSink.batch_size} records per transaction, the daily rollup "
               f"of the touched days rolled in the same transaction) from {processes} processes (halls split "
               "between them, each hall's records in order, generated in the same process), into the county "
               "database as it fills" + (". The other halls were NOT loaded through the sink: " if sink_halls < halls
                                         else ": ") + data,
               details={"extrapolated": f"all {halls} halls' quarter through the sink (~{full_records:,} records) "
                                        f"would take ~{full_records / load_rate / 3600:,.1f} h at this rate on this "
                                        "machine (not measured)"} if sink_halls < halls else {}),
        Result(f"county: one hall's {offline_days} days offline, catch-up through the sink", "—",
               f"{rate:,.0f} records/s ({n:,} records in {catchup_s:.0f} s)", None,
               f"{offline_days} days × 2,000 tickets of one hall as its outbox holds them after an outage "
               "(bench.hall_days, in the hall's SQLite outbox); the real outbox worker and `central` sink "
               f"deliver them, {PostgresSink.batch_size} records per PostgreSQL transaction (synchronous commit), "
               "each batch noted at the hall in one SQLite transaction, the rollup kept in the same transaction, "
               "into the database holding the quarter below (one transaction per record: 320 records/s before)",
               details={"stored": f"{stored:,} records at the county in {commits:,} transactions"}),
        Result(f"county: all-halls page query ({halls} halls, today)", "p99 ≤ 300 ms",
               f"p50 {halls_ms['p50']:.0f} ms, p99 {halls_ms['p99']:.0f} ms", halls_ms["p99"] <= 300,
               "`central.queries.halls` (the all-halls page and /api/halls: issued, queue, waiting p50/p90, "
               "windows open/idle/paused, devices faulted, 差评 open/overdue, outbox lag) over " + scale +
               ", read live from the tickets of today: the covering index tickets (hall_id, issued_date) "
               "INCLUDE (…) and the partial index of open tickets",
               details={"query": fmt_pct(halls_ms)}),
        Result("county: a quarter's per-window table of one hall", "≤ 1 s",
               f"p50 {one_ms['p50']:.0f} ms, p99 {one_ms['p99']:.0f} ms", one_ms["p99"] <= 1000,
               f"`central.queries.table(group='window', quarter {quarter}, hall {one})` — {in_quarter:,} tickets: "
               "counts, mean wait, p50/p90 wait (histogram bucket), mean service, ratings, 差评 added up from the "
               "daily rollup (index daily_rollup (hall_id, day))",
               details={"query": fmt_pct(one_ms),
                        "a hall loaded through the sink (h01)": fmt_pct(one_sink_ms)}),
        Result("county: a quarter's per-window table of all halls", "≤ 1 s",
               f"p50 {county_ms['p50']:.0f} ms, p99 {county_ms['p99']:.0f} ms", county_ms["p99"] <= 1000,
               f"the same table for every hall's windows at once ({counts[0]:,} tickets) from the daily rollup: "
               f"{rollup_rows:,} rows (hall × day × window × staff × matter) in the quarter, read by the index "
               "daily_rollup (day); over the raw tickets this table took 17 s",
               details={"query": fmt_pct(county_ms)}),
    ]


BENCHES = [county_database_at_scale]
