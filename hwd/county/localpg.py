"""A throw-away PostgreSQL server in a directory of its own (initdb + pg_ctl), for the tests, the
benches and ``make demo``: real PostgreSQL, no system service touched, gone when stopped.

The server listens on a unix socket in its directory and on 127.0.0.1, and runs with
``fsync = off`` — a scratch database, never a county's. Its ``pg_hba.conf`` is a county's in
small: connections on the unix socket (the scratch superuser, hwd-central) are trusted, and over
TCP only the scratch superuser is — every other role (a hall's, made by ``hwd-central county
add-hall``) must give its password (SCRAM), so the tests use the password that command prints.
initdb refuses to run as root, so under root the server runs as the ``postgres`` system user
(Debian's package creates it) via ``runuser``; the directory is handed to that user first.

``find_bin()`` says why PostgreSQL is unusable here (``Unavailable``) so callers can skip with a
clear message instead of failing or passing silently.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class Unavailable(Exception):
    """PostgreSQL binaries (or a user to run them as) are missing on this machine."""


def find_bin() -> Path:
    """The directory with initdb, pg_ctl and postgres (newest Debian version first)."""
    candidates = sorted((Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
                         key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    candidates += [Path(p).parent for p in (shutil.which("pg_ctl"),) if p]
    for d in candidates:
        if all((d / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return d
    raise Unavailable("PostgreSQL is not installed (no initdb/pg_ctl/postgres on PATH or in "
                      "/usr/lib/postgresql/*/bin); `make sysdeps` installs the Debian package postgresql")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalPostgres:
    """``with LocalPostgres() as pg: psycopg.connect(pg.dsn)``; ``stop()``/``start()`` to cut
    and restore the link in a scenario."""

    def __init__(self, directory: Path | str | None = None, port: int | None = None, user: str = "hwd",
                 dbname: str = "county"):
        self.bin = find_bin()
        self._own_dir = directory is None
        self.dir = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="hwd-pg-"))
        self.data = self.dir / "data"
        self.port = port or free_port()
        self.user, self.dbname = user, dbname
        self.run_as = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root and there is no 'postgres' user to run initdb as "
                                  "(the Debian postgresql package creates it)") from None
            self.run_as = "postgres"

    @property
    def dsn(self) -> str:
        return f"host={self.dir} port={self.port} user={self.user} dbname={self.dbname}"

    @property
    def tcp_dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={self.dbname}"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--"] + cmd
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")
        return out

    def init(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            shutil.chown(self.dir, self.run_as)
        if not (self.data / "PG_VERSION").exists():
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user,
                      "-E", "UTF8", "--locale=C", "--no-sync")
            hba = self.data / "pg_hba.conf"
            hba.write_text("# hwd.county.localpg: the socket is trusted; over TCP every role but the scratch "
                           "superuser signs in with its password\n"
                           "local all all trust\n"
                           f"host all {self.user} 127.0.0.1/32 trust\n"
                           "host all all 127.0.0.1/32 scram-sha-256\n", encoding="utf-8")
            if self.run_as:
                shutil.chown(hba, self.run_as)

    def start(self) -> "LocalPostgres":
        if not (self.data / "PG_VERSION").exists():
            self.init()
        opts = (f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.dir / "server.log"),
                  "-w", "-t", "60", "start")
        if not getattr(self, "_created", False):
            import psycopg

            try:
                with psycopg.connect(self.dsn.replace(f"dbname={self.dbname}", "dbname=postgres"),
                                     autocommit=True) as c:
                    if c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.dbname,)).fetchone() is None:
                        c.execute(f'CREATE DATABASE "{self.dbname}"')
            except BaseException:
                self.stop()  # never leave a server running behind a failed start
                raise
            self._created = True
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            if self._own_dir:
                shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "LocalPostgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.destroy()
