"""A clerk's PIN typed on a window's caller keypad (his number + 功能, the PIN + 功能), attacked
through a real hwd with the caller on an emulated RS-485 bus: wrong PINs typed on the keypad
are throttled like a page's login, per staff id and keypad (source ``keypad:<device>``), so 5 of
them lock that staff id at that keypad and not the clerk's own PC; a stranger's guesses from
another machine do not lock him out of his keypad; the PIN is never logged nor published.
Before, the login key did nothing at all (``no hall action for 'login'``)."""

from __future__ import annotations

import time

import pytest

from daemon_fixture import wait_for
from hwd import errors
from hwd.client import RpcError
from hwd.hall.pin import hash_pin

PIN = "4821"
CONFIG = f'''
[[device]]
id = "win8-caller"
kind = "keypad"
driver = "bus"
url = "sim://hallbus"
protocol = "caller21"
address = 0x22
polled = false
lcd = "ticket-wait"
keys = {{ "0c" = "call_next", "0f" = "login", "040f" = "logout" }}

[hall]
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
[[hall.window]]
id = "8"
name = "8号窗口"
services = ["bdc"]
keypad = "win8-caller"
[[hall.staff]]
id = "1023"
name = "张三"
pin_hash = "{hash_pin(PIN, iterations=1000)}"
'''


class Caller:
    """Presses on the emulated caller, each waited for until hwd wrote it back; the same press
    again only 60 ms later (hwd takes a frame equal to an ack it wrote in the last 50 ms for that
    ack heard back)."""

    def __init__(self, d, device: str = "win8-caller"):
        self.d, self.device = d, device
        self.last: dict[tuple, float] = {}

    def press(self, key: str, digits: str = "") -> None:
        gap = self.last.get((key, digits), 0.0) + 0.06 - time.monotonic()
        if gap > 0:
            time.sleep(gap)
        echoed = self.d.sim(self.device, "lcd")["echoed"]
        self.d.sim(self.device, "press", key=key, digits=digits)
        wait_for(lambda: self.d.sim(self.device, "lcd")["echoed"] > echoed, what="the press written back")
        self.last[(key, digits)] = time.monotonic()

    def login(self, staff: str, pin: str) -> None:
        self.press("login", staff)
        self.press("login", pin)


@pytest.fixture
def hall(hwd_daemon):
    d = hwd_daemon(CONFIG)
    d.wait_state("win8-caller", "online")
    return d


def test_wrong_pins_on_a_keypad_lock_that_keypad_not_the_clerks_pc(hall):
    d = hall
    ev = d.events("hall.")
    caller = Caller(d)
    for guess in ("0000", "1111", "2222", "3333", "4444"):
        caller.login("1023", guess)
        refused = ev.wait("hall.keypad.refused", window="8", timeout=10)
        assert (refused["code"], refused["action"]) == (errors.LOGIN_FAILED, "login")
        assert guess not in str(refused)
    caller.login("1023", PIN)                        # even the right PIN, from this keypad, for 5 minutes
    assert ev.wait("hall.keypad.refused", window="8", timeout=10)["code"] == errors.LOGIN_LOCKED
    assert d.call("hall.state")["windows"][0]["state"] == "closed"
    # the clerk at his own PC is not locked out
    assert d.call("hall.login", {"window": "8", "staff": "1023", "pin": PIN, "source": "127.0.0.5"})["staff"] == "1023"
    log = d.log()
    assert "wrong PIN for staff 1023 at window 8 from keypad:win8-caller" in log
    assert not any(guess in log for guess in ("0000", "1111", "2222", "3333", "4444", PIN))
    assert d.sim("win8-caller", "lcd")["beeps"] == 6


def test_a_strangers_guesses_from_another_machine_leave_the_keypad_login_alone(hall):
    d = hall
    for guess in range(1000, 1007):
        with pytest.raises(RpcError) as err:
            d.call("hall.login", {"window": "8", "staff": "1023", "pin": str(guess), "source": "127.0.0.9"})
        assert err.value.code in (errors.LOGIN_FAILED, errors.LOGIN_LOCKED)
    assert err.value.code == errors.LOGIN_LOCKED
    ev = d.events("hall.")
    Caller(d).login("1023", PIN)
    window = ev.wait("hall.window.state", id="8", timeout=10)
    assert (window["state"], window["staff"]) == ("open", "1023")
