"""The hall acting on an RS-485 bus as the public queue systems wire it (JackQChen/QueueSystem,
uvbs/HospitalQueueSystem): a 重庆中意 strip screen, two unpolled ``caller21`` callers — digit LCDs
``ticket6`` and ``ticket-wait`` — and an evaluator, all on one emulated bus (one pty), through a
real hwd process.

- A call puts the ticket's digits on the window's caller in both LCD formats, with the window's
  waiting count for ``ticket-wait`` (and ``ticket6`` when idle), again whenever that count changes.
- ``finish`` starts the window's evaluator (``01 0B``); its key rates that window and its stars
  (``02 n``) follow; the clerk's caller may not rate.
- Digits before a key: ``3`` + call calls ticket 3 of the window's services (the most preferred
  service first), ``2`` + transfer sends the ticket to the service with ``code = 2``; a number
  nobody waits with is refused: logged, published, and the caller beeps.
"""

from __future__ import annotations

import time

from daemon_fixture import wait_for

SCREEN = '''
[[device]]
id = "win8-strip"
kind = "display"
driver = "frame"
url = "sim://hallbus"
protocol = "zhongyi"
address = 7
'''
EVALUATOR = '''
[[device]]
id = "win8-rate"
kind = "keypad"
driver = "bus"
url = "sim://hallbus"
protocol = "caller21"
role = "evaluator"
address = 0x81
polled = false
keys = { "00" = "rate:1", "01" = "rate:2", "02" = "rate:3", "03" = "rate:4", "04" = "rate:5" }
'''


def caller(device_id: str, address: int, lcd: str, keys: str) -> str:
    return f'''
[[device]]
id = "{device_id}"
kind = "keypad"
driver = "bus"
url = "sim://hallbus"
protocol = "caller21"
address = {address}
polled = false
lcd = "{lcd}"
keys = {keys}
'''

# JackQChen's keys (frmMain.cs lines 240–294) and uvbs's (HardWareDef.h 12–17, SLZCCaller.cpp
# DoCallerMsg): 0C call, 0D recall, 0A transfer (uvbs: digits + 开始), 0F login, 4 + 0F log out
JQ_KEYS = '{ "0c" = "call_next", "0d" = "recall", "060f" = "no_show", "000f" = "pause", "0e" = "finish" }'
UV_KEYS = ('{ "0c" = "call_next", "0d" = "recall", "0a" = "transfer", "0f" = "login", "040f" = "logout", '
           '"050f" = "no_show", "0e" = "finish", "0b" = "rate:5" }')

HALL = '''
[hall]
name = "某某县政务服务中心"
[hall.hours]
always_open = true
[[hall.service]]
id = "sb"
name = "社会保障"
prefix = "A"
code = 1
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
code = 2
[[hall.service]]
id = "gjj"
name = "公积金"
prefix = "G"
[[hall.window]]
id = "7"
name = "不动产登记 7号窗口"
services = ["bdc"]
keypad = "win7-caller"
[[hall.window]]
id = "8"
name = "综合受理 8号窗口"
services = ["sb", "bdc"]
display = "win8-strip"
keypad = "win8-caller"
evaluator = "win8-rate"
'''
BUS = (SCREEN + caller("win7-caller", 0x21, "ticket6", JQ_KEYS) + caller("win8-caller", 0x22, "ticket-wait", UV_KEYS)
       + EVALUATOR + HALL)


def lcd(d, device: str) -> dict:
    return d.sim(device, "lcd")


_echoed_at: dict[tuple, float] = {}
SAME_PRESS_GAP_S = 0.06


def press(d, device: str, key: str, digits: str = "") -> None:
    """A key (after ``digits``) on a keypad, and its frame written back by hwd. The same press
    again goes more than 50 ms after that: the driver takes a frame equal to an ack it wrote in
    the last 50 ms for that ack heard back (no clerk presses that fast; a test does)."""
    same = (d.rpc, device, key, digits)
    gap = _echoed_at.get(same, 0.0) + SAME_PRESS_GAP_S - time.monotonic()
    if gap > 0:
        time.sleep(gap)
    echoed = lcd(d, device)["echoed"]
    d.sim(device, "press", key=key, digits=digits)
    wait_for(lambda: lcd(d, device)["echoed"] > echoed, what=f"{device} {digits}+{key} written back")
    _echoed_at[same] = time.monotonic()


