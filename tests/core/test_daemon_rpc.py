"""The ZeroMQ API of a running daemon: good, bad and hostile requests; events; retries."""

from __future__ import annotations

import json
import signal
import time

import zmq

from hwd import errors
from hwd.client import Client, RpcError

SCANNER = '''
[[device]]
id = "s1"
kind = "scanner"
driver = "serial"
url = "sim://s1"
'''


def raw(d, payload: bytes, envelope_req: bool = False) -> dict:
    """Send one frame with a DEALER (or a REQ) socket and return the decoded reply."""
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.REQ if envelope_req else zmq.DEALER)
    sock.linger = 0
    sock.connect(d.rpc)
    try:
        sock.send(payload)
        assert sock.poll(5000), "no reply"
        return json.loads(sock.recv())
    finally:
        sock.close()


def test_good_and_bad_requests_each_get_their_reply(module_daemon):
    d = module_daemon(SCANNER)  # shared: these tests change no state the others read
    assert raw(d, b'{"jsonrpc":"2.0","id":1,"method":"devices.list"}')["result"][0]["id"] == "s1"
    assert raw(d, b'{"jsonrpc":"2.0","id":2,"method":"devices.list"}', envelope_req=True)["id"] == 2
    cases = {
        b"\xff\xfe not utf-8": errors.PARSE_ERROR,
        b"{not json": errors.PARSE_ERROR,
        b"[1, 2]": errors.INVALID_REQUEST,
        b'{"id": 3, "method": "devices.list"}': errors.INVALID_REQUEST,
        b'{"jsonrpc":"2.0","id":{"x":1},"method":"devices.list"}': errors.INVALID_REQUEST,
        b'{"jsonrpc":"2.0","id":4,"method":"no.such"}': errors.METHOD_NOT_FOUND,
        b'{"jsonrpc":"2.0","id":5,"method":"sim.control","params":[1]}': errors.INVALID_PARAMS,
        b'{"jsonrpc":"2.0","id":6,"method":"sim.control","params":{"device":"s1"}}': errors.INVALID_PARAMS,
        b'{"jsonrpc":"2.0","id":7,"method":"sim.control","params":{"device":"s1","action":"scan","params":{"bogus":1}}}': errors.INVALID_PARAMS,
        b'{"jsonrpc":"2.0","id":8,"method":"sim.control","params":{"device":"zz","action":"scan"}}': errors.NOT_FOUND,
        b'{"jsonrpc":"2.0","id":9,"method":"devices.list","params":{"extra":1}}': errors.INVALID_PARAMS,
    }
    for payload, code in cases.items():
        reply = raw(d, payload)
        assert reply["error"]["code"] == code, (payload, reply)
        assert reply["error"]["message"]
    huge = json.dumps({"jsonrpc": "2.0", "id": 10, "method": "devices.list", "params": {"x": "a" * 300_000}})
    assert raw(d, huge.encode())["error"]["code"] == errors.REQUEST_TOO_LARGE
    # and the daemon goes on serving
    assert d.call("daemon.status")["devices"]
    assert d.proc.poll() is None


def test_a_flood_of_garbage_does_not_stop_the_daemon(module_daemon):
    d = module_daemon(SCANNER)  # shared: these tests change no state the others read
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(d.rpc)
    payloads = [b"", b"\x00" * 100, b"null", b'"x"', b"{}", b'{"jsonrpc":"2.0"}', b"[" * 5000, b"1e999999"]
    for i in range(300):
        sock.send(payloads[i % len(payloads)])
    got = 0
    while sock.poll(3000) and got < 300:
        reply = json.loads(sock.recv())
        assert "error" in reply
        got += 1
    sock.close()
    assert got == 300
    assert d.call("devices.list")[0]["id"] == "s1"


def test_daemon_status_and_methods(module_daemon):
    d = module_daemon(SCANNER)  # shared: these tests change no state the others read
    status = d.call("daemon.status")
    assert status["version"] and status["uptime_s"] >= 0 and isinstance(status["seq"], int)
    assert sum(status["devices"].values()) == 1
    names = {m["name"] for m in d.call("daemon.methods")}
    assert {"devices.list", "daemon.status", "sim.control"} <= names


