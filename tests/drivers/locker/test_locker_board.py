"""The ``board`` locker driver against its emulator through a real hwd process and a real pty:
the bytes on the wire are the public sources' (wkly_refs.py), doors open on command, are shut by
hand and uploaded (0x85), can be forced or jammed; several boards share one bus by address."""

from __future__ import annotations

import wkly_refs as ref
from daemon_fixture import wait_for


def board(device_id: str, address: int, doors: int, extra: str = "") -> str:
    return f'''
[[device]]
id = "{device_id}"
kind = "locker"
driver = "board"
url = "sim://lockerbus"
address = {address}
doors = {doors}
poll_ms = 200
{extra}'''


BUS = board("locker0", 0, 24) + board("locker1", 1, 12)


def wire(d, device: str = "locker0") -> list[tuple[str, str]]:
    return [(f["dir"], f["hex"]) for f in d.sim(device, "wire", last=200)["frames"]]


def hexed(text: str) -> str:
    return text.replace(" ", "").upper()


def test_open_shut_force_and_jam_in_the_sources_bytes(hwd_daemon):
    d = hwd_daemon(BUS)
    d.wait_state("locker0", "online")
    d.wait_state("locker1", "online")
    ev = d.events("locker.")

    got = d.call("locker.open", {"device": "locker0", "door": 1})
    assert got == {"device": "locker0", "door": 1, "opened": True, "state": "open"}
    ev.wait("locker.door", device="locker0", door=1, state="opened")
    frames = wire(d)
    # LockDemo ExampleUnitTest.kt line 54 (and the ESP32 driver's .c line 31) out; the vendor
    # document's demo reply (testDocDemo line 322) back
    at = frames.index(("in", hexed(ref.HOST[2][3])))
    assert frames[at + 1] == ("out", hexed(ref.DOC_DEMO[0x82]))
    assert frames[at + 2] == ("out", hexed("57 4B 4C 59 0A 00 85 01 00 87"))   # the change, uploaded

    d.sim("locker0", "shut", door=1)
    ev.wait("locker.door", device="locker0", door=1, state="closed")
    assert ("out", hexed(ref.DOC_DEMO[0x85])) in wire(d)    # testDocDemo line 328: 门1 关闭

    d.sim("locker0", "force", door=9)
    forced = ev.wait("locker.door", device="locker0", door=9, state="forced")
    assert "initial" not in forced

    d.sim("locker0", "jam", door=5)
    jammed = d.call("locker.open", {"device": "locker0", "door": 5})
    assert jammed["opened"] is False and jammed["jammed"] is True and jammed["state"] == "closed"
    ev.wait("locker.fault", device="locker0", door=5, fault="jammed")
    # ExampleUnitTest.kt line 219: 通道5 开锁 成功, 锁状态 关闭
    assert ("out", hexed(ref.OPEN_DOOR5_STILL_SHUT)) in wire(d)
    status = d.call("locker.status", {"device": "locker0"})
    assert status["open"] == [9] and status["jammed"] == [5] and len(status["doors"]) == 24
    assert d.device("locker0")["jammed"] == [5]
    d.sim("locker0", "jam", door=5, on=False)
    assert d.call("locker.open", {"device": "locker0", "door": 5})["opened"] is True
    assert d.call("locker.status", {"device": "locker0"})["jammed"] == []


def test_two_boards_on_one_bus_each_answer_their_own_address(hwd_daemon):
    d = hwd_daemon(BUS)
    d.wait_state("locker0", "online")
    d.wait_state("locker1", "online")
    ev = d.events("locker.door")
    assert d.call("locker.open", {"device": "locker1", "door": 4})["opened"] is True
    ev.wait("locker.door", device="locker1", door=4, state="opened")
    frames = wire(d, "locker1")
    # the ESP32 application's board 1, door 4: the command, its reply and the upload
    at = frames.index(("in", hexed("57 4B 4C 59 09 01 82 04 87")))
    assert frames[at + 1] == ("out", hexed(ref.E32_OPEN_DOOR4_REPLY))
    assert frames[at + 2] == ("out", hexed(ref.E32_UPLOAD_DOOR4_OPENED))
    assert d.call("locker.status", {"device": "locker0"})["open"] == []
    assert d.call("locker.status", {"device": "locker1"})["open"] == [4]
    # a door another board uploads never becomes this board's door
    d.sim("locker1", "force", door=7)
    ev.wait("locker.door", device="locker1", door=7, state="forced")
    assert d.call("locker.status", {"device": "locker0"})["open"] == []
    assert not [e for e in ev.drain() if e.get("device") == "locker0"]
    # 24 doors open: the reply is the vendor document's 0x84 demo (testDocDemo line 326)
    for door in range(1, 25):
        d.sim("locker0", "force", door=door)
    wait_for(lambda: d.call("locker.status", {"device": "locker0"})["open"] == list(range(1, 25)))
    assert ("out", hexed(ref.DOC_DEMO[0x84])) in wire(d)


def test_a_board_that_does_not_upload_is_still_seen_by_its_polls(hwd_daemon):
    d = hwd_daemon(board("locker0", 0, 24))
    d.wait_state("locker0", "online")
    ev = d.events("locker.door")
    d.sim("locker0", "uploads", on=False)
    d.sim("locker0", "force", door=3)
    ev.wait("locker.door", device="locker0", door=3, state="forced")
    d.sim("locker0", "shut", door=3)
    ev.wait("locker.door", device="locker0", door=3, state="closed")
    assert not any(h.startswith(hexed("57 4B 4C 59 0A 00 85")) for _, h in wire(d))


def test_garbled_replies_are_asked_again_and_a_silent_board_goes_offline_and_back(hwd_daemon):
    d = hwd_daemon(board("locker0", 0, 24, "retries = 2"))
    d.wait_state("locker0", "online")
    d.sim("locker0", "bad_checksum", count=1)
    assert d.call("locker.open", {"device": "locker0", "door": 2})["opened"] is True
    assert d.device("locker0")["counters"].get("bad_frames", 0) >= 1
    ev = d.events("device.state")
    d.sim("locker0", "silent_address", on=True)
    ev.wait("device.state", timeout=10, device="locker0", state="offline")
    d.sim("locker0", "silent_address", on=False)
    ev.wait("device.state", timeout=15, device="locker0", state="online")
    # door 2 was opened before: still open, no event of a change that did not happen
    assert d.call("locker.status", {"device": "locker0"})["open"] == [2]


def test_a_door_past_the_boards_doors_is_a_bad_request(hwd_daemon):
    from hwd.client import RpcError
    from hwd import errors
    import pytest

    d = hwd_daemon(board("locker1", 1, 12))
    d.wait_state("locker1", "online")
    with pytest.raises(RpcError) as err:
        d.call("locker.open", {"device": "locker1", "door": 13})
    assert err.value.code == errors.INVALID_PARAMS
    with pytest.raises(RpcError) as err:
        d.call("locker.open", {"device": "locker1", "door": 0})
    assert err.value.code == errors.INVALID_PARAMS
    assert d.call("daemon.status")
