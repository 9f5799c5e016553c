"""What a province's reply means for the record: delivered, refused, or try again.

A profile's ``success`` is a list of alternatives; each is a table of reply paths (dotted, into
the JSON reply) and the text they must hold, all of them: epoint's 到国家 interface answers
``{"code": "0", "success": "true"}`` or ``{"C-Response-Desc": "success"}``, its 网厅
``{"status": {"code": "200"}, "custom": {"code": "1"}}``. A 2xx reply that meets none is a
refusal — never "sent": with ``refusal = "retry"`` (the default) the record stays undelivered
with the province's words as its error and is tried again with backoff, so a fix of the config
(a wrong deptCode, a missing matter code) delivers it; ``"reject"`` makes it final until a
补报 replay. Without ``success`` any 2xx is delivered.

As for push-json: a redirect is never followed, 4xx other than 408/425/429 is a rejection, and
anything else (5xx, 408, 425, 429) is retried.
"""

from __future__ import annotations

import json
from typing import Any

from hwd.outbox import DeliveryError, Rejected, Sent
from hwd.haocp.payload import lookup

RETRY_STATUSES = (408, 425, 429)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _data(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, ValueError):
        return None


def reason(profile: Any, raw: bytes, status: int) -> str:
    """The province's own words, else the start of the reply."""
    data = _data(raw)
    if isinstance(data, dict):
        for path in profile.reason:
            said = lookup(data, path)
            if not isinstance(said, (dict, list)) and _text(said):
                return _text(said)[:300]
    text = raw[:200].decode("utf-8", "replace").strip()
    return f"HTTP {status}: {text}" if text else f"HTTP {status} with an empty reply"


def succeeded(profile: Any, raw: bytes) -> bool:
    if not profile.success:
        return True
    data = _data(raw)
    if not isinstance(data, dict):
        return False
    return any(all(_text(lookup(data, path)) == _text(want) for path, want in alt.items())
               for alt in profile.success)


def judge(profile: Any, status: int, raw: bytes, location: str | None) -> Sent | Rejected:
    """Sent or Rejected, or raises DeliveryError (try again)."""
    if 300 <= status < 400:
        where = (location or "")[:300]
        raise DeliveryError(f"HTTP {status} redirect to {where!r}: not followed (fix the url)")
    if 200 <= status < 300:
        if succeeded(profile, raw):
            return Sent()
        said = reason(profile, raw, status)
        if profile.refusal == "reject":
            return Rejected(said)
        raise DeliveryError(f"refused (HTTP {status}): {said}")
    if 400 <= status < 500 and status not in RETRY_STATUSES:
        return Rejected(reason(profile, raw, status))
    raise DeliveryError(f"HTTP {status}: {reason(profile, raw, status)}")
