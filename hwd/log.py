"""Logging set-up: stderr, journald-friendly, with personal data masked.

Under systemd (JOURNAL_STREAM set) lines carry a ``<N>`` syslog priority prefix and no
timestamp, since journald adds both. The masking filter is a second line of defence: drivers
never log card data, but anything shaped like a Chinese ID number is masked all the same.
"""

from __future__ import annotations

import logging
import os
import re
import sys

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
             logging.CRITICAL: 2}


def mask_id_numbers(text: str) -> str:
    """``110101199003071234`` → ``110101********1234``."""
    return _ID_NUMBER.sub(lambda m: m.group(1) + "*" * 8 + m.group(3)[-4:], text)


class MaskingFilter(logging.Filter):
    """Rewrites a record's message so no ID number reaches any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_id_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prefix = f"<{_PRIORITY.get(record.levelno, 6)}>"
        return "\n".join(prefix + line for line in text.splitlines())


def setup(level: str = "info", stream=None) -> None:
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class DeviceLog(logging.LoggerAdapter):
    """Prefixes every line with the device, Klipper style: ``printer 'k1-printer': ...``."""

    def process(self, msg, kwargs):
        return f"{self.extra['kind']} '{self.extra['device']}': {msg}", kwargs
