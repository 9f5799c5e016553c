"""A real PostgreSQL for the county tests: one throw-away server per test session (initdb +
pg_ctl in a temporary directory, hwd.county.localpg), a fresh database per test, set up as
docs/central.md says a county is: hwd-central's role ``hwd_central`` (LOGIN CREATEROLE) owns the
database, and halls get their roles from ``hwd-central county add-hall`` (the ``county`` fixture).

When PostgreSQL or psycopg is missing the tests SKIP and say what to install — never pass
silently. `make sysdeps` installs Debian's postgresql; `make venv` installs psycopg[binary]."""

from __future__ import annotations

import itertools
import subprocess
import sys
import urllib.error

import pytest

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("county tests need psycopg 3: pip install -e '.[central]' (make venv does)")
    from hwd.county.localpg import LocalPostgres, Unavailable

    try:
        server = LocalPostgres()  # under /tmp: the postgres user must reach it (pytest's tmp is 0700)
    except Unavailable as exc:
        pytest.skip(f"county tests need PostgreSQL: {exc}")
    try:
        server.start()
        from county_helpers import documented_server

        documented_server(server)
        yield server
    finally:
        server.destroy()


@pytest.fixture
def pg(pg_server):
    """A new, empty database on the session's server, owned by hwd-central's role as
    docs/central.md creates it; yields the scratch superuser's dsn to it (to look inside)."""
    from county_helpers import documented_database

    yield documented_database(pg_server, f"t{next(_counter)}")


@pytest.fixture
def county(tmp_path, pg, pg_server):
    """The county as docs/central.md sets it up: hwd-central's config (its role, hwd_central) and
    ``county.add_hall(ID)`` running ``hwd-central county add-hall ID``, which returns the hall's
    dsn (its own role and password, over TCP). The halls' roles are dropped afterwards (roles
    belong to the whole server, and the next test's halls may have the same ids)."""
    from county_helpers import County

    c = County(tmp_path, pg, pg_server)
    yield c
    c.drop_roles()


@pytest.fixture
def central(tmp_path, county):
    """A running ``hwd-central --config FILE --port P`` (the county fixture's config); yields its base URL."""
    from county_helpers import get
    from support.waits import wait_for
    from hwd.county.localpg import free_port

    port = free_port()
    log = open(tmp_path / "central.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "central.cli", "--config", county.config,
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: get(base, "/api/halls") is not None, 30, "hwd-central up",
                 tolerate=(OSError, urllib.error.URLError))
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


