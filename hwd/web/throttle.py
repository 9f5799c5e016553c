"""A password or PIN check behind the login policy (hwd.lockout.LoginThrottle), for the web
apps' own logins (hwd-ui's admin password and kiosk exit PIN, hwd-central's supervisors'
password; the clerks' PINs are checked by the hall engine with the same policy).

The attempt is counted **before** the check runs, so thirty guesses sent at once get at most
``failures`` checks. Every refused, failed and accepted attempt is an audit line (hwd.audit),
without the secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask, current_app, request

from hwd.audit import AUDIT
from hwd.lockout import LOGIN_FAILURES, LOGIN_LOCK_S, LoginThrottle
from hwd.web.addresses import key

EXTENSION = "hwd_web_throttles"


@dataclass(frozen=True)
class Attempt:
    ok: bool
    wait_s: float = 0.0  # > 0: refused without checking, for this long

    @property
    def locked(self) -> bool:
        return self.wait_s > 0


def install(app: Flask, failures: int = LOGIN_FAILURES, lock_s: float = LOGIN_LOCK_S) -> None:
    app.extensions[EXTENSION] = {"failures": failures, "lock_s": lock_s, "throttles": {}}


def throttle(name: str) -> LoginThrottle:
    """This app's throttle ``name`` ("admin", "kiosk-exit", "supervisor"), made on first use."""
    table = current_app.extensions[EXTENSION]
    found = table["throttles"].get(name)
    if found is None:
        found = table["throttles"].setdefault(name, LoginThrottle(table["failures"], table["lock_s"]))
    return found


def attempt(name: str, account: str, verify: Callable[[], bool], what: str, exempt: bool = False) -> Attempt:
    """Run ``verify()`` for ``account`` from this request's address if the policy allows.
    ``what`` names the secret in audit lines ("admin password", "kiosk PIN at k1"); ``exempt``:
    the address is one of the hall's configured machines (not behind the shared backstop)."""
    remote = request.remote_addr or "?"
    source = key(remote)
    lock = throttle(name)
    keys, wait = lock.begin(account, source, backstop=not exempt)
    if wait > 0:
        AUDIT.warning(f"{name}-locked:{account}:{source}", "%s from %s refused: locked for %.0f s", what, remote, wait)
        return Attempt(False, wait)
    try:
        ok = bool(verify())
    except BaseException:
        lock.abandoned(keys)
        raise
    if ok:
        lock.succeeded(keys)
        AUDIT.info("%s accepted from %s", what, remote)
        return Attempt(True)
    lock.failed(keys)
    AUDIT.warning(f"{name}-failed:{account}:{source}", "wrong %s from %s", what, remote)
    return Attempt(False)
