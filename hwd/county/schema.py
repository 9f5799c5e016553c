"""The county database's schema, versioned as plain SQL: ``MIGRATIONS[n]`` brings version n to
n + 1, recorded in ``schema_version``. Run by ``hwd-central`` at start and by each hall's sink
when it connects (a no-op read when the schema is current), under an advisory lock so sixty halls
reconnecting at once migrate it once.

Why plain SQL and not Alembic: the hall store already versions its SQLite schema the same way
(hwd.hall.store), the schema is a handful of tables written only by this code, and Alembic would
bring SQLAlchemy, a second way to describe tables and an ``alembic.ini`` to install on every
hall PC for nothing the sink needs. Migrations only add; a newer schema than this code knows is
an error, not a guess.

Tables: ``halls`` (one row per hall: its own report of clock, day and outbox backlog), ``records``
(every delivered outbox record, primary key hall + idempotency key: the de-duplication), and
projections kept current from them — ``tickets`` (latest state and times, and the score of its
rating so the tables need no join), ``ticket_events``
(every state change), ``ratings``, ``workorders`` + ``workorder_steps``, ``window_events`` +
``windows``, ``device_events`` + ``devices``. A projection row is only overwritten by a record
with a higher outbox id, so a replayed old record never turns a state back. ``daily_rollup``
(migration 2, hwd.county.rollup): per hall, issue day, window, staff and matter, the counts the
supervision tables add up; the sink rolls again every hall-day a delivery touches. Migration 5:
the locker of the hall's 24-hour area — ``deposits`` (latest state), ``deposit_events`` (every
step), ``locker_alarms`` — each with the policy of migration 3.

Migration 6: ``matter_catalogues``, the matter catalogues (事项目录) hwd-central pushes to a hall
(hwd.county.catalogue); a hall's role reads its own hall's rows only, and writes none.

Migration 3: row-level security. ``hall_roles`` maps each hall's login role to its hall_id
(``hwd-central county add-hall``, hwd.county.roles); ``county_hall()`` is the hall of the role
running the statement; on every table a hall writes, a policy lets a role see and write only
rows whose ``hall_id`` is its own. The tables' owner (hwd-central) is not bound by the policies
and reads every hall; a role without a hall sees and writes nothing.
"""

from __future__ import annotations

from hwd.county import rollup

# the tables a hall's sink wrote when migration 3 put a policy on each (frozen: that migration's SQL)
HALL_TABLES_3 = ("halls", "records", "tickets", "ticket_events", "ratings", "workorders", "workorder_steps",
                 "windows", "window_events", "devices", "device_events", "daily_rollup")
# the 24-hour area's locker (migration 5, with its own policies)
PICKUP_TABLES = ("deposits", "deposit_events", "locker_alarms")
# every table a hall's sink writes, each keyed by hall_id, each with the own_hall policy
HALL_TABLES = HALL_TABLES_3 + PICKUP_TABLES

# county_hall(): the hall of the role running the statement (NULL for any other role). Invoker's
# rights, reading hall_roles through its own policy (a role sees its own row only); the search
# path is fixed and the table named with its schema, so a temporary table called hall_roles
# cannot stand in for the real one. The policies take it as "(SELECT county_hall())": computed
# once per statement, then an index condition like a constant.
_ROW_SECURITY = """
    CREATE TABLE hall_roles (
        role_name text PRIMARY KEY, hall_id text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now());
    ALTER TABLE hall_roles ENABLE ROW LEVEL SECURITY;
    CREATE POLICY own_role ON hall_roles USING (role_name = current_user);
    DO $do$ BEGIN
        EXECUTE format('CREATE FUNCTION county_hall() RETURNS text LANGUAGE sql STABLE '
                       'SET search_path = pg_catalog, %1$I, pg_temp '
                       'AS $f$SELECT hall_id FROM %1$I.hall_roles WHERE role_name = current_user$f$',
                       current_schema());
    END $do$;
"""


def _own_hall(tables: tuple[str, ...]) -> str:
    """Row-level security on ``tables``: a hall's role sees and writes only its own rows."""
    return "".join(f"""
    ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
    CREATE POLICY own_hall ON {t} USING (hall_id = (SELECT county_hall())) WITH CHECK (hall_id = (SELECT county_hall()));
""" for t in tables)


