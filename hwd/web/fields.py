"""The keys both web apps' sections have for their logins (``[ui]`` of the hall, ``[central]`` of
the county): how long a session lasts (hwd.web.sessions) and the login policy (hwd.web.throttle),
declared once with their defaults. No Flask here: the sections are checked without it."""

from __future__ import annotations

from hwd.lockout import LOGIN_FAILURES, LOGIN_LOCK_S
from hwd.schema import Field


def login_keys(secrets: str) -> tuple[Field, ...]:
    """``session_hours``, ``session_idle_s``, ``login_failures``, ``login_lock_s`` for an app whose
    logins check ``secrets`` (named in the docs)."""
    return (
        Field("session_hours", float, 12.0, min=0.1, max=720, doc="a login lasts at most this long"),
        Field("session_idle_s", int, 600, min=1, max=86400,
              doc="a login unused this long ends (等保: 10 min); requests the page makes by itself do not count"),
        Field("login_failures", int, LOGIN_FAILURES, min=1, max=100,
              doc=f"wrong tries of one account from one address before it is refused ({secrets})"),
        Field("login_lock_s", int, int(LOGIN_LOCK_S), min=1, max=86400,
              doc="how long that account is then refused from that address, after each further failure"),
    )
