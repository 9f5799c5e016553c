"""Login throttling, one engine under every login: the clerks' PINs (hall.login, hall.desk_login),
hwd-ui's admin password and kiosk exit PIN, hwd-central's supervisors' password.

``Lockout`` counts attempts **before** the check runs, so 200 guesses sent at once get at most
``free`` checks, not 200. Each key has its own count: after ``free`` failures a key waits
``base_s``, then twice that after the next failure, up to ``max_s``. A success clears the keys
it used. Keys untouched for ``forget_s`` are forgotten and at most ``max_keys`` are held (the
oldest that have not used their free attempts go first, so a flood of fresh keys cannot push out
a locked one), so the table cannot be grown without bound.

A key may have limits of its own (``limits``, by exact key or by a prefix ending in ``*``).

``LoginThrottle`` is the policy every login uses (hwd-ui's admin password and kiosk exit PIN,
the clerks' PINs in the hall engine, hwd-central's supervisors' password), after GB/T 22239-2019
身份鉴别: ``failures`` wrong tries (5) of one account from one source, then that pair is refused
for ``lock_s`` (5 min) after each further failure — so a stranger on another machine never locks
the real user out of his own. Beside that pair, each source counts under its own key (4 ×
``failures`` across all accounts: a script trying many accounts), and a source that is not one
of the hall's configured machines also under one backstop key shared by all such sources (50 free
failures, then 1 s doubling to 30 s in all: a script walking through many addresses).
"""

from __future__ import annotations

import collections
import math
import threading
import time
from dataclasses import dataclass
from typing import Callable


@dataclass
class _Entry:
    count: int = 0        # failures plus checks running now
    until: float = 0.0    # no attempt before this (monotonic): ``locked`` or a running check's hold
    locked: float = 0.0   # what the failures alone impose
    seen: float = 0.0


class Lockout:
    def __init__(self, free: int = 5, base_s: float = 2.0, max_s: float = 900.0, forget_s: float = 3600.0,
                 max_keys: int = 20000, clock: Callable[[], float] = time.monotonic,
                 limits: dict[str, dict] | None = None):
        self.free, self.base_s, self.max_s, self.forget_s = free, base_s, max_s, forget_s
        table = {key: (v.get("free", free), v.get("base_s", base_s), v.get("max_s", max_s))
                 for key, v in (limits or {}).items()}
        self.limits = {k: v for k, v in table.items() if not k.endswith("*")}
        self.prefix_limits = [(k[:-1], v) for k, v in table.items() if k.endswith("*")]
        self.max_keys = max_keys
        self.clock = clock
        self._entries: collections.OrderedDict[str, _Entry] = collections.OrderedDict()
        self._lock = threading.Lock()

    def _limit(self, key: str | None) -> tuple[int, float, float]:
        found = self.limits.get(key)
        if found is None and key is not None:
            found = next((v for prefix, v in self.prefix_limits if key.startswith(prefix)), None)
        return found or (self.free, self.base_s, self.max_s)

    def backoff(self, count: int, key: str | None = None) -> float:
        """Seconds to wait after ``count`` failures (0 while within ``free``) of ``key``."""
        free, base_s, max_s = self._limit(key)
        over = count - free
        if over < 0:
            return 0.0
        return min(max_s, base_s * math.pow(2, min(over, 30)))

    def begin(self, *keys: str) -> float:
        """Reserve an attempt for every key: 0.0 if the check may run now (call ``failed`` or
        ``succeeded`` after it), else the seconds to wait (nothing reserved)."""
        now = self.clock()
        with self._lock:
            self._forget(now)
            entries = [self._entries.get(k) or _Entry() for k in keys]
            wait = max((e.until - now for e in entries), default=0.0)
            if wait > 0:
                for key in keys:  # a refused attempt keeps its keys fresh (last out of the table)
                    if key in self._entries:
                        self._entries[key].seen = now
                        self._entries.move_to_end(key)
                return wait
            for key, entry in zip(keys, entries):
                entry.count += 1
                entry.seen = now
                pause = self.backoff(entry.count, key)
                if pause:  # past the free attempts: this check runs, concurrent ones wait
                    entry.until = now + pause
                self._entries[key] = entry
                self._entries.move_to_end(key)
            self._evict()
            return 0.0

    def _evict(self) -> None:
        """Over ``max_keys``, drop first the oldest keys that have not used their free attempts,
        so a flood of fresh keys (one cheap attempt each) cannot push a locked key out and give
        its guesses back; only when every key is past its free attempts does the oldest go."""
        while len(self._entries) > self.max_keys:
            victim = next((k for k, e in self._entries.items() if e.count < self._limit(k)[0]), None)
            del self._entries[victim if victim is not None else next(iter(self._entries))]

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                entry = self._entries.get(key)
                if entry is not None:
                    entry.locked = max(entry.locked, now + self.backoff(entry.count, key))
                    entry.until = max(entry.until, entry.locked)

    def release(self, *keys: str) -> None:
        """Give back the attempt ``begin`` reserved, without clearing the keys' failures (a
        success counted under a shared key: it was not a failure, nor does it vouch for the
        others); the hold that attempt put on the keys goes with it."""
        with self._lock:
            for key in keys:
                entry = self._entries.get(key)
                if entry is not None and entry.count > 0:
                    entry.count -= 1
                    entry.until = entry.locked

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def waiting(self, key: str) -> float:
        with self._lock:
            entry = self._entries.get(key)
            return max(0.0, entry.until - self.clock()) if entry else 0.0

    def _forget(self, now: float) -> None:
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if now - entry.seen < self.forget_s:
                break
            self._entries.popitem(last=False)


