"""The outbox worker delivering to a real ``push-json`` sink over loopback HTTP, against the
province emulator misbehaving (down, 500s, slow replies, lost replies, rejections): every record
ends up there exactly once, rejected ones say why, and a 补报 replay keeps the keys.

Shape and states follow epoint ``HcpWaitEvaluateJobCheck`` (LouisCherry/tempproject134): a signed
payload per record and a per-record sync state 1 synced / 98 rejected (``success`` false with a
``message``) / 99 interface error — here sent / rejected (reason) / error (retried)."""

from __future__ import annotations

import time
from types import SimpleNamespace

from hypothesis import given, strategies as st

from hwd import outbox
from hwd.hall.config.ratings import Upstream
from hwd.hall.store import Store
from hwd.upstream import signing
from hwd.upstream.emulator import Province
from hwd.upstream.push_json import PushJson, body_of

SECRET = "s3cret-of-the-province"


def wait_until(fn, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout} s")


def states(store: Store, sink: str = "upstream") -> dict[str, str]:
    return {r["ref"]: r["state"] for r in outbox.records(store.db, sink, limit=1000)}


def put_records(store: Store, n: int, start: int = 1) -> list[str]:
    keys = []
    with store.tx():
        for i in range(start, start + n):
            keys.append(outbox.put(store.db, "rating", str(i), {"rating_id": i, "score": 1 + i % 5,
                                                                  "case_no": f"BJ{i:04d}", "matter_code": "M1"},
                                   time.time()))
    return keys


def test_sm3_is_the_gbt_32905_hash():
    from cryptography.hazmat.primitives import hashes

    digest = hashes.Hash(hashes.SM3())
    digest.update(b"abc")  # GB/T 32905-2016 Annex A, example 1
    assert digest.finalize().hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert signing.verify("hmac-sm3", "k", "1", b"{}", signing.sign("hmac-sm3", "k", "1", b"{}"))
    assert not signing.verify("hmac-sm3", "k", "1", b"{}", signing.sign("hmac-sha256", "k", "1", b"{}"))


def test_field_mapping_renames_drops_and_maps_channels():
    rec = outbox.Record(1, "h:rating:1", "rating", "1", {"case_no": "BJ1", "score": 2, "channel": "pad",
                                                          "staff_name": "王", "idempotency_key": "h:rating:1"}, 0)
    body = body_of(rec, {"case_no": "projectNo", "score": "satisfaction", "staff_name": ""}, {"pad": "PJQ"})
    assert body == {"projectNo": "BJ1", "satisfaction": 2, "channel": "PJQ", "idempotency_key": "h:rating:1"}


@given(st.floats(0.01, 10), st.floats(0.01, 1000), st.integers(0, 60))
def test_backoff_is_capped_and_never_shrinks(first, cap, attempts):
    a, b = outbox.backoff(attempts, first, cap), outbox.backoff(attempts + 1, first, cap)
    assert 0 < a <= b <= cap
    assert outbox.backoff(1, first, cap) == min(cap, first)


def test_every_record_arrives_once_through_outages_and_rejections(tmp_path):
    province = Province(SECRET, "hmac-sm3")  # down at first: nothing listens on its port
    store = Store(tmp_path / "hall.sqlite3")
    up = Upstream(adapter="push-json", url=province.url, secret=SECRET, signature="hmac-sm3", timeout_s=0.5)
    worker = outbox.Worker(store.path, [PushJson(up)], retry_s=0.05, retry_max_s=0.2, poll_s=0.1)
    keys = put_records(store, 4)
    worker.start()
    try:
        wait_until(lambda: any(s == "error" for s in states(store).values()), what="a failed try while down")
        assert outbox.status(store.db, worker.sinks)[0]["last_error"]
        province.reject(lambda body: "事项编码不存在" if body["case_no"] == "BJ0003" else None)
        province.fail(2, 500)
        province.hang(1, seconds=1.0)  # slower than timeout_s: stored, but the client gives up
        province.drop_replies(1)  # stored, the reply is lost
        province.up()
        keys += put_records(store, 4, start=5)
        worker.notify()
        wait_until(lambda: set(states(store).values()) <= {"sent", "rejected"} and len(states(store)) == 8,
                   what="every record delivered or rejected")
        assert states(store)["3"] == "rejected"
        [rejected] = outbox.records(store.db, "upstream", "rejected")
        assert rejected["last_error"] == "事项编码不存在"
        assert set(province.records) == set(keys) - {rejected["key"]}
        assert province.duplicates >= 1  # the lost reply and the slow one were sent again, kept once
        assert all(province.records[k]["idempotency_key"] == k for k in province.records)
        status = outbox.status(store.db, worker.sinks)[0]
        assert (status["sent"], status["rejected"], status["pending"], status["error"]) == (7, 1, 0, 0)
        assert status["oldest_pending_ts"] is None

        # 补报: the province asks again for everything; it keeps one copy of each key
        province.reject(lambda body: None)
        with store.tx():
            assert outbox.resend(store.db, "upstream") == 8
        before = province.duplicates
        worker.wake_all()
        wait_until(lambda: set(states(store).values()) == {"sent"}, what="replay delivered")
        assert set(province.records) == set(keys)
        assert province.duplicates == before + 7
        replayed = [k for k, what in province.requests if what in ("stored", "duplicate")][-8:]
        assert sorted(replayed) == sorted(keys)
    finally:
        worker.stop()
        province.down()
        store.close()