# the locker of each hall's 24-hour area: its deposits (the latest state, and every step), its
# doors' alarms; the policies of migration 3 for each
_PICKUP = """
    CREATE TABLE deposits (
        hall_id text NOT NULL, deposit_id bigint NOT NULL, state text NOT NULL, device text, door integer,
        ticket_id bigint, number text, case_no text, staff text, window_id text, kiosk text, via text,
        created_ts double precision, deposited_ts double precision, picked_ts double precision,
        ended_ts double precision, rec_id bigint NOT NULL, PRIMARY KEY (hall_id, deposit_id));
    CREATE INDEX deposits_waiting ON deposits (hall_id, deposited_ts) WHERE state = 'waiting';
    CREATE TABLE deposit_events (
        hall_id text NOT NULL, rec_id bigint NOT NULL, deposit_id bigint NOT NULL, action text NOT NULL,
        state text, device text, door integer, ts double precision NOT NULL, PRIMARY KEY (hall_id, rec_id));
    CREATE TABLE locker_alarms (
        hall_id text NOT NULL, alarm_id bigint NOT NULL, device text, door integer, kind text NOT NULL,
        deposit_id bigint, raised_ts double precision, cleared_ts double precision, cleared_by text,
        rec_id bigint NOT NULL, PRIMARY KEY (hall_id, alarm_id));
    CREATE INDEX locker_alarms_raised ON locker_alarms (hall_id) WHERE cleared_ts IS NULL;
""" + _own_hall(PICKUP_TABLES)

NAMES_MAX_BYTES = 256 * 1024  # halls.names as JSON text, at most (a hall's ~100 names take ~5 kB)

