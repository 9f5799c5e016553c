"""Audit lines for security events (logins and their failures, logouts, ended sessions, admin
actions, refused CURVE clients, card-data calls), and the file that keeps them for the assessor.

Failures are rate-limited per key so that an attacker cannot flood the journal or the disk: the
first event of a key is logged at once, later ones at most every ``interval_s`` with the number
suppressed meanwhile. Successes, logouts and admin actions need a login and are all logged.

GB/T 22239-2019 (安全审计) wants these lines kept at least six months; the journal keeps what
its size allows. So each process (hwd, hwd-ui, hwd-central) also writes them to a file of its own
per day, ``DIR/NAME-YYYY-MM-DD.log`` (``to_file``), and keeps the newest ``keep_days`` files
(180 by default): one file per day it ran, so 180 files cover at least 180 days, and a clock that
jumps years ahead deletes one old file, not half a year of them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("hwd.audit")
MAX_KEYS = 10000
KEEP_DAYS = 180


class RateLimitedLog:
    def __init__(self, logger: logging.Logger = log, interval_s: float = 60.0):
        self.logger = logger
        self.interval_s = interval_s
        self._last: dict[str, list] = {}  # key -> [monotonic of last line, suppressed since]
        self._lock = threading.Lock()

    def warning(self, key: str, message: str, *args: object) -> bool:
        """Log ``message % args`` unless ``key`` was logged within ``interval_s``; True if logged."""
        return self.log(logging.WARNING, key, message, *args)

    def log(self, level: int, key: str, message: str, *args: object) -> bool:
        """``warning`` at another level (e.g. INFO for an allowed card-data call)."""
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
        self.logger.log(level, message, *args)
        return True

    def info(self, message: str, *args: object) -> None:
        """An event only a logged-in user or the right secret causes (a login, a logout, an
        admin action): always logged."""
        self.logger.info(message, *args)


AUDIT = RateLimitedLog()


class DailyFiles(logging.Handler):
    """``DIRECTORY/NAME-YYYY-MM-DD.log`` by the day of each record in ``tz`` (0640, the directory
    0750); when a new day's file is opened, all but the newest ``keep`` such files are deleted
    (never the one being written)."""

    def __init__(self, directory: Path, name: str, keep: int = KEEP_DAYS, tz: dt.tzinfo | None = None):
        super().__init__(logging.INFO)
        self.directory, self.name, self.keep, self.tz = Path(directory), name, keep, tz
        self._pattern = re.compile(re.escape(name) + r"-\d{4}-\d{2}-\d{2}\.log")
        self._day: str | None = None
        self._stream: Any = None
        self.directory.mkdir(mode=0o750, parents=True, exist_ok=True)

    def path_for(self, day: str) -> Path:
        return self.directory / f"{self.name}-{day}.log"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            when = dt.datetime.fromtimestamp(record.created, self.tz).astimezone(self.tz)
            day = when.strftime("%Y-%m-%d")
            if day != self._day:
                self._open(day)
            self._stream.write(f"{when.isoformat(timespec='seconds')} {self.name} {record.levelname} "
                               f"{record.getMessage()}\n")
            self._stream.flush()
        except Exception:
            self.handleError(record)

    def _open(self, day: str) -> None:
        if self._stream is not None:
            self._stream.close()
        fd = os.open(self.path_for(day), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self._stream = os.fdopen(fd, "a", encoding="utf-8")
        self._day = day
        self._prune()

    def _prune(self) -> None:
        files = sorted(p for p in self.directory.iterdir() if self._pattern.fullmatch(p.name))
        current = self.path_for(self._day or "")
        for old in [p for p in files if p != current][:max(0, len(files) - self.keep)]:
            try:
                old.unlink()
            except OSError as exc:
                log.warning("audit file %s could not be deleted: %s", old, exc)

    def close(self) -> None:
        with self.lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
                self._day = None
        super().close()


_files: dict[str, DailyFiles] = {}
_files_lock = threading.Lock()


def to_file(directory: Path | str, name: str, keep_days: int = KEEP_DAYS, tz: dt.tzinfo | None = None) -> \
        DailyFiles | None:
    """Keep this process's audit lines in ``directory`` as ``name``-DAY.log (``DailyFiles``);
    called again with the same ``name``, the new directory replaces the old. None (and a warning)
    when the directory cannot be made: the lines still reach the journal."""
    try:
        handler = DailyFiles(Path(directory), name, keep_days, tz)
    except OSError as exc:
        log.warning("no audit file in %s: %s (audit lines go to the journal only)", directory, exc)
        return None
    with _files_lock:
        old = _files.pop(name, None)
        if old is not None:
            log.removeHandler(old)
            old.close()
        _files[name] = handler
        log.addHandler(handler)
        if log.level == logging.NOTSET or log.level > logging.INFO:
            log.setLevel(logging.INFO)  # logins are kept even with --log-level warning
    return handler
