"""The county's channel for matter catalogues (事项目录): hwd-central stores a catalogue file per
hall in the county database (``matter_catalogues``, under the halls' row-level security), and a
hall fetches the latest one over its own ``[hall.central]`` link to preview and import it
(``config.county_matters``; docs/central.md and docs/hall.md). The file is kept as the province
published it; the hall reads it with hwd.catalogue, so a bad one is refused at the hall, row by row.
"""

from __future__ import annotations

import logging
from typing import Any

from hwd import catalogue
from hwd.county.sink import connect

log = logging.getLogger("hwd.county.catalogue")

MAX_BYTES = 4 * 1024 * 1024


def push(conn: Any, hall_id: str, text: str, name: str, by: str, fmt: str = "auto") -> int:
    """Store a catalogue for ``hall_id`` (as hwd-central's role); checked here first, so a hall
    never gets one it cannot read. Returns its id."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise catalogue.CatalogueError(f"the catalogue is over {MAX_BYTES} bytes")
    matters = catalogue.parse(text, fmt)
    known = conn.execute("SELECT 1 FROM halls WHERE hall_id = %s UNION SELECT 1 FROM hall_roles WHERE hall_id = %s",
                         (hall_id, hall_id)).fetchone()
    if known is None:
        raise catalogue.CatalogueError(f"no hall {hall_id!r} in the county database (hwd-central county add-hall)")
    row = conn.execute("INSERT INTO matter_catalogues (hall_id, name, format, body, pushed_by) "
                       "VALUES (%s, %s, %s, %s, %s) RETURNING id", (hall_id, name, fmt, text, by)).fetchone()
    log.info("hall %s: matter catalogue %d (%s, %d matters) pushed by %s", hall_id, row[0], name, len(matters), by)
    return row[0]


def latest(dsn: str, connect_timeout_s: int = 5) -> dict | None:
    """The newest catalogue the county pushed to this hall (its role sees its own rows only)."""
    with connect(dsn, connect_timeout_s) as conn:
        row = conn.execute("SELECT id, name, format, body, pushed_at, pushed_by FROM matter_catalogues "
                           "ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    return {"id": row[0], "name": row[1], "format": row[2], "body": row[3],
            "pushed_at": row[4].isoformat(timespec="seconds"), "pushed_by": row[5]}
