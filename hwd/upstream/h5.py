"""``h5``: the province collects the rating on its own page; the rating page or pad opens it.

Rebuilt from 国图 gtmap ``HcpServiceImpl.organizeRequestUrl`` (Anhui: 合肥, 舒城, 蚌埠): a query
``key=PJQ&evaluateChannel=PJQ&projNo=…&serviceCode=…&serviceVersion=…&regionCode=…`` with the
clerks in ``evaluatedPersonInfo`` as a JSON array of ``{loginName, name}``, base64-encoded twice
and appended to the page's base URL (``hcp.pjym.url``). The query is ``[hall.upstream]
h5_params`` with ``{placeholders}`` filled from the ticket; ``h5_encoding = "query"`` instead
URL-encodes each value and appends ``?query``, for provinces that take plain parameters.

A value cannot reach beyond its own parameter. HcpServiceImpl joins the values unescaped and the
province splits the decoded query on ``&`` and ``=``, so under ``base64x2`` a staff id
``s01&regionCode=110000`` (a hall without ``[[hall.staff]]`` takes any id at login) would add a
parameter, and the province's page reads the later of two. There ``&`` and ``=`` inside a value
become the full-width ``＆`` and ``＝`` (readable, inert); under ``query`` every value is
percent-encoded. In both, control characters are dropped and each value is cut at
``MAX_VALUE`` characters, so that no ticket can make a URL the pad will not open.
"""

from __future__ import annotations

import base64
import json
import re
import string
import urllib.parse
from typing import Any

from hwd.hall import views
from hwd.hall.ratings.store import RatingContext

MAX_VALUE = 200  # characters of one value (a matter's full name fits; a page URL stays short)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
INERT = str.maketrans({"&": "＆", "=": "＝"})  # what would split the base64x2 query, made full-width


def _text(value: Any) -> str:
    return CONTROL.sub("", str(value or ""))[:MAX_VALUE]


def fields_of(ctx: RatingContext, t: dict) -> dict[str, str]:
    """The placeholders of ``h5_params`` for ticket row ``t`` (control characters dropped, each
    value at most ``MAX_VALUE`` characters)."""
    svc = ctx.cfg.services.get(t["service"])
    w = ctx.cfg.windows.get(t["window"]) if t["window"] else None
    staff = _text(t["staff"])
    person = ctx.cfg.staff.get(t["staff"]) if t["staff"] else None
    staff_name = _text(person.name) if person else staff
    persons = [{"loginName": staff, "name": staff_name}] if staff else []
    m = svc.matter(t.get("matter_id")) if svc else None  # the matter handled (事项)
    values = {"case_no": t.get("case_no"), "matter_name": m.name if m else t["service"],
              "matter_code": m.matter_code if m else "", "matter_version": m.matter_version if m else "",
              "impl_code": m.impl_code if m else "", "department": m.department if m else "",
              "region_code": (m.region if m else "") or ctx.cfg.region_code, "window": t["window"], "window_name": w.name if w else "",
              "staff": staff, "staff_name": staff_name, "ticket": t["number"],
              "service_start": _stamp(t["started_ts"] or t["called_ts"], ctx),
              "service_end": _stamp(t["finished_ts"], ctx)}
    out = {k: _text(v) for k, v in values.items()}
    out["persons"] = json.dumps(persons, ensure_ascii=False, separators=(",", ":"))
    return out


def rating_page(ctx: RatingContext, t: dict) -> str:
    """The province's page for rating ticket row ``t`` (the hall's ``RatingContext.rating_page``)."""
    return page_url(ctx.cfg.upstream, fields_of(ctx, t))


def _stamp(ts: float | None, ctx: RatingContext) -> str:
    text = views.iso(ts, ctx.tz)
    return text.replace("T", " ")[:19] if text else ""  # yyyy-MM-dd HH:mm:ss as the Anhui code sends


def page_url(upstream: Any, values: dict[str, str]) -> str:
    """The page of one ticket: ``url`` and the filled ``h5_params``, as ``h5_encoding`` says."""
    template = upstream.h5_params
    if upstream.h5_encoding == "query":
        quoted = {k: urllib.parse.quote(str(v), safe="") for k, v in values.items()}
        query = string.Formatter().vformat(template, (), quoted)
        return upstream.url + ("&" if "?" in upstream.url else "?") + query
    inert = {k: str(v).translate(INERT) for k, v in values.items()}
    query = string.Formatter().vformat(template, (), inert)
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
