"""``GET /metrics`` on hwd-ui and ``hwctl metrics --textfile``, against a real hwd with a hall, an
emulated printer and an upstream sink that cannot deliver: the Prometheus text passes
``promtool check metrics`` (Debian's prometheus package), says what the hall did, and carries
exactly the names docs/deploy.md lists (they are a contract). Who may read it is in
tests/security/test_security_metrics.py."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support.waits import wait_for
from security.security_helpers import UiProcess, hall, http, printer, sse_open

REPO = Path(__file__).resolve().parents[2]
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (make sysdeps: prometheus)")

UPSTREAM = '''
[hall.upstream]
adapter = "push-json"
url = "http://127.0.0.1:9/nobody-listens"
secret = "s3cret"
retry_s = 0.2
'''
CONFIG = hall(printer("p1"), hall_extra=UPSTREAM, kiosks='[[hall.kiosk]]\nid = "k1"\nprinter = "p1"\n')


def promtool(text: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, timeout=60)


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of a scrape."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def families(text: str) -> set[str]:
    return set(re.findall(r"^# TYPE (\S+) ", text, re.M))


def documented() -> set[str]:
    """The metric names in docs/deploy.md's table (section "Metrics")."""
    doc = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    section = doc.split("## 15. Metrics", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(hwd_[a-z_]+)`", section, re.M))


@pytest.fixture
def hall_pc(hwd_daemon):
    d = hwd_daemon(CONFIG)
    d.wait_state("p1", "online")
    ui = UiProcess(d.config_path)
    yield d, ui
    ui.stop()


def a_morning(d) -> None:
    for _ in range(3):
        d.call("hall.issue_ticket", {"service": "s0", "kiosk": "k1"})
    d.call("hall.call_next", {"window": "w1"})
    d.call("hall.recall", {"window": "w1"})
    d.call("hall.start", {"window": "w1"})
    d.call("hall.finish", {"window": "w1"})
    d.call("hall.rate", {"window": "w1", "score": 2})
    d.call("hall.call_next", {"window": "w5"})


@needs_promtool
def test_metrics_pass_promtool_and_say_what_the_hall_did(hall_pc):
    d, ui = hall_pc
    a_morning(d)
    stream = sse_open(ui.port, "/live", "127.0.0.1")
    try:
        def scrape() -> dict:
            status, headers, body = http(ui.port, "GET", "/metrics")
            assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
            return samples(body.decode())
        got = wait_for(lambda: (lambda s: s if s.get(("hwd_outbox_pending_records", (("sink", "upstream"),)))
                                else None)(scrape()), what="the rating pending upstream")
        assert got[("hwd_ui_streams", ())] == 1
    finally:
        stream.close()
    status, _, body = http(ui.port, "GET", "/metrics")
    checked = promtool(body)
    assert checked.returncode == 0 and not checked.stdout.strip() and not checked.stderr.strip(), checked
    text = body.decode()
    s = samples(text)
    assert s[("hwd_up", ())] == 1
    assert s[("hwd_device_up", (("device", "p1"), ("kind", "printer")))] == 1
    assert s[("hwd_printer_paper", (("device", "p1"), ("paper", "ok")))] == 1
    assert s[("hwd_hall_queue_length", (("service", "s0"),))] == 1
    assert s[("hwd_hall_tickets_issued_total", (("service", "s0"),))] == 3
    assert s[("hwd_hall_calls_total", (("service", "s0"),))] == 3  # two calls and a recall
    assert s[("hwd_hall_wait_seconds_count", (("service", "s0"),))] == 2
    assert s[("hwd_hall_wait_seconds_bucket", (("le", "+Inf"), ("service", "s0")))] == 2
    assert s[("hwd_hall_ratings_total", (("score", "2"),))] == 1
    assert s[("hwd_hall_ratings_total", (("score", "5"),))] == 0
    assert s[("hwd_outbox_oldest_pending_age_seconds", (("sink", "upstream"),))] >= 0
    assert s[("hwd_rpc_duration_seconds_count", (("method", "hall.issue_ticket"),))] == 3
    assert s[("hwd_ui_phones", ())] == 0
    assert families(text) == documented(), "docs/deploy.md's metric table and /metrics differ"

    d.sim("p1", "paper", state="out")
    s = wait_for(lambda: (lambda s: s if s[("hwd_printer_paper", (("device", "p1"), ("paper", "out")))] == 1
                          else None)(samples(http(ui.port, "GET", "/metrics")[2].decode())), what="paper out")
    assert s[("hwd_device_up", (("device", "p1"), ("kind", "printer")))] == 0
    assert s[("hwd_device_state", (("device", "p1"), ("kind", "printer"), ("state", "fault")))] == 1


def test_rpc_names_of_unknown_methods_never_become_labels(hall_pc):
    d, ui = hall_pc
    from hwd.client import RpcError

    for n in range(5):
        with pytest.raises(RpcError):
            d.call(f"made.up{n}")
    http(ui.port, "GET", "/metrics")
    text = http(ui.port, "GET", "/metrics")[2].decode()  # the first scrape's daemon.metrics counted
    assert "made.up" not in text
    assert 'hwd_rpc_duration_seconds_count{method="daemon.metrics"}' in text


@needs_promtool
def test_without_hwd_it_still_answers_hwd_up_0(hall_pc, tmp_path):
    d, ui = hall_pc
    (tmp_path / "node-exporter").mkdir()
    textfile = tmp_path / "node-exporter" / "hwd.prom"
    hwctl = [sys.executable, "-m", "hwd.hwctl", "--config", str(d.config_path), "metrics", "--textfile", str(textfile)]
    done = subprocess.run(hwctl, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert promtool(textfile.read_bytes()).returncode == 0
    text = textfile.read_text()
    assert samples(text)[("hwd_up", ())] == 1 and "hwd_hall_queue_length" in text
    assert families(text) == {n for n in documented() if not n.startswith("hwd_ui_")}
    assert textfile.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in textfile.parent.iterdir()] == ["hwd.prom"]  # no temporary file left behind

    d.stop()
    body = http(ui.port, "GET", "/metrics")[2]
    assert promtool(body).returncode == 0
    assert samples(body.decode())[("hwd_up", ())] == 0
    done = subprocess.run(hwctl, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "hwd_up 0" in done.stderr
    assert samples(textfile.read_text())[("hwd_up", ())] == 0


def test_the_outbox_backlog_reads_only_undelivered_rows(tmp_path):
    """What /metrics (and the county sink's heartbeat) ask on every scrape: the same numbers as
    ``outbox.status``, from the undelivered rows only (a hall with a million delivered records
    would otherwise stall its loop on each scrape)."""
    from types import SimpleNamespace

    from hwd import outbox
    from hwd.hall.store import Store

    store = Store(tmp_path / "hall.sqlite3")
    sink = SimpleNamespace(name="upstream", kinds=outbox.RATING_KINDS, backfill=True)
    with store.tx():
        for i in range(300):
            outbox.put(store.db, "rating", f"r{i}", {"n": i}, 1000.0 + i)
        store.db.execute("INSERT INTO outbox_sinks (name, cursor) VALUES ('upstream', 250)")
        store.db.execute("INSERT INTO outbox_delivery (record, sink, state, next_ts) "
                         "SELECT id, 'upstream', CASE WHEN id <= 240 THEN 'sent' ELSE 'error' END, 0 "
                         "FROM outbox WHERE id <= 250")
    [status] = outbox.status(store.db, [sink])
    assert outbox.backlog(store.db, sink) == (status["pending"] + status["error"], status["oldest_pending_ts"]) \
        == (60, 1240.0)
    plan = " ".join(str(tuple(r)) for r in store.db.execute(
        "EXPLAIN QUERY PLAN SELECT COUNT(*), MIN(o.ts) FROM outbox_delivery d JOIN outbox o ON o.id = d.record "
        "WHERE d.sink = ? AND d.state IN ('pending', 'error')", ("upstream",)))
    assert "outbox_delivery_due" in plan and "SCAN d" not in plan, plan
    store.close()