def test_a_bad_signature_is_a_rejection_not_a_retry_loop(tmp_path):
    province = Province(SECRET).up()
    store = Store(tmp_path / "hall.sqlite3")
    up = Upstream(adapter="push-json", url=province.url, secret="wrong", timeout_s=2)
    worker = outbox.Worker(store.path, [PushJson(up)], retry_s=0.05, retry_max_s=0.2, poll_s=0.1)
    put_records(store, 1)
    worker.start()
    try:
        wait_until(lambda: states(store).get("1") == "rejected", what="rejected")
        assert outbox.records(store.db, "upstream")[0]["last_error"] == "签名错误" and province.records == {}
    finally:
        worker.stop()
        province.down()
        store.close()


class ListSink:
    """A second sink of the same outbox (what issue 17's county database sink plugs in as)."""

    def __init__(self, name: str, backfill: bool, kinds=outbox.RATING_KINDS + outbox.FEED_KINDS):
        self.name, self.backfill, self.kinds = name, backfill, kinds
        self.got: list[str] = []
        self.records: list[outbox.Record] = []

    def deliver(self, record):
        self.got.append(record.key)
        self.records.append(record)
        return outbox.Sent()


def test_named_sinks_keep_their_own_cursor_and_state(tmp_path):
    store = Store(tmp_path / "hall.sqlite3")
    old = put_records(store, 2)
    county = ListSink("county", backfill=True)
    phone = ListSink("phone", backfill=False, kinds=("workorder",))
    worker = outbox.Worker(store.path, [county, phone], retry_s=0.05, retry_max_s=0.2, poll_s=0.05)
    worker.start()
    try:
        wait_until(lambda: county.got == old, what="backfill")
        with store.tx():
            wo = outbox.put(store.db, "workorder", "1", {"step": "callback"}, time.time())
        worker.notify()
        wait_until(lambda: phone.got == [wo] and county.got == old + [wo], what="new record to both sinks")
        assert county.records[-1].origin == outbox.origin(store.db) and county.records[-1].ref == "1"
        rows = {s["sink"]: s for s in outbox.status(store.db, [county, phone])}
        assert rows["county"]["sent"] == 3 and rows["phone"]["sent"] == 1
    finally:
        worker.stop()
        store.close()


def test_status_counts_records_not_yet_taken_up_as_pending(tmp_path):
    store = Store(tmp_path / "hall.sqlite3")
    put_records(store, 3)
    sink = SimpleNamespace(name="upstream", kinds=outbox.RATING_KINDS, backfill=True)
    [row] = outbox.status(store.db, [sink])
    assert row["pending"] == 3 and row["oldest_pending_ts"] is not None
    store.close()


def test_a_success_false_reply_is_a_rejection(tmp_path):
    """An epoint-style receiver says ``{"success": false, "message": ...}`` with HTTP 200."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            body = json.dumps({"success": False, "message": "办件不存在"}, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    up = Upstream(adapter="push-json", url=f"http://127.0.0.1:{server.server_port}/", secret=SECRET)
    try:
        rec = outbox.Record(1, "h:rating:1", "rating", "1", {"case_no": "X", "idempotency_key": "h:rating:1"}, 0)
        assert PushJson(up).deliver(rec) == outbox.Rejected("办件不存在")
    finally:
        server.shutdown()
        server.server_close()


class SlowSink(ListSink):
    """Takes its time per record and fails now and then: its thread is busy while others write."""

    def __init__(self, name: str, kinds, every: int):
        super().__init__(name, backfill=True, kinds=kinds)
        self.every, self.tries = every, 0

    def deliver(self, record):
        self.tries += 1
        time.sleep(0.001)
        if self.tries % self.every == 0:
            raise outbox.DeliveryError("flaky")
        return super().deliver(record)


def test_sinks_on_their_own_threads_each_get_their_kinds_once_and_in_order(tmp_path):
    """Three sinks, each on its own thread and SQLite connection, while the hall keeps writing
    records: every sink ends with exactly the records of its kinds, each once, in record order,
    and its cursor and delivery rows agree with that."""
    store = Store(tmp_path / "hall.sqlite3")
    sinks = [SlowSink("a", ("rating",), every=7), SlowSink("b", ("ticket", "rating"), every=11),
             SlowSink("c", ("phone_notice",), every=5)]
    worker = outbox.Worker(store.path, sinks, retry_s=0.01, retry_max_s=0.02, poll_s=0.05)
    worker.start()
    written: dict[str, list[str]] = {"rating": [], "ticket": [], "phone_notice": []}
    try:
        for i in range(300):
            kind = ("rating", "ticket", "phone_notice")[i % 3]
            with store.tx():
                written[kind].append(outbox.put(store.db, kind, str(i), {"i": i}, time.time()))
            worker.notify()
        expected = {"a": written["rating"],
                    "b": sorted(written["rating"] + written["ticket"], key=lambda k: int(k.rsplit(":", 1)[1])),
                    "c": written["phone_notice"]}
        wait_until(lambda: all(s.got == expected[s.name] for s in sinks), what="every sink caught up")
        for row in outbox.status(store.db, sinks):
            assert (row["pending"], row["error"], row["sent"]) == (0, 0, len(expected[row["sink"]])), row
    finally:
        worker.stop()
        store.close()
