"""The 24-hour area's locker at the county, against a real PostgreSQL: a hall's deposits (waiting,
picked up) and its doors' alarms reach ``deposits``, ``deposit_events`` and ``locker_alarms`` once,
never with the code; another hall's login can neither read nor change them (row-level security,
as every table a hall writes)."""

from __future__ import annotations

import pytest

from county_helpers import query
from daemon_fixture import DaemonProcess, wait_for
from pickup_hall import MONDAY_DAY, MONDAY_NIGHT, deposited, hall_text, served

CENTRAL = '''
[hall.central]
retry_s = 0.1
retry_max_s = 0.5
dsn = "{dsn}"
hall_id = "{hall_id}"
heartbeat_s = 0.3
connect_timeout_s = 2
'''


def test_deposits_pickups_and_alarms_reach_the_county_and_stay_the_halls_own(tmp_path, pg, county):
    import psycopg

    d = DaemonProcess(tmp_path, "", "pickup", clock_start=MONDAY_DAY)
    text = hall_text(hall_extra=CENTRAL.format(dsn=county.add_hall("p1"), hall_id="p1"))
    d.config_path.write_text(d.config_path.read_text(encoding="utf-8") + text, encoding="utf-8")
    d.start()
    try:
        d.wait_state("locker1", "online")
        d.call("hall.login", {"window": "5", "staff": "s01", "pin": "1357"})
        ev = d.events("locker.", "hall.pickup.")
        ticket = served(d)
        got = deposited(d, ev, ticket=ticket["id"])
        d.call("clock.set", {"now": MONDAY_NIGHT})
        d.call("hall.pickup", {"code": got["code"], "kiosk": "k24"})
        d.sim(got["device"], "shut", door=got["door"])
        ev.wait("hall.pickup.picked", deposit=got["deposit"])
        d.sim("locker2", "force", door=3)
        state = lambda: query(pg, "SELECT state, device, door, number, via, kiosk FROM deposits WHERE hall_id = 'p1'")
        wait_for(lambda: state() == [("picked", got["device"], got["door"], ticket["number"], "code", "k24")], 30,
                 "the picked-up deposit at the county", tolerate=(Exception,))
        steps = [r[0] for r in query(pg, "SELECT action FROM deposit_events WHERE hall_id = 'p1' ORDER BY rec_id")]
        assert steps == ["deposit_open", "deposited", "pickup_open", "picked_up"]
        wait_for(lambda: query(pg, "SELECT device, door, kind, cleared_ts FROM locker_alarms WHERE hall_id = 'p1'")
                 == [("locker2", 3, "forced", None)], 30, "the forced door at the county")
        events = [r[0] for r in query(pg, "SELECT action FROM ticket_events WHERE hall_id = 'p1' "
                                          "AND ticket_id = %s ORDER BY action_id", (ticket["id"],))]
        assert events[-4:] == ["deposit_open", "deposited", "pickup_open", "picked_up"]
        dump = str(query(pg, "SELECT payload FROM records WHERE hall_id = 'p1'"))
        assert got["code"] not in dump and "nonce" not in dump and "code_hash" not in dump
        # another hall's login: reads none of it, changes none of it
        other = county.add_hall("p2")
        with psycopg.connect(other, autocommit=True) as conn:
            for table in ("deposits", "locker_alarms"):
                assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
            with pytest.raises(psycopg.Error):      # written by the sink, read by nobody but the county
                conn.execute("SELECT COUNT(*) FROM deposit_events")
            for sql in ("UPDATE deposits SET state = 'waiting' WHERE hall_id = 'p1'",
                        "UPDATE locker_alarms SET cleared_ts = 1 WHERE hall_id = 'p1'",
                        "DELETE FROM deposits WHERE hall_id = 'p1'"):
                try:
                    assert conn.execute(sql).rowcount == 0, sql
                except psycopg.Error:
                    pass      # refused outright (no DELETE grant)
            with pytest.raises(psycopg.Error):
                conn.execute("INSERT INTO deposits (hall_id, deposit_id, state, rec_id) VALUES ('p1', 99, 'waiting', 1)")
        assert state()[0][0] == "picked"
    finally:
        d.stop()
