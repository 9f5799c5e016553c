"""The shared port's one reader (hwd/sharedport.py), in process on pyserial's ``loop://`` (what is
written comes back, as a bus's frames come to the host): each frame reaches the devices at its
address, a screen's ack reaches that screen, frames for no device and noise are counted once on
the port, a frame rejected while a device holds the port is told to that device, and a port
whose reader failed is reopened by the next transaction."""

from __future__ import annotations

import queue

import serial

from support.waits import wait_for
from drivers.keypad.buspresets import build_spec
from hwd.sharedport import READ_TIMEOUT_S, Listener, SharedPort
from hwd.stream import Skip, literal

CALLER = build_spec({"protocol": "caller21"})
PROTOCOL = ("bus", "caller21")


def keypad(port: SharedPort, device: str, address: int) -> tuple[queue.Queue, Listener]:
    inbox: queue.Queue = queue.Queue()
    ear = Listener(device, PROTOCOL, CALLER.check, address, lambda f: f.addr, inbox.put, inbox.put,
                   what="keypad frame")
    port.attach(ear)
    return inbox, ear


def test_every_frame_goes_to_the_device_at_its_address():
    port = SharedPort("loop", lambda: serial.serial_for_url("loop://", timeout=READ_TIMEOUT_S))
    (k21, _), (k22, _) = keypad(port, "k21", 0x21), keypad(port, "k22", 0x22)
    acks: queue.Queue = queue.Queue()
    port.attach(Listener("led5", ("ack", b"\x06\x05"), literal(b"\x06\x05"), None, lambda f: None, acks.put))
    try:
        with port.transaction() as link:
            for i in range(20):
                link.write(CALLER.encode(0x21, 0x01, bytes([i])) + b"\x00\x13" + CALLER.encode(0x22, 0x01, bytes([i])))
            link.write(b"\x06\x05" + CALLER.encode(0x29, 0x01, b"\xf1") + b"\x55")
        assert [k21.get(timeout=5).data for _ in range(20)] == [bytes([i]) for i in range(20)]
        assert [k22.get(timeout=5).data for _ in range(20)] == [bytes([i]) for i in range(20)]
        assert acks.get(timeout=5).value == b"\x06\x05"
        wait_for(lambda: port.describe()["counters"]["unclaimed_frames"] == 1, what="the frame for 0x29 counted")
        counters = port.describe()["counters"]
        assert counters["frames"] == 42 and counters["noise_bytes"] == 41 and counters["bad_frames"] == 0
        assert k21.empty() and k22.empty()
    finally:
        port.invalidate()


def test_a_rejected_frame_goes_to_the_device_that_holds_the_port():
    port = SharedPort("loop", lambda: serial.serial_for_url("loop://", timeout=READ_TIMEOUT_S))
    inbox, holder = keypad(port, "k21", 0x21)
    good = CALLER.encode(0x21, 0x01, b"\x05")
    garbled = good[:-2] + bytes([good[-2] ^ 1]) + good[-1:]
    try:
        with port.transaction(holder) as link:
            link.write(garbled)
            assert isinstance(inbox.get(timeout=5), Skip)          # it asks again at once
        with port.transaction() as link:                            # nobody waits: the port counts it
            link.write(garbled)
        wait_for(lambda: port.describe()["counters"]["bad_frames"] == 2, what="both garbled frames counted")
        assert inbox.empty()
    finally:
        port.invalidate()


def test_a_port_whose_reader_failed_is_reopened_by_the_next_transaction():
    opened = []

    def opener():
        opened.append(serial.serial_for_url("loop://", timeout=READ_TIMEOUT_S))
        return opened[-1]

    port = SharedPort("loop", opener)
    inbox, _ = keypad(port, "k21", 0x21)
    try:
        port.ensure_open()
        opened[0].close()                                # the adapter is pulled out
        wait_for(lambda: port.describe().get("lost"), what="the reader noticing the port is gone")
        assert port.port is None
        with port.transaction() as link:
            link.write(CALLER.encode(0x21, 0x01, b"\xf1"))
        assert inbox.get(timeout=5).data == b"\xf1" and port.generation == 2
    finally:
        port.invalidate()
