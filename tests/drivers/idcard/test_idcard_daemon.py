"""The ``sam`` driver through a real hwd daemon and its emulated SAM module on a pty."""

from __future__ import annotations

import os
import pwd
import json
import time

import pytest

from drivers.idcard.emulator import load_fixture
from hwd.client import RpcError
from hwd.errors import CARD_TOKEN_EXPIRED

DAEMON = f'[daemon]\ncard_data_clients = ["{pwd.getpwuid(os.getuid()).pw_name}"]\n'  # read/resolve: named clients
CONFIG = DAEMON + '''
[[device]]
id = "r1"
kind = "idcard"
driver = "sam"
url = "sim://r1"
poll_ms = 50
extra_address = true
token_ttl_s = {ttl}
'''


@pytest.fixture
def reader(hwd_daemon):
    def make(ttl: float = 60):
        d = hwd_daemon(CONFIG.format(ttl=ttl))
        d.wait_state("r1", "online")
        return d
    return make


def test_place_read_resolve_remove(reader):
    d = reader()
    ev = d.events("idcard.")
    assert d.call("idcard.read", {"device": "r1"}) is None
    d.sim("r1", "place", card="longterm")
    inserted = ev.wait("idcard.inserted", device="r1")
    expected = load_fixture("longterm")
    assert inserted["name"] == "李*"
    assert inserted["id_masked"] == expected["id_number"][:6] + "*" * 8 + expected["id_number"][-4:]
    assert inserted["sex"] == "女" and inserted["card_type"] == "resident"
    assert inserted["age"] >= 73
    card = d.call("idcard.read", {"device": "r1", "timeout_ms": 0})
    assert card.pop("card_token") == inserted["card_token"]
    assert card == expected
    assert d.call("idcard.resolve", {"device": "r1", "token": inserted["card_token"]}) == expected
    d.sim("r1", "remove")
    ev.wait("idcard.removed", device="r1")
    assert d.call("idcard.read", {"device": "r1"}) is None
    # exactly one inserted per placement, even though the card lay there for many polls
    assert [e["topic"] for e in ev.drain()] == []
    assert d.device("r1")["card_present"] is False


@pytest.mark.parametrize("name", ["resident", "hkmotw", "foreign", "foreign2023"])
def test_every_layout_decodes(reader, name):
    d = reader()
    ev = d.events("idcard.")
    d.sim("r1", "place", card=name)
    inserted = ev.wait("idcard.inserted")
    card = d.call("idcard.resolve", {"device": "r1", "token": inserted["card_token"]})
    assert card == load_fixture(name)


def test_read_waits_for_the_next_card_without_blocking_the_worker(reader):
    d = reader()
    ev = d.events("idcard.")
    from hwd.client import Client
    import threading
    result = {}

    def wait_for_card():
        result["card"] = Client(d.rpc, timeout=10, retries=1).call(
            "idcard.read", {"device": "r1", "timeout_ms": 8000})

    t = threading.Thread(target=wait_for_card)
    t.start()
    # the reader keeps polling while read waits: the placed card is found and announced
    deadline = time.monotonic() + 5
    while not d.sim("r1", "status")["commands"].get("find") and time.monotonic() < deadline:
        time.sleep(0.05)
    d.sim("r1", "place", card="resident")
    ev.wait("idcard.inserted")
    t.join(10)
    assert result["card"]["id_number"] == load_fixture("resident")["id_number"]
    assert d.call("idcard.read", {"device": "r1", "timeout_ms": 10})["name"] == "张晓明"


def test_read_times_out_with_null(reader):
    d = reader()
    assert d.call("idcard.read", {"device": "r1", "timeout_ms": 200}) is None


def test_token_expires(reader):
    d = reader(ttl=1)
    ev = d.events("idcard.")
    d.sim("r1", "place", card="resident")
    token = ev.wait("idcard.inserted")["card_token"]
    deadline = time.monotonic() + 10
    while True:
        try:
            d.call("idcard.resolve", {"device": "r1", "token": token})
        except RpcError as exc:
            assert exc.code == CARD_TOKEN_EXPIRED
            break
        assert time.monotonic() < deadline, "token never expired"
        time.sleep(0.1)
    with pytest.raises(RpcError) as err:
        d.call("idcard.resolve", {"device": "r1", "token": "made-up"})
    assert err.value.code == CARD_TOKEN_EXPIRED