def start(hwd_daemon, config: str = BUS):
    d = hwd_daemon(config)
    for device in ("win7-caller", "win8-caller", "win8-rate", "win8-strip"):
        d.wait_state(device, "online")
    return d


def issue(d, service: str, n: int) -> None:
    for _ in range(n):
        d.call("hall.issue_ticket", {"service": service})


def test_a_call_puts_the_tickets_digits_on_the_caller_in_both_formats(hwd_daemon):
    d = start(hwd_daemon)
    # idle: JackQChen's caller shows the window's waiting count, uvbs's a blank and the count
    wait_for(lambda: lcd(d, "win7-caller")["lcd"] == "000___", what="the idle JQ caller")
    wait_for(lambda: lcd(d, "win8-caller")["lcd"] == "_0", what="the idle uvbs caller")
    issue(d, "bdc", 3)
    wait_for(lambda: lcd(d, "win7-caller")["lcd"] == "003___", what="3 waiting on the JQ caller")
    wait_for(lambda: lcd(d, "win8-caller")["lcd"] == "_3", what="3 waiting on the uvbs caller")

    d.call("hall.call_next", {"window": "7"})                       # B001 at window 7
    wait_for(lambda: lcd(d, "win7-caller")["lcd"] == "___001", what="B001 on the JQ caller")
    wait_for(lambda: lcd(d, "win8-caller")["lcd"] == "_2", what="window 8's count after the call")
    issue(d, "sb", 1)
    d.call("hall.call_next", {"window": "8"})                       # A001: window 8 prefers sb
    wait_for(lambda: lcd(d, "win8-caller")["lcd"] == "001_2", what="A001 and 2 waiting on the uvbs caller")

    # a new ticket in the window's services changes the count at once (one frame); one in a
    # service the window does not serve changes nothing and sends nothing
    frames = d.device("win8-caller")["counters"]["frames"]
    issue(d, "gjj", 2)
    issue(d, "bdc", 1)
    wait_for(lambda: lcd(d, "win8-caller")["lcd"] == "001_3", what="the new count on the uvbs caller")
    assert d.device("win8-caller")["counters"]["frames"] == frames + 1
    assert lcd(d, "win7-caller")["lcd"] == "___001"                 # a called ticket stays on JQ's caller
    # hwd's reader of the bus found nothing garbled and no frame for nobody
    port = d.device("win8-caller")["port"]["counters"]
    assert port["bad_frames"] == 0 and port["unclaimed_frames"] == 0


def test_finish_starts_the_evaluator_whose_key_rates_the_window(hwd_daemon):
    d = start(hwd_daemon)
    ev = d.events("hall.")
    issue(d, "sb", 1)
    d.call("hall.call_next", {"window": "8"})
    press(d, "win8-caller", "finish")                           # the clerk's 0E
    ev.wait("hall.ticket.done", window="8", timeout=10)
    wait_for(lambda: lcd(d, "win8-rate")["evaluating"], what="the evaluator evaluating (01 0B)")
    assert lcd(d, "win8-caller")["lcd"] == "_0"                       # the caller is not asked to rate

    # the clerk's caller may not rate his own service
    press(d, "win8-caller", "0b")
    refused = ev.wait("hall.keypad.refused", window="8", timeout=10)
    assert (refused["code"], refused["message"]) == (1130, "请在评价器上评价")
    wait_for(lambda: lcd(d, "win8-caller")["beeps"] == 1, what="the caller's beep")

    press(d, "win8-rate", "rate:4")
    rating = ev.wait("hall.rating", window="8", timeout=10)
    assert (rating["score"], rating["channel"], rating["number"]) == (4, "keypad", "A001")
    wait_for(lambda: lcd(d, "win8-rate")["stars"] == 4, what="four stars on the evaluator (02 04)")
    assert lcd(d, "win8-rate")["unechoed"] == 0


