"""A hall's days as the outbox records the county sink receives, generated: for the county
bench (bench/county.py: a quarter of 60 halls through the sink, a week offline) and the sink's
tests. Test and benchmark data only: nothing of hwd imports it.

The records have the shapes hwd.county.feed writes (``ticket`` records with the ticket row after
each action, and the ``rating`` record hwd.hall.ratings.rules writes), so they go through the real
sink (hwd.county.sink, hwd.county.ingest) exactly as a hall's would. The day's shape is fixed
arithmetic, not random: 12 windows (staff ``s<window>``), 8 matters, waits 0–30 min, service
2–12 min, every 17th ticket a no-show, every 5th unrated, 1 in 23 rated 1 (差评).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Iterator

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def ticket_id(day_index: int, n: int) -> int:
    return day_index * 100000 + n


def day_records(day: dt.date, day_index: int, per_day: int, first: int = 1,
                waiting_after: int | None = None) -> Iterator[tuple[str, str, dict, float]]:
    """(kind, ref, payload, ts) of tickets ``first`` … ``per_day`` of one day, in the order the hall wrote them
    (each ticket's steps in turn: issue, call, start, finish, rate — no-shows: issue, call, no_show).
    Tickets after ``waiting_after`` are only issued: the queue of a day still under way."""
    opens = dt.datetime.combine(day, dt.time(8, 30), TZ).timestamp()
    for n in range(first, per_day + 1):
        tid = ticket_id(day_index, n)
        issued = opens + n * (27000.0 / per_day)
        w = str((n * 7) % 12 + 1)
        wait, serve = float((n * 7919) % 1800), 120.0 + (n * 104729) % 600
        service = f"svc{n % 8}"
        ticket = {"id": tid, "day": day.isoformat(), "issued_date": day.isoformat(), "service": service,
                  "origin_service": service, "number": f"A{n:04d}", "priority": "normal", "state": "waiting",
                  "window_id": None, "staff": None, "holder": None, "issued_ts": issued, "first_called_ts": None,
                  "called_ts": None, "started_ts": None, "finished_ts": None, "recalls": 0, "requeues": 0,
                  "transfers": 0, "rating_state": None}
        called = issued + wait
        steps = [("issue", issued, {}),
                 ("call", called, {"state": "called", "window_id": w, "staff": f"s{w}", "first_called_ts": called,
                                   "called_ts": called})]
        score = None
        if n % 17 == 0:
            steps.append(("no_show", called + 60, {"state": "no_show", "finished_ts": called + 60}))
        else:
            steps += [("start", called + 30, {"state": "serving", "started_ts": called + 30}),
                      ("finish", called + 30 + serve, {"state": "done", "finished_ts": called + 30 + serve,
                                                       "rating_state": "pending"})]
            if n % 5 == 0:
                steps.append(("unrated", called + 60 + serve, {"rating_state": "unrated"}))
            else:
                score = 5 - (tid % 23 == 0) * 4 - (tid % 3 == 0)
                steps.append(("rate", called + 40 + serve, {"rating_state": "rated"}))
        if waiting_after is not None and n > waiting_after:
            steps = steps[:1]
        for k, (action, ts, change) in enumerate(steps):
            ticket.update(change)
            aid = tid * 10 + k
            yield "ticket", f"{tid}:{aid}", {"ticket": dict(ticket), "action": action, "action_id": aid,
                                            "at_ts": ts, "window": ticket["window_id"], "staff": ticket["staff"]}, ts
            if action == "rate":
                yield "rating", str(tid), {"rating_id": tid, "ticket_id": tid, "score": score, "window": w,
                                           "staff": f"s{w}", "service": service, "channel": "keypad",
                                           "rated_at": dt.datetime.fromtimestamp(ts, TZ).isoformat(),
                                           "labels": [], "excluded": False}, ts


def hall_records(start: dt.date, days: int, per_day: int, first_day: int = 0,
                 open_share: float = 0.0) -> Iterator[tuple[str, str, dict, float]]:
    """Days ``first_day`` … ``first_day + days - 1`` after ``start``, day after day; the last
    ``open_share`` of the last day's tickets still waiting (the hall's queue now)."""
    last = first_day + days - 1
    for d in range(first_day, first_day + days):
        tail = round(per_day * (1 - open_share)) if d == last and open_share else None
        yield from day_records(start + dt.timedelta(days=d), d, per_day, waiting_after=tail)


def fill_outbox(path, start: dt.date, days: int, per_day: int) -> int:
    """A hall database whose outbox holds these days' records, not yet taken by any sink (what a
    hall gathers while its link is down); returns the record count."""
    from hwd import outbox
    from hwd.hall.store import Store

    store = Store(path, "normal")
    n = 0
    try:
        with store.tx():
            for kind, ref, payload, ts in hall_records(start, days, per_day):
                outbox.put(store.db, kind, ref, payload, ts)
                n += 1
    finally:
        store.close()
    return n
