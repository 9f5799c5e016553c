"""A hall with a 24-hour self-service area, written once for the pickup tests (hall, pages,
security, county): two lock boards on one emulated RS-485 bus (a 24-door and a 12-door locker), a
24-hour kiosk ``k24`` with its printer and ID-card reader, a normal kiosk ``k1``, window 5 with a
clerk, and the ordinary weekday hours (09:00–12:00, 13:00–17:00)."""

from __future__ import annotations

from typing import Any

from support.waits import wait_for

MONDAY_DAY = "2026-11-23T16:00:00"      # a Monday, windows open (never today's date)
MONDAY_NIGHT = "2026-11-23T21:00:00"    # the same evening: windows closed until 08:45 tomorrow
ID_NUMBER = "110101199003071233"        # drivers/idcard/fixtures/resident.json
OPEN_ALARM_S = 120

DEVICES = '''
[[device]]
id = "k24-printer"
kind = "printer"
driver = "escpos"
url = "sim://k24-printer"
mode = "text"
status_interval = 0.2

[[device]]
id = "k24-idcard"
kind = "idcard"
driver = "sam"
url = "sim://k24-idcard"

[[device]]
id = "k2-idcard"
kind = "idcard"
driver = "sam"
url = "sim://k2-idcard"

[[device]]
id = "locker1"
kind = "locker"
driver = "board"
url = "sim://lockerbus"
address = 0
doors = 24
poll_ms = 200

[[device]]
id = "locker2"
kind = "locker"
driver = "board"
url = "sim://lockerbus"
address = 1
doors = 12
poll_ms = 200
'''


def hall_text(extra: str = "", always_open: bool = False, hall_extra: str = "") -> str:
    """The config (without [daemon]); ``extra`` goes at the end (e.g. [ui]), ``hall_extra`` into [hall]."""
    from hwd.hall.pin import hash_pin

    return DEVICES + f'''
[hall]
name = "测试县政务服务中心"
{hall_extra}
[hall.hours]
always_open = {"true" if always_open else "false"}
official_calendar = false

[hall.pickup]
lockers = ["locker1", "locker2"]
open_alarm_s = {OPEN_ALARM_S}
help = "请拨打 0531-12345 联系值班人员"

[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
materials = ["身份证", "不动产权证书"]

[[hall.service]]
id = "sb"
name = "社保业务"
prefix = "A"

[[hall.window]]
id = "5"
name = "5号窗口"
services = ["bdc", "sb"]

[[hall.kiosk]]
id = "k24"
area = "24h"
printer = "k24-printer"
idcard = "k24-idcard"

[[hall.kiosk]]
id = "k2"
area = "24h"
idcard = "k2-idcard"

[[hall.kiosk]]
id = "k1"

[[hall.staff]]
id = "s01"
name = "王小明"
pin_hash = "{hash_pin("1357", iterations=1000)}"
{extra}'''


def served(d: Any, service: str = "bdc", kiosk: str = "k1") -> dict:
    """A ticket issued, called, served and finished at window 5 (clerk s01 logged in)."""
    ticket = d.call("hall.issue_ticket", {"service": service, "kiosk": kiosk})
    d.call("hall.call_next", {"window": "5"})
    d.call("hall.start", {"window": "5"})
    d.call("hall.finish", {"window": "5"})
    return ticket


def deposited(d: Any, ev: Any, **params: Any) -> dict:
    """hall.deposit, then the clerk shuts the door: the deposit counts."""
    got = d.call("hall.deposit", {"window": "5", "staff": "s01", **params})
    ev.wait("locker.door", device=got["device"], door=got["door"], state="opened")
    d.sim(got["device"], "shut", door=got["door"])
    ev.wait("hall.pickup.deposited", deposit=got["deposit"])
    return got


def card_token(d: Any, reader: str = "k24-idcard") -> str:
    """The resident's card laid on ``reader``: its token from the idcard.inserted event."""
    ev = d.events("idcard.inserted")
    d.sim(reader, "place", card="resident")
    return ev.wait("idcard.inserted", timeout=10, device=reader)["card_token"]


def actions(d: Any) -> list[tuple]:
    import sqlite3

    db = sqlite3.connect(d.state_dir / "hall.sqlite3")
    try:
        return db.execute("SELECT action, ticket, detail FROM actions ORDER BY id").fetchall()
    finally:
        db.close()


def alarms(d: Any, kind: str | None = None) -> list[dict]:
    return [a for a in d.call("hall.locker_alarms") if kind is None or a["kind"] == kind]


def wait_alarm(d: Any, kind: str, **match: Any) -> dict:
    return wait_for(lambda: next((a for a in alarms(d, kind) if all(a.get(k) == v for k, v in match.items())), None),
                    10, f"alarm {kind}")
