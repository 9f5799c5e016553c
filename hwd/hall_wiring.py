"""The hall engine wired as hwd runs it: with what it hands its records to (the province's sink,
the county's feed, the phone notices' gateway) and the province's own rating page, then started
with its ``hall.*`` methods registered.

The hall imports none of the packages it feeds (hwd.upstream, hwd.county): they are composed
here, for the daemon (hwd.daemon), for the active engine PC of a hall with ``[hall.standby]``
(hwd.standby.hosting) and for the tests' in-process engine, so all three run the same engine.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Callable

from hwd import clock as clocks, upstream
from hwd.county import feed as county_feed
from hwd.hall import api
from hwd.hall.engine import HallEngine
from hwd.upstream import notify


def _province(engine: HallEngine) -> list:
    return upstream.sinks(engine.cfg, engine.holders)


def _phone_notices(engine: HallEngine) -> list:
    return notify.sinks(engine.cfg)


SINKS = (_province, county_feed.attach, _phone_notices)


def engine(config: Any, manager: Any, bus: Any, methods: Any, clock: clocks.Clock | None = None,
           connect: Callable[..., sqlite3.Connection] = sqlite3.connect) -> HallEngine:
    """The hall engine of ``config`` with its sinks and rating page, not started yet."""
    return HallEngine(config, manager, bus, methods, clock, sinks=SINKS,
                      rating_page=upstream.rating_page(config.hall), connect=connect)


async def start(hall: HallEngine) -> None:
    """Start the engine, then register its methods (``clock.*`` for a harness without a daemon)."""
    await hall.start()
    clocks.register(hall.methods, hall.clock)
    api.register(hall.methods, hall)
