"""Who may write what in the county database: one PostgreSQL login role per hall.

A stolen township PC holds its hall's database login; it must not be able to touch another
hall's served counts or 差评, which feed staff appraisal. So each hall gets its own role
(``hwd-central county add-hall ID``), a member of the group role ``hwd_halls``. The group holds
exactly the table privileges the ``central`` sink uses (``GRANTS``: no TRUNCATE, which row-level
security does not cover, no DELETE but on the daily rollup the sink rolls again, no DDL), and
schema migration 3 puts a row-level security policy on every table: a role sees and writes only
the rows of the hall ``hall_roles`` maps it to. PostgreSQL enforces it, whatever SQL arrives.

Run as hwd-central's role: the owner of the tables (it grants on them) with CREATEROLE (it makes
the halls' roles). The password is made here and sent to the server only as a SCRAM verifier.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from hwd.county import schema
from hwd.hall.config.central import HALL_ID_RE

log = logging.getLogger("hwd.county.roles")

GROUP = "hwd_halls"
ROLE_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
CONNECTION_LIMIT = 8  # a hall's sink holds one connection; a compromised hall cannot take the county's all

# what the sink does, table by table (hwd.county.sink, ingest, rollup): upserts need SELECT for
# their conflict keys and rec_id guard, RETURNING needs SELECT, the rollup is deleted and re-rolled
GRANTS = {
    "schema_version": "SELECT",
    "hall_roles": "SELECT",
    "halls": "SELECT, INSERT, UPDATE",
    "records": "SELECT, INSERT",
    "tickets": "SELECT, INSERT, UPDATE",
    "ticket_events": "INSERT",
    "ratings": "SELECT, INSERT, UPDATE",
    "workorders": "SELECT, INSERT, UPDATE",
    "workorder_steps": "INSERT",
    "windows": "SELECT, INSERT, UPDATE",
    "window_events": "INSERT",
    "devices": "SELECT, INSERT, UPDATE",
    "device_events": "INSERT",
    "daily_rollup": "SELECT, INSERT, DELETE",
    "deposits": "SELECT, INSERT, UPDATE",
    "deposit_events": "INSERT",
    "locker_alarms": "SELECT, INSERT, UPDATE",
    "matter_catalogues": "SELECT",  # the county's pushes; the hall reads its own (hwd.county.catalogue)
}


class RoleError(Exception):
    """add-hall / remove-hall cannot do what was asked (the message says why)."""


def default_role(hall_id: str) -> str:
    """``hall_`` and the hall id in lower case, other characters as ``_``."""
    return "hall_" + re.sub(r"[^a-z0-9_]", "_", hall_id.lower())


def group_exists(conn: Any) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (GROUP,)).fetchone() is not None


def grant(conn: Any) -> None:
    """Give the group exactly ``GRANTS`` (whatever it held before is revoked first), in one
    transaction. hwd-central does this at start too, so a table a migration adds is covered."""
    from psycopg import sql

    with conn.transaction():
        for table, privileges in GRANTS.items():
            conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(sql.Identifier(table), sql.Identifier(GROUP)))
            conn.execute(sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(privileges), sql.Identifier(table),
                                                                sql.Identifier(GROUP)))


def ensure_group(conn: Any) -> None:
    from psycopg import sql

    if not group_exists(conn):
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(GROUP)))
        log.info("county: created the group role %s", GROUP)
    grant(conn)


def add_hall(conn: Any, hall_id: str, role: str | None = None, name: str | None = None) -> tuple[str, str]:
    """A login role for ``hall_id`` in ``hwd_halls``, mapped to that hall; returns (role, password).
    ``conn``: autocommit, as hwd-central's role."""
    from psycopg import errors, sql

    if not HALL_ID_RE.fullmatch(hall_id):
        raise RoleError(f"hall id {hall_id!r}: 1-64 letters, digits, '_', '.' or '-'")
    role = role or default_role(hall_id)
    if not ROLE_RE.fullmatch(role):
        raise RoleError(f"role {role!r}: 1-63 lower-case letters, digits or '_', not starting with a digit "
                        "(choose one with --role)")
    schema.migrate(conn)
    ensure_group(conn)
    password = secrets.token_urlsafe(24)
    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    try:
        with conn.transaction():
            taken = conn.execute("SELECT role_name FROM hall_roles WHERE hall_id = %s", (hall_id,)).fetchone()
            if taken:
                raise RoleError(f"hall {hall_id!r} already has the role {taken[0]} (remove-hall first to replace it)")
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN CONNECTION LIMIT {} PASSWORD {} IN ROLE {}").format(
                sql.Identifier(role), sql.Literal(CONNECTION_LIMIT), sql.Literal(verifier), sql.Identifier(GROUP)))
            conn.execute("INSERT INTO hall_roles (role_name, hall_id) VALUES (%s, %s)", (role, hall_id))
            conn.execute("INSERT INTO halls (hall_id, name) VALUES (%s, %s) ON CONFLICT (hall_id) DO UPDATE "
                         "SET name = COALESCE(EXCLUDED.name, halls.name)", (hall_id, name))
    except errors.DuplicateObject:
        raise RoleError(f"a role {role} exists already in this PostgreSQL (choose another with --role)") from None
    except errors.InsufficientPrivilege as exc:
        raise RoleError(f"hwd-central's role may not do this: {str(exc).strip()} (it needs CREATEROLE and to own "
                        "the county tables: see docs/central.md)") from None
    log.info("county: hall %s may write its rows as role %s", hall_id, role)
    return role, password


