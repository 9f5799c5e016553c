"""Audit lines for security events (failed logins, refused CURVE clients, card-data calls),
rate-limited per key so that an attacker cannot flood the journal: the first event of a key is
logged at once, later ones at most every ``interval_s`` with the number suppressed meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("hwd.audit")
MAX_KEYS = 10000


class RateLimitedLog:
    def __init__(self, logger: logging.Logger = log, interval_s: float = 60.0):
        self.logger = logger
        self.interval_s = interval_s
        self._last: dict[str, list] = {}  # key -> [monotonic of last line, suppressed since]
        self._lock = threading.Lock()

    def warning(self, key: str, message: str, *args: object) -> bool:
        """Log ``message % args`` unless ``key`` was logged within ``interval_s``; True if logged."""
        now = time.monotonic()
        with self._lock:
            entry = self._last.get(key)
            if entry is not None and now - entry[0] < self.interval_s:
                entry[1] += 1
                return False
            suppressed = entry[1] if entry is not None else 0
            if entry is None and len(self._last) >= MAX_KEYS:
                self._last.pop(next(iter(self._last)))
            self._last[key] = [now, 0]
        if suppressed:
            message += " (%d more like this suppressed)"
            args = args + (suppressed,)
        self.logger.warning(message, *args)
        return True


AUDIT = RateLimitedLog()
