"""A ticket the kiosk reported "not printed" never prints later, and the hall record says what
really happened (issue 14 item 1). Through a real hwd, the real ESC/POS driver and the printer
emulator at the far end of its link: paper out, the kiosk gives up, paper refilled — nothing
comes out for that ticket, and the record says printed false. Job ids stay unique when the hall
database is reset while the printer's spool is kept."""

from __future__ import annotations

from support.waits import wait_for

CONFIG = '''
[[device]]
id = "k1-printer"
kind = "printer"
driver = "escpos"
url = "sim://k1-printer"
status_interval = 0.2

[hall]
name = "某某县政务服务中心"
print_wait_ms = 1000
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
[[hall.window]]
id = "5"
name = "5号窗口"
services = ["bdc"]
[[hall.kiosk]]
id = "k1"
printer = "k1-printer"
'''


def _receipt_numbers(d) -> list[str]:
    out = []
    for receipt in d.sim("k1-printer", "receipts"):
        out += [line["text"] for line in receipt["lines"] if line["text"].startswith("B0")]
    return out


def test_a_ticket_reported_not_printed_never_prints_after_refill(hwd_daemon):
    d = hwd_daemon(CONFIG)
    d.wait_state("k1-printer", "online")
    d.sim("k1-printer", "paper", state="out")
    d.wait_state("k1-printer", "fault")
    ev = d.events("printer.job")

    ticket = d.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1"})
    assert ticket["printed"] is False and ticket["print_error"], "the kiosk tells the citizen it failed"
    [job] = [j for j in d.call("printer.jobs", {"device": "k1-printer"}) if j["job"].endswith(f"-{ticket['id']}")]
    assert job["state"] == "cancelled", job
    ev.wait("printer.job", job=job["job"], state="cancelled")

    d.sim("k1-printer", "paper", state="ok")
    d.wait_state("k1-printer", "online")
    # a later ticket prints: the printer works again and has drained its queue by then
    second = d.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1"})
    assert second["printed"] is True, second.get("print_error")
    wait_for(lambda: _receipt_numbers(d), what="the second ticket's receipt")
    assert _receipt_numbers(d) == ["B002"], "B001 was reported not printed: it must never come out"
    assert [e for e in ev.until_marker() if e["job"] == job["job"] and e["state"] == "printed"] == []

    record = d.call("hall.ticket", {"ticket": ticket["id"]})
    assert record["printed"] is False and record["print_error"] == ticket["print_error"]
    assert d.call("hall.ticket", {"ticket": second["id"]})["printed"] is True


def test_the_job_carries_its_own_deadline(hwd_daemon):
    """A printer the cancel cannot reach still never prints a job its caller gave up on."""
    d = hwd_daemon(CONFIG)
    d.wait_state("k1-printer", "online")
    d.sim("k1-printer", "paper", state="out")
    d.wait_state("k1-printer", "fault")
    doc = {"lines": [{"text": "LATE-JOB"}, {"cut": "full"}]}
    job = d.call("printer.print", {"device": "k1-printer", "document": doc, "job": "j-late", "max_age_s": 0.3})
    assert job["state"] == "queued"
    wait_for(lambda: d.call("printer.jobs", {"device": "k1-printer", "state": "failed"}), what="the job expired")
    d.sim("k1-printer", "paper", state="ok")
    d.wait_state("k1-printer", "online")
    d.call("printer.print", {"device": "k1-printer", "document": {"lines": [{"text": "B-NEXT"}, {"cut": "full"}]},
                             "job": "j-next", "wait_ms": 5000})
    texts = [line["text"] for r in d.sim("k1-printer", "receipts") for line in r["lines"]]
    assert "B-NEXT" in texts and "LATE-JOB" not in texts
    [failed] = d.call("printer.jobs", {"device": "k1-printer", "state": "failed"})
    assert failed["job"] == "j-late" and "expired" in failed["reason"]


def test_job_ids_stay_unique_after_the_hall_database_is_reset(hwd_daemon):
    d = hwd_daemon(CONFIG)
    d.wait_state("k1-printer", "online")
    first = d.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1"})
    assert first["printed"] is True
    d.stop()
    for path in d.state_dir.glob("hall.sqlite3*"):
        path.unlink()   # the hall database is reset; the printer's spool (spool.sqlite) is kept
    d.start()
    d.wait_state("k1-printer", "online")
    again = d.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1"})
    assert again["id"] == first["id"], "ticket ids restart with the new database"
    assert again["printed"] is True, again.get("print_error")
    # the emulator restarted with hwd: its receipts are those cut since
    wait_for(lambda: _receipt_numbers(d), what="the new database's B001 really printed")
    assert _receipt_numbers(d) == ["B001"]
    jobs = [j["job"] for j in d.call("printer.jobs", {"device": "k1-printer"})]
    assert len(set(jobs)) == 2


def test_a_late_printed_event_corrects_the_record(tmp_path):
    """The backstop: if a ticket's job is ever reported printed after the kiosk gave up (an old
    node that ignores the job's deadline), the record follows what really happened."""
    import asyncio

    from hall_helpers import EngineHarness, load_config

    async def main():
        h = await EngineHarness(load_config(tmp_path)).start()
        try:
            await h.call("clock.set", {"now": "2026-11-23T09:00:00"})
            t = await h.call("hall.issue_ticket", {"service": "bdc"})
            assert t["printed"] is False
            h.bus.publish("printer.job", {"job": f"hall-other-{t['id']}", "state": "printed"})
            assert (await h.call("hall.ticket", {"ticket": t["id"]}))["printed"] is False, "another database's job"
            h.bus.publish("printer.job", {"job": h.engine.printing.job_id(t["id"]), "state": "printed"})
            seen = await h.call("hall.ticket", {"ticket": t["id"]})
            assert seen["printed"] is True and "print_error" not in seen
        finally:
            await h.stop()
    asyncio.run(main())
