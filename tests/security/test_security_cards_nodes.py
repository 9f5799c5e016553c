"""Issue 22 item 1, across PCs: the kiosk's ID-card reader sits on the kiosk PC's own hwd, the
hall engine on the main PC resolves the card token over tcp:// with CURVE. The kiosk PC serves
``idcard.resolve`` to the main PC only when the main PC's certificate name is in its
``[daemon] card_data_clients``; otherwise the kiosk shows a clear refusal (no elderly ticket
from card data it may not have), the main PC's log says what to configure, and the kiosk PC's
log records the refused call — none of them the card's data."""

from __future__ import annotations

import json

import pytest

from support.waits import wait_for
from drivers.idcard.emulator import load_fixture
from hwd import errors
from hwd.client import RpcError
from hwd.keys import keygen
from security_helpers import hall, reader
from support.ports import free_port

CARD = "longterm"


def _kiosk_pc_config(rpc: str, events: str, tmp_path, server_sec, clients_dir, card_data_clients: list[str]) -> str:
    return (f'[daemon]\nrpc = "{rpc}"\nevents = "{events}"\nstate_dir = "{tmp_path / "kiosk-state"}"\n'
            f'server_key = "{server_sec}"\nclients_dir = "{clients_dir}"\nheartbeat_s = 0.5\n'
            f'card_data_clients = {json.dumps(card_data_clients)}\n' + reader("kiosk-reader"))


def test_the_hall_pc_resolves_a_remote_kiosks_card_only_when_the_kiosk_pc_lists_it(hwd_daemon, tmp_path):
    keys = tmp_path / "keys"
    kiosk_pub, kiosk_sec = keygen(keys / "kiosk", "kiosk-pc")
    main_pub, main_sec = keygen(keys / "clients", "main")  # the main PC's certificate, known to the kiosk PC
    rpc, events = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    kiosk = hwd_daemon(_kiosk_pc_config(rpc, events, tmp_path, kiosk_sec, keys / "clients", ["guide-desk"]),
                       name="kioskpc", start=False)
    kiosk.rpc, kiosk.events_ep = rpc, events
    kiosk.start(wait=False)
    main = hwd_daemon(f'''
[[node]]
id = "kiosk-pc"
rpc = "{rpc}"
events = "{events}"
server_key = "{kiosk_pub}"
client_key = "{main_sec}"

[[device]]
id = "kiosk-reader"
kind = "idcard"
node = "kiosk-pc"
''' + hall(kiosks='[[hall.kiosk]]\nid = "k1"\nidcard = "kiosk-reader"\n'), name="main")

    # the kiosk PC does not list the main PC: a card token cannot be turned into an elderly ticket
    ev = main.events("idcard.")
    wait_for(lambda: main.device("kiosk-reader")["state"] == "online", timeout=30, what="the remote reader online")
    place(main, kiosk_pub, main_sec, rpc)
    token = ev.wait("idcard.inserted", timeout=15)["card_token"]  # forwarded from the kiosk PC's bus
    with pytest.raises(RpcError) as exc:
        main.call("hall.issue_ticket", {"service": "s0", "kiosk": "k1", "card_token": token})
    assert exc.value.code == errors.NOT_AUTHORISED and "身份证" in str(exc.value)
    assert "card_data_clients" in main.log() and "node kiosk-pc refuses card data" in main.log()
    assert "idcard.resolve by main on kiosk-reader: refused" in kiosk.log()
    assert main.call("hall.tickets", {}) == []

    # listed: the same kind of token gives the elderly ticket
    kiosk.stop()
    # main must see the kiosk PC gone before it can tell the new one from the old: a reader still
    # "online" from before would let the card be placed while main's link is not back yet
    wait_for(lambda: main.device("kiosk-reader")["state"] != "online", timeout=30, what="the kiosk PC seen gone")
    kiosk.config_path.write_text(_kiosk_pc_config(rpc, events, tmp_path, kiosk_sec, keys / "clients",
                                                   ["guide-desk", "main"]), encoding="utf-8")
    kiosk.start(wait=False)
    wait_for(lambda: main.device("kiosk-reader")["state"] == "online", timeout=30, what="the kiosk PC back")
    place(main, kiosk_pub, main_sec, rpc)
    token = ev.wait("idcard.inserted", timeout=15)["card_token"]
    ticket = main.call("hall.issue_ticket", {"service": "s0", "kiosk": "k1", "card_token": token})
    assert ticket["priority"] == "elderly" and ticket["holder"] == "李*"
    assert "idcard.resolve by main on kiosk-reader: allowed" in kiosk.log()
    card = load_fixture(CARD)
    for log in (main.log(), kiosk.log()):
        for secret in (card["id_number"], card["name"], card["address"], card["photo_wlt"][:40]):
            assert secret not in log


def place(main, kiosk_pub, main_sec, rpc: str) -> None:
    """Lay the card on the kiosk PC's emulated reader (its sim.control, reached as the main PC)."""
    from hwd.client import Client

    kiosk = Client(rpc, timeout=5, retries=1, server_key=kiosk_pub, client_key=main_sec)
    kiosk.call("sim.control", {"device": "kiosk-reader", "action": "remove", "params": {}})
    kiosk.call("sim.control", {"device": "kiosk-reader", "action": "place", "params": {"card": CARD}})
