"""The hall with every device emulated (sim://), through a real hwd process: a ticket issued at
the kiosk comes out of the emulated printer, a call reaches the window's LED bus and the
speaker, a key on the emulated evaluation keypad rates the service, and the statistics show it."""

from __future__ import annotations

import shutil

import pytest
from support.devices import keypad, led
from support.waits import wait_for

SPEAKER = shutil.which("espeak-ng") is not None

DEVICES = '''
[[device]]
id = "k1-printer"
kind = "printer"
driver = "escpos"
url = "sim://k1-printer"
status_interval = 0.2
''' + led("win5-led", 5) + led("hall-led", 9) + keypad()
SPEAKER_DEVICE = '''
[[device]]
id = "hall-speaker"
kind = "speaker"
driver = "espeak"
url = "file://{out}/"
repeat = 1
'''
HALL = '''
[hall]
name = "某某县政务服务中心"
announce_repeat = 1
displays = ["hall-led"]
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
materials = ["不动产权证书", "身份证"]
[[hall.window]]
id = "5"
name = "5号窗口"
services = ["bdc"]
display = "win5-led"
keypad = "win5-rate"
{speaker}
[[hall.kiosk]]
id = "k1"
printer = "k1-printer"
'''


def screen(d):
    return d.sim("win5-led", "content", address=5)["lines"]


def test_kiosk_to_rating_with_emulated_devices(hwd_daemon, tmp_path):
    config = DEVICES + (SPEAKER_DEVICE.format(out=tmp_path / "announce") if SPEAKER else "") + \
        HALL.format(speaker='speaker = "hall-speaker"' if SPEAKER else "")
    d = hwd_daemon(config)
    for device in ("k1-printer", "win5-led", "win5-rate") + (("hall-speaker",) if SPEAKER else ()):
        d.wait_state(device, "online")
    ev = d.events("hall.", "speaker.")
    wait_for(lambda: screen(d) == ["5号窗口", ""], what="the idle window name on the LED")

    ticket = d.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1"})
    assert ticket["printed"] is True and "print_error" not in ticket, ticket.get("print_error")
    [receipt] = d.sim("k1-printer", "receipts")
    texts = [line["text"] for line in receipt["lines"]]
    assert "B001" in texts and "不动产登记" in texts and "某某县政务服务中心" in texts
    assert receipt["qr"][0]["data"].endswith(f":B001:{ticket['id']}")

    assert d.call("hall.call_next", {"window": "5"})["number"] == "B001"
    ev.wait("hall.ticket.called", number="B001", timeout=10)
    wait_for(lambda: screen(d) == ["请B001号", "5号窗口"], what="the call on the LED")
    wait_for(lambda: d.sim("hall-led", "content", address=9)["lines"] == ["请B001号", "到5号窗口办理"],
             what="the call on the hall display")
    if SPEAKER:
        announced = ev.wait("speaker.announced", timeout=30)
        assert announced["text"] == "请B零零一号到五号窗口办理"

    d.call("hall.start", {"window": "5"})
    d.call("hall.finish", {"window": "5"})
    wait_for(lambda: d.sim("win5-rate", "status")["prompts"] >= 1, what="the rating prompt at the keypad")
    wait_for(lambda: screen(d) == ["5号窗口", ""], what="the idle window name after finish")
    d.sim("win5-rate", "press", key="rate:4")
    rating = ev.wait("hall.rating", window="5", timeout=10)
    assert rating["score"] == 4 and rating["channel"] == "keypad" and rating["number"] == "B001"
    [row] = d.call("hall.stats", {"group_by": "window"})
    assert row["served"] == 1 and row["ratings"]["满意"] == 1 and row["rating_rate"] == 1.0

    notice = d.call("hall.guide", {"service": "bdc", "kiosk": "k1", "print": True})
    assert notice["printed"] is True and notice["materials"] == ["不动产权证书", "身份证"]
    texts = [line["text"] for line in d.sim("k1-printer", "receipts")[-1]["lines"]]
    assert any("不动产权证书" in t for t in texts), texts

    d.call("hall.pause", {"window": "5", "reason": "离岗"})
    wait_for(lambda: screen(d) == ["5号窗口", "暂停服务"], what="暂停服务 on the LED")


def test_printer_out_of_paper_still_issues(hwd_daemon):
    d = hwd_daemon(DEVICES + HALL.format(speaker=""))
    d.wait_state("k1-printer", "online")
    d.sim("k1-printer", "paper", state="out")
    d.wait_state("k1-printer", "fault")
    ticket = d.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1"})
    assert ticket["printed"] is False and ticket["print_error"]
    assert ticket["number"] == "B001"
    assert d.call("hall.call_next", {"window": "5"})["id"] == ticket["id"], "the ticket is valid all the same"


