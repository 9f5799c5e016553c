"""The ``[hall.central]`` table: where this hall streams its records for the county (a libpq
connection string, TLS options included) and the id it is known by there. Absent → None, and
the hall behaves exactly as before (no records are written for the county)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hwd.schema import Field, check_table

HALL_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def check_dsn(value: str) -> str | None:
    """Why ``value`` is not a libpq connection string, or None (also for hwd-central's own dsn)."""
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        return None  # checked again at start, with a clear message, when psycopg is missing
    try:
        conninfo_to_dict(value)
    except Exception as exc:  # psycopg.ProgrammingError: the libpq parser's message
        return f"not a libpq connection string: {str(exc).strip()}"
    return None


CENTRAL_FIELDS = (
    Field("dsn", str, check=check_dsn, doc="libpq connection string of the county database, e.g. \"host=county.example "
                                      "dbname=county user=hall_zhouzhi sslmode=verify-full sslrootcert=/etc/hwd/county-ca.pem\""),
    Field("hall_id", str, check=lambda v: None if HALL_ID_RE.fullmatch(v) else "1-64 letters, digits, '_', '.' or '-'",
          doc="this hall's id in the county database (unique per county)"),
    Field("heartbeat_s", float, 30.0, min=0.2, max=3600,
          doc="how often the hall reports its clock, day and outbox backlog to the county"),
    Field("connect_timeout_s", int, 5, min=1, max=120, doc="libpq connect_timeout when the dsn has none"),
    Field("retry_s", float, 5.0, min=0.05, max=3600, doc="first retry after the county could not be reached; doubles"),
    Field("retry_max_s", float, 60.0, min=0.05, max=86400,
          doc="cap of the retry delay: how long a hall may wait after the link is back"),
)


@dataclass
class Central:
    dsn: str
    hall_id: str
    heartbeat_s: float = 30.0
    connect_timeout_s: int = 5
    retry_s: float = 5.0
    retry_max_s: float = 60.0


def load_central(raw: Any, path: tuple, problems: Any) -> Central | None:
    if raw is None:
        return None
    v = check_table(raw, CENTRAL_FIELDS, path, problems)
    if "dsn" not in v or "hall_id" not in v:
        return None
    return Central(**v)
