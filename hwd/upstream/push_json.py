"""``push-json``: each outbox record is POSTed to ``[hall.upstream] url`` as one JSON object.

The shape follows the hall-stores-and-pushes mode of 国泰新点 epoint ``HcpWaitEvaluateJobCheck``
(projectNo, satisfaction 1–5, evalDetail label codes, writingEvaluation, assessTime, areacode;
a signed payload; a per-record sync state — their 1 synced / 98 rejected / 99 interface error is
our sent / rejected / error). Our field names are documented in docs/hall.md; ``[hall.upstream.
fields]`` renames them for a province (e.g. ``case_no = "projectNo"``, ``score = "satisfaction"``).

Request headers: ``Idempotency-Key`` (also in the body), ``X-HWD-Timestamp`` and
``X-HWD-Signature: <algorithm>=<hex>`` over ``timestamp.body`` (hwd.upstream.signing).

The reply decides the record's state:
- 2xx, and a JSON body without ``"ok": false`` → sent (``"duplicate": true`` is sent too);
- 2xx with ``"ok": false`` (or ``"success": false``), or 4xx other than 408/425/429 → rejected, with
  the body's ``error``
  or ``message`` as the reason (final until a 补报 replay);
- a redirect (3xx) is never followed — the body would go elsewhere, signed — and is an error with
  its ``Location`` logged and kept as the record's error;
- anything else (5xx, 408, 425, 429, no complete reply within ``timeout_s`` — one deadline for the
  whole exchange —, a reply over 64 KiB, refused connections) → retried with backoff.

The HTTP exchange itself is hwd.upstream.http_post. The sink takes the kinds of ``[hall.upstream]
kinds`` (default: the 好差评 records, hwd.outbox.RATING_KINDS), or those its maker names (the
phone notices' sink: ``phone_notice`` only).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from typing import Any, Sequence

from hwd.outbox import DeliveryError, Record, Rejected, Sent
from hwd.upstream import http_post, signing

log = logging.getLogger("hwd.upstream.push_json")
RETRY_STATUSES = (408, 425, 429)
MAX_REPLY = http_post.MAX_REPLY


INTERNAL = ("province_fields",)  # for the province profiles' maps (hwd.upstream.profile_sink), not sent as is


def body_of(record: Record, fields: dict, channel_codes: dict) -> dict:
    """The JSON object sent for ``record``, with the configured renames."""
    out: dict[str, Any] = {}
    for key, value in record.payload.items():
        if key in INTERNAL:
            continue
        if key == "channel" and value in channel_codes:
            value = channel_codes[value]
        name = fields.get(key, key)
        if name:
            out[name] = value
    if record.resent:
        out[fields.get("replay", "replay") or "replay"] = True
    return out


def _reason(raw: bytes, status: int) -> str:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return f"HTTP {status}: {raw[:200].decode('utf-8', 'replace')}"
    if isinstance(data, dict):
        return str(data.get("error") or data.get("message") or data.get("reason") or f"HTTP {status}")
    return f"HTTP {status}"


class PushJson:
    """An outbox sink that POSTs each record of its kinds to one receiver."""

    backfill = True

    def __init__(self, upstream: Any, name: str = "upstream", kinds: Sequence[str] | None = None):
        self.name = name
        self.cfg = upstream
        self.kinds = tuple(kinds if kinds is not None else upstream.kinds)
        signing._hash(upstream.signature)  # a missing library is a start-up error, not a retry loop
        host = urllib.parse.urlsplit(upstream.url).hostname or ""
        if upstream.url.startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
            log.warning("upstream %s: %s is plain HTTP; records are signed but readable on the way — use https",
                        name, upstream.url)
        self.tls = http_post.tls_context() if upstream.url.startswith("https://") else None

    def deliver(self, record: Record) -> Sent | Rejected:
        body = json.dumps(body_of(record, self.cfg.fields, self.cfg.channel_codes), ensure_ascii=False,
                          sort_keys=True, separators=(",", ":")).encode("utf-8")
        ts = str(int(time.time()))
        signature = signing.sign(self.cfg.signature, self.cfg.secret, ts, body)
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": record.key,
                   "X-HWD-Timestamp": ts, "X-HWD-Signature": f"{self.cfg.signature}={signature}"}
        try:
            reply = http_post.post(self.cfg.url, body, headers, self.cfg.timeout_s, MAX_REPLY, self.tls)
        except http_post.PostError as exc:  # refused, reset, DNS, TLS, out of time, too large
            raise DeliveryError(str(exc)) from None
        status, raw = reply.status, reply.body
        if 300 <= status < 400:
            where = (reply.location or "")[:300]
            log.warning("upstream %s: record %d: HTTP %d redirect to %r, not followed", self.name, record.id, status,
                        where)
            raise DeliveryError(f"HTTP {status} redirect to {where!r}: not followed (fix the url)")
        if 200 <= status < 300:
            try:
                data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
            except (UnicodeDecodeError, ValueError):
                data = {}
            if isinstance(data, dict) and (data.get("ok") is False or data.get("success") in (False, "false")):
                return Rejected(_reason(raw, status))  # epoint's receivers answer success: false
            return Sent(duplicate=bool(isinstance(data, dict) and data.get("duplicate")))
        if 400 <= status < 500 and status not in RETRY_STATUSES:
            return Rejected(_reason(raw, status))
        raise DeliveryError(f"HTTP {status}: {_reason(raw, status)}")
