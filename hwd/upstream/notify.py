"""The phone notices' gateway as an outbox sink: ``[hall.notify] url`` set → one ``push-json``
sink named ``notify`` that takes the ``phone_notice`` records (hwd.hall.phone.notices) and nothing else,
signed and POSTed as the province's push-json is (hwd.upstream.push_json, hwd.upstream.signing).

Made where the hall engine is wired (hwd.hall_wiring), like the province's and the county's sinks.
"""

from __future__ import annotations

from typing import Any

from hwd.hall.phone.notices import KIND

SINK_NAME = "notify"


def sinks(hall_cfg: Any) -> list:
    """The ``notify`` sink when ``[hall.notify] url`` is set: push-json, phone notices only, from
    the moment it is first configured (no backfill of old notices)."""
    if not hall_cfg.notify.on:
        return []
    from hwd.upstream.push_json import PushJson

    sink = PushJson(hall_cfg.notify.upstream(), SINK_NAME, kinds=(KIND,))
    sink.backfill = False
    sink.retry_s, sink.retry_max_s = hall_cfg.notify.retry_s, hall_cfg.notify.retry_max_s
    return [sink]
