"""``kill -9`` of hwd again and again while it delivers 好差评 records to a province that is slow,
drops replies and fails now and then: in the end the province holds every record exactly once
(keys de-duplicate what was sent twice), nothing is pending, and nothing acknowledged was lost."""

from __future__ import annotations

import random
import time

import pytest

from hwd.client import Client, Unreachable
from hwd.upstream.emulator import Province

from faults_helpers import hall, wait_for

SECRET = "fault-secret"


def upstream(url: str) -> str:
    return (f'[hall.upstream]\nadapter = "push-json"\nurl = "{url}"\nsecret = "{SECRET}"\n'
            'timeout_s = 0.5\nretry_s = 0.05\nretry_max_s = 0.5\n')


def serve_and_rate(client: Client, rng: random.Random) -> int:
    client.call("hall.issue_ticket", {"service": "s0"})
    client.call("hall.call_next", {"window": "w1"})
    client.call("hall.finish", {"window": "w1"})
    score = rng.choice([1, 2, 4, 5])
    return client.call("hall.rate", {"window": "w1", "score": score,
                                     **({"reasons": ["attitude"]} if score <= 2 else {})})["id"]


def run(hwd_daemon, kills: int, ratings: int, seed: int) -> None:
    rng = random.Random(seed)
    province = Province(SECRET).up()
    d = hwd_daemon(hall(services=1, windows=1) + upstream(province.url))
    client = Client(d.rpc, timeout=2.0, retries=1)
    rated: list[int] = []
    try:
        per_round = ratings // kills
        for _ in range(kills):
            province.hang(rng.randint(0, 3), seconds=1.0)
            province.drop_replies(rng.randint(0, 3))
            province.fail(rng.randint(0, 2), 500)
            for _ in range(per_round):
                rated.append(serve_and_rate(client, rng))  # acknowledged: committed with its records
            time.sleep(rng.uniform(0.0, 0.3))  # somewhere in the middle of delivering
            d.kill()
            d.start()
            client = Client(d.rpc, timeout=2.0, retries=1)
        total = client.call("outbox.status")["records"]

        def drained():
            s = client.call("outbox.status")["sinks"][0]
            return s["pending"] == 0 and s["error"] == 0 and s

        status = wait_for(drained, timeout=60, what="the backlog delivered")
        assert status["sent"] == total and status["rejected"] == 0
        assert len(province.records) == total  # every record once
        stored = [k for k, what in province.requests if what == "stored"]
        assert len(stored) == len(set(stored)) == total
        got = {b["rating_id"] for b in province.records.values() if b["kind"] == "rating"}
        assert got == set(rated)  # every acknowledged rating reached the province
    except Unreachable:
        raise AssertionError(d.log()[-3000:])
    finally:
        province.down()


@pytest.mark.faults
@pytest.mark.fast
def test_kill_9_while_delivering_quick(hwd_daemon):
    run(hwd_daemon, kills=3, ratings=15, seed=7)


@pytest.mark.faults
@pytest.mark.timeout(600)
def test_kill_9_while_delivering(hwd_daemon):
    run(hwd_daemon, kills=12, ratings=120, seed=11)
