"""hwd-central against a real PostgreSQL: the config contract, who may read what, and the
three-hall scenario — two halls cut off from the county for a while, all three feeding one
database; the dashboard's numbers equal the sum of the halls' own ``hall.stats``, and a 补报
replay after catch-up counts nothing twice."""

from __future__ import annotations

import subprocess
import sys

from support.daemon import DaemonProcess
from support.waits import wait_for
from county_helpers import MONDAY, TOKEN, Cuttable, central_config, get, hall_config, scalar

from hwd.county import rollup


def test_a_bad_config_lists_every_problem_and_exits_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[central]\nport = 0\napi_token = "short"\n[oops]\n', encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "central.cli", "--config", str(path)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert any(f"{path}:1 central.dsn: required key is missing" in line for line in lines), lines
    assert any(f"{path}:2 central.port:" in line for line in lines)
    assert any(f"{path}:3 central.api_token:" in line for line in lines)
    assert any(f"{path}:4 oops:" in line for line in lines)


def test_it_migrates_at_start_and_api_halls_is_local_or_token_only(central, pg):
    assert scalar(pg, "SELECT MAX(version) FROM schema_version") >= 1
    assert get(central, "/api/halls") == []
    from central import create_app

    app = create_app(central_config_path(pg, central))
    client = app.test_client()
    far = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get("/api/halls", environ_base=far).status_code == 401
    assert client.get("/api/halls", environ_base=far, headers={"Authorization": "Bearer wrong-token-xxxxxxxx"}).status_code == 401
    ok = client.get("/api/halls", environ_base=far, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.get_json() == []
    assert client.get("/", environ_base=far).status_code == 302  # the pages need the login
    page = client.get("/login", environ_base=far)
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    for _ in range(5):
        assert client.post("/login", data={"password": "guess", "csrf_token": token}, environ_base=far).status_code == 403
    assert client.post("/login", data={"password": "s3cret-pw", "csrf_token": token},
                       environ_base=far).status_code == 429, "guessing is limited"
    near = {"REMOTE_ADDR": "10.1.2.4"}
    page = client.get("/login", environ_base=near)
    assert client.post("/login", data={"password": "s3cret-pw", "csrf_token": token}, environ_base=near).status_code == 302
    assert client.get("/", environ_base=near).status_code == 200


def central_config_path(pg: str, base: str) -> str:
    import pathlib
    import tempfile

    d = pathlib.Path(tempfile.mkdtemp(prefix="central-cfg-"))
    return central_config(d, pg)


# -- the three-hall scenario --------------------------------------------------------------------
def work(d, n: int, seed: int) -> None:
    """A deterministic stretch of a hall's day: tickets issued, called, served, rated, no-shows."""
    import random

    rng = random.Random(seed)
    for i in range(n):
        d.call("hall.issue_ticket", {"service": rng.choice(["bdc", "sb"])})
        d.call("clock.advance", {"seconds": rng.randint(20, 90)})
        if i % 2:
            wid = rng.choice(["1", "2"])
            t = d.call("hall.call_next", {"window": wid})
            if t is None:
                continue
            if rng.random() < 0.15:
                d.call("hall.no_show", {"window": wid})
                continue
            d.call("hall.start", {"window": wid})
            d.call("clock.advance", {"seconds": rng.randint(60, 400)})
            d.call("hall.finish", {"window": wid})
            if rng.random() < 0.8:
                score = rng.choice([5, 5, 4, 3, 2, 1])
                d.call("hall.rate", {"window": wid, "score": score} | ({"reasons": ["efficiency"]} if score <= 2 else {}))


def hall_sums(d) -> dict:
    rows = d.call("hall.stats", {"group_by": "service"})
    return {k: sum(r[k] for r in rows) for k in ("issued", "waiting", "served", "no_show", "rated", "bad")}


def delivered(d) -> bool:
    status = d.call("outbox.status")
    s = status["sinks"][0]
    return s["sink"] == "central" and s["pending"] == 0 and s["error"] == 0


def test_three_halls_two_offline_for_a_while_add_up_on_the_dashboard(tmp_path, pg, pg_server, county, central):
    links = {"h2": Cuttable(pg_server.port), "h3": Cuttable(pg_server.port)}
    halls = {}
    for hid, name in (("h1", "县政务服务中心"), ("h2", "城关镇便民服务中心"), ("h3", "马召镇便民服务中心")):
        d = DaemonProcess(tmp_path, "", hid)
        # each hall with the role and password `hwd-central county add-hall` made for it
        dsn = county.add_hall(hid, port=links[hid].port if hid in links else None)
        d.config_path.write_text(hall_config(d, dsn, hid, name), encoding="utf-8")
        halls[hid] = d.start()
    try:
        for i, d in enumerate(halls.values()):
            d.call("clock.set", {"now": MONDAY})
            d.call("hall.login", {"window": "1", "staff": "s01"})
            d.call("hall.login", {"window": "2", "staff": "s02"})
            work(d, 6, seed=i)
        wait_for(lambda: all(delivered(d) for d in halls.values()), 30, "the morning delivered")
        links["h2"].cut()
        links["h3"].cut()
        for i, d in enumerate(halls.values()):  # the halls keep working while the link is down
            work(d, 12, seed=10 + i)
        halls["h3"].call("hall.pause", {"window": "2", "reason": "午休"})
        wait_for(lambda: {h["hall_id"]: h for h in get(central, "/api/halls")}["h2"]["outbox_lag_s"] > 0, 30,
                 "the county sees h2 falling behind")
        assert not delivered(halls["h2"]) and not delivered(halls["h3"])
        links["h2"].restore()
        links["h3"].restore()
        wait_for(lambda: all(delivered(d) for d in halls.values()), 60, "caught up after the link came back")
        wait_for(lambda: all(h["outbox_lag_s"] == 0 for h in get(central, "/api/halls")), 30, "lag back to 0")

        def check() -> None:
            api = {h["hall_id"]: h for h in get(central, "/api/halls")}
            assert sorted(api) == ["h1", "h2", "h3"]
            for hid, d in halls.items():
                sums = hall_sums(d)
                a = api[hid]
                assert (a["issued_today"], a["waiting_now"], a["served_today"], a["no_show_today"]) == \
                    (sums["issued"], sums["waiting"], sums["served"], sums["no_show"]), hid
                assert a["devices_faulted"] == 0 and a["today"] == "2026-11-23"
                for group, mine in (("matter", "service"), ("window", "window"), ("staff", "staff")):
                    table = get(central, f"/api/table?hall={hid}&group={group}&period=day&date=2026-11-23")["rows"]
                    theirs = {r[mine]: r for r in d.call("hall.stats", {"group_by": mine})}
                    assert {r[group] for r in table} == set(theirs), (hid, group)
                    for r in table:
                        t = theirs[r[group]]
                        for k in ("issued", "called", "served", "no_show", "expired", "mean_wait_s",
                                  "mean_service_s", "rated", "bad", "rating_rate"):
                            assert r[k] == t[k], (hid, group, r[group], k, r[k], t[k])
                        # the table reads the daily rollup: p90 is the upper edge of its wait bucket
                        p90 = None if t["p90_wait_s"] is None else rollup.bucket_upper(rollup.bucket_of(t["p90_wait_s"]))
                        assert r["p90_wait_s"] == p90, (hid, group, r[group], r["p90_wait_s"], t["p90_wait_s"])
            assert api["h3"]["windows_paused"] == 1 and api["h1"]["windows_paused"] == 0
            county = get(central, "/api/table?group=hall&period=quarter&date=2026-11-23")["rows"]
            assert sum(r["issued"] for r in county) == sum(hall_sums(d)["issued"] for d in halls.values())

        check()
        records = scalar(pg, "SELECT COUNT(*) FROM records")
        halls["h2"].call("outbox.replay", {"sink": "central"})  # 补报: everything again
        wait_for(lambda: delivered(halls["h2"]), 60, "replay delivered")
        assert scalar(pg, "SELECT COUNT(*) FROM records") == records, "nothing stored twice"
        check()
    finally:
        for d in halls.values():
            d.stop()
        for link in links.values():
            link.cut()
