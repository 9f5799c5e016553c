"""ID card reader garbage storms at a kiosk: the emulated SAM module answers with garbage,
bad checksums, bad lengths, split frames and random SW3 codes, in bursts, while cards are
placed and removed — through a real hwd.

Proved: hwd never crashes (it answers RPC throughout, same pid); after each storm the reader is
``online`` again, a card placed then is read correctly (``idcard.resolve`` gives exactly the
fixture) and its token still issues an elderly-priority ticket at the kiosk; no ID number, name,
address or photo ever reaches the log or an event.
"""

from __future__ import annotations

import json
import os
import pwd
import random
import time

import pytest

from drivers.idcard.emulator import load_fixture

from faults_helpers import hall, wait_for

READER = '''
[[device]]
id = "k1-reader"
kind = "idcard"
driver = "sam"
url = "sim://k1-reader"
poll_ms = 50
extra_address = true
'''
CARDS = ["resident", "longterm", "hkmotw", "foreign", "foreign2023"]
STEPS = ["any", "find", "select", "read", "status"]


def storm(d, rng: random.Random, bursts: int) -> None:
    """Bursts of faults, each played out against the driver's polls while cards come and go."""
    for _ in range(bursts):
        kind = rng.choice(["garbage", "garbage", "bad_checksum", "bad_len", "split", "sw3"])
        params = {"count": rng.randint(1, 12), "on": rng.choice(STEPS)}
        if kind == "garbage":
            params["data"] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))).hex()
        elif kind == "sw3":
            params["code"] = rng.choice(["10", "11", "21", "23", "24", "31", "41", "80", "ff"])
        d.sim("k1-reader", kind, **params)
        action = rng.random()
        if action < 0.4:
            d.sim("k1-reader", "place", card=rng.choice(CARDS))
        elif action < 0.6:
            d.sim("k1-reader", "remove")
        # let the driver meet the faults (those on steps it does not reach now stay queued)
        deadline = time.monotonic() + 0.3
        while d.sim("k1-reader", "status")["faults"] and time.monotonic() < deadline:
            time.sleep(0.02)


def run(d, rounds: int, bursts: int, seed: int) -> None:
    rng = random.Random(seed)
    pid = d.call("daemon.status")["pid"]
    d.wait_state("k1-reader", "online")
    ev = d.events("")
    for _round in range(rounds):
        storm(d, rng, bursts)
        assert d.call("daemon.status")["pid"] == pid, "hwd restarted"
        d.sim("k1-reader", "clear_faults")
        d.sim("k1-reader", "remove")
        d.wait_state("k1-reader", "online", timeout=20)
        ev.drain(0.2)
        ev.seen.clear()
        card = rng.choice(CARDS)
        d.sim("k1-reader", "place", card=card)
        token = ev.wait("idcard.inserted", timeout=15)["card_token"]
        assert d.call("idcard.resolve", {"device": "k1-reader", "token": token}) == load_fixture(card)
        if card == "longterm":  # an old person: the token still gives priority after the storm
            ticket = d.call("hall.issue_ticket", {"service": "s0", "kiosk": "k1", "card_token": token})
            assert ticket["priority"] == "elderly"
        d.sim("k1-reader", "remove")
        ev.wait("idcard.removed", timeout=15)
    counters = d.device("k1-reader").get("counters", {})
    assert counters.get("frame_errors", 0) > 0, f"the storm never reached the driver's parser: {counters}"
    events = json.dumps(ev.drain(0.3), ensure_ascii=False)
    log = d.log()
    assert "k1-reader" in log  # the real log, at debug level
    for name in CARDS:
        card = load_fixture(name)
        secrets = [card[k] for k in ("id_number", "name", "name_en", "address", "pass_number") if card.get(k)]
        secrets.append(card["photo_wlt"][:40])
        for secret in secrets:
            assert secret not in log, f"{name}: personal data in the log"
            assert secret not in events, f"{name}: personal data in an event"
    wait_for(lambda: d.call("daemon.status")["pid"] == pid, what="hwd alive")


def config() -> str:  # this test's user resolves tokens: it must be a card_data_clients
    return f'[daemon]\ncard_data_clients = ["{pwd.getpwuid(os.getuid()).pw_name}"]\n' + hall(
        services=1, windows=1, kiosks=1, devices=READER, kiosk_values=lambda i: {"idcard": "k1-reader"})


@pytest.mark.faults
@pytest.mark.fast
def test_reader_garbage_storm_quick(hwd_daemon):
    run(hwd_daemon(config()), rounds=2, bursts=8, seed=5)


@pytest.mark.faults
@pytest.mark.timeout(300)
def test_reader_garbage_storms(hwd_daemon):
    run(hwd_daemon(config()), rounds=8, bursts=20, seed=17)