def test_events_carry_increasing_seq_and_timestamps(module_daemon):
    d = module_daemon(SCANNER)  # shared: these tests change no state the others read
    d.wait_state("s1", "online")
    ev = d.events("")
    for i in range(20):
        d.sim("s1", "scan", text=f"CODE-{i}")
    scans = [ev.wait("scanner.scan", text=f"CODE-{i}") for i in range(20)]
    seqs = [e["seq"] for e in scans]
    assert seqs == sorted(seqs) and len(set(seqs)) == 20
    assert all(e["ts"] > 1.6e9 for e in scans)
    everything = sorted(e["seq"] for e in ev.until_marker())
    assert len(everything) == len(set(everything))


def test_a_retried_request_is_executed_once(hwd_daemon):
    d = hwd_daemon(SCANNER)
    d.wait_state("s1", "online")
    request = {"jsonrpc": "2.0", "id": 77, "client": "kiosk-7", "method": "sim.control",
               "params": {"device": "s1", "action": "scan", "params": {"text": "ONCE"}}}
    first = raw(d, json.dumps(request).encode())
    again = raw(d, json.dumps(request).encode())
    assert first == again
    assert d.sim("s1", "status")["scanned"] == 1
    request["id"] = 78
    raw(d, json.dumps(request).encode())
    assert d.sim("s1", "status")["scanned"] == 2


def test_pty_device_goes_offline_and_back_by_itself(hwd_daemon):
    d = hwd_daemon(SCANNER)
    d.wait_state("s1", "online")
    ev = d.events("device.state")
    d.sim("s1", "unplug")
    assert ev.wait("device.state", device="s1", state="offline")["detail"]
    d.sim("s1", "plug")
    ev.wait("device.state", device="s1", state="online", timeout=10)
    assert d.sim("s1", "status")["plugged"] is True


def test_tcp_device_goes_offline_and_back_when_the_listener_restarts(hwd_daemon):
    d = hwd_daemon(SCANNER.replace("sim://s1", "sim://s1?transport=tcp"))
    d.wait_state("s1", "online")
    assert d.sim("s1", "status")["url"].startswith("tcp://127.0.0.1:")
    d.sim("s1", "unplug")
    d.wait_state("s1", "offline")
    d.sim("s1", "plug")
    d.wait_state("s1", "online", timeout=10)
    ev = d.events("scanner.")
    d.sim("s1", "scan", text="BACK")
    ev.wait("scanner.scan", text="BACK")


def test_scans_after_replug_arrive(hwd_daemon):
    d = hwd_daemon(SCANNER)
    d.wait_state("s1", "online")
    d.sim("s1", "unplug")
    d.wait_state("s1", "offline")
    d.sim("s1", "plug")
    d.wait_state("s1", "online", timeout=10)
    ev = d.events("scanner.")
    d.sim("s1", "partial", text="HALF")
    d.sim("s1", "scan", text="-WHOLE")
    assert ev.wait("scanner.scan")["text"] == "HALF-WHOLE"


def test_sigterm_stops_cleanly_and_promptly(hwd_daemon):
    d = hwd_daemon(SCANNER)
    d.wait_state("s1", "online")
    started = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    code = d.proc.wait(timeout=10)
    took = time.monotonic() - started
    assert code == 0
    # the requirement is "within 2 s"; the bound here is generous so a loaded CI machine passes
    assert took < 5, f"SIGTERM took {took:.2f} s"
    assert not (d.run_dir / "rpc").exists()


def test_second_daemon_on_the_same_socket_is_refused(hwd_daemon):
    first = hwd_daemon(SCANNER)
    second = hwd_daemon(SCANNER, name="second", start=False)
    second.config_path.write_text(first.config_path.read_text())
    second.start(wait=False)
    assert second.proc.wait(timeout=20) == 1
    assert "another hwd is running" in second.log()
    assert first.call("daemon.status")


def test_unreachable_daemon_gives_a_clear_error_quickly(tmp_path):
    client = Client(f"ipc://{tmp_path}/nobody", timeout=0.3, retries=2)
    started = time.monotonic()
    try:
        client.call("daemon.status")
    except RpcError:
        raise AssertionError("expected Unreachable")
    except Exception as exc:
        assert "did not answer" in str(exc)
    assert time.monotonic() - started < 5
