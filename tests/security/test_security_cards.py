"""Issue 13 item 2: card data and tokens stay with their kiosk. Attacked as the issue did it:
an anonymous ``GET /kiosk/k1/live`` from another LAN machine (127.0.0.9), with and without an
old ``Last-Event-ID``, while and after a card lies on k1's reader; one elderly card's token
reused for several tickets and at another kiosk; ``idcard.read`` by a client not named in config.
"""

from __future__ import annotations

import os
import pwd

import pytest

from support.waits import wait_for
from hwd import errors
from hwd.client import RpcError
from security_helpers import Browser, hall, read_for, reader, sse_open
from support.ui import UiProcess

ME = pwd.getpwuid(os.getuid()).pw_name
KIOSKS = '''
[[hall.kiosk]]
id = "k1"
idcard = "r1"
addresses = ["127.0.0.1"]
[[hall.kiosk]]
id = "k2"
idcard = "r2"
addresses = ["127.0.0.2"]
'''


@pytest.fixture
def site(hwd_daemon):
    d = hwd_daemon(reader("r1") + reader("r2") + hall(kiosks=KIOSKS) + "\n[ui]\n")
    d.wait_state("r1", "online")
    d.wait_state("r2", "online")
    ui = UiProcess(d.config_path)
    yield d, ui
    ui.stop()


def test_card_events_reach_only_the_kiosk_machine_and_are_never_replayed(site):
    d, ui = site
    seq_before = d.call("daemon.status")["seq"]
    kiosk = sse_open(ui.port, "/kiosk/k1/live", "127.0.0.1")
    stranger = sse_open(ui.port, "/kiosk/k1/live", "127.0.0.9")
    read_for(kiosk, 0.5), read_for(stranger, 0.5)
    bus = d.events("idcard.")
    d.sim("r1", "place", card="longterm")
    bus.wait("idcard.inserted", timeout=10)
    live_kiosk = read_for(kiosk, 1.5).decode()
    live_stranger = read_for(stranger, 0.5).decode()
    kiosk.close(), stranger.close()
    assert "idcard.inserted" in live_kiosk and "card_token" in live_kiosk
    assert "idcard" not in live_stranger and "card_token" not in live_stranger
    # a new stream with an old Last-Event-ID: from the stranger and even from the kiosk itself
    for source in ("127.0.0.9", "127.0.0.1"):
        for header in ({"Last-Event-ID": str(seq_before)}, {"Last-Event-ID": "0"}, {}):
            replay = sse_open(ui.port, "/kiosk/k1/live", source, header)
            text = read_for(replay, 1.0).decode()
            replay.close()
            assert "idcard" not in text and "card_token" not in text, (source, header, text[:300])
    resumed = sse_open(ui.port, f"/kiosk/k1/live?last_id={seq_before}", "127.0.0.9")
    assert "card_token" not in read_for(resumed, 1.0).decode()
    resumed.close()


def test_a_card_token_issues_one_ticket_at_its_own_kiosk(site):
    d, ui = site
    bus = d.events("idcard.")
    d.sim("r1", "place", card="longterm")
    token = bus.wait("idcard.inserted", timeout=10)["card_token"]
    kiosk = Browser(ui, "127.0.0.1")
    status, body = kiosk.post_json("/kiosk/k1/api/ticket", {"service": "s0", "card_token": token})
    assert status == 200 and body["ticket"]["priority"] == "elderly", body
    for _ in range(3):  # the issue's attack: the same elderly token again and again
        status, body = kiosk.post_json("/kiosk/k1/api/ticket", {"service": "s0", "card_token": token})
        assert status == 409 and body["code"] == errors.CARD_TOKEN_USED, body
    with pytest.raises(RpcError) as exc:
        d.call("hall.issue_ticket", {"service": "s0", "kiosk": "k1", "card_token": token, "priority": "elderly"})
    assert exc.value.code == errors.CARD_TOKEN_USED
    # a fresh token for the card (placed again, or renewed by the page) issues again
    d.sim("r1", "remove")
    bus.wait("idcard.removed", timeout=10)
    d.sim("r1", "place", card="longterm")
    fresh = bus.wait("idcard.inserted", timeout=10)["card_token"]
    assert fresh != token
    # bound to its kiosk: k1's token at k2 (RPC and page), and a card token from a stranger's machine
    with pytest.raises(RpcError) as exc:
        d.call("hall.issue_ticket", {"service": "s0", "kiosk": "k2", "card_token": fresh})
    assert exc.value.code == errors.CARD_TOKEN_WRONG_KIOSK
    with pytest.raises(RpcError) as exc:
        d.call("hall.issue_ticket", {"service": "s0", "card_token": fresh})
    assert exc.value.code == errors.CARD_TOKEN_WRONG_KIOSK
    status, body = Browser(ui, "127.0.0.9").post_json("/kiosk/k1/api/ticket", {"service": "s0", "card_token": fresh})
    assert status == 403 and body["code"] == errors.CARD_TOKEN_WRONG_KIOSK
    status, body = kiosk.post_json("/kiosk/k1/api/ticket", {"service": "s0", "card_token": fresh})
    assert status == 200 and body["ticket"]["priority"] == "elderly"
    tickets = d.call("hall.tickets", {"day": d.call("hall.state")["day"]})
    assert [t["priority"] for t in tickets] == ["elderly", "elderly"]


