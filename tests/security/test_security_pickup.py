"""The locker's pickup code and card, attacked (docs/security.md, "The locker's pickup codes": wrong
codes are limited like every other secret): through the real hwd-ui and hwd, from the kiosk's own machine (127.0.0.1), another
kiosk's machine (127.0.0.3) and a laptop on the hall LAN (127.0.0.2).

- Guessing codes at the kiosk: five wrong codes from one machine, then even the right code waits
  (429, Retry-After), and the door stays shut; twenty wrong codes at one kiosk from many sources,
  then a fresh source waits too; a burst of guesses sent at once gets at most the free checks.
- A laptop on the LAN cannot open a door at all, not even with the right code.
- A card token read at one kiosk opens nothing at another kiosk.
- A code opens nothing before the clerk has shut the door on the result, nor after its pickup.
"""

from __future__ import annotations

import concurrent.futures

import pytest

from daemon_fixture import wait_for
from pickup_hall import MONDAY_DAY, MONDAY_NIGHT, card_token, deposited, hall_text, served
from security_helpers import Browser, UiProcess

from hwd import errors
from hwd.client import Client, RpcError


@pytest.fixture
def site(hwd_daemon):
    text = hall_text("\n[ui]\nrpc_timeout_s = 3.0\n").replace(
        'id = "k2"\narea = "24h"\n', 'id = "k2"\narea = "24h"\naddresses = ["127.0.0.3"]\n')
    d = hwd_daemon(text, clock_start=MONDAY_DAY)
    d.wait_state("locker1", "online")
    d.wait_state("k24-idcard", "online")
    d.call("hall.login", {"window": "5", "staff": "s01", "pin": "1357"})
    ui = UiProcess(d.config_path)
    yield d, ui
    ui.stop()


def wrong(code: str, i: int = 0) -> str:
    """A code that is not ``code`` (the i-th after it)."""
    return str((int(code) + 1 + i) % 10 ** len(code)).zfill(len(code))


def shut_doors(d) -> list[int]:
    return d.call("locker.status", {"device": "locker1"})["open"]


def test_guessing_codes_is_throttled_per_machine_and_per_kiosk(site):
    d, ui = site
    ev = d.events("locker.", "hall.pickup.")
    got = deposited(d, ev, ticket=served(d)["id"])
    d.call("clock.set", {"now": MONDAY_NIGHT})
    kiosk = Browser(ui, "127.0.0.1")
    for i in range(5):
        status, body = kiosk.post_json("/kiosk/k24/api/pickup", {"code": wrong(got["code"], i)})
        assert status == 409 and body["code"] == errors.NO_DEPOSIT and "取件码不正确" in body["error"], body
    status, headers, payload = kiosk.request("POST", "/kiosk/k24/api/pickup", body={"code": got["code"]},
                                             headers={"X-CSRF-Token": kiosk.csrf()})
    assert status == 429 and int(headers["retry-after"]) >= 1 and "取件码错误次数过多" in payload.decode()
    assert shut_doors(d) == []                           # the right code, too late: the door stays shut
    # a burst from another source (over RPC, as hwd-ui passes the page's address): the check runs
    # at most five times, the rest wait without being tried
    before = len(_refusals(d))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda i: _try(d, wrong(got["code"], 100 + i), "10.9.9.9"), range(24)))
    assert codes.count(errors.NO_DEPOSIT) == 5 and codes.count(errors.LOGIN_LOCKED) == 19, codes
    assert len(_refusals(d)) - before == 5
    # twenty wrong codes at k24 in all: a fresh machine waits too, right code or not
    for source in ("10.9.9.10", "10.9.9.11"):
        for i in range(5):
            _try(d, wrong(got["code"], 200 + i), source)
    assert _try(d, got["code"], "10.9.9.99") == errors.LOGIN_LOCKED
    assert shut_doors(d) == []
    # the throttle is per kiosk: the citizen at the other 24-hour kiosk is not locked out
    assert d.call("hall.pickup", {"code": got["code"], "kiosk": "k2", "source": "127.0.0.3"})["door"] == got["door"]
    wait_for(lambda: shut_doors(d) == [got["door"]], 5, "the door opened")


