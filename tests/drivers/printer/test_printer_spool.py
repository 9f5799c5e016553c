"""The spool on its own: idempotent ids, compare-and-set transitions, ages, persistence."""

from __future__ import annotations

import time

from drivers.printer.spool import Spool


def make(tmp_path) -> Spool:
    spool = Spool(tmp_path / "spool.sqlite")
    spool.open()
    return spool


def test_add_is_idempotent(tmp_path):
    spool = make(tmp_path)
    job, created = spool.add("a", [{"text": "1"}], {"template": "ticket"})
    assert created and job["state"] == "queued" and job["template"] == "ticket"
    again, created = spool.add("a", [{"text": "other"}])
    assert not created and again["job"] == "a"
    assert spool.document("a") == [{"text": "1"}]


def test_transitions_are_compare_and_set(tmp_path):
    spool = make(tmp_path)
    spool.add("a", ["x"])
    assert spool.transition("a", "printing")
    assert not spool.transition("a", "cancelled")               # only from queued
    assert spool.transition("a", "printed", from_states=("printing",))
    assert not spool.transition("a", "printed", from_states=("printing",))
    assert spool.get("a")["state"] == "printed"
    assert not spool.transition("missing", "printing")


def test_queue_order_ages_and_listing(tmp_path):
    spool = make(tmp_path)
    for name in ("a", "b", "c"):
        spool.add(name, [name])
    assert spool.next_queued()["job"] == "a"
    spool.transition("a", "failed", "no paper")
    assert spool.next_queued()["job"] == "b"
    assert [j["job"] for j in spool.list()] == ["c", "b", "a"]
    assert spool.list(state="failed")[0]["reason"] == "no paper"
    assert spool.older_than(3600) == []
    time.sleep(0.05)
    assert [j["job"] for j in spool.older_than(0.01)] == ["b", "c"]
    assert spool.count("queued") == 2


def test_survives_reopen(tmp_path):
    spool = make(tmp_path)
    spool.add("keep", ["x"])
    spool.close()
    again = make(tmp_path)
    assert again.get("keep")["state"] == "queued"


def test_job_age_runs_on_monotonic_time_and_a_clock_gone_back_never_prints_an_old_job(tmp_path, monkeypatch):
    """Issue 12 §4 / 14 §1: a wall-clock jump must neither expire this run's jobs at once nor keep
    an old one for ever; a job from before a restart whose time is now in the future (the clock
    went back since) counts as too old, so a stale ticket never prints."""
    import drivers.printer.spool as spool_module

    spool = Spool(tmp_path / "spool.sqlite3")
    spool.open()
    spool.add("now", [{"text": "x"}])
    real = time.time
    monkeypatch.setattr(spool_module.time, "time", lambda: real() + 7 * 86400)  # the wall clock jumps ahead
    assert spool.older_than(600) == [], "a jump forward does not expire this run's job"
    monkeypatch.setattr(spool_module.time, "time", lambda: real() - 3600)      # and back
    assert spool.older_than(600) == []
    monkeypatch.setattr(spool_module.time, "time", real)
    spool.close()
    again = Spool(tmp_path / "spool.sqlite3")                                   # hwd restarted
    again.open()
    assert again.older_than(600) == []
    monkeypatch.setattr(spool_module.time, "time", lambda: real() - 3600)      # the clock went back since
    assert [j["job"] for j in again.older_than(600)] == ["now"]
    again.close()
