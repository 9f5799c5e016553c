"""Two engine PCs, one hall (docs/standby.md): how long a failover takes, what replication costs
``hall.issue_ticket``, and what etcd and the standby cost a hall PC.

The hall PCs are the standby tests' (tests/standby/cluster.py): real etcd, hwd and kill -9 on
loopback addresses cut apart with nftables (needs root). Run alone: ``python -m bench --only standby``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Result, fmt_pct, percentiles

sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "standby")]

KILLS = int(os.environ.get("HWD_BENCH_KILLS", "30"))
ISSUES = int(os.environ.get("HWD_BENCH_ISSUES", "1000"))


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _issue_latencies(client, n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        client.call("hall.issue_ticket", {"service": "s0" if i % 2 else "s1", "kiosk": "k1"})
        out.append((time.perf_counter() - t) * 1000)
    return out


def _single(workdir: Path, cluster) -> tuple[list[float], int]:
    """The same hall on one PC without [hall.standby]: same config, same CURVE tcp endpoints."""
    from hwd.client import Endpoint, Engines, FailoverClient

    text = cluster.config("a")
    text = text[:text.index("[hall.standby]")]
    path = workdir / "single.toml"
    path.write_text(text.replace(str(cluster.pcs["a"].dir / "state"), str(workdir / "single-state")),
                    encoding="utf-8")
    pc = cluster.pcs["a"]
    proc = pc.spawn("single", [sys.executable, "-m", "hwd", "--config", str(path), "--log-level", "warning"],
                    env=cluster.env)
    client = FailoverClient(Engines([Endpoint("a", cluster.endpoint("a", "rpc"), "", cluster.keys / "a.key",
                                              cluster.keys / "tester.key_secret")]), timeout=5.0)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.call("hall.services")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    _issue_latencies(client, 50)  # warm up
    samples = _issue_latencies(client, ISSUES)
    client.close()
    pc.stop("single")
    return samples, proc.pid


def standby_failover() -> list[Result]:
    from cluster import Cluster, unusable
    from test_standby_failover import measure_rto

    why = unusable()
    if why:
        return [Result("standby: failover", "RTO ≤ 10 s", f"skipped: {why}", None, "")]
    workdir = Path(tempfile.mkdtemp(prefix="hwd-bench-standby-"))
    cluster = Cluster(workdir)
    try:
        # 1. issue_ticket with and without the standby, side by side (the single hall first, on PC a,
        #    before the standby hwd starts there)
        for name in cluster.pcs:
            cluster.start_etcd(name)
        cluster.wait_etcd()
        single, _ = _single(workdir, cluster)
        for name in ("a", "b"):
            cluster.start_hwd(name)
        active = cluster.wait_active()
        standby = "b" if active == "a" else "a"
        cluster.wait_in_sync(standby)
        client = cluster.client(timeout=5.0)
        _issue_latencies(client, 50)
        t0 = time.monotonic()
        cpu0 = {(n, w): _cpu_s(p.procs[w].pid) for n, p in cluster.pcs.items() for w in p.procs if p.alive(w)}
        replicated = _issue_latencies(client, ISSUES)
        wall = time.monotonic() - t0
        cpu = {k: (_cpu_s(cluster.pcs[k[0]].procs[k[1]].pid) - v) / wall for k, v in cpu0.items()
               if cluster.pcs[k[0]].alive(k[1])}
        rss = {(n, w): _rss_mb(p.procs[w].pid) for n, p in cluster.pcs.items() for w in p.procs if p.alive(w)}
        rate = ISSUES / wall
        client.close()
        # 2. failover time over KILLS kills of the active PC (kill -9 of all its processes + its network cut)
        failovers, rtos = [], []
        for _ in range(KILLS):
            active = cluster.wait_active()
            victim = cluster.pcs[active]
            started = time.monotonic()
            victim.kill()
            cluster.net.isolate(victim)
            other = cluster.wait_active(not_=active)
            failovers.append((time.monotonic() - started) * 1000)
            rtos.append(measure_rto(cluster, started) * 1000)
            cluster.net.heal()
            cluster.start_etcd(active)
            cluster.start_hwd(active)
            cluster.wait_in_sync(active, timeout=60)
            assert other != active
    finally:
        cluster.close()
        shutil.rmtree(workdir, ignore_errors=True)
    ps, pr, pf, prto = percentiles(single), percentiles(replicated), percentiles(failovers), percentiles(rtos)
    etcd_rss = ", ".join(f"{n} {rss[(n, 'etcd')]:.0f} MB" for n in "abc" if (n, "etcd") in rss)
    etcd_cpu = ", ".join(f"{n} {cpu[(n, 'etcd')]:.2f}" for n in "abc" if (n, "etcd") in cpu)
    return [
        Result(f"standby: failover after kill -9 of the active PC ({len(failovers)} kills)", "RTO ≤ 10 s",
               f"new engine active: p50 {pf['p50'] / 1000:.2f} s, p99 {pf['p99'] / 1000:.2f} s, max "
               f"{pf['max'] / 1000:.2f} s; kiosk issue and counter call working again: p50 "
               f"{prto['p50'] / 1000:.2f} s, p99 {prto['p99'] / 1000:.2f} s, max {prto['max'] / 1000:.2f} s",
               prto["max"] <= 10_000,
               "three hall PCs on loopback addresses (tests/standby/cluster.py): etcd 3.4 (Debian 12) on each, "
               "hwd with [hall.standby] on two (lease 3 s, etcd heartbeat 100 ms, election 1000 ms, pre-vote). "
               "Each round kills every process of the active PC at once (cgroup.kill) and cuts its address off "
               "with nftables, then measures until the other PC answers standby.status as active (polled every "
               "0.1 s), and until a client (FailoverClient, 1 s timeout per engine, as the pages use) has "
               "issued a ticket and called one; then the PC is restarted and waits until it is in sync.",
               len(failovers)),
        Result("standby: `hall.issue_ticket` → reply, with and without the standby", "report",
               f"without: p50 {ps['p50']:.2f} ms, p99 {ps['p99']:.2f} ms; with: p50 {pr['p50']:.2f} ms, "
               f"p99 {pr['p99']:.2f} ms", None,
               f"one client, {ISSUES} issues one after the other over CURVE tcp to the same hall config in the "
               "same run: first one hwd without [hall.standby] on PC a (etcd running but unused), then the "
               "active engine of the standby pair (each transaction appended to etcd, fenced, before its "
               "local COMMIT; etcd's data on the same disk). The difference is the etcd round trips: an issue "
               "is two hall transactions (the ticket, then whether it printed), each one etcd txn committed "
               "by a quorum of the three members (an fsync of etcd's WAL on each of two), on this VM's disk "
               "shared with the other jobs of the machine.",
               ISSUES, details={"without": fmt_pct(ps), "with": fmt_pct(pr)}),
        Result("standby: etcd and the standby on a hall PC", "report",
               f"etcd RSS {etcd_rss}; CPU (cores) {etcd_cpu} at {rate:.0f} issues/s; standby hwd "
               f"{rss.get((standby, 'hwd'), 0):.0f} MB, {cpu.get((standby, 'hwd'), 0):.2f} core; active hwd "
               f"{rss.get((active, 'hwd'), 0):.0f} MB, {cpu.get((active, 'hwd'), 0):.2f} core", None,
               "resident memory (VmRSS) after the issue run, and CPU time (utime + stime from /proc) during it "
               "divided by its wall time; a, b are the engine PCs, c the voter. The standby hwd applies the "
               "log as it comes (a watch wakes it).", ISSUES),
    ]


BENCHES = [standby_failover]

if __name__ == "__main__":
    for r in standby_failover():
        print(f"{r.figure}: {r.value}")
        for k, v in r.details.items():
            print(f"  {k}: {v}")