def _try(d, code: str, source: str) -> int | None:
    """One guess over RPC with its own connection (several at once from threads)."""
    client = Client(d.rpc, timeout=10, retries=1)
    try:
        client.call("hall.pickup", {"code": code, "kiosk": "k24", "source": source})
    except RpcError as exc:
        return exc.code
    finally:
        client.close()
    return None


def _refusals(d) -> list:
    from pickup_hall import actions

    return [a for a in actions(d) if a[0] == "pickup_refused"]


def test_a_laptop_on_the_lan_cannot_open_a_door_even_with_the_right_code(site):
    d, ui = site
    ev = d.events("locker.", "hall.pickup.", "idcard.")
    got = deposited(d, ev, case_no="BDC-77")
    d.call("clock.set", {"now": MONDAY_NIGHT})
    laptop = Browser(ui, "127.0.0.2")
    status, body = laptop.post_json("/kiosk/k24/api/pickup", {"code": got["code"]})
    assert status == 403 and body["code"] == errors.CARD_TOKEN_WRONG_KIOSK, body
    token = card_token(d, "k24-idcard")
    status, body = laptop.post_json("/kiosk/k24/api/pickup", {"card_token": token})
    assert status == 403
    status, body = laptop.post_json("/kiosk/k24/api/book", {"service": "bdc", "slot": "2026-11-24T09:00",
                                                            "card_token": token})
    assert status == 403
    # and k2's own machine may not use k24's page either
    status, body = Browser(ui, "127.0.0.3").post_json("/kiosk/k24/api/pickup", {"code": got["code"]})
    assert status == 403
    assert shut_doors(d) == []
    status, body = Browser(ui, "127.0.0.1").post_json("/kiosk/k24/api/pickup", {"code": got["code"]})
    assert status == 200 and body["doors"][0]["door"] == got["door"], body


def test_another_kiosks_card_token_opens_nothing(site):
    d, ui = site
    ev = d.events("locker.", "hall.pickup.", "idcard.")
    deposited(d, ev, case_no="BDC-78", id_number="110101199003071233")
    d.call("clock.set", {"now": MONDAY_NIGHT})
    token = card_token(d, "k24-idcard")           # the card lies on k24's reader
    status, body = Browser(ui, "127.0.0.3").post_json("/kiosk/k2/api/pickup", {"card_token": token})
    assert status == 409 and body["code"] == errors.CARD_TOKEN_WRONG_KIOSK, body
    with pytest.raises(RpcError) as err:
        d.call("hall.pickup", {"card_token": token, "kiosk": "k2"})
    assert err.value.code == errors.CARD_TOKEN_WRONG_KIOSK
    with pytest.raises(RpcError) as err:
        d.call("hall.pickup", {"card_token": "forged-token", "kiosk": "k24"})
    assert err.value.code == errors.CARD_TOKEN_EXPIRED
    assert shut_doors(d) == []
    status, body = Browser(ui, "127.0.0.1").post_json("/kiosk/k24/api/pickup", {"card_token": token})
    assert status == 200 and len(body["doors"]) == 1


def test_a_code_opens_nothing_before_the_door_is_shut_or_after_pickup(site):
    d, ui = site
    ev = d.events("locker.", "hall.pickup.")
    got = d.call("hall.deposit", {"case_no": "BDC-79", "window": "5"})
    ev.wait("locker.door", device=got["device"], door=got["door"], state="opened")
    kiosk = Browser(ui, "127.0.0.1")
    status, body = kiosk.post_json("/kiosk/k24/api/pickup", {"code": got["code"]})
    assert status == 409 and body["code"] == errors.NO_DEPOSIT
    d.sim(got["device"], "shut", door=got["door"])
    ev.wait("hall.pickup.deposited", deposit=got["deposit"])
    status, body = kiosk.post_json("/kiosk/k24/api/pickup", {"code": got["code"]})
    assert status == 200
    d.sim(got["device"], "shut", door=got["door"])
    ev.wait("hall.pickup.picked", deposit=got["deposit"])
    status, body = kiosk.post_json("/kiosk/k24/api/pickup", {"code": got["code"]})
    assert status == 409 and body["code"] == errors.NO_DEPOSIT
    assert shut_doors(d) == []
