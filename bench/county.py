"""The county database at scale: 60 halls × 2,000 tickets a day × 90 days (with ratings) in one
PostgreSQL (a throw-away server, hwd.county.localpg), then

- catch-up: one hall's 7 days offline (its real outbox records, 6 per ticket) through the real
  outbox worker and the ``central`` sink — records/s;
- the all-halls page (central.queries.halls) and a quarter's per-window table of one hall and of
  the whole county (central.queries.table): p50/p99 query time.

The 10.8 M tickets of the quarter are generated inside PostgreSQL (INSERT … SELECT over
generate_series, the shapes the sink writes) rather than delivered one record at a time: at the
sink's measured rate that load would take days on this machine, so the figure for "loaded through
the sink" is the catch-up rate, extrapolated in the details. ``HWD_BENCH_COUNTY_DAYS`` /
``HWD_BENCH_COUNTY_HALLS`` shrink the quarter for a quick run (the figures then say so).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.common import Result, fmt_pct, percentiles

START = dt.date(2026, 7, 1)  # 90 days from here lie in one calendar quarter (Q3); a fixed date, never today
TZ = "Asia/Shanghai"


def _fill(conn, halls: int, days: int, per_day: int) -> float:
    """The quarter's tickets, ratings, windows, devices and work orders; returns seconds taken."""
    t0 = time.monotonic()
    conn.execute("""
        INSERT INTO halls (hall_id, name, tz, today, reported_ts, received_at, heartbeat_s)
        SELECT 'h' || lpad(h::text, 2, '0'), '镇便民服务中心 ' || h, %(tz)s, %(last)s::date,
               extract(epoch FROM now()), now(), 30
        FROM generate_series(1, %(halls)s) h""", {"tz": TZ, "last": START + dt.timedelta(days=days - 1),
                                                   "halls": halls})
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
                   CROSS JOIN LATERAL generate_series(1, %(halls)s + 0 * n) h) g""",
                 {"start": START, "tz": TZ, "halls": halls, "days": days, "per_day": per_day})
    conn.execute("""
        INSERT INTO ratings (hall_id, rating_id, ticket_id, score, window_id, staff, service, channel, rated_at,
                             rated_date, labels, excluded, rec_id)
        SELECT hall_id, ticket_id, ticket_id, score, window_id, staff, service, 'keypad', to_timestamp(finished_ts),
               issued_date, '[]', false, rec_id + 5
        FROM tickets WHERE score IS NOT NULL""")
    conn.execute("""
        INSERT INTO workorders (hall_id, workorder_id, rating_id, state, due, rec_id)
        SELECT hall_id, rating_id, rating_id, CASE WHEN rated_date < %(last)s::date - 7 THEN 'closed' ELSE 'open' END,
               rated_date + 7, rec_id FROM ratings WHERE score <= 2""",
                 {"last": START + dt.timedelta(days=days - 1)})
    conn.execute("""
        INSERT INTO windows (hall_id, window_id, state, staff, since, rec_id)
        SELECT hall_id, w::text, CASE WHEN w = 12 THEN 'paused' WHEN w = 11 THEN 'closed' ELSE 'open' END,
               's' || w, 0, 0 FROM halls, generate_series(1, 12) w""")
    conn.execute("""
        INSERT INTO devices (hall_id, device, kind, state, since, rec_id)
        SELECT hall_id, 'dev' || k, 'printer', CASE WHEN k = 1 AND hall_id < 'h05' THEN 'fault' ELSE 'online' END,
               0, 0 FROM halls, generate_series(1, 20) k""")
    conn.execute("VACUUM ANALYZE")  # what autovacuum does after a day: the visibility map for index-only scans
    return time.monotonic() - t0


def _offline_hall(path: Path, days: int, per_day: int) -> int:
    """A hall database whose outbox holds ``days`` of records no sink has taken yet (what a hall
    gathers while its link is down): per ticket issue, call, start, finish and rate as ``ticket``
    records (hwd.county.feed's shape) and the ``rating`` record. Returns the record count."""
    from hwd import outbox
    from hwd.hall.store import Store

    store = Store(path, "normal")
    n = 0
    with store.tx():
        for d in range(days):
            day = (START + dt.timedelta(days=d)).isoformat()
            base = dt.datetime.combine(START + dt.timedelta(days=d), dt.time(8, 30)).timestamp()
            for i in range(1, per_day + 1):
                tid = d * 100000 + i
                issued = base + i * 13.5
                ticket = {"id": tid, "day": day, "issued_date": day, "service": f"svc{i % 8}",
                          "origin_service": f"svc{i % 8}", "number": f"A{i:04d}", "priority": "normal",
                          "state": "waiting", "window_id": None, "staff": None, "holder": None,
                          "issued_ts": issued, "first_called_ts": None, "called_ts": None, "started_ts": None,
                          "finished_ts": None, "recalls": 0, "requeues": 0, "transfers": 0, "rating_state": None}
                steps = (("issue", issued, {}),
                         ("call", issued + 600, {"state": "called", "window_id": "3", "staff": "s3",
                                                 "first_called_ts": issued + 600, "called_ts": issued + 600}),
                         ("start", issued + 630, {"state": "serving", "started_ts": issued + 630}),
                         ("finish", issued + 900, {"state": "done", "finished_ts": issued + 900,
                                                   "rating_state": "pending"}),
                         ("rate", issued + 910, {"rating_state": "rated"}))
                for k, (action, ts, change) in enumerate(steps):
                    ticket.update(change)
                    aid = tid * 10 + k
                    outbox.put(store.db, "ticket", f"{tid}:{aid}", {"ticket": dict(ticket), "action": action,
                               "action_id": aid, "at_ts": ts, "window": ticket["window_id"],
                               "staff": ticket["staff"]}, ts)
                outbox.put(store.db, "rating", str(tid), {"rating_id": tid, "ticket_id": tid, "score": 5,
                           "window": "3", "staff": "s3", "service": ticket["service"], "channel": "keypad",
                           "rated_at": dt.datetime.fromtimestamp(issued + 910, dt.timezone.utc).isoformat(),
                           "labels": [], "excluded": False}, issued + 910)
                n += 6
    store.close()
    return n


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
    from hwd.county import schema
    from hwd.county.config import Central
    from hwd.county.localpg import LocalPostgres
    from hwd.county.sink import PostgresSink
    from hwd.clock import SystemClock

    halls = int(os.environ.get("HWD_BENCH_COUNTY_HALLS", 60))
    days = int(os.environ.get("HWD_BENCH_COUNTY_DAYS", 90))
    per_day = 2000
    scale = f"{halls} halls × {per_day:,} tickets/day × {days} days = {halls * days * per_day:,} tickets"
    with LocalPostgres() as pg, psycopg.connect(pg.dsn, autocommit=True) as conn:
        schema.migrate(conn)
        fill_s = _fill(conn, halls, days, per_day)
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        counts = conn.execute("SELECT (SELECT COUNT(*) FROM tickets), (SELECT COUNT(*) FROM ratings)").fetchone()

        # catch-up: 7 days of one new hall through the worker and the sink
        tmp = Path(tempfile.mkdtemp(prefix="hwd-bench-county-"))
        offline_days = int(os.environ.get("HWD_BENCH_COUNTY_OFFLINE_DAYS", 7))
        n = _offline_hall(tmp / "hall.sqlite3", offline_days, per_day)
        sink = PostgresSink(Central(dsn=pg.dsn, hall_id="catchup", heartbeat_s=3600), tmp / "hall.sqlite3",
                            SystemClock(), "补报测试大厅")
        worker = outbox.Worker(tmp / "hall.sqlite3", [sink], poll_s=0.2)
        t0 = time.monotonic()
        worker.start()
        db = sqlite3.connect(tmp / "hall.sqlite3")
        while True:
            [st] = outbox.status(db, [sink])
            if st["pending"] == 0 and st["error"] == 0:
                break
            time.sleep(0.5)
        catchup_s = time.monotonic() - t0
        worker.stop()
        db.close()
        stored = conn.execute("SELECT COUNT(*) FROM records WHERE hall_id = 'catchup'").fetchone()[0]
        rate = n / catchup_s

        conn.execute("ANALYZE")
        halls_ms = _timed(lambda: queries.halls(conn, TZ), 50)
        q_start, q_end = queries.period_bounds("quarter", START + dt.timedelta(days=days - 1))
        one_ms = _timed(lambda: queries.table(conn, "window", q_start, q_end, "h07"), 20)
        county_ms = _timed(lambda: queries.table(conn, "window", q_start, q_end), 5)
        in_quarter = conn.execute("SELECT COUNT(*) FROM tickets WHERE hall_id = 'h07' AND issued_date BETWEEN %s "
                                  "AND %s", (q_start, q_end)).fetchone()[0]
    quarter = f"{q_start} – {q_end}"
    details = {"data": f"{scale}; {counts[0]:,} tickets and {counts[1]:,} ratings generated in {fill_s:.0f} s; "
                       f"database {size}"}
    full_records = 60 * 2000 * 90 * 6
    return [
        Result(f"county: one hall's {offline_days} days offline, catch-up through the sink", "—",
               f"{rate:,.0f} records/s ({n:,} records in {catchup_s:.0f} s)", None,
               f"{offline_days} days × 2,000 tickets of one hall as its outbox holds them after an outage (5 ticket records "
               "and 1 rating record per ticket); the real outbox worker and `central` sink deliver them, one "
               "PostgreSQL transaction per record (synchronous commit), into the database holding the quarter "
               "below. " + details["data"],
               details={"stored": f"{stored:,} records at the county",
                        "extrapolated": f"the whole quarter through the sink ({full_records:,} records) would take "
                                        f"{full_records / rate / 3600:,.1f} h at this rate from one hall; "
                                        "halls deliver in parallel over their own connections"}),
        Result(f"county: all-halls page query ({halls} halls, today)", "p99 ≤ 300 ms",
               f"p50 {halls_ms['p50']:.0f} ms, p99 {halls_ms['p99']:.0f} ms", halls_ms["p99"] <= 300,
               "`central.queries.halls` (the all-halls page and /api/halls: issued, queue, waiting p50/p90, "
               "windows open/idle/paused, devices faulted, 差评 open/overdue, outbox lag) over " + scale +
               "; the covering index tickets (hall_id, issued_date) INCLUDE (…) and the partial index of open tickets",
               details={"query": fmt_pct(halls_ms)}),
        Result("county: a quarter's per-window table of one hall", "≤ 1 s",
               f"p50 {one_ms['p50']:.0f} ms, p99 {one_ms['p99']:.0f} ms", one_ms["p99"] <= 1000,
               f"`central.queries.table(group='window', quarter {quarter}, hall)` — {in_quarter:,} tickets "
               "with their ratings' scores, counts, mean/p50/p90 wait, mean service; index-only scan of the covering "
               "index tickets (hall_id, issued_date) INCLUDE (…)",
               details={"query": fmt_pct(one_ms)}),
        Result("county: a quarter's per-window table of all halls", "≤ 1 s",
               f"p50 {county_ms['p50']:.0f} ms, p99 {county_ms['p99']:.0f} ms", county_ms["p99"] <= 1000,
               f"the same table for every hall's windows at once ({counts[0]:,} tickets)",
               details={"query": fmt_pct(county_ms)}),
    ]


BENCHES = [county_database_at_scale]