def test_digits_and_call_call_that_number_and_transfer_to_a_service_by_its_code(hwd_daemon):
    d = start(hwd_daemon)
    ev = d.events("hall.")
    issue(d, "bdc", 5)
    issue(d, "sb", 3)
    # 3 + 呼叫: both of window 8's services have a ticket 3; sb comes first at window 8
    press(d, "win8-caller", "call_next", "3")
    called = ev.wait("hall.ticket.called", window="8", timeout=10)
    assert called["number"] == "A003"
    wait_for(lambda: lcd(d, "win8-caller")["lcd"] == "003_7", what="A003 and 7 waiting")
    # 2 + 开始 (uvbs's transfer): to the service with code 2
    press(d, "win8-caller", "transfer", "2")
    moved = ev.wait("hall.ticket.transferred", number="A003", timeout=10)
    assert (moved["service"], moved["from_service"]) == ("bdc", "sb")
    # 003 + 呼叫: bdc now holds B003 and the transferred A003: the older, B003, first
    press(d, "win8-caller", "call_next", "003")
    assert ev.wait("hall.ticket.called", window="8", timeout=10)["number"] == "B003"
    press(d, "win8-caller", "finish")
    press(d, "win8-caller", "call_next", "3")
    assert ev.wait("hall.ticket.called", window="8", timeout=10)["number"] == "A003"
    press(d, "win8-caller", "finish")
    ev.wait("hall.ticket.done", number="A003", timeout=10)

    # a number nobody waits with here: refused, logged, the caller beeps; its LCD is unchanged
    beeps = lcd(d, "win8-caller")["beeps"]
    press(d, "win8-caller", "call_next", "9")
    refused = ev.wait("hall.keypad.refused", window="8", timeout=10)
    assert (refused["code"], refused["message"]) == (1111, "本窗口没有等候中的9号")
    wait_for(lambda: lcd(d, "win8-caller")["beeps"] == beeps + 1, what="the caller's beep")
    wait_for(lambda: "call_next (digits 9) refused" in d.log(), what="the refusal in the log")
    # a service code nobody has
    press(d, "win8-caller", "call_next", "1")
    ev.wait("hall.ticket.called", number="A001", timeout=10)
    press(d, "win8-caller", "transfer", "7")
    assert ev.wait("hall.keypad.refused", window="8", timeout=10)["message"] == "没有编号为7的业务"
    # JackQChen's caller calls by number too (its window serves bdc only)
    press(d, "win7-caller", "call_next", "5")
    assert ev.wait("hall.ticket.called", window="7", timeout=10)["number"] == "B005"
    wait_for(lambda: lcd(d, "win7-caller")["lcd"] == "___005", what="B005 on the JQ caller")


STAFF = '''
[[hall.staff]]
id = "1023"
name = "张三"
pin_hash = "{pin_hash}"
[[hall.staff]]
id = "1024"
name = "李四"
'''


def test_a_clerk_logs_in_by_his_number_and_pin_on_a_text_lcd_caller(hwd_daemon):
    from hwd.hall.pin import hash_pin

    config = (caller("win7-caller", 0x21, "ticket6", JQ_KEYS) + caller("win8-caller", 0x22, "text", UV_KEYS)
              + EVALUATOR + HALL.replace(
        'display = "win8-strip"\n', "") + STAFF.format(pin_hash=hash_pin("4821", iterations=1000)))
    d = hwd_daemon(config)
    d.wait_state("win8-caller", "online")
    ev = d.events("hall.")
    # a clerk without a PIN: his number and 功能/确认
    press(d, "win8-caller", "login", "1024")
    assert ev.wait("hall.window.state", id="8", timeout=10)["staff"] == "1024"
    press(d, "win8-caller", "logout")                                  # 4 + 功能
    assert ev.wait("hall.window.state", id="8", timeout=10)["state"] == "closed"

    # a clerk with a PIN: his number, 请输入密码, the PIN and 功能/确认 again
    press(d, "win8-caller", "login", "1023")
    wait_for(lambda: lcd(d, "win8-caller")["lcd"] == "请输入密码", what="the PIN prompt on the LCD")
    press(d, "win8-caller", "login", "4821")
    window = ev.wait("hall.window.state", id="8", timeout=10)
    assert (window["state"], window["staff"]) == ("open", "1023")
    wait_for(lambda: lcd(d, "win8-caller")["lcd"] == "", what="the idle window on the LCD")
    assert "login of staff 1023 at window 8 from keypad:win8-caller" in d.log()

    # a refusal is shown on a text LCD for a moment, then the window's content is back
    issue(d, "bdc", 1)
    press(d, "win8-caller", "call_next", "9")
    wait_for(lambda: lcd(d, "win8-caller")["lcd"] == "本窗口没有等候中的9号", what="the refusal on the LCD")
    assert lcd(d, "win8-caller")["beeps"] == 1
    wait_for(lambda: lcd(d, "win8-caller")["lcd"] == "", what="the window's content back on the LCD")
    press(d, "win8-caller", "call_next")
    wait_for(lambda: lcd(d, "win8-caller")["lcd"] == "B001", what="B001 on the LCD")
    assert "4821" not in d.log()


