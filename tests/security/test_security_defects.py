"""Issue 13 items 6 and 7, each attacked the way the issue found it, against a real daemon:
appointment ID numbers under a keyed hash with its key outside the database; files not
world-readable; the CSV export with mixed rows and formula cells; -32602 (never -32603) for
huge ids, "²" and year 9999/0001; the serial scanner's half code; a space-padded booking code;
refused CURVE clients in the audit log.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import socket
import sqlite3
import time

import pytest

from support.waits import wait_for
from hwd import errors
from hwd.client import Client, RpcError, Unreachable
from hwd.keys import keygen
from security_helpers import hall, scanner

ID_NUMBER = "11010119900307001X"


def _refused(d, method: str, params: dict) -> int:
    with pytest.raises(RpcError) as exc:
        d.call(method, params)
    return exc.value.code


def test_appointment_id_numbers_need_the_key_file_and_files_are_not_world_readable(hwd_daemon):
    d = hwd_daemon(hall())
    day = d.call("hall.state")["day"]
    booked = d.call("hall.book", {"service": "s0", "slot": f"{day}T10:00:00", "id_number": ID_NUMBER})
    db = d.state_dir / "hall.sqlite3"
    person = sqlite3.connect(db).execute("SELECT person FROM appointments WHERE code = ?",
                                         (booked["code"],)).fetchone()[0]
    key_file = d.state_dir / "keys" / "appointment.key"
    key = bytes.fromhex(key_file.read_text().strip())
    assert person == "h1:" + hmac.new(key, ID_NUMBER.encode(), hashlib.sha256).hexdigest()
    # the attack: with only the database, try every candidate with every stored salt/meta
    meta = dict(sqlite3.connect(db).execute("SELECT key, value FROM meta").fetchall())
    for salt in list(meta.values()) + [""]:
        assert hashlib.sha256(f"{salt}:{ID_NUMBER}".encode()).hexdigest() not in person
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (d.state_dir / "keys").stat().st_mode & 0o777 == 0o700
    for path in [d.state_dir, db, *d.state_dir.glob("*.sqlite3*")]:
        assert path.stat().st_mode & 0o007 == 0, f"{path} is world-accessible: {oct(path.stat().st_mode)}"
    # a swipe of the same card still finds the booking after a restart (same key file)
    d.stop()
    d.start()
    assert d.call("hall.book", {"service": "s0", "slot": f"{day}T11:00:00", "code": "  ZX-9  "})["code"] == "ZX-9"


def test_csv_export_with_mixed_rows_and_formula_cells(hwd_daemon):
    d = hwd_daemon(hall())
    for window, score, reason in (("w5", 1, "=HYPERLINK(\"http://x\",\"点我\")"), ("w1", 5, None)):
        d.call("hall.issue_ticket", {"service": "s0"})
        d.call("hall.call_next", {"window": window})
        d.call("hall.finish", {"window": window})
        d.call("hall.rate", {"window": window, "score": score, **({"reason": reason} if reason else {})})
        time.sleep(0.01)
    text = d.call("hall.export", {"what": "ratings"})  # newest good, older bad: D8
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2 and {"reason", "followup_due", "score"} <= set(rows[0])
    bad = next(r for r in rows if r["score"] == "1")
    assert bad["reason"].startswith("'=HYPERLINK")
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())


@pytest.mark.parametrize("method,params", [
    ("hall.ticket", {"ticket": 2 ** 63}), ("hall.ticket", {"ticket": "²"}), ("hall.ticket", {"ticket": str(2 ** 64)}),
    ("hall.rate", {"score": 3, "ticket": 2 ** 63}), ("hall.rate", {"score": 3, "ticket": "²"}),
    ("hall.prioritize", {"ticket": 2 ** 63, "priority": "normal"}), ("hall.prioritize", {"ticket": "²", "priority": "normal"}),
    ("hall.followup", {"rating": 2 ** 63, "note": "x"}),
    ("hall.reprint", {"ticket": 2 ** 63}), ("hall.reprint", {"ticket": "²"}),
    ("hall.stats", {"from": "9999-12-31", "to": "9999-12-31"}), ("hall.stats", {"from": "0001-01-01"}),
    ("hall.stats", {"from": "9999-12-31T23:59:59", "to": "0001-01-01T00:00:00"}),
    ("hall.book", {"service": "s0", "slot": "9999-12-31T23:59:00"}),
    ("hall.book", {"service": "s0", "slot": "0001-01-01T00:00:00"}),
    ("hall.book", {"service": "s0", "slot": "2026-11-23T10:00:00", "code": "   "}),
])
def test_bad_input_is_invalid_params_not_an_internal_error(hwd_daemon, method, params):
    d = hwd_daemon(hall())
    assert _refused(d, method, params) == errors.INVALID_PARAMS
    assert d.call("daemon.ping") == {"pong": True}
    assert "Traceback" not in d.log()


def test_a_half_code_on_the_serial_scanner_expires(hwd_daemon):
    d = hwd_daemon(scanner("scan1", char_timeout_ms=100))
    d.wait_state("scan1", "online")
    ev = d.events("scanner.")
    d.sim("scan1", "partial", text="HALF-")
    wait_for(lambda: (d.device("scan1").get("counters") or {}).get("partial_timeout") == 1, timeout=10,
             what="the half code dropped")
    d.sim("scan1", "scan", text="APPT-42")
    assert ev.wait("scanner.scan")["text"] == "APPT-42"


def test_a_space_padded_booking_code_is_normalised_before_commit(hwd_daemon):
    d = hwd_daemon(hall())
    day = d.call("hall.state")["day"]
    booked = d.call("hall.book", {"service": "s0", "slot": f"{day}T10:00:00", "code": " YY-7 "})
    assert booked["code"] == "YY-7"
    assert d.call("hall.checkin", {"code": "YY-7"})["appointment"] == "YY-7"
    assert _refused(d, "hall.book", {"service": "s0", "slot": f"{day}T10:00:00", "code": "YY-7"}) == errors.BAD_STATE


def test_refused_curve_clients_are_audited_rate_limited(hwd_daemon, tmp_path):
    server_pub, server_sec = keygen(tmp_path / "server", "server")
    _, stranger_sec = keygen(tmp_path / "stranger", "stranger")
    clients = tmp_path / "clients"
    clients.mkdir()
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    rpc = f"tcp://127.0.0.1:{ports[0]}"
    d = hwd_daemon(f'[daemon]\nrpc = "{rpc}"\nevents = "tcp://127.0.0.1:{ports[1]}"\n'
                   f'state_dir = "{tmp_path / "state"}"\nserver_key = "{server_sec}"\nclients_dir = "{clients}"\n',
                   start=False)
    d.rpc = rpc
    d.start(wait=False)
    wait_for(lambda: " serving " in d.log(), what="hwd serving its endpoints")
    for _ in range(5):
        with pytest.raises(Unreachable):
            Client(rpc, timeout=0.4, retries=1, server_key=server_pub, client_key=stranger_sec).call("daemon.ping")
    log = wait_for(lambda: d.log() if "refused a CURVE client from 127.0.0.1" in d.log() else None, timeout=10,
                   what="the audit line")
    assert log.count("refused a CURVE client") <= 2, "one line per address per minute"
