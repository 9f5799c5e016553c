"""The county's daily rollup: one row per hall, issue day, window, staff and matter (service)
with the counts the supervision tables add up (tickets per state, waits as sum, count and a
histogram in fixed buckets, service times, ratings per score, 差评).

Why: the county-wide quarter table over the raw tickets reads ~10 M rows (17 s); over the
rollup it reads ~130,000 small rows (60 halls × 90 days × their window/staff/matter combinations). The rollup is kept by the sink, in the transaction that
delivers the records: every (hall, day) a delivered batch touches — the issue days of the
tickets its records changed or rated — is rolled again from the ``tickets`` projection
(delete + insert of that hall-day's rows). A late record of an old day re-rolls that day; a
redelivered record re-rolls it to the same rows. So the rollup is always exactly what the raw
tables say, and nothing in it counts twice.

Percentiles come from the histogram: ``percentile`` gives the bucket holding the nearest-rank
percentile; the tables show its upper edge (the exact value lies at most one bucket below).
Buckets are 1 minute wide up to 30 min, 5 min up to an hour, then 1.25 h, 1.5 h, 2 h, 3 h, 4 h
and "4 h or more". The edges are part of the schema (migration 2): never change them in place.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

WAIT_EDGES = tuple(range(60, 1801, 60)) + tuple(range(2100, 3601, 300)) + (4500, 5400, 7200, 10800, 14400)
BUCKETS = len(WAIT_EDGES) + 1  # bucket i: [edge i-1, edge i); bucket 0 from 0, the last one open
HIST = tuple(f"w{i}" for i in range(BUCKETS))
SCORES = (1, 2, 3, 4, 5)
STATES = ("waiting", "called", "serving", "done", "no_show", "expired")
KEYS = ("window_id", "staff", "service")

COUNTS = (("issued", "COUNT(*)"), ("called", "COUNT(t.first_called_ts)")) \
    + tuple((f"n_{s}", f"COUNT(*) FILTER (WHERE t.state = '{s}')") for s in STATES) \
    + (("wait_sum", "COALESCE(SUM(t.first_called_ts - t.issued_ts), 0)"),
       ("wait_count", "COUNT(t.first_called_ts - t.issued_ts)"),
       ("service_sum", "COALESCE(SUM(t.finished_ts - t.started_ts) FILTER (WHERE t.state = 'done'), 0)"),
       ("service_count", "COUNT(t.finished_ts - t.started_ts) FILTER (WHERE t.state = 'done')"),
       ("rated", "COUNT(t.score) FILTER (WHERE NOT t.rating_excluded)"),
       ("bad", "COUNT(*) FILTER (WHERE t.score <= 2 AND NOT t.rating_excluded)"),
       ("excluded", "COUNT(*) FILTER (WHERE t.score IS NOT NULL AND t.rating_excluded)")) \
    + tuple((f"s{s}", f"COUNT(*) FILTER (WHERE t.score = {s} AND NOT t.rating_excluded)") for s in SCORES) \
    + tuple((f"w{i}", f"COUNT(*) FILTER (WHERE width_bucket(t.first_called_ts - t.issued_ts, "
                      f"'{{{','.join(map(str, WAIT_EDGES))}}}'::float8[]) = {i})") for i in range(BUCKETS))
COLUMNS = tuple(c for c, _ in COUNTS)

CREATE = f"""
    CREATE TABLE daily_rollup (
        hall_id text NOT NULL, day date NOT NULL, window_id text, staff text, service text,
        {', '.join(f'{c} {"double precision" if c.endswith("_sum") else "integer"} NOT NULL' for c in COLUMNS)});
    CREATE INDEX daily_rollup_hall_day ON daily_rollup (hall_id, day);
    CREATE INDEX daily_rollup_day ON daily_rollup (day);
"""

_SELECT = (f"SELECT t.hall_id, t.issued_date, t.window_id, t.staff, t.service, "
           f"{', '.join(expr for _, expr in COUNTS)} FROM tickets t")
_GROUP = " GROUP BY t.hall_id, t.issued_date, t.window_id, t.staff, t.service"
_INSERT = f"INSERT INTO daily_rollup (hall_id, day, {', '.join(KEYS)}, {', '.join(COLUMNS)}) "

# everything, from the tickets already there (migration 2, a rebuild after a bulk load)
REBUILD = _INSERT + _SELECT + _GROUP

# the hall-days the given tickets were issued on, rolled again. ARRAY(…) is computed once and then
# is an index condition (hall_id, issued_date = ANY …): as "IN (subquery)" the planner may join
# the hall's tickets against it row by row when its statistics predate the hall (a new hall
# catching up: 9 s per batch instead of milliseconds)
_DAYS = "ARRAY(SELECT DISTINCT issued_date FROM tickets WHERE hall_id = %(hall)s AND ticket_id = ANY(%(tickets)s))"
REROLL_DELETE = f"DELETE FROM daily_rollup WHERE hall_id = %(hall)s AND day = ANY({_DAYS})"
REROLL_INSERT = _INSERT + _SELECT + f" WHERE t.hall_id = %(hall)s AND t.issued_date = ANY({_DAYS})" + _GROUP


def reroll(cur: Any, hall_id: str, ticket_ids: Sequence[int]) -> None:
    """Roll again the days of ``ticket_ids`` (this hall's), in the caller's transaction."""
    if not ticket_ids:
        return
    args = {"hall": hall_id, "tickets": sorted(set(ticket_ids))}
    cur.execute(REROLL_DELETE, args)
    cur.execute(REROLL_INSERT, args)


def rebuild(conn: Any, hall_ids: Sequence[str] | None = None) -> None:
    """The rollup of these halls (or all) again from ``tickets`` — after tickets were written
    around the sink (the bench's generated quarter)."""
    with conn.transaction():
        if hall_ids is None:
            conn.execute("DELETE FROM daily_rollup")
            conn.execute(REBUILD)
        else:
            conn.execute("DELETE FROM daily_rollup WHERE hall_id = ANY(%s)", (list(hall_ids),))
            conn.execute(_INSERT + _SELECT + " WHERE t.hall_id = ANY(%s)" + _GROUP, (list(hall_ids),))


def percentile(hist: Sequence[int], p: float) -> int | None:
    """Index of the bucket holding the nearest-rank ``p`` percentile of the histogram."""
    total = sum(hist)
    if not total:
        return None
    rank, seen = max(1, math.ceil(p * total)), 0
    for i, n in enumerate(hist):
        seen += n
        if seen >= rank:
            return i
    return len(hist) - 1


def bucket_upper(i: int | None) -> float | None:
    """What the tables show for bucket ``i``: its upper edge (the open last bucket: its lower edge)."""
    if i is None:
        return None
    return float(WAIT_EDGES[min(i, len(WAIT_EDGES) - 1)])


def bucket_of(wait_s: float) -> int:
    """The bucket a wait falls in (as PostgreSQL's width_bucket over WAIT_EDGES)."""
    return sum(1 for e in WAIT_EDGES if wait_s >= e)
