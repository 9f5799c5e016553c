"""Where a login may send the browser afterwards (``?next=``): only a path of this site under
the app's prefix. Browsers drop tabs and newlines from URLs and read ``\\`` as ``/``, so
``/\\t/evil.example``, ``/\\evil.example`` and ``//evil.example`` all leave the site; any
control character, whitespace, backslash or non-ASCII character, a scheme or a host makes the
target refused."""

from __future__ import annotations

import urllib.parse

MAX_LENGTH = 2048


def safe_target(target: str | None, default: str, prefix: str = "/") -> str:
    """``target`` when it is a local path under ``prefix``, else ``default``."""
    if not target or len(target) > MAX_LENGTH or not target.startswith("/") or target.startswith("//"):
        return default
    if any(not 0x21 <= ord(c) <= 0x7e or c == "\\" for c in target):
        return default
    parts = urllib.parse.urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    path = parts.path
    base = prefix.rstrip("/")
    if base and path != base and not path.startswith(base + "/"):
        return default
    return target
