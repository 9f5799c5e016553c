"""``h5``: the province collects the rating on its own page; the rating page or pad opens it.

Rebuilt from 国图 gtmap ``HcpServiceImpl.organizeRequestUrl`` (Anhui: 合肥, 舒城, 蚌埠): a query
``key=PJQ&evaluateChannel=PJQ&projNo=…&serviceCode=…&serviceVersion=…&regionCode=…`` with the
clerks in ``evaluatedPersonInfo`` as a JSON array of ``{loginName, name}``, base64-encoded twice
and appended to the page's base URL (``hcp.pjym.url``). The query is ``[hall.upstream]
h5_params`` with ``{placeholders}`` filled from the ticket; ``h5_encoding = "query"`` instead
URL-encodes each value and appends ``?query``, for provinces that take plain parameters.
"""

from __future__ import annotations

import base64
import json
import string
import urllib.parse
from typing import Any

from hwd.hall import views
from hwd.hall.rating_store import RatingContext


def fields_of(ctx: RatingContext, t: dict) -> dict[str, str]:
    """The placeholders of ``h5_params`` for ticket row ``t``."""
    svc = ctx.cfg.services.get(t["service"])
    w = ctx.cfg.windows.get(t["window"]) if t["window"] else None
    person = ctx.cfg.staff.get(t["staff"]) if t["staff"] else None
    staff_name = person.name if person else (t["staff"] or "")
    persons = [{"loginName": t["staff"], "name": staff_name}] if t["staff"] else []
    return {"case_no": t.get("case_no") or "", "matter_name": svc.name if svc else t["service"],
            "matter_code": svc.matter_code if svc else "", "matter_version": svc.matter_version if svc else "",
            "impl_code": svc.impl_code if svc else "", "department": svc.department if svc else "",
            "region_code": ctx.cfg.region_code, "window": t["window"] or "", "window_name": w.name if w else "",
            "staff": t["staff"] or "", "staff_name": staff_name,
            "persons": json.dumps(persons, ensure_ascii=False, separators=(",", ":")), "ticket": t["number"],
            "service_start": _stamp(t["started_ts"] or t["called_ts"], ctx),
            "service_end": _stamp(t["finished_ts"], ctx)}


def _stamp(ts: float | None, ctx: RatingContext) -> str:
    text = views.iso(ts, ctx.tz)
    return text.replace("T", " ")[:19] if text else ""  # yyyy-MM-dd HH:mm:ss as the Anhui code sends


def page_url(upstream: Any, values: dict[str, str]) -> str:
    template = upstream.h5_params
    if upstream.h5_encoding == "query":
        quoted = {k: urllib.parse.quote(str(v), safe="") for k, v in values.items()}
        query = string.Formatter().vformat(template, (), quoted)
        return upstream.url + ("&" if "?" in upstream.url else "?") + query
    query = string.Formatter().vformat(template, (), values)
    once = base64.b64encode(query.encode("utf-8"))
    return upstream.url + base64.b64encode(once).decode("ascii")


def decode(url: str, base: str) -> dict[str, str]:
    """The parameters a base64x2 page URL carries (what the province's page reads)."""
    query = base64.b64decode(base64.b64decode(url[len(base):])).decode("utf-8")
    out = {}
    for part in query.split("&"):
        key, _, value = part.partition("=")
        out[key] = value
    return out