@pytest.mark.parametrize("fault,params", [
    ("bad_checksum", {"on": "read"}),
    ("bad_len", {"on": "read"}),
    ("garbage", {"on": "read"}),
    ("split", {"on": "read"}),
    ("sw3", {"on": "read", "code": "41"}),
    ("garbage", {"on": "select", "count": 2}),
])
def test_faults_on_read_still_give_one_correct_card(reader, fault, params):
    d = reader()
    ev = d.events("idcard.")
    d.sim("r1", fault, **params)
    d.sim("r1", "place", card="hkmotw")
    inserted = ev.wait("idcard.inserted")
    assert d.call("idcard.resolve", {"device": "r1", "token": inserted["card_token"]}) == load_fixture("hkmotw")
    deadline = time.monotonic() + 5
    while d.sim("r1", "status")["faults"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert d.sim("r1", "status")["faults"] == []  # the fault did happen
    with pytest.raises(AssertionError):
        ev.wait("idcard.inserted", timeout=0.5)


def test_silent_reader_goes_offline_and_comes_back(reader):
    d = reader()
    d.sim("r1", "silent", on=True)
    d.wait_state("r1", "offline")
    d.sim("r1", "silent", on=False)
    d.wait_state("r1", "online")
    ev = d.events("idcard.")
    d.sim("r1", "place", card="resident")
    ev.wait("idcard.inserted")


def test_unplug_with_card_reports_removed_then_rereads(reader):
    d = reader()
    ev = d.events("idcard.")
    d.sim("r1", "place", card="resident")
    ev.wait("idcard.inserted")
    d.sim("r1", "unplug")
    ev.wait("idcard.removed")
    d.sim("r1", "plug")
    d.wait_state("r1", "online")
    # the card was read before, so "find" fails; the driver selects it on reconnect and reads it
    ev.wait("idcard.inserted", timeout=10)


def test_no_personal_data_in_logs_or_events(reader):
    d = reader()
    ev = d.events("")
    names = ("resident", "longterm", "hkmotw", "foreign", "foreign2023")
    got = []
    for name in names:
        d.sim("r1", "place", card=name)
        got.append(ev.wait("idcard.inserted"))
        d.call("idcard.read", {"device": "r1"})
        d.sim("r1", "remove")
        got.append(ev.wait("idcard.removed"))
    events = json.dumps(got + ev.drain(), ensure_ascii=False)
    log = d.log()
    assert "card placed (foreign2023)" in log  # the log is the real one, at debug level
    for name in names:
        card = load_fixture(name)
        secrets = [card[k] for k in ("id_number", "name", "name_en", "address", "pass_number") if card[k]]
        secrets.append(card["photo_wlt"][:40])
        for secret in secrets:
            assert secret not in log, f"{name}: personal data in the log"
            assert secret not in events, f"{name}: personal data in an event"
        assert card["id_number"][-4:] in events  # the masked id is there


def test_photo_command_decodes_locally(hwd_daemon, tmp_path):
    script = tmp_path / "wlt2bmp.py"
    script.write_text("import sys\ndata = open(sys.argv[1], 'rb').read()\n"
                      "open(sys.argv[2], 'wb').write(b'BM' + data[:6])\n")
    import sys
    d = hwd_daemon(DAEMON + f'''
[[device]]
id = "r1"
kind = "idcard"
driver = "sam"
url = "sim://r1"
poll_ms = 50
photo_command = ["{sys.executable}", "{script}", "{{wlt}}", "{{out}}"]
''')
    d.wait_state("r1", "online")
    ev = d.events("idcard.")
    d.sim("r1", "place", card="resident")
    ev.wait("idcard.inserted")
    card = d.call("idcard.read", {"device": "r1"})
    import base64
    assert base64.b64decode(card["photo"]) == b"BMWLf\x00~\x00"
    assert card["photo_format"] == "bmp"


def test_sam_error_puts_reader_in_fault_until_it_recovers(reader):
    d = reader()
    ev = d.events("device.state")
    d.sim("r1", "sw3", code="60", count=4, on="find")
    row = ev.wait("device.state", device="r1", state="fault")
    assert row["detail"] == "SAM module: sam_self_test_failed"
    ev.wait("device.state", device="r1", state="online")
    assert d.log().count("sam_self_test_failed (SW3 60)") == 1  # logged once, not per poll


def test_reader_behind_a_tcp_serial_converter(hwd_daemon):
    d = hwd_daemon(DAEMON + '''
[[device]]
id = "r1"
kind = "idcard"
driver = "sam"
url = "sim://r1?transport=tcp"
poll_ms = 50
''')
    d.wait_state("r1", "online")
    ev = d.events("idcard.")
    d.sim("r1", "place", card="foreign")
    token = ev.wait("idcard.inserted")["card_token"]
    assert d.call("idcard.resolve", {"device": "r1", "token": token}) == load_fixture("foreign")
    d.sim("r1", "remove")
    ev.wait("idcard.removed")


def test_a_card_left_on_the_reader_gets_fresh_tokens(reader):
    """While the card lies there the driver mints a new token at half the old one's life
    (idcard.renewed: masked, like idcard.inserted), never a longer life for the old token;
    idcard.current answers what a reloaded kiosk page needs; removal stops the renewals."""
    d = reader(ttl=2)
    ev = d.events("idcard.")
    d.sim("r1", "place", card="longterm")
    inserted = ev.wait("idcard.inserted", device="r1")
    assert inserted["ttl_s"] == 2
    first = ev.wait("idcard.renewed", device="r1", timeout=10)
    second = ev.wait("idcard.renewed", device="r1", timeout=10)
    tokens = [inserted["card_token"], first["card_token"], second["card_token"]]
    assert len(set(tokens)) == 3, "every renewal is a new token"
    assert first["name"] == "李*" and "id_number" not in first and first["ttl_s"] == 2
    assert d.call("idcard.resolve", {"device": "r1", "token": second["card_token"]})["name"] == "李秀兰"
    with pytest.raises(RpcError) as info:                     # the first token ran out on time
        d.call("idcard.resolve", {"device": "r1", "token": inserted["card_token"]})
    assert info.value.code == CARD_TOKEN_EXPIRED
    now = d.call("idcard.current", {"device": "r1"})
    assert now["card_token"] != inserted["card_token"], "the current token is a renewed one"
    assert now["name"] == "李*" and set(now) == {"device", "card_token", "ttl_s", "name", "id_masked", "age",
                                                 "sex", "card_type"}
    assert 0 < now["ttl_s"] <= 2
    d.sim("r1", "remove")
    ev.wait("idcard.removed", device="r1")
    assert d.call("idcard.current", {"device": "r1"}) is None
    ev.drain()
    ev.seen.clear()
    time.sleep(2.5)
    assert not [e for e in ev.drain() if e["topic"] == "idcard.renewed"], "no renewal without a card"


def test_an_unplugged_reader_is_offline_and_comes_back(hwd_daemon):
    """Unplugged, the reader's port fails tcflush with termios.error (not an OSError): the reader
    is offline, not an "online" reader counting poll errors (the kiosk says when it is dead).
    At the default poll interval, as a kiosk runs it (at 50 ms a read finds the loss first)."""
    d = hwd_daemon(CONFIG.format(ttl=60).replace("poll_ms = 50\n", ""))
    d.wait_state("r1", "online")
    d.sim("r1", "unplug")
    d.wait_state("r1", "offline")
    assert "poll_errors" not in d.device("r1").get("counters", {})
    d.sim("r1", "plug")
    d.wait_state("r1", "online")
    ev = d.events("idcard.")
    d.sim("r1", "place", card="longterm")
    ev.wait("idcard.inserted", device="r1")