def test_appointment_code_scanned_at_the_kiosk(hwd_daemon):
    scanner = '\n[[device]]\nid = "k1-scanner"\nkind = "scanner"\ndriver = "serial"\nurl = "sim://k1-scanner"\n'
    d = hwd_daemon(DEVICES + scanner + HALL.format(speaker="") + 'scanner = "k1-scanner"\n',
                   clock_start="2026-11-23T10:00:00")
    d.wait_state("k1-scanner", "online")
    d.wait_state("k1-printer", "online")
    slot = "2026-11-23T10:00:00"
    d.call("hall.book", {"service": "bdc", "slot": slot, "code": "YY2026"})
    ev = d.events("hall.")
    d.sim("k1-scanner", "scan", text="NOPE")
    assert ev.wait("hall.checkin.failed", kiosk="k1", timeout=10)["code"] == 1114
    d.sim("k1-scanner", "scan", text="YY2026")
    checkin = ev.wait("hall.checkin", code="YY2026", timeout=10)
    assert checkin["in_slot"] is True and checkin["number"] == "B001"
    wait_for(lambda: d.sim("k1-printer", "receipts"), what="the appointment ticket printed")
    assert d.call("hall.ticket", {"ticket": checkin["ticket"]})["priority"] == "appointment"


def test_id_card_at_the_kiosk_gives_elderly_priority(hwd_daemon):
    from drivers.idcard.emulator import load_fixture

    reader = '\n[[device]]\nid = "k1-reader"\nkind = "idcard"\ndriver = "sam"\nurl = "sim://k1-reader"\npoll_ms = 50\n'
    d = hwd_daemon(reader + HALL.format(speaker="").replace('display = "win5-led"\nkeypad = "win5-rate"\n', "")
                   .replace('printer = "k1-printer"', 'idcard = "k1-reader"').replace('displays = ["hall-led"]\n', ""))
    d.wait_state("k1-reader", "online")
    ev = d.events("idcard.", "hall.")
    tickets = {}
    for card in ("resident", "longterm"):
        d.sim("k1-reader", "place", card=card)
        token = ev.wait("idcard.inserted", timeout=10)["card_token"]
        tickets[card] = d.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1", "card_token": token})
        d.sim("k1-reader", "remove")
        ev.wait("idcard.removed", timeout=10)
    assert tickets["resident"]["priority"] == "normal"
    assert tickets["longterm"]["priority"] == "elderly" and tickets["longterm"]["holder"] == "李*"
    assert d.call("hall.call_next", {"window": "5"})["id"] == tickets["longterm"]["id"]
    for card in ("resident", "longterm"):
        number = load_fixture(card)["id_number"]
        assert number not in d.log(), "an ID number reached the log"
        assert all(number not in str(e) for e in ev.until_marker()), "an ID number reached the bus"


pytestmark = pytest.mark.timeout(120)


def test_ticket_qr_comes_from_the_configured_template(hwd_daemon):
    hall = HALL.format(speaker="").replace('announce_repeat = 1',
                                           'announce_repeat = 1\nticket_qr = "https://hall.example/q?t={id}&n={number}"')
    d = hwd_daemon(DEVICES + hall)
    d.wait_state("k1-printer", "online")
    ticket = d.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1"})
    expected = f"https://hall.example/q?t={ticket['id']}&n=B001"
    assert ticket["printed"] is True and ticket["qr"] == expected
    assert d.sim("k1-printer", "receipts")[-1]["qr"][0]["data"] == expected


def test_a_bad_qr_template_is_a_config_error():
    from hwd import config
    from hwd.errors import ConfigError

    for template, why in (("https://x/{ticket}", "unknown placeholder {ticket}"), ("https://x/", "must contain"),
                          ("https://x/{id", "not a valid template")):
        try:
            config.loads(DEVICES + HALL.format(speaker="").replace(
                'announce_repeat = 1', f'announce_repeat = 1\nticket_qr = "{template}"'), "h.toml")
        except ConfigError as exc:
            assert any("hall.ticket_qr" in p and why in p for p in exc.problems), exc.problems
        else:
            raise AssertionError(f"{template!r} accepted")


def test_a_kiosk_cannot_speak_on_the_halls_call_speaker():
    """The kiosk's prompts stop what its speaker plays: on the windows' speaker they would cut the
    calls (and pair with them on the display), so the config refuses it."""
    from hwd import config
    from hwd.errors import ConfigError

    text = DEVICES + SPEAKER_DEVICE.format(out="/tmp") + HALL.format(speaker='speaker = "hall-speaker"')
    config.loads(text, "h.toml")
    try:
        config.loads(text.replace('printer = "k1-printer"\n', 'printer = "k1-printer"\nspeaker = "hall-speaker"\n'),
                     "h.toml")
    except ConfigError as exc:
        assert any("hall.kiosk[0].speaker" in p and "speaker of its own" in p for p in exc.problems), exc.problems
    else:
        raise AssertionError("a kiosk on the call speaker accepted")
