"""Clock jumps as a running hwd meets them (issue 12): the WARNING with both times, the
``daemon.clock`` event, ``clock.status``, ``hwctl doctor``, a step back while hwd was stopped, the
day rollover on the corrected clock, and rating timeouts that a jump neither fires nor stalls."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

from hwd import doctor
from hwd.client import Client

from hall_helpers import EngineHarness, load_config
from test_hall_daemon import MINIMAL


def test_a_clock_set_back_six_months_is_warned_and_the_day_follows_it(hwd_daemon):
    d = hwd_daemon(MINIMAL, clock_start="2026-11-23T10:00:00")
    ev = d.events("daemon.clock", "hall.")
    first = d.call("hall.issue_ticket", {"service": "bdc"})
    second = d.call("hall.issue_ticket", {"service": "bdc"})
    assert d.call("hall.call_next", {"window": "5"})["id"] == first["id"]
    assert d.call("clock.status")["last_back"] is None

    d.call("clock.set", {"now": "2026-05-23T10:00:00"})
    jump = ev.wait("daemon.clock")
    assert jump["direction"] == "back" and jump["to"].startswith("2026-05-23T10:00")
    assert jump["from"].startswith("2026-11-23T10:0") and jump["delta_s"] < -180 * 86400
    line = next(x for x in d.log().splitlines() if "went back" in x)
    assert "WARNING" in line and "2026-11-23T10:0" in line and "2026-05-23T10:00:00" in line, line
    assert d.call("clock.status")["last_back"]["to"] == jump["to"]

    # the later day's tickets are not today's: no two live B001, nothing of another day callable
    assert d.call("hall.ticket", {"ticket": first["id"]})["state"] == "expired"
    assert d.call("hall.ticket", {"ticket": second["id"]})["state"] == "expired"
    today = d.call("hall.issue_ticket", {"service": "bdc"})
    assert today["number"] == "B001" and today["issued_at"].startswith("2026-05-23")
    # ... and the next rollover comes on the corrected clock, not six months later
    d.call("clock.set", {"now": "2026-05-24T08:30:00"})
    assert ev.wait("hall.day.rollover", day="2026-05-24")["expired"] == 1
    assert d.call("hall.ticket", {"ticket": today["id"]})["state"] == "expired"

    rows = doctor.check_clock(Client(d.rpc, timeout=3.0, retries=1), runner=lambda cmd: None)
    clock_rows = [r for r in rows if r.name == "clock"]
    assert clock_rows[0].level == doctor.WARN and "went back" in clock_rows[0].message
    assert "2026-05-23T10:00:00" in clock_rows[0].message

    out = subprocess.run([sys.executable, "-m", "hwd.hwctl", "--config", str(d.config_path), "doctor"],
                         capture_output=True, text=True, timeout=60)
    assert re.search(r"WARN.*clock.*went back", out.stdout), out.stdout


def test_a_clock_behind_the_last_run_is_warned_at_start(hwd_daemon):
    d = hwd_daemon(MINIMAL, clock_start="2026-11-23T10:00:00")
    assert d.call("clock.status")["last_back"] is None
    d.stop()
    # the PC comes back with a flat CMOS battery: its clock is years behind the last run
    d.config_path.write_text(d.config_path.read_text().replace("2026-11-23T10:00:00", "2010-01-01T08:00:00"))
    d.start()
    back = d.call("clock.status")["last_back"]
    assert back["when"] == "while hwd was stopped" and back["to"].startswith("2010-01-01T08:00")
    assert back["from"].startswith("2026-11-23T10:0")
    assert "went back while hwd was stopped" in d.log()


def test_rating_timeouts_run_on_monotonic_time(tmp_path):
    async def main():
        h = await EngineHarness(load_config(tmp_path)).start()
        try:
            for _ in range(2):
                await h.call("hall.issue_ticket", {"service": "bdc"})
            await h.call("hall.call_next", {"window": "5"})
            done = await h.call("hall.finish", {"window": "5"})
            await h.call("clock.set", {"now": "2026-11-23T15:00:00"})   # the wall clock jumps 6 h forward
            assert (await h.call("hall.ticket", {"ticket": done["id"]}))["rating_state"] == "pending", \
                "a wall-clock jump does not fire the rating timeout"
            await h.call("clock.advance", {"seconds": 31})                 # 31 s pass
            assert (await h.call("hall.ticket", {"ticket": done["id"]}))["rating_state"] == "unrated"

            await h.call("hall.call_next", {"window": "5"})
            later = await h.call("hall.finish", {"window": "5"})
            await h.call("clock.set", {"now": "2026-11-23T14:00:00"})   # an hour back
            await h.call("clock.advance", {"seconds": 31})
            assert (await h.call("hall.ticket", {"ticket": later["id"]}))["rating_state"] == "unrated", \
                "a jump back does not stall the timeout"
        finally:
            await h.stop()
    asyncio.run(main())