def test_the_waiting_count_goes_to_a_caller_only_when_it_changes(tmp_path):
    """In-process, with what the hall asks of the keypads recorded at the method table: the
    uvbs caller gets the count once per change of its window's count — not on a ticket of a
    service its window does not serve, not twice for one change; the text-LCD caller of window 7
    gets no count at all (it cannot show one)."""
    import asyncio

    from hall_helpers import EngineHarness, load_config

    config = (caller("win7-caller", 0x21, "text", JQ_KEYS) + caller("win8-caller", 0x22, "ticket-wait", UV_KEYS)
              + EVALUATOR + HALL.replace('display = "win8-strip"\n', ""))

    async def main():
        h = EngineHarness(load_config(tmp_path, config))
        asked: list[tuple] = []
        for method in ("keypad.show", "keypad.prompt", "keypad.beep", "keypad.stars"):
            h.methods.add(method, lambda p, m=method: asked.append((m, p["device"], p.get("text"), p.get("waiting"))),
                          params=None)
        await h.start()

        async def settle() -> list[tuple]:
            for _ in range(100):
                await asyncio.sleep(0)
                if not h.engine.outputs.pending:
                    break
            out = list(asked)
            asked.clear()
            return out

        try:
            assert sorted(await settle()) == [("keypad.show", "win7-caller", "", None),
                                              ("keypad.show", "win8-caller", "", 0)]
            await h.call("hall.issue_ticket", {"service": "gjj"})
            assert await settle() == []
            await h.call("hall.issue_ticket", {"service": "bdc"})
            assert await settle() == [("keypad.show", "win8-caller", "", 1)]
            await h.call("hall.call_next", {"window": "7"})
            assert sorted(await settle()) == [("keypad.show", "win7-caller", "B001", None),
                                              ("keypad.show", "win8-caller", "", 0)]
            await h.call("hall.finish", {"window": "7"})           # window 7 has no evaluator: its caller
            assert await settle() == [("keypad.prompt", "win7-caller", None, None)]
            await h.call("hall.issue_ticket", {"service": "sb"})
            assert await settle() == [("keypad.show", "win8-caller", "", 1)]
            await h.call("hall.call_next", {"window": "8"})
            assert await settle() == [("keypad.show", "win8-caller", "A001", 0)]
            await h.call("hall.finish", {"window": "8"})
            assert sorted(await settle()) == [("keypad.prompt", "win8-rate", None, None),
                                              ("keypad.show", "win8-caller", "", 0)]
            await h.call("hall.rate", {"window": "8", "score": 5})
            assert await settle() == [("keypad.stars", "win8-rate", None, None)]
        finally:
            await h.stop()

    asyncio.run(main())


def test_caller_and_evaluator_config_problems_are_listed_with_their_lines(tmp_path):
    import re

    import pytest

    from hall_helpers import load_config
    from hwd.errors import ConfigError

    bad = (caller("win7-caller", 0x21, "ticket6", JQ_KEYS) + caller("win8-caller", 0x22, "ticket-wait", UV_KEYS)
           + caller("win9-caller", 0x23, "ticket6", JQ_KEYS) + SCREEN
           + HALL.replace('evaluator = "win8-rate"', 'evaluator = "win8-strip"').replace("code = 2", "code = 1")
           + '[[hall.window]]\nid = "9"\nname = "9号窗口"\nservices = ["gjj"]\nkeypad = "win9-caller"\n'
           'evaluator = "win9-caller"\n'
           '[[hall.window]]\nid = "10"\nname = "10号窗口"\nservices = ["gjj"]\nevaluator = "win7-caller"\n'
           'display = "win9-caller"\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, bad)
    text = "\n".join(info.value.problems)
    assert "hall.window[1].evaluator: device 'win8-strip' is a display, expected keypad" in text
    assert "hall.service[1].code: code 1 is already used by service 'sb'" in text
    assert "hall.window[2].evaluator: 'win9-caller' is the window's keypad already" in text
    assert "hall.window[3].evaluator: device 'win7-caller' already belongs to window '7'" in text
    assert "hall.window[3].display: device 'win9-caller' is a keypad, expected display" in text
    assert len(info.value.problems) == 5 and all(re.search(r"hwd\.toml:\d+ hall\.", line)
                                                  for line in info.value.problems), text