MIGRATIONS = [
    """
    CREATE TABLE halls (
        hall_id text PRIMARY KEY, name text, tz text, today date, reported_ts double precision,
        received_at timestamptz, lag_at_report_s double precision NOT NULL DEFAULT 0,
        pending integer NOT NULL DEFAULT 0, heartbeat_s real, last_record_id bigint NOT NULL DEFAULT 0,
        first_seen timestamptz NOT NULL DEFAULT now());
    CREATE TABLE records (
        hall_id text NOT NULL, key text NOT NULL, rec_id bigint NOT NULL, kind text NOT NULL, ref text NOT NULL,
        ts double precision NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (hall_id, key));
    CREATE TABLE tickets (
        hall_id text NOT NULL, ticket_id bigint NOT NULL, day date, issued_date date NOT NULL, service text,
        origin_service text, number text, priority text, state text NOT NULL, window_id text, staff text,
        holder text, issued_ts double precision NOT NULL, first_called_ts double precision,
        called_ts double precision, started_ts double precision, finished_ts double precision,
        recalls integer NOT NULL DEFAULT 0, requeues integer NOT NULL DEFAULT 0,
        transfers integer NOT NULL DEFAULT 0, rating_state text, rec_id bigint NOT NULL,
        score integer, rating_excluded boolean NOT NULL DEFAULT false,
        PRIMARY KEY (hall_id, ticket_id));
    -- covering: the supervision tables read only the index (no heap pages of other halls' days)
    CREATE INDEX tickets_hall_date ON tickets (hall_id, issued_date) INCLUDE (window_id, staff, service, state,
        issued_ts, first_called_ts, started_ts, finished_ts, score, rating_excluded);
    CREATE INDEX tickets_open ON tickets (hall_id, issued_date) WHERE state IN ('waiting', 'called', 'serving');
    CREATE TABLE ticket_events (
        hall_id text NOT NULL, action_id bigint NOT NULL, ticket_id bigint NOT NULL, action text NOT NULL,
        state text, window_id text, staff text, ts double precision NOT NULL, PRIMARY KEY (hall_id, action_id));
    CREATE TABLE ratings (
        hall_id text NOT NULL, rating_id bigint NOT NULL, ticket_id bigint, score integer NOT NULL,
        window_id text, staff text, service text, channel text, rated_at timestamptz, rated_date date,
        labels jsonb, excluded boolean NOT NULL DEFAULT false, rec_id bigint NOT NULL,
        PRIMARY KEY (hall_id, rating_id));
    CREATE INDEX ratings_hall_date ON ratings (hall_id, rated_date);
    CREATE TABLE workorders (
        hall_id text NOT NULL, workorder_id bigint NOT NULL, rating_id bigint, state text NOT NULL,
        verdict text, due date, rec_id bigint NOT NULL, PRIMARY KEY (hall_id, workorder_id));
    CREATE INDEX workorders_open ON workorders (hall_id) WHERE state <> 'closed';
    CREATE TABLE workorder_steps (
        hall_id text NOT NULL, step_id bigint NOT NULL, workorder_id bigint NOT NULL, step text NOT NULL,
        from_state text, to_state text, staff text, at timestamptz, PRIMARY KEY (hall_id, step_id));
    CREATE TABLE window_events (
        hall_id text NOT NULL, action_id bigint NOT NULL, window_id text NOT NULL, action text NOT NULL,
        state text NOT NULL, staff text, reason text, ts double precision NOT NULL,
        PRIMARY KEY (hall_id, action_id));
    CREATE TABLE windows (
        hall_id text NOT NULL, window_id text NOT NULL, state text NOT NULL, staff text, reason text,
        since double precision, rec_id bigint NOT NULL, PRIMARY KEY (hall_id, window_id));
    CREATE TABLE device_events (
        hall_id text NOT NULL, rec_id bigint NOT NULL, device text NOT NULL, kind text, state text NOT NULL,
        previous text, detail text, ts double precision NOT NULL, PRIMARY KEY (hall_id, rec_id));
    CREATE TABLE devices (
        hall_id text NOT NULL, device text NOT NULL, kind text, state text NOT NULL, detail text,
        since double precision, rec_id bigint NOT NULL, PRIMARY KEY (hall_id, device));
    """,
    # 2: the daily rollup the supervision tables read (hwd.county.rollup), filled from the tickets there
    rollup.CREATE + ";\n" + rollup.REBUILD,
    # 3: each hall's role sees and writes its own hall's rows only, enforced by PostgreSQL
    _ROW_SECURITY + _own_hall(HALL_TABLES_3),
    # 4: the fleet view: which hwd each hall runs (its sink's report)
    "ALTER TABLE halls ADD COLUMN hwd_version text",
    # 5: the locker of the hall's 24-hour area (deposits, their steps, the doors' alarms), own rows only
    _PICKUP,
    # 6: matter catalogues the county pushes to a hall (hwd.county.catalogue); a hall reads its own only
    """
    CREATE TABLE matter_catalogues (
        hall_id text NOT NULL, id bigserial, name text NOT NULL, format text NOT NULL DEFAULT 'auto',
        body text NOT NULL, pushed_at timestamptz NOT NULL DEFAULT now(), pushed_by text NOT NULL,
        PRIMARY KEY (hall_id, id));
    ALTER TABLE matter_catalogues ENABLE ROW LEVEL SECURITY;
    CREATE POLICY own_hall ON matter_catalogues USING (hall_id = (SELECT county_hall()))
        WITH CHECK (hall_id = (SELECT county_hall()));
    """,
    # 7: the names people read for the hall's ids: {"window"|"service"|"staff"|"device": {id: name}},
    # bounded: a hall writes its own row, and hwd-central reads every hall's on every page
    f"ALTER TABLE halls ADD COLUMN names jsonb CHECK (octet_length(names::text) <= {NAMES_MAX_BYTES})",
]

LOCK_ID = 0x68776463  # "hwdc": one advisory lock for migrations


class SchemaError(Exception):
    """The county database has a newer schema than this hwd knows."""


def version(conn) -> int:
    row = conn.execute("SELECT to_regclass('schema_version')").fetchone()
    if row[0] is None:
        return 0
    return conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]


def migrate(conn) -> int:
    """Bring the database to the newest schema; returns the version. ``conn`` is a psycopg
    connection in autocommit or idle state; each step is one transaction."""
    if version(conn) == len(MIGRATIONS):
        return len(MIGRATIONS)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, "
                     "applied_at timestamptz NOT NULL DEFAULT now())")
        current = version(conn)
        if current > len(MIGRATIONS):
            raise SchemaError(f"the county database has schema {current}; this hwd knows {len(MIGRATIONS)}: upgrade hwd")
        for n in range(current, len(MIGRATIONS)):
            conn.execute(MIGRATIONS[n])
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (n + 1,))
    return len(MIGRATIONS)
