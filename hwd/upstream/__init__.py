"""Adapters to the provincial 好差评 system, chosen by ``[hall.upstream] adapter``.

One small interface: an adapter that pushes is an outbox sink (hwd.outbox: ``name``, ``kinds``,
``backfill``, ``deliver(record)``); an adapter whose province collects the rating on its own page
(``h5``) builds that page's URL instead and pushes nothing.

    push-json   pushes each record; ``[hall.upstream] profile`` says how: ``push-json`` (the default:
                signed JSON, one object per record, hwd.upstream.push_json) or a payload profile
                (zj-offlinereport, sd-epoint-hcp, sd-epoint-pad, zfsoft or the hall's own:
                hwd.haocp.profiles, sent by hwd.upstream.profile_sink)
    h5          the rating page / pad opens the province's page (hwd.upstream.h5)

Every adapter that speaks HTTP does it through hwd.upstream.http_post (one deadline for the whole
exchange, redirects never followed, the reply capped); the province's sink takes the record kinds
of ``[hall.upstream] kinds``.
"""

from __future__ import annotations

from typing import Any, Callable


def rating_page(hall_cfg: Any) -> Callable[[Any, dict], str] | None:
    """The province's own rating page of a ticket, ``page(ctx, ticket_row) -> url``, when
    ``[hall.upstream]`` says the province collects ratings there (``h5``); else None."""
    if hall_cfg.upstream.adapter == "h5":
        from hwd.upstream import h5

        return h5.rating_page
    return None


SINK_NAME = "upstream"


def sinks(hall_cfg: Any, holders: Any = None) -> list:
    """The outbox sinks the ``[hall.upstream]`` config asks for (none for ``none`` and ``h5``);
    ``holders``: the sealed raters of 实名评价 (``real_name``), for the profiles that carry them."""
    up = hall_cfg.upstream
    if up.adapter != "push-json":
        return []
    profile = up.payload_profile()
    if profile is None:
        from hwd.upstream.push_json import PushJson

        return [PushJson(up, SINK_NAME)]
    from hwd.upstream.profile_sink import ProfileSink

    services = {sid: s.province for sid, s in hall_cfg.services.items()}
    hall = {"name": hall_cfg.name, "region_code": hall_cfg.region_code}
    return [ProfileSink(up, profile, services, hall, SINK_NAME, holders)]
