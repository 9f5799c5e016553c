"""Issue 22, items 3 and 4 and the ``h5`` adapter: the outbox cannot be stalled or fooled by an
endpoint, each sink gets only the kinds meant for it, and no rating data reaches beyond its own
parameter of the province's page URL.

Every receiver here is a real HTTP server on loopback (hwd.upstream.emulator.Province and its
fault knobs: ``drip``, ``redirect``, ``flood``), the county a real PostgreSQL (hwd.county.localpg);
the outbox worker and its sinks are hwd's own."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from support.waits import wait_for
from hwd import outbox
from hwd.hall.config.ratings import Upstream
from hwd.hall.store import Store
from hwd.upstream import h5
from hwd.upstream.emulator import Province
from hwd.upstream.push_json import MAX_REPLY, PushJson

from security_helpers import hall, printer

SECRET = "province-secret"
GATEWAY_SECRET = "gateway-secret"


def put(store: Store, kind: str, ref: str, payload: dict | None = None) -> str:
    with store.tx():
        return outbox.put(store.db, kind, ref, payload or {"rating_id": int(ref) if ref.isdigit() else 0},
                          time.time())


def delivery(store: Store, sink: str, key: str) -> dict | None:
    return next((r for r in outbox.records(store.db, sink, limit=1000) if r["key"] == key), None)


def province_sink(url: str, timeout_s: float = 2.0, **kw) -> PushJson:
    return PushJson(Upstream(adapter="push-json", url=url, secret=SECRET, timeout_s=timeout_s, retry_s=0.05,
                             retry_max_s=0.2, **kw))


def gateway_sink(url: str) -> PushJson:
    up = Upstream(adapter="push-json", url=url, secret=GATEWAY_SECRET, timeout_s=2.0, retry_s=0.05, retry_max_s=0.2)
    sink = PushJson(up, "notify")
    sink.kinds = ("phone_notice",)  # as hwd.upstream.notify.sinks makes it
    return sink


class Catcher:
    """Another host a redirect points at: remembers every request of any method, answers 200 ok
    (what would mark the rating ``sent`` if the outbox followed)."""

    def __init__(self):
        self.hits: list[tuple[str, str, dict]] = []
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                catcher.hits.append((self.command, self.path, dict(self.headers)))
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_HEAD = _any

        self.server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)  # another machine
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.2:{self.server.server_port}/collect"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# -- item 3: stalled ----------------------------------------------------------------------------
def test_a_dripping_province_delays_no_other_sink_and_ends_at_its_deadline(tmp_path):
    """The province answers one byte every 0.2 s, for ever: each read succeeds within the
    timeout, so only a deadline for the whole delivery ends it. Meanwhile the phone notices'
    gateway gets every notice, and the rating goes through once the province behaves."""
    province, gateway = Province(SECRET).up(), Province(GATEWAY_SECRET).up()
    province.drip(1, interval_s=0.2)
    store = Store(tmp_path / "hall.sqlite3")
    worker = outbox.Worker(store.path, [province_sink(province.url, timeout_s=4.0), gateway_sink(gateway.url)],
                           retry_s=0.05, retry_max_s=0.2, poll_s=0.1)
    rating = put(store, "rating", "1")
    worker.start()
    try:
        wait_for(lambda: province.dripping == 1, 10, "the province dripping")
        notices = [put(store, "phone_notice", f"n{i}", {"notice": "call", "token": f"t{i}"}) for i in range(3)]
        worker.notify()
        wait_for(lambda: set(notices) <= set(gateway.records), 10, "the notices delivered during the drip")
        assert province.dripping == 1, "the drip was still holding the province's delivery"
        failed = wait_for(lambda: (delivery(store, "upstream", rating) or {}).get("last_error"), 30,
                          "the dripped delivery cut at its deadline")
        assert "deadline" in failed, failed
        wait_for(lambda: delivery(store, "upstream", rating)["state"] == "sent", 30, "the rating sent after the drip")
        assert list(province.records) == [rating]
    finally:
        worker.stop()
        province.down()
        gateway.down()
        store.close()


def test_a_dripping_province_over_tls_ends_at_its_deadline_too(tmp_path, monkeypatch):
    """The same drip behind TLS: the deadline holds for reads of the TLS socket as well."""
    from hwd import tlsca

    ca, _ = tlsca.make_ca(tmp_path / "ca")
    cert, key = tlsca.make_server(tmp_path / "ca", ["127.0.0.1"])
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the province's certificate is from the test's CA
    province = Province(SECRET, tls=(str(cert), str(key))).up()
    province.drip(1, interval_s=0.2)
    store = Store(tmp_path / "hall.sqlite3")
    sink = province_sink(province.url, timeout_s=2.0)
    worker = outbox.Worker(store.path, [sink], retry_s=0.05, retry_max_s=0.2, poll_s=0.1)
    rating = put(store, "rating", "1")
    worker.start()
    try:
        wait_for(lambda: province.dripping == 1, 10, "the province dripping")
        failed = wait_for(lambda: (delivery(store, "upstream", rating) or {}).get("last_error"), 30,
                          "the dripped delivery cut at its deadline")
        assert "deadline" in failed, failed
        wait_for(lambda: delivery(store, "upstream", rating)["state"] == "sent", 30, "sent over TLS after the drip")
    finally:
        worker.stop()
        province.down()
        store.close()


# -- item 3: fooled -----------------------------------------------------------------------------
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed(tmp_path, caplog, status):
    """A redirect to another host would carry the record (or, as a GET, its signature headers)
    there, and that host's 200 would mark the rating sent. Nothing reaches it; the record stays
    undelivered with the Location in its error and in the log."""
    province, catcher = Province(SECRET).up(), Catcher()
    province.redirect(1000, status, catcher.url)
    store = Store(tmp_path / "hall.sqlite3")
    worker = outbox.Worker(store.path, [province_sink(province.url)], retry_s=0.05, retry_max_s=0.2, poll_s=0.1)
    rating = put(store, "rating", "1")
    caplog.set_level(logging.WARNING, "hwd.upstream.push_json")
    worker.start()
    try:
        row = wait_for(lambda: (r := delivery(store, "upstream", rating)) and r["attempts"] >= 2 and r, 20,
                       "two tries redirected")
        assert row["state"] == "error" and catcher.url in row["last_error"], row
        assert f"HTTP {status}" in row["last_error"]
        assert catcher.hits == [], catcher.hits
        assert any(catcher.url in r.getMessage() for r in caplog.records)
        [status_row] = outbox.status(store.db, worker.sinks)
        assert status_row["sent"] == 0 and status_row["error"] == 1
    finally:
        worker.stop()
        province.down()
        catcher.close()
        store.close()


@pytest.mark.parametrize("status,chunked", [(200, False), (200, True), (500, True)],
                         ids=["1GiB-announced", "endless-chunked", "endless-error-body"])
def test_an_endless_reply_is_cut_at_the_cap(tmp_path, status, chunked):
    """A reply of 1 GiB, or chunked without end, is read no further than the cap: the delivery
    is an error (not ``sent`` on the strength of its first 64 KiB) and the province could push
    only what fits in the socket buffers before the outbox hung up."""
    province = Province(SECRET).up()
    province.flood(1000, status, chunked)
    store = Store(tmp_path / "hall.sqlite3")
    worker = outbox.Worker(store.path, [province_sink(province.url, timeout_s=10.0)], retry_s=0.05,
                           retry_max_s=0.2, poll_s=0.1)
    rating = put(store, "rating", "1")
    worker.start()
    try:
        row = wait_for(lambda: (r := delivery(store, "upstream", rating)) and r["attempts"] >= 3 and r, 60,
                       "three tries flooded")
        assert row["state"] == "error" and f"more than {MAX_REPLY}" in row["last_error"], row
    finally:
        worker.stop()
        province.down()
        store.close()
    assert province.flooded < 3 * 32 * 1024 * 1024, f"{province.flooded} bytes pushed at the outbox"


# -- item 4: each sink its own kinds ------------------------------------------------------------
@pytest.fixture(scope="module")
def pg_server():
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("the county sink needs psycopg 3: pip install -e '.[central]'")
    from hwd.county.localpg import LocalPostgres, Unavailable

    try:
        server = LocalPostgres()
    except Unavailable as exc:
        pytest.skip(f"the county sink needs PostgreSQL: {exc}")
    try:
        server.start()
        yield server
    finally:
        server.destroy()


def test_every_sink_gets_exactly_its_default_kinds(hwd_daemon, pg_server):
    """A hall with every feature on (province, county, phone notices) and a device, through a
    day that writes every kind: the province gets the 好差评 records only — never a ticket with
    its holder and priority class, a window session with its staff, or a device —, the county
    every kind but the phone notices, the gateway the phone notices only."""
    import psycopg

    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute("CREATE DATABASE kinds")
    dsn = pg_server.dsn.replace(f"dbname={pg_server.dbname}", "dbname=kinds")
    province, gateway = Province(SECRET).up(), Province(GATEWAY_SECRET).up()
    extra = (f'[hall.upstream]\nadapter = "push-json"\nurl = "{province.url}"\nsecret = "{SECRET}"\n'
             'retry_s = 0.1\nretry_max_s = 0.5\n'
             f'[hall.central]\ndsn = "{dsn}"\nhall_id = "h1"\nheartbeat_s = 0.3\nretry_s = 0.1\nretry_max_s = 0.5\n'
             f'[hall.notify]\nurl = "{gateway.url}"\nsecret = "{GATEWAY_SECRET}"\nretry_s = 0.1\n')
    d = hwd_daemon(hall(extra_devices=printer("k1-printer"), hall_extra=extra),
                   clock_start="2026-11-23T08:59:00")
    try:
        d.call("clock.set", {"now": "2026-11-23T09:00:00"})
        d.call("hall.login", {"window": "w1", "staff": "s01"})  # a window record
        t1 = d.call("hall.issue_ticket", {"service": "s0"})
        d.call("hall.issue_ticket", {"service": "s0"})
        d.call("hall.call_next", {"window": "w1"})
        d.call("hall.finish", {"window": "w1"})
        d.call("hall.rate", {"window": "w1", "score": 1, "reasons": ["attitude"]})  # rating, workorder
        d.call("hall.case", {"ticket": t1["id"], "case_no": "BJ-2026-0001"})  # case
        [wo] = d.call("hall.workorders", {})
        steps = (("callback", {"note": "已回访"}), ("verify", {"verdict": "mistaken", "note": "误评"}),
                 ("appeal", {"note": "申诉"}), ("review", {"verdict": "malicious", "note": "复核"}))
        for step, params in steps:
            d.call("hall.workorder", {"id": wo["id"], "step": step, **params})  # … exclusion
        d.call("hall.call_next", {"window": "w1"})
        d.call("hall.finish", {"window": "w1"})
        d.call("clock.advance", {"seconds": 700})  # past rating_timeout_s: unrated

        def drained():
            sinks = {s["sink"]: s for s in d.call("outbox.status")["sinks"]}
            return (len(sinks) == 3 and all(s["pending"] == 0 and s["error"] == 0 and s["sent"] for s in sinks.values())
                    and sinks)
        wait_for(drained, 60, "every sink drained")
        with psycopg.connect(dsn) as conn:
            county = {k for (k,) in conn.execute("SELECT DISTINCT kind FROM records WHERE hall_id = 'h1'")}
        got_province = {b["kind"] for b in province.records.values()}
        got_gateway = {b["kind"] for b in gateway.records.values()}
        ratings = {"rating", "unrated", "case", "workorder", "exclusion"}
        assert got_province == ratings, got_province
        assert county == ratings | {"ticket", "window", "device"}, county
        assert got_gateway == {"phone_notice"}, got_gateway
    finally:
        d.stop()
        province.down()
        gateway.down()


# -- the h5 adapter ------------------------------------------------------------------------------
H5_HALL = '''
[hall]
name = "合肥市政务服务中心"
region_code = "340100000000"
[hall.upstream]
adapter = "h5"
url = "https://hcp.ah.gov.cn/pj?param="
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
matter_code = "340100-000-XK-0001"
[[hall.window]]
id = "5"
name = "5号窗口"
services = ["bdc"]
'''


def test_a_hostile_staff_id_adds_no_parameter_to_the_provinces_page(hwd_daemon):
    """Without [[hall.staff]] any staff id logs in; HcpServiceImpl's query joins values unescaped
    and the province reads the later of two parameters, so ``s01&regionCode=110000&projNo=X``
    would move the rating to another region and case. The id stays inside its own parameter."""
    evil = "s01&regionCode=110000&projNo=FAKE\r\n&serviceCode=" + "x" * 4000  # RPC takes ≤ 4096 (rpctext)
    d = hwd_daemon(H5_HALL, clock_start="2026-11-23T08:59:00")
    d.call("clock.set", {"now": "2026-11-23T09:00:00"})
    d.call("hall.login", {"window": "5", "staff": evil})
    t = d.call("hall.issue_ticket", {"service": "bdc"})
    d.call("hall.call_next", {"window": "5"})
    d.call("hall.case", {"ticket": t["id"], "case_no": "340100-2026-0001"})
    d.call("hall.finish", {"window": "5"})
    url = d.call("hall.rating_url", {"ticket": t["id"]})["url"]
    fields = h5.decode(url, "https://hcp.ah.gov.cn/pj?param=")
    assert fields["regionCode"] == "340100000000" and fields["projNo"] == "340100-2026-0001", fields
    assert fields["serviceCode"] == "340100-000-XK-0001", fields
    assert list(fields) == ["key", "evaluateChannel", "projNo", "projName", "serviceName", "serviceCode",
                            "serviceVersion", "serviceDepartment", "regionCode", "ssqdBaseCode", "transactionTime",
                            "evaluatedPersonInfo"]
    [person] = json.loads(fields["evaluatedPersonInfo"])
    assert person["loginName"].startswith("s01＆regionCode＝110000＆projNo＝FAKE＆serviceCode＝")
    assert "\r" not in person["loginName"] and len(person["loginName"]) <= 200
    assert len(url) < 4096