def remove_hall(conn: Any, hall_id: str) -> tuple[str, bool]:
    """Take the hall's role away: first (committed) its hall, its login and its membership of
    ``hwd_halls`` — a session it still has open can read and write nothing from its next
    statement on — then drop the role. Returns (role, dropped): a role that still owns something
    (a temporary table of an open session) cannot be dropped yet and stays, disabled. The hall's
    rows stay."""
    from psycopg import errors, sql

    with conn.transaction():
        row = conn.execute("DELETE FROM hall_roles WHERE hall_id = %s RETURNING role_name", (hall_id,)).fetchone()
        if row is None:
            raise RoleError(f"hall {hall_id!r} has no role in this county database")
        role = sql.Identifier(row[0])
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (row[0],)).fetchone():
            conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(role))
            conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(GROUP), role))
    try:
        with conn.transaction():
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role))
    except errors.DependentObjectsStillExist as exc:
        log.warning("county: role %s of hall %s disabled but not dropped: %s", row[0], hall_id, str(exc).strip())
        return row[0], False
    log.info("county: role %s of hall %s dropped", row[0], hall_id)
    return row[0], True


def list_halls(conn: Any) -> list[dict]:
    """Every hall the county knows: its role (None: it has none, it can deliver nothing), name,
    and whether the role may log in."""
    rows = conn.execute(
        "SELECT h.hall_id, r.role_name, h.name, p.rolcanlogin, h.received_at FROM halls h "
        "FULL JOIN hall_roles r ON r.hall_id = h.hall_id LEFT JOIN pg_roles p ON p.rolname = r.role_name "
        "ORDER BY 1").fetchall()
    return [{"hall_id": h or "?", "role": r, "name": n, "login": bool(c), "last_report": t}
            for h, r, n, c, t in rows]


def hall_dsn(host: str, port: int | str | None, dbname: str, role: str, password: str,
             sslmode: str = "verify-full", sslrootcert: str | None = "/etc/hwd/county-ca.pem") -> str:
    """The libpq string for a hall's ``[hall.central] dsn``: the county database as the halls
    reach it, the hall's role and password, TLS verifying the county's certificate."""
    from psycopg.conninfo import make_conninfo

    parts = {"host": host, "port": port, "dbname": dbname, "user": role, "password": password, "sslmode": sslmode}
    if sslrootcert and sslmode in ("verify-ca", "verify-full"):
        parts["sslrootcert"] = sslrootcert
    return make_conninfo(**{k: str(v) for k, v in parts.items() if v is not None})
