"""The outbox sink of a payload profile (every ``[hall.upstream] profile`` but push-json):
builds each record's request from the profile (hwd.haocp.profiles), posts it through
hwd.upstream.http_post (one deadline, no redirects, the reply capped) and reads the reply with
the profile's rule (hwd.upstream.replies).

The request: the record mapped by ``fields`` is the body, or, with an ``envelope``, the envelope
built around it (``body``); JSON (compact, UTF-8, as fastjson writes it) or a form. Headers:
``Content-Type``, ``Idempotency-Key`` (the record's key; provinces that know nothing of it ignore
it), and the profile's auth: HTTP Basic from ``username``/``password``, or push-json's HMAC
headers. Each record kind goes to ``[hall.upstream] urls.KIND``, else to ``url``; the sink takes
only the kinds of the profile (or the configured subset), so a province's rating URL never
receives work orders.

``request()`` builds without sending: ``hwctl upstream preview`` prints it (hwd.upstream.preview).

实名评价 (``[hall.upstream] real_name``): a rating the citizen consented to carry their identity
for is sent with its holder (``holder.*``), opened from hwd.hall.ratings.holders just before the
request and erased as soon as the province has answered for good (sent or refused); a retry opens
it again. The holder never enters the outbox record.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Mapping

from hwd.haocp import payload
from hwd.haocp.profiles import Profile
from hwd.outbox import DeliveryError, Record, Rejected, Sent
from hwd.upstream import http_post, replies, signing, sm2, sm2keys

log = logging.getLogger("hwd.upstream.profile_sink")


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict
    mapped: Any  # the record as the province takes it, before any envelope (and encryption)


def form(values: Mapping[str, Any]) -> bytes:
    """``application/x-www-form-urlencoded`` in UTF-8 (what Java's UrlEncodedFormEntity sends)."""
    return urllib.parse.urlencode({k: "" if v is None else str(v) for k, v in values.items()}).encode("ascii")


class ProfileSink:
    """An outbox sink that sends each record of its kinds as the profile says."""

    backfill = True

    def __init__(self, upstream: Any, profile: Profile, services: Mapping[str, Mapping] | None = None,
                 hall: Mapping[str, Any] | None = None, name: str = "upstream", holders: Any = None):
        self.name, self.cfg, self.profile = name, upstream, profile
        self.holders = holders  # 实名评价 opt-in: hwd.hall.ratings.holders.Vault, else None (anonymous)
        self.kinds = tuple(upstream.kinds)
        self.services = dict(services or {})
        self.hall = dict(hall or {})
        if profile.auth == "hmac":
            signing._hash(upstream.signature)  # a missing library is a start-up error, not a retry loop
        encrypt = sign = None
        if profile.uses("encrypt"):
            public = sm2keys.load_public(upstream.sm2_public_key)
            encrypt = (lambda data: sm2.encrypt(public, data, profile.sm2_order))
            sm2._gmssl()
        if profile.uses("sign"):
            private = sm2keys.load_private(upstream.sm2_private_key)
            sign = (lambda data, signer: sm2.sign(private, data, signer))
            sm2._gmssl()
        self.crypto = payload.Crypto(encrypt, sign)
        for url in {upstream.url, *upstream.urls.values()}:
            host = urllib.parse.urlsplit(url or "").hostname or ""
            if (url or "").startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
                log.warning("upstream %s: %s is plain HTTP: readable on the way — use https", name, url)
        self.tls = http_post.tls_context()

    # -- building -------------------------------------------------------------------------------
    def url_of(self, kind: str) -> str:
        return self.cfg.urls.get(kind) or self.cfg.url

    def context(self, record: Record, now: dt.datetime | None = None, holder: Mapping[str, Any] | None = None) -> dict:
        fields = record.payload
        province = {**self.cfg.province, **self.services.get(fields.get("service") or "", {}),
                     **(fields.get("province_fields") or {})}  # the service's and its matter's, as rated
        if now is None:
            now = dt.datetime.now(_zone(fields))
        ctx = dict(fields)
        ctx.update(province=province, hall=self.hall, send={"time": now.isoformat(timespec="seconds")},
                   upstream={"username": self.cfg.username, "password": self.cfg.password},
                   holder=dict(holder or {}))
        return ctx

    def request(self, record: Record, now: dt.datetime | None = None,
                holder: Mapping[str, Any] | None = None) -> Request:
        """The request for ``record`` (``holder``: the consented rater, 实名评价, else anonymous);
        raises payload.PayloadError when the map cannot make it."""
        profile = self.profile
        ctx = self.context(record, now, holder)
        mapped = payload.build_object(profile.fields, ctx, self.crypto)
        sent: Any = mapped
        if profile.envelope:
            ctx.update(body=mapped, body_list=[mapped])
            sent = payload.build_object(profile.envelope, ctx, self.crypto)
        body = form(sent) if profile.body == "form" else payload.dumps(sent).encode("utf-8")
        headers = {"Content-Type": profile.media_type, "Idempotency-Key": record.key}
        if profile.auth == "basic":
            token = base64.b64encode(f"{self.cfg.username}:{self.cfg.password}".encode("utf-8")).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        elif profile.auth == "hmac":
            ts = str(int(time.time()))
            headers["X-HWD-Timestamp"] = ts
            headers["X-HWD-Signature"] = f"{self.cfg.signature}={signing.sign(self.cfg.signature, self.cfg.secret, ts, body)}"
        return Request(self.url_of(record.kind), body, headers, mapped)

    # -- sending --------------------------------------------------------------------------------
    def _holder_rating(self, record: Record) -> int | None:
        """The rating whose consented holder this record may carry (only a rating record)."""
        if self.holders is None or record.kind != "rating" or not str(record.ref).isdigit():
            return None
        return int(record.ref)

    def deliver(self, record: Record) -> Sent | Rejected:
        rating = self._holder_rating(record)
        holder = self.holders.holder(rating) if rating is not None else None
        outcome = self._deliver(record, holder)
        if holder:  # the province has answered for good: the holder is not kept a moment longer
            self.holders.erase(rating)
        return outcome

    def _deliver(self, record: Record, holder: Mapping[str, Any] | None) -> Sent | Rejected:
        try:
            req = self.request(record, holder=holder)
        except payload.PayloadError as exc:  # the config lacks something: fixed, it goes out
            raise DeliveryError(f"cannot build the {self.profile.name} body: {exc}") from None
        try:
            reply = http_post.post(req.url, req.body, req.headers, self.cfg.timeout_s, http_post.MAX_REPLY,
                                   self.tls if req.url.startswith("https://") else None)
        except http_post.PostError as exc:
            raise DeliveryError(str(exc)) from None
        if 300 <= reply.status < 400:
            log.warning("upstream %s: record %d: HTTP %d redirect to %r, not followed", self.name, record.id,
                        reply.status, (reply.location or "")[:300])
        return replies.judge(self.profile, reply.status, reply.body, reply.location)


def _zone(fields: Mapping[str, Any]) -> dt.tzinfo | None:
    """The hall's zone, as its record's times carry it (the sink has no clock of its own)."""
    for key in ("rated_at", "service_end", "at"):
        try:
            return dt.datetime.fromisoformat(str(fields.get(key))).tzinfo
        except ValueError:
            continue
    return None
