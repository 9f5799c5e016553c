"""A real PostgreSQL for the county tests: one throw-away server per test session (initdb +
pg_ctl in a temporary directory, hwd.county.localpg), a fresh database per test.

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
        yield server
    finally:
        server.destroy()


@pytest.fixture
def pg(pg_server):
    """A new, empty database on the session's server; yields its libpq dsn."""
    import psycopg

    name = f"t{next(_counter)}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield pg_server.dsn.replace(f"dbname={pg_server.dbname}", f"dbname={name}")


@pytest.fixture
def central(tmp_path, pg):
    """A running ``hwd-central --config FILE --port P``; yields its base URL."""
    from county_helpers import central_config, get
    from daemon_fixture import wait_for
    from hwd.county.localpg import free_port

    port = free_port()
    log = open(tmp_path / "central.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "central.cli", "--config", central_config(tmp_path, pg),
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: get(base, "/api/halls") is not None, 30, "hwd-central up",
                 tolerate=(OSError, urllib.error.URLError))
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


