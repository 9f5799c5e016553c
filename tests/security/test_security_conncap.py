"""hwd.web.conncap.ConnectionCap, the one connection rule of hwd-ui's ports and the phone
server (the servers themselves are attacked in test_security_ports.py and
test_security_phones.py): per address, the reserve of the configured machines, IPv6 phones per
address within a looser /64 budget, and slots that always come back."""

from __future__ import annotations

import gc

import pytest

from hwd.web.conncap import ConnectionCap, Refused

HALL = {"10.0.0.5", "10.0.0.6"}


def _cap(**kw) -> ConnectionCap:
    kw.setdefault("exempt", lambda host: host in HALL)
    return ConnectionCap(**{"per_address": 2, "total": 10, "reserved": 4, **kw})


def test_an_address_holds_its_share_and_an_ipv6_machine_its_64():
    cap = _cap()
    cap.admit("10.1.1.1"), cap.admit("::ffff:10.1.1.1")
    with pytest.raises(Refused) as info:
        cap.admit("10.1.1.1")
    assert info.value.reason == "address" and cap.held("10.1.1.1") == 2
    cap.admit("2001:db8:1:2::1"), cap.admit("2001:db8:1:2::2")  # the main port: a /64 is one machine
    with pytest.raises(Refused):
        cap.admit("2001:db8:1:2::3")


def test_phones_of_one_64_each_have_their_share_within_the_64s():
    cap = _cap(total=100, reserved=0, per_64=5)
    for phone in ("::a", "::a", "::b", "::b", "::c"):
        cap.admit("2001:db8:1:2" + phone)
    with pytest.raises(Refused) as info:
        cap.admit("2001:db8:1:2::d")  # a fresh phone, but the /64 holds 5
    assert info.value.reason == "address"
    cap.admit("2001:db8:1:3::d")
    cap.admit("10.1.1.1")


def test_no_number_of_addresses_takes_the_reserve():
    cap = _cap()
    slots = [cap.admit(f"10.1.1.{i}") for i in range(6)]  # total 10, 4 kept: 6 for all the others
    with pytest.raises(Refused) as info:
        cap.admit("10.1.1.99")
    assert info.value.reason == "full"
    hall = [cap.admit("10.0.0.5") for _ in range(4)]  # no per-address cap for the hall's machines
    with pytest.raises(Refused):
        cap.admit("10.0.0.6")  # total reached
    cap.release(slots[0])
    cap.release(slots[0])  # twice: counted once
    assert cap.open == 9 and cap.open_public == 5
    cap.admit("10.0.0.6")
    for slot in hall:
        cap.release(slot)
    cap.admit("10.1.1.99")


def test_a_slot_nobody_released_comes_back_with_its_connection():
    cap = _cap()

    class Connection:
        pass

    conn = Connection()
    cap.watch(conn, cap.admit("10.1.1.1"))
    cap.watch(Connection(), cap.admit("10.1.1.1"))  # collected at once
    gc.collect()
    assert cap.held("10.1.1.1") == 1
    del conn
    gc.collect()
    assert cap.held("10.1.1.1") == 0 and cap.open == 0


def test_the_strict_head_rules():
    from hwd.web import framing

    ok = b"GET /t/x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
    assert framing.head(ok) == [(b"host", b"a"), (b"content-length", b"0")]
    bad = {
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked": "both",
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1": "more than once",
        b"POST / HTTP/1.1\r\nContent-Length: 1_0": "not a number",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked": "one chunked",
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked": "HTTP/1.0",
        b"GET / HTTP/1.1\r\nX: 1\r\n\tY: 2": "obs-fold",
        b"GET / HTTP/1.1\r\nX : 1": "header name",
        b"GET / HTTP/1.1\r\nX: a\x01b": "control character",
        b"GET / HTTP/1.1\r\n" + b"X: 1\r\n" * 101: "header fields",
        b"GET / HTTP/1.1\r\nX: " + b"a" * framing.MAX_LINE: "too long",
        b"GET /" + b"a" * framing.MAX_HEAD + b" HTTP/1.1": "too large",
    }
    for head, why in bad.items():
        with pytest.raises(framing.BadHead, match=why):
            framing.head(head.rstrip(b"\r\n"))
