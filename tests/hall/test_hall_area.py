"""The 24-hour area's kiosk after hours, through a real hwd on the test clock: it never issues a
queue ticket while the windows are closed (not by service, not for an appointment, not in a hall
that issues around the clock at its other kiosks), says when they open, and books the coming
working days' slots into the appointment store that check-in uses."""

from __future__ import annotations

import sqlite3

import pytest

from pickup_hall import MONDAY_DAY, MONDAY_NIGHT, card_token, hall_text

from hwd import errors
from hwd.client import RpcError


def tickets_at(d, kiosk: str) -> int:
    db = sqlite3.connect(d.state_dir / "hall.sqlite3")
    try:
        return db.execute("SELECT COUNT(*) FROM tickets WHERE kiosk = ?", (kiosk,)).fetchone()[0]
    finally:
        db.close()


def refused(d, method: str, params: dict) -> RpcError:
    with pytest.raises(RpcError) as err:
        d.call(method, params)
    return err.value


@pytest.mark.parametrize("always_open", [False, True])
def test_no_queue_ticket_at_the_24h_kiosk_while_the_windows_are_closed(hwd_daemon, always_open):
    d = hwd_daemon(hall_text(always_open=always_open), clock_start=MONDAY_NIGHT)
    booked = d.call("hall.book", {"service": "bdc", "slot": "2026-11-23T20:45:00", "minutes": 60})  # in its slot now
    for params in ({"service": "bdc", "kiosk": "k24"}, {"service": "sb", "kiosk": "k2", "priority": "elderly"},
                   {"service": "bdc", "kiosk": "k24", "appointment": booked["code"]}):
        err = refused(d, "hall.issue_ticket", params)
        assert err.code == errors.OUTSIDE_HOURS and err.data["opens_at"].startswith("2026-11-24T08:45"), params
        assert "明天 08:45" in str(err)
    assert refused(d, "hall.checkin", {"code": booked["code"], "kiosk": "k24"}).code == errors.OUTSIDE_HOURS
    assert tickets_at(d, "k24") == tickets_at(d, "k2") == 0
    area = d.call("hall.area", {"kiosk": "k24"})
    assert area["open"] is False and area["area"] == "24h" and area["pickup"] is True
    assert [day["hours"] for day in area["days"][:2]] == [["09:00-12:00", "13:00-17:00"]] * 2
    if always_open:   # the hall's other kiosk issues around the clock: that is the hall's choice
        assert d.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1"})["number"] == "B001"
    else:             # the appointment in its slot is checked in at an ordinary kiosk, as before
        assert d.call("hall.checkin", {"code": booked["code"], "kiosk": "k1"})["priority"] == "appointment"
    d.call("clock.set", {"now": "2026-11-24T10:00:00"})     # the windows are open: the same kiosk issues
    assert d.call("hall.area", {"kiosk": "k24"})["open"] is True
    assert d.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k24"})["kiosk"] == "k24"
    assert tickets_at(d, "k24") == 1


def test_booking_the_coming_working_days_at_night(hwd_daemon):
    text = hall_text().replace("[hall.pickup]", "[hall.appointments]\nper_slot = 2\nbook_days = 3\n\n[hall.pickup]")
    d = hwd_daemon(text, clock_start="2026-11-27T21:00:00")        # a Friday night
    days = d.call("hall.slots", {"service": "bdc"})
    assert [day["date"] for day in days] == ["2026-11-30", "2026-12-01", "2026-12-02"]   # Mon, Tue, Wed
    first = days[0]["slots"][0]
    assert (first["label"], first["left"]) == ("09:00-09:30", 2)
    labels = [s["label"] for s in days[0]["slots"]]
    assert labels[:6] == ["09:00-09:30", "09:30-10:00", "10:00-10:30", "10:30-11:00", "11:00-11:30", "11:30-12:00"]
    assert labels[6] == "13:00-13:30" and labels[-1] == "16:30-17:00" and len(labels) == 14
    token = card_token(d, "k24-idcard")
    booked = d.call("hall.book_slot", {"service": "bdc", "slot": first["start"], "kiosk": "k24", "card_token": token})
    assert booked["by_card"] is True and len(booked["code"]) == 8 and booked["printed"] is True
    d.call("hall.book_slot", {"service": "bdc", "slot": first["start"], "kiosk": "k24"})
    full = refused(d, "hall.book_slot", {"service": "bdc", "slot": first["start"], "kiosk": "k24"})
    assert full.code == errors.BAD_SLOT and "已约满" in str(full)
    for slot in ("2026-11-28T10:00", "2026-11-30T03:00", "2026-11-30T09:10", "not a time"):
        assert refused(d, "hall.book_slot", {"service": "bdc", "slot": slot, "kiosk": "k24"}).code in (
            errors.BAD_SLOT, errors.INVALID_PARAMS), slot
    assert d.call("hall.slots", {"service": "bdc"})[0]["slots"][0]["left"] == 0
    # the booking is an appointment like any other: checked in by its code in its slot
    d.call("clock.set", {"now": "2026-11-30T08:55:00"})
    ticket = d.call("hall.checkin", {"code": booked["code"], "kiosk": "k1"})
    assert ticket["priority"] == "appointment" and ticket["appointment"] == booked["code"]
    # printed at the kiosk: the slip carries the code and the slot
    slips = [" ".join(line["text"] for line in r["lines"]) for r in d.sim("k24-printer", "receipts")]
    assert any(booked["code"] in s and "09:00-09:30" in s and "预约凭条" in s for s in slips), slips
