"""Issue 22 item 7, attacked as the issue did it: a clerk logged in at window 1 sets the 办件编号
of window 5's rated ticket through ``POST /counter/w1/case`` (the ticket id in the body) — which
would re-send window 5's rating to the province under a case number of window 1's choosing. A
clerk acts only on tickets their own window served; the engine refuses any other (1117)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from hwd import errors
from hwd.client import RpcError
from hwd.hall.pin import hash_pin
from security_helpers import Browser, hall
from support.ui import UiProcess

PIN = "4821"
STAFF = "".join(f'[[hall.staff]]\nid = "{s}"\nname = "职员{s}"\npin_hash = "{hash_pin(PIN, iterations=1000)}"\n'
                for s in ("s01", "s05"))


@pytest.fixture
def site(hwd_daemon):
    d = hwd_daemon(hall(kiosks='[[hall.kiosk]]\nid = "k1"\n') + STAFF + "\n[ui]\n")
    ui = UiProcess(d.config_path)
    yield d, ui
    ui.stop()


def _case_records(d) -> list[dict]:
    db = sqlite3.connect(f"file:{d.state_dir / 'hall.sqlite3'}?mode=ro", uri=True)
    try:
        return [json.loads(row[0]) for row in db.execute("SELECT payload FROM outbox WHERE kind = 'case'")]
    finally:
        db.close()


def test_a_clerk_cannot_set_the_case_number_of_another_windows_ticket(site):
    d, ui = site
    clerk5, clerk1 = Browser(ui, "127.0.0.5"), Browser(ui, "127.0.0.1")
    assert clerk5.post_form("/counter/w5/login", {"staff": "s05", "pin": PIN})[0] == 302
    assert clerk1.post_form("/counter/w1/login", {"staff": "s01", "pin": PIN})[0] == 302
    ticket = d.call("hall.issue_ticket", {"service": "s0"})
    for action in ("call_next", "start", "finish"):
        status, body = clerk5.post_json(f"/counter/w5/api/{action}", {})
        assert status == 200, body
    d.call("hall.rate", {"window": "w5", "score": 2})
    assert d.call("hall.ticket", {"ticket": ticket["id"]})["window"] == "w5"

    # window 1's clerk names window 5's rated ticket, by id and by number
    for ref in (ticket["id"], ticket["number"], str(ticket["id"])):
        status, body = clerk1.post_json("/counter/w1/case", {"case_no": "EVIL-1", "ticket": ref})
        assert status == 403 and body["code"] == errors.NOT_THIS_WINDOW, (ref, body)
        assert "本窗口" in body["error"]
    # and straight through RPC with the window the page passes
    with pytest.raises(RpcError) as exc:
        d.call("hall.case", {"ticket": ticket["id"], "case_no": "EVIL-2", "staff": "s01", "window": "w1"})
    assert exc.value.code == errors.NOT_THIS_WINDOW
    assert d.call("hall.ticket", {"ticket": ticket["id"]}).get("case_no") is None
    assert _case_records(d) == []  # nothing was re-sent to the province

    # window 1 without a ticket of its own: nothing to attach (its last finished ticket is none)
    status, body = clerk1.post_json("/counter/w1/case", {"case_no": "EVIL-3"})
    assert status == 409 and "当前没有" in body["error"], body
    assert d.call("hall.ticket", {"ticket": ticket["id"]}).get("case_no") is None

    # window 5's own clerk still attaches it, and the rated ticket is sent again with it
    status, body = clerk5.post_json("/counter/w5/case", {"case_no": "BJ-2026-5"})
    assert status == 200 and body["result"]["ticket"] == ticket["id"], body
    status, body = clerk5.post_json("/counter/w5/case", {"case_no": "BJ-2026-6", "ticket": ticket["id"]})
    assert status == 200, body
    assert d.call("hall.ticket", {"ticket": ticket["id"]})["case_no"] == "BJ-2026-6"
    assert [r["case_no"] for r in _case_records(d)] == ["BJ-2026-5", "BJ-2026-6"]
