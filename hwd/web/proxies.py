"""Who the client is when a reverse proxy (nginx, a county's gateway) stands in front: only a
proxy named in the config is believed. A request from a trusted proxy gets its client address
from ``X-Forwarded-For`` — the rightmost address that is not itself a trusted proxy, since
everything left of what our proxy appended is the client's own word — and its scheme from
``X-Forwarded-Proto`` (so cookies carry ``Secure`` when the proxy speaks TLS). From anyone else
these headers are ignored. Without trusted proxies nothing is rewritten: behind an unnamed proxy
every client looks like the proxy, which is why no address is trusted without configuration."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from hwd.web.addresses import address, in_networks, networks


def client(peer: str | None, forwarded_for: str | None, trusted: list) -> str | None:
    """The client's address, given the peer's, its ``X-Forwarded-For`` and the trusted networks."""
    if not trusted or not forwarded_for or not in_networks(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if address(hop) is None:
            return peer  # not an address: our proxy did not write it, so believe nothing
        if not in_networks(hop, trusted):
            return hop
    return hops[0] if hops else peer


class ProxyFix:
    """WSGI middleware applying ``client`` to ``REMOTE_ADDR`` (the peer kept in
    ``hwd.proxy_peer``) and ``X-Forwarded-Proto`` to ``wsgi.url_scheme``."""

    def __init__(self, app: Callable, trusted: Iterable[str]):
        self.app = app
        self.trusted = networks(trusted)

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        peer = environ.get("REMOTE_ADDR")
        if self.trusted and in_networks(peer, self.trusted):
            environ["hwd.proxy_peer"] = peer
            environ["REMOTE_ADDR"] = client(peer, environ.get("HTTP_X_FORWARDED_FOR"), self.trusted)
            proto = (environ.get("HTTP_X_FORWARDED_PROTO") or "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        return self.app(environ, start_response)


def install(app: Any, trusted: Iterable[str]) -> None:
    """Believe the forwarding headers of ``trusted`` (addresses or networks) in ``app``."""
    trusted = list(trusted)
    if trusted:
        app.wsgi_app = ProxyFix(app.wsgi_app, trusted)
