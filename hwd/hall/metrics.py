"""The hall's numbers for ``/metrics`` (part of the ``daemon.metrics`` RPC; hwd.metrics): queue
length per service, the day's tickets issued, calls, waits (issued → first call) as a histogram,
ratings by score, and per outbox sink the records pending and the age of the oldest.

Counted over the hall's business day from the database, so a restart of hwd changes nothing and
the day rollover starts them again at 0 (a counter reset to Prometheus). Each query stays within
the day through an index: a hall with years of tickets answers a scrape as fast as a new one.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from hwd import outbox
from hwd.histogram import Histograms

# seconds from taking a ticket to its first call: minutes to hours in a busy hall
WAIT_BUCKETS = (60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200)
SCORES = ("1", "2", "3", "4", "5")


def collect(engine: Any) -> dict:
    """``{"day", "services": {id: {"queue", "issued", "calls"}}, "waits": histograms by service,
    "ratings": {score: n}, "unrated", "outbox": [{"sink", "pending", "oldest_pending_age_s"}]}``."""
    store, day = engine.store, engine.core.today()
    services = {sid: {"queue": 0, "issued": 0, "calls": 0} for sid in engine.cfg.services}
    for sid, counts in store.queue_counts().items():
        services.setdefault(sid, {"queue": 0, "issued": 0, "calls": 0})["queue"] = counts["waiting"]
    waits = Histograms(WAIT_BUCKETS)
    rows = store.db.execute("SELECT origin_service, service, first_called_ts - issued_ts, recalls, "
                            "first_called_ts IS NOT NULL, rating_state FROM tickets WHERE day = ?", (day,))
    unrated = 0
    for origin, service, wait, recalls, called, rating_state in rows:
        services.setdefault(origin, {"queue": 0, "issued": 0, "calls": 0})["issued"] += 1
        entry = services.setdefault(service, {"queue": 0, "issued": 0, "calls": 0})
        if called:
            entry["calls"] += 1 + (recalls or 0)
            waits.observe(service, max(0.0, wait))
        unrated += rating_state == "unrated"
    # ratings carry their day; the time bound lets the ratings_ts index skip earlier days
    since = dt.datetime.fromisoformat(day).replace(tzinfo=engine.tz).timestamp() - 86400
    ratings = dict.fromkeys(SCORES, 0)
    for score, n in store.db.execute("SELECT score, COUNT(*) FROM ratings WHERE ts >= ? AND day = ? GROUP BY score",
                                     (since, day)):
        ratings[str(score)] = n
    now = time.time()
    sinks = []
    for sink in engine.outbox.sinks if engine.outbox is not None else []:
        pending, oldest = outbox.backlog(store.db, sink)
        sinks.append({"sink": sink.name, "pending": pending,
                      "oldest_pending_age_s": max(0.0, now - oldest) if oldest is not None else 0.0})
    return {"day": day, "services": services, "waits": waits.snapshot(), "ratings": ratings, "unrated": unrated,
            "outbox": sinks}
