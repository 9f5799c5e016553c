"""The active engine PC killed (every process ``kill -9`` and its network cut) or cut off (it keeps
running) at random moments under a load of issues, calls, ratings and work-order steps, again
and again: after each, kiosks issue and counters call again within 10 s (measured), a cut-off
active stops within its lease, and once the PC is back (restarted, or the cut healed) it is the
standby, in sync, and the active's database holds everything acknowledged so far, numbered
1..N, no ticket at two windows, one rating per ticket. At the end both databases are the same
and the province holds every 好差评 record once.

``make faults`` runs 30 kills and 10 partitions; ``make test`` a quick round of 1 kill and 1
partition.
"""

from __future__ import annotations

import random
import statistics
import time

import pytest

from hwd.upstream.emulator import Province

from history import Load, check, rows, same_history
from test_standby_failover import fence_seen_s, RTO_S, SECRET, db, measure_rto, settle, upstream

from support.waits import wait_for


def run(make_cluster, kills: int, partitions: int, seed: int) -> dict:
    rng = random.Random(seed)
    province = Province(SECRET).up()
    cluster = make_cluster(hall_extra=upstream(province.url))
    try:
        first = cluster.wait_active()
        cluster.wait_in_sync("b" if first == "a" else "a")
        load = Load(cluster.engines(), ["w1", "w2"], seed=seed).start()
        plan = ["kill"] * kills + ["cut"] * partitions
        rng.shuffle(plan)
        rtos, fences = [], []
        for n, kind in enumerate(plan, 1):
            time.sleep(rng.uniform(0.2, 2.5))  # a random moment of the load
            active = cluster.wait_active()
            victim = cluster.pcs[active]
            started = time.monotonic()
            cluster.net.isolate(victim)
            if kind == "kill":
                victim.kill()
            else:
                wait_for(lambda: (st := cluster.status(active)) is not None and st["role"] != "active",
                         timeout=cluster.lease_s + 5, what=f"round {n}: the cut-off {active} to stop")
                fences.append(time.monotonic() - started)
                assert fences[-1] <= fence_seen_s(cluster), f"round {n}: the cut-off active stopped after {fences[-1]:.1f} s"
            rtos.append(measure_rto(cluster, started))
            print(f"round {n}: {kind} {active}: RTO {rtos[-1]:.2f} s" + (f", fenced after {fences[-1]:.2f} s"
                                                                         if kind == "cut" else ""))
            assert rtos[-1] <= RTO_S, f"round {n} ({kind} {active}): the hall came back after {rtos[-1]:.1f} s"
            cluster.net.heal()
            if kind == "kill":
                cluster.start_etcd(active)
                cluster.start_hwd(active)
            cluster.wait_in_sync(active, timeout=60)
            now_active = cluster.wait_active()
            check(db(cluster, now_active), load.ledger.snapshot())
        active, standby, ledger = settle(cluster, load)
        counts = check(db(cluster, active), ledger)
        same_history(db(cluster, active), db(cluster, standby))
        client = cluster.client()
        wait_for(lambda: all(s["pending"] == 0 and s["error"] == 0 for s in client.call("outbox.status")["sinks"]),
                 timeout=60, what="the outbox drained")
        client.close()
        keys = {k for (k,) in rows(db(cluster, active), "SELECT key FROM outbox WHERE kind IN "
                                                         "('rating', 'unrated', 'workorder', 'case', 'exclusion')")}
        assert keys <= set(province.records), f"not upstream: {sorted(keys - set(province.records))[:5]}"
        summary = {"rounds": len(plan), "rto_p50": statistics.median(rtos), "rto_max": max(rtos),
                   "fence_max": max(fences, default=0.0), "duplicates": province.duplicates, **counts}
        print("summary:", summary)
        return summary
    finally:
        province.down()


@pytest.mark.faults
@pytest.mark.fast
def test_standby_faults_quick(make_cluster):
    run(make_cluster, kills=1, partitions=1, seed=29)


@pytest.mark.faults
@pytest.mark.timeout(3600)
def test_standby_faults_30_kills_10_partitions(make_cluster):
    summary = run(make_cluster, kills=30, partitions=10, seed=2029)
    assert summary["rounds"] == 40
