"""At the county: a hall with two engine PCs and ``[hall.central]`` reports which PC is active and
whether the standby is in sync (each engine PC as a device of kind ``engine``), and after the
active PC dies its screen and the PC itself show offline — on hwd-central's all-halls page too.
A real PostgreSQL (hwd.county.localpg) and the real hwd-central app."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from support.waits import wait_for

sys.path.insert(0, str(Path(__file__).parent.parent / "county"))
from county_helpers import central_config, query  # noqa: E402


@pytest.fixture
def county_dsn(tmp_path_factory):
    try:
        import psycopg
    except ImportError:
        pytest.skip("needs psycopg 3: pip install -e '.[central]'")
    from hwd.county.localpg import LocalPostgres, Unavailable

    try:
        server = LocalPostgres()
    except Unavailable as exc:
        pytest.skip(f"needs PostgreSQL: {exc}")
    server.start()
    try:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE standby")
        yield server.dsn.replace(f"dbname={server.dbname}", "dbname=standby")
    finally:
        server.destroy()


def engines_at_county(dsn: str) -> dict[str, tuple[str, str]]:
    try:
        rows = query(dsn, "SELECT device, state, detail FROM devices WHERE kind = 'engine'")
    except Exception:  # the county schema is made by the first delivery
        return {}
    return {device.split(":", 1)[1]: (state, detail) for device, state, detail in rows}


def test_the_county_sees_the_active_pc_and_the_standby(make_cluster, county_dsn, tmp_path):
    central = (f'[hall.central]\ndsn = "{county_dsn}"\nhall_id = "standby-hall"\nheartbeat_s = 0.3\n'
               'retry_s = 0.1\nretry_max_s = 0.5\nconnect_timeout_s = 2\n')
    cluster = make_cluster(hall_extra=central, engine_screens=True)
    first = cluster.wait_active()
    other = "b" if first == "a" else "a"
    cluster.wait_in_sync(other)
    wait_for(lambda: engines_at_county(county_dsn) == {first: ("online", "当前主机"), other: ("online", "备机，已同步")},
             timeout=30, what="both engine PCs at the county")
    # two engine PCs are each other's node: a device's state is not sent back and forth between them
    from history import rows
    seqs = dict(rows(cluster.pcs[first].dir / "state" / "hall.sqlite3",
                     "SELECT key, value FROM meta WHERE key LIKE 'county_device_seq:led-%'"))
    assert all(int(n) <= 3 for n in seqs.values()), seqs
    cluster.pcs[first].kill()
    cluster.net.isolate(cluster.pcs[first])
    assert cluster.wait_active(not_=first) == other
    wait_for(lambda: engines_at_county(county_dsn) == {other: ("online", "当前主机"), first: ("offline", "备机离线")},
             timeout=30, what="the new active and the dead PC at the county")
    wait_for(lambda: query(county_dsn, "SELECT state FROM devices WHERE device = %s", (f"led-{first}",))
             == [("offline",)], timeout=30, what="the dead PC's screen offline at the county")
    from central import create_app

    app = create_app(central_config(tmp_path, county_dsn))
    client = app.test_client()
    near = {"REMOTE_ADDR": "127.0.0.1"}
    page = client.get("/login", environ_base=near)
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/login", data={"password": "s3cret-pw", "csrf_token": token},
                       environ_base=near).status_code == 302
    html = client.get("/", environ_base=near).get_data(as_text=True)
    assert f"双机热备 {other}：当前主机" in html and f"双机热备 {first}：备机离线" in html, html[:2000]
    # back, the PC is the standby in sync, at the county too
    cluster.net.heal()
    cluster.start_etcd(first)
    cluster.start_hwd(first)
    cluster.wait_in_sync(first, timeout=60)
    wait_for(lambda: engines_at_county(county_dsn).get(first) == ("online", "备机，已同步"), timeout=30,
             what="the PC back in sync at the county")
    time.sleep(0.1)
