"""好差评 figures: ``hall.rate`` of a 差评 (rating row, work order, two outbox records, one
transaction) as a client sees it, and commit → stored at the province for push-json.

The province is hwd.upstream.emulator.Province on loopback in the benchmark process (HMAC-SM3
checked on every request), so the delivery figure includes the outbox worker's wake-up, the
HTTP request, the signature check at the far end and the worker's state update.
"""

from __future__ import annotations

import time

from bench.common import Daemon, Result, fmt_pct, percentiles
from hwd.client import Client
from hwd.upstream.emulator import Province

SECRET = "bench-secret"
HALL = '''
[hall]
name = "基准测试大厅"
region_code = "371402000000"
rating_timeout_s = 600
[hall.hours]
always_open = true
[hall.upstream]
adapter = "push-json"
url = "{url}"
secret = "{secret}"
signature = "hmac-sm3"
retry_s = 0.2
retry_max_s = 1
[[hall.service]]
id = "a"
name = "综合业务"
prefix = "A"
matter_code = "M-0001"
[[hall.window]]
id = "1"
name = "1号窗口"
services = ["a"]
'''


def bad_rating_to_province(samples: int = 300) -> Result:
    province = Province(SECRET, "hmac-sm3").up()
    d = Daemon(HALL.format(url=province.url, secret=SECRET), "haocp").start()
    client = Client(d.rpc, timeout=30, retries=1)
    rate_ms, deliver_ms = [], []
    try:
        for i in range(samples + 10):
            client.call("hall.issue_ticket", {"service": "a"})
            client.call("hall.call_next", {"window": "1"})
            client.call("hall.finish", {"window": "1"})
            t0 = time.perf_counter()
            r = client.call("hall.rate", {"window": "1", "score": 2, "reasons": ["attitude", "efficiency"]})
            t1 = time.perf_counter()
            deadline = t1 + 10
            while time.perf_counter() < deadline:
                with province.lock:
                    got = any(b.get("kind") == "rating" and b.get("rating_id") == r["id"]
                              for b in province.records.values())
                if got:
                    break
                time.sleep(0.0005)
            t2 = time.perf_counter()
            if i >= 10:
                rate_ms.append((t1 - t0) * 1000)
                deliver_ms.append((t2 - t1) * 1000)
        status = client.call("outbox.status")["sinks"][0]
    finally:
        d.stop()
        province.down()
    pr, pd = percentiles(rate_ms), percentiles(deliver_ms)
    return Result("`hall.rate` of a 差评 (rating, work order, outbox) and its arrival at the province",
                  "n/a", f"rate p99 {pr['p99']:.2f} ms; delivered p99 {pd['p99']:.1f} ms", None,
                  f"{samples} + 10 warm-up services rated 不满意 with two reasons over RPC (one SQLite transaction: "
                  "the rating, its work order, its first step and two outbox records, synchronous=FULL); the clock "
                  "then runs until the rating record is stored by the emulated province (push-json, HMAC-SM3, "
                  "loopback HTTP); the work-order record is delivered in the same pass",
                  len(rate_ms), {"hall.rate round trip": fmt_pct(pr), "commit → stored upstream": fmt_pct(pd),
                                 "outbox at the end": f"sent {status['sent']}, pending {status['pending']}, "
                                                      f"error {status['error']}"})


BENCHES = [bad_rating_to_province]
