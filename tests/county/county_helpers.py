"""A hall config with ``[hall.central]`` and small helpers to read the county database."""

from __future__ import annotations

import json
import urllib.request

from support.halls import Hall
from support.toml import table

MONDAY = "2026-11-23T09:00:00"  # a Monday: the halls open; never today's date


def hall_config(d, dsn: str, hall_id: str, name: str = "测试政务服务中心") -> str:
    """Config text for a DaemonProcess ``d`` (made with start=False) feeding ``dsn``."""
    daemon = table("daemon", rpc=d.rpc, events=d.events_ep, state_dir=str(d.state_dir), heartbeat_s=0.5,
                   test_clock=True)
    hall = (Hall(name)
            .section("central", retry_s=0.1, retry_max_s=0.5, dsn=dsn, hall_id=hall_id, heartbeat_s=0.3,
                     connect_timeout_s=2)
            .service("bdc", "不动产登记", "B")
            .service("sb", "社会保障", "A")
            .window("1", "综合受理 1号窗口", ["bdc", "sb"])
            .window("2", "社保 2号窗口", ["sb"])
            .staff("s01", "王小明")
            .staff("s02", "李芳"))
    return daemon + hall.toml()


def query(dsn: str, sql: str, args: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, args).fetchall()


def scalar(dsn: str, sql: str, args: tuple = ()):
    return query(dsn, sql, args)[0][0]


class Cuttable:
    """A TCP forwarder to PostgreSQL that a test can cut (the hall's link goes down: connections
    reset, new ones refused) and restore — the WAN between a town hall and the county."""

    def __init__(self, target_port: int):
        import socket
        import threading

        self.target = ("127.0.0.1", target_port)
        self.port = None
        self._socket, self._threading = socket, threading
        self._conns: list = []
        self._lock = threading.Lock()
        self._listener = None
        self.restore()

    def restore(self) -> None:
        s = self._socket.socket()
        s.setsockopt(self._socket.SOL_SOCKET, self._socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port or 0))
        self.port = s.getsockname()[1]
        s.listen(64)
        self._listener = s
        self._threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(self._socket.SHUT_RDWR)  # wakes the accept() blocked in its thread
            except OSError:
                pass
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.shutdown(self._socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self._listener is not listener:  # cut meanwhile
                client.close()
                return
            try:
                upstream = self._socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                self._threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass


TOKEN = "county-token-0123456789"


def central_config(tmp_path, dsn: str, extra: str = "") -> str:
    from werkzeug.security import generate_password_hash

    path = tmp_path / "central.toml"
    path.write_text(f'[central]\ndsn = "{dsn}"\npassword_hash = "{generate_password_hash("s3cret-pw", "pbkdf2:sha256:1000")}"\n'
                    f'api_token = "{TOKEN}"\nsecret_key_file = "{tmp_path / "secret"}"\n{extra}', encoding="utf-8")
    return str(path)


def get(base: str, path: str, headers: dict | None = None):
    """GET from hwd-central with the API token (no address reads /api without it by default)."""
    headers = {"Authorization": f"Bearer {TOKEN}", **(headers or {})}
    with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=10) as resp:
        body = resp.read()
        return json.loads(body) if resp.headers.get("Content-Type", "").startswith("application/json") else body




# -- the county as docs/central.md sets it up -----------------------------------------------------
CENTRAL_ROLE = "hwd_central"


def documented_server(server) -> None:
    """Step 1 of "Installing at the county", server-wide: hwd-central's role."""
    import psycopg

    with psycopg.connect(server.dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (CENTRAL_ROLE,)).fetchone() is None:
            conn.execute(f"CREATE ROLE {CENTRAL_ROLE} LOGIN CREATEROLE")


def documented_database(server, name: str) -> str:
    """``CREATE DATABASE … OWNER hwd_central``; returns the scratch superuser's dsn to it."""
    import psycopg

    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} OWNER {CENTRAL_ROLE}")
    return server.dsn.replace(f"dbname={server.dbname}", f"dbname={name}")


def as_central(dsn: str) -> str:
    """The same database as hwd-central's role."""
    return dsn.replace("user=hwd ", f"user={CENTRAL_ROLE} ")


class County:
    """hwd-central's config for a test database, and its halls made by the real command."""

    def __init__(self, tmp_path, pg: str, server):
        self.pg, self.server = pg, server
        self.central_dsn = as_central(pg)
        self.config = central_config(tmp_path, self.central_dsn)
        self.roles: list[str] = []

    def add_hall(self, hall_id: str, name: str | None = None, port: int | None = None, role: str | None = None) -> str:
        """``hwd-central --config F county add-hall ID``; the hall's dsn as the command prints it
        (``port``: reach the county through another port, e.g. a Cuttable link)."""
        import subprocess
        import sys
        import tomllib

        cmd = [sys.executable, "-m", "central.cli", "--config", self.config, "county", "add-hall", hall_id,
               "--county-host", "127.0.0.1", "--county-port", str(port or self.server.port), "--sslmode", "disable"]
        cmd += (["--name", name] if name else []) + (["--role", role] if role else [])
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        section = tomllib.loads(out.stdout)["hall"]["central"]
        assert section["hall_id"] == hall_id
        self.roles.append(section["dsn"].split("user=")[1].split()[0])
        return section["dsn"]

    def role(self, hall_id: str) -> str:
        """What add-hall does (hwd.county.roles.add_hall, as hwd-central's role), in this process —
        for tests that make many halls; returns the hall's dsn over TCP with its password."""
        import psycopg

        from hwd.county import roles

        with psycopg.connect(self.central_dsn, autocommit=True) as conn:
            role, password = roles.add_hall(conn, hall_id)
            dsn = roles.hall_dsn("127.0.0.1", self.server.port, conn.info.dbname, role, password, "disable")
        self.roles.append(role)
        return dsn

    def drop_roles(self) -> None:
        import psycopg

        with psycopg.connect(self.pg, autocommit=True) as conn:
            for role in self.roles:
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')
