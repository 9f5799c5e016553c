"""What both fronts of the phone page share: the token's shape, the page and the 404 page, the
security headers, the rating request's checks and the per-address count of unknown tokens.

The phone server (kiosk_ui.phone_server, asyncio, live updates) and the plain ``/t/<token>`` of
hwd-ui's main port (kiosk_ui.phone, polling) answer the same way through this module.
"""

from __future__ import annotations

import collections
import hashlib
import json
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable

from hwd.web import addresses
from kiosk_ui import phone_words
from kiosk_ui.phones import Entry

TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")
MAX_BODY = 2048
MISS_WINDOW_S = 600.0
TEMPLATES = Path(__file__).parent / "templates"
_template = None


def template():
    global _template
    if _template is None:
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        _template = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                                autoescape=select_autoescape(["html"])).get_template("phone.html")
    return _template


def headers(nonce: str | None = None) -> dict[str, str]:
    """No referrer (the token is in the URL), no caching anywhere (a ticket's page and state are
    that ticket's alone: no proxy or cache on the WiFi may keep or replay one), only the page's
    own nonce'd script."""
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    return {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": f"default-src 'none'; script-src {script}; style-src 'unsafe-inline'; "
                                       "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                                       "form-action 'none'; frame-ancestors 'none'"}


def page_html(token: str, entry: Entry, hall: str, nonce: str, live: str = "sse") -> str:
    """The page with the ticket's state inline; ``live``: "sse" (phone server) or "poll"."""
    return template().render(title=phone_words.TITLE, hall=hall, token=token, etag=entry.etag, nonce=nonce,
                             initial=entry.body.decode().replace("</", "<\\/"), live=live)


def invalid_html() -> str:
    return template().render(title=phone_words.INVALID, token=None, invalid=phone_words.INVALID,
                             invalid_detail=phone_words.INVALID_DETAIL)


def entry_of(result: dict, alert_ahead: int, token: str) -> Entry:
    """An entry made from one ``hall.phone_view`` answer (when no hub runs in this process); its
    ETag is bound to the token, so two tickets never share one even when their pages read alike."""
    body = json.dumps(phone_words.page(result["ticket"], result, alert_ahead), ensure_ascii=False,
                      separators=(",", ":")).encode()
    digest = hashlib.sha256(token.encode() + b"\0" + body).hexdigest()[:24]
    return Entry(body, b"", f'"v-{digest}"', 0)


def rate_params(body: Any) -> dict | None:
    """``hall.rate``'s params from a phone's JSON body, or None when it is not a rating."""
    score, reasons = (body.get("score"), body.get("reasons")) if isinstance(body, dict) else (None, None)
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        return None
    if reasons is not None and (not isinstance(reasons, list) or len(reasons) > 20
                                or not all(isinstance(r, str) and len(r) <= 64 for r in reasons)):
        return None
    return {"score": score, **({"reasons": reasons} if reasons else {})}


class Misses:
    """Unknown tokens per client in a sliding window: ``limit`` per address. With ``limit_64``, an
    IPv6 client is counted under its own address (``limit``) and under its /64 (``limit_64``):
    every phone on a hall's WiFi shares one /64, so one phone's misses must not block the others,
    while a script that walks through the /64's addresses still meets a bound. At most
    ``max_keys`` keys are kept."""

    def __init__(self, limit: int, limit_64: int | None = None, window_s: float = MISS_WINDOW_S,
                 max_keys: int = 20000, clock: Callable[[], float] = time.monotonic):
        self.limit, self.limit_64, self.window_s, self.max_keys, self.clock = limit, limit_64, window_s, max_keys, clock
        self._seen: collections.OrderedDict[str, collections.deque] = collections.OrderedDict()
        self._lock = threading.Lock()  # the main port's pages run in many threads

    def _limits(self, remote: str | None) -> list[tuple[str, int]]:
        keys = addresses.keys(remote, per_device=self.limit_64 is not None)
        return [(keys[0], self.limit)] + ([(keys[1], self.limit_64)] if len(keys) > 1 else [])

    def _recent(self, key: str) -> collections.deque | None:
        times = self._seen.get(key)
        if times is not None:
            cutoff = self.clock() - self.window_s
            while times and times[0] < cutoff:
                times.popleft()
        return times

    def blocked(self, remote: str | None) -> bool:
        """Has this client (its address, or its /64) used up its misses?"""
        with self._lock:
            for key, limit in self._limits(remote):
                times = self._recent(key)
                if times is not None and len(times) >= limit:
                    return True
            return False

    def miss(self, remote: str | None) -> None:
        with self._lock:
            now = self.clock()
            for key, _ in self._limits(remote):
                times = self._recent(key)
                if times is None:
                    times = self._seen[key] = collections.deque()
                    while len(self._seen) > self.max_keys:
                        self._seen.popitem(last=False)
                self._seen.move_to_end(key)
                times.append(now)


def misses_of(link: Any) -> Misses:
    """The one miss count of this hwd-ui process, shared by the phone server and the main port's
    ``/t/`` (an attacker alternating the two gets no more guesses)."""
    misses = link.remembered("phone_misses")
    if misses is None:
        misses = Misses(link.settings.phone_misses, link.settings.phone_misses_per_64)
        link.remember("phone_misses", misses)
    return misses