def test_idcard_read_only_for_named_clients_and_logged_without_the_data(hwd_daemon):
    d = hwd_daemon(reader("r1"))
    d.wait_state("r1", "online")
    bus = d.events("idcard.")
    d.sim("r1", "place", card="resident")
    bus.wait("idcard.inserted", timeout=10)
    with pytest.raises(RpcError) as exc:
        d.call("idcard.read", {"device": "r1", "timeout_ms": 2000})
    assert exc.value.code == errors.NOT_AUTHORISED
    allowed = hwd_daemon(f'[daemon]\ncard_data_clients = ["{ME}"]\n' + reader("r2"), name="allowed")
    allowed.wait_state("r2", "online")
    allowed.sim("r2", "place", card="resident")
    card = wait_for(lambda: allowed.call("idcard.read", {"device": "r2", "timeout_ms": 500}), timeout=10)
    assert card["id_number"] and card["name"]
    for proc, verdict in ((d, "refused"), (allowed, "allowed")):
        log = proc.log()
        assert f"idcard.read by {ME} on r" in log and verdict in log
        assert card["id_number"] not in log and card["name"] not in log and card["id_number"][-4:] + "\"" not in log


def test_idcard_read_over_tcp_names_the_client_by_its_curve_certificate(hwd_daemon, tmp_path):
    import shutil
    import socket

    from hwd.client import Client
    from hwd.keys import keygen

    server_pub, server_sec = keygen(tmp_path / "server", "server")
    desk_pub, desk_sec = keygen(tmp_path / "desk", "guide-desk")
    other_pub, other_sec = keygen(tmp_path / "other", "display-pc")
    clients = tmp_path / "clients"
    clients.mkdir()
    shutil.copy(desk_pub, clients)
    shutil.copy(other_pub, clients)
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    rpc = f"tcp://127.0.0.1:{ports[0]}"
    d = hwd_daemon(f'[daemon]\nrpc = "{rpc}"\nevents = "tcp://127.0.0.1:{ports[1]}"\n'
                   f'state_dir = "{tmp_path / "state"}"\nserver_key = "{server_sec}"\nclients_dir = "{clients}"\n'
                   f'card_data_clients = ["guide-desk"]\n' + reader("r1"), start=False)
    d.rpc = rpc
    d.start(wait=False)
    desk = Client(rpc, timeout=2, retries=1, server_key=server_pub, client_key=desk_sec)
    other = Client(rpc, timeout=2, retries=1, server_key=server_pub, client_key=other_sec)
    wait_for(lambda: desk.call("devices.list")[0]["state"] == "online", timeout=20, tolerate=(Exception,))
    desk.call("sim.control", {"device": "r1", "action": "place", "params": {"card": "resident"}})
    card = wait_for(lambda: desk.call("idcard.read", {"device": "r1", "timeout_ms": 500}), timeout=10)
    assert card["id_number"]
    with pytest.raises(RpcError) as exc:
        other.call("idcard.read", {"device": "r1"})
    assert exc.value.code == errors.NOT_AUTHORISED
    log = d.log()
    assert "idcard.read by guide-desk on r1: allowed" in log and "idcard.read by display-pc on r1: refused" in log
    assert card["id_number"] not in log
