"""Security headers on every response of a web app: no MIME sniffing, no referrer leaving the
page, a Content-Security-Policy that loads nothing from elsewhere (the hall's and the county's
intranets may be offline, and an injected tag must not run or send anything out), framing only
as the app allows, and ``Cache-Control: no-store`` where pages behind a login must not stay in a
browser's cache after logout."""

from __future__ import annotations

from typing import Any, Callable

from flask import Flask


def policy(scripts: bool, framing: str) -> str:
    """The Content-Security-Policy: ``scripts`` from this origin or none; ``framing`` is
    ``'self'`` or ``'none'``."""
    script_src = "'self'" if scripts else "'none'"
    return (f"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src {script_src}; "
            f"frame-ancestors {framing}; base-uri 'self'; form-action 'self'")


def install(app: Flask, scripts: bool, framing: str = "'none'",
            no_store: Callable[[], bool] | None = None) -> None:
    csp = policy(scripts, framing)
    frame_options = "SAMEORIGIN" if framing == "'self'" else "DENY"

    @app.after_request
    def _headers(resp: Any) -> Any:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("Content-Security-Policy", csp)
        resp.headers.setdefault("X-Frame-Options", frame_options)
        if no_store is not None and no_store():
            resp.headers["Cache-Control"] = "no-store"
        return resp