LOGIN_FAILURES = 5     # wrong tries of one account from one source before it is refused
LOGIN_LOCK_S = 300.0   # refused for this long after each failure past them
SOURCE_FACTOR = 4      # a source may fail this many times as often, over all accounts
BACKSTOP_KEY = "anywhere"
BACKSTOP = dict(free=50, base_s=1.0, max_s=30.0)  # past 50 such failures, one guess per ≤ 30 s in all


class LoginThrottle:
    """The login policy (module docstring) over one ``Lockout``. ``source`` is what a
    per-address limit counts (hwd.web.addresses.key: the address, an IPv6 /64); ``backstop`` is
    False for the hall's configured machines and this PC, which a spray from elsewhere must not
    slow down."""

    def __init__(self, failures: int = LOGIN_FAILURES, lock_s: float = LOGIN_LOCK_S,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 20000):
        self.failures, self.lock_s = failures, lock_s
        self.lockout = Lockout(free=failures, base_s=lock_s, max_s=lock_s, forget_s=max(3600.0, 4 * lock_s),
                               max_keys=max_keys, clock=clock,
                               limits={"source:*": dict(free=failures * SOURCE_FACTOR), BACKSTOP_KEY: BACKSTOP})

    @staticmethod
    def keys(account: str, source: str, backstop: bool) -> tuple[str, ...]:
        pair = f"login:{account}@{source}"
        return (pair, f"source:{source}", BACKSTOP_KEY) if backstop else (pair, f"source:{source}")

    def begin(self, account: str, source: str, backstop: bool) -> tuple[tuple[str, ...], float]:
        """Reserve an attempt before checking: (its keys, 0.0), or (keys, seconds to wait) when
        refused (nothing reserved). Then call ``failed``, ``succeeded`` or ``abandoned``."""
        keys = self.keys(account, source, backstop)
        return keys, self.lockout.begin(*keys)

    def failed(self, keys: tuple[str, ...]) -> None:
        self.lockout.failed(*keys)

    def succeeded(self, keys: tuple[str, ...]) -> None:
        """The pair's failures are cleared; the source and the backstop only get the attempt
        back (a success does not vouch for the other accounts tried from there)."""
        self.lockout.succeeded(keys[0])
        self.lockout.release(*keys[1:])

    def abandoned(self, keys: tuple[str, ...]) -> None:
        """The check did not run to an answer (an error): the attempt is given back."""
        self.lockout.release(*keys)

    def waiting(self, account: str, source: str) -> float:
        return self.lockout.waiting(f"login:{account}@{source}")
