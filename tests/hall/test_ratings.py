"""好差评 in the engine (real method table, SQLite, test clock): the record the upstream needs,
差评 reasons, the 办件编号, work orders with working-day deadlines, appeals that exclude without
deleting, and the outbox rows every change writes in its own transaction."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest

from hwd import errors
from hwd.errors import HwdError
from hwd.hall import store as hall_store
from hwd.hall.store import Store
from hall_helpers import EngineHarness, load_config

HALL = '''
[hall]
name = "测试政务服务中心"
region_code = "371402000000"
rating_timeout_s = 30
followup_days = 5
[hall.ratings]
callback_days = 1
[hall.hours]
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
department = "自然资源局"
matter_code = "11371400MB2853940F4370117001"
impl_code = "113714000045678901400011700101"
matter_version = "3"
[[hall.window]]
id = "5"
name = "不动产登记 5号窗口"
services = ["bdc"]
[[hall.staff]]
id = "s01"
name = "王小明"
'''
MONDAY = "2026-11-23T09:00:00"  # a Monday


def run(tmp_path, body, hall: str = HALL, now: str = MONDAY):
    async def main():
        h = await EngineHarness(load_config(tmp_path, hall)).start()
        try:
            await h.call("clock.set", {"now": now})
            return await body(h)
        finally:
            await h.stop()
    return asyncio.run(main())


async def refused(h, method, params, code):
    with pytest.raises(HwdError) as info:
        await h.call(method, params)
    assert info.value.code == code, info.value
    return info.value.message


async def served(h, login: bool = True) -> dict:
    if login:
        await h.call("hall.login", {"window": "5", "staff": "s01"})
    t = await h.call("hall.issue_ticket", {"service": "bdc"})
    await h.call("hall.call_next", {"window": "5"})
    await h.call("clock.advance", {"seconds": 30})
    await h.call("hall.start", {"window": "5"})
    await h.call("clock.advance", {"seconds": 300})
    await h.call("hall.finish", {"window": "5"})
    return t


def outbox_rows(h) -> list[dict]:
    rows = h.engine.store.all("SELECT * FROM outbox ORDER BY id")
    return [dict(r, payload=json.loads(r["payload"])) for r in rows]


def test_a_bad_rating_carries_what_the_upstream_needs(tmp_path):
    async def body(h):
        t = await served(h)
        requested = [e for topic, e in h.events if topic == "hall.rating.requested"][-1]
        assert [r["code"] for r in requested["reasons"]][:2] == ["attitude", "efficiency"]
        r = await h.call("hall.rate", {"window": "5", "score": 2, "reasons": ["attitude", "efficiency", "attitude"],
                                       "reason": "等了很久", "channel": "page"})
        assert r["level"] == "不满意" and r["bad"] and r["reasons"] == ["attitude", "efficiency"]
        assert r["workorder"]["state"] == "open" and r["workorder"]["due"] == "2026-11-30"  # 5 working days
        assert r["workorder"]["callback_due"] == "2026-11-24"
        [rec] = [o for o in outbox_rows(h) if o["kind"] == "rating"]
        p = rec["payload"]
        assert p["idempotency_key"] == rec["key"] and rec["key"].endswith(f":rating:{r['id']}")
        assert (p["score"], p["level"], p["labels"], p["text"]) == (2, "不满意", ["attitude", "efficiency"], "等了很久")
        assert p["label_names"] == ["服务态度不好", "办事效率低"]
        assert (p["region_code"], p["matter_code"], p["impl_code"], p["matter_version"]) == (
            "371402000000", "11371400MB2853940F4370117001", "113714000045678901400011700101", "3")
        assert (p["window"], p["staff"], p["staff_name"], p["channel"]) == ("5", "s01", "王小明", "page")
        assert p["service_start"] == "2026-11-23T09:00:30+08:00" and p["service_end"] == "2026-11-23T09:05:30+08:00"
        assert p["ticket"] == t["number"] and p["case_no"] is None
        assert [o["kind"] for o in outbox_rows(h)] == ["rating", "workorder"]  # the order opened with it
    run(tmp_path, body)


def test_reasons_are_asked_only_for_bad_ratings_and_a_skip_keeps_the_score(tmp_path):
    async def body(h):
        await served(h)
        await refused(h, "hall.rate", {"window": "5", "score": 4, "reasons": ["attitude"]}, errors.REASONS_NOT_ASKED)
        await refused(h, "hall.rate", {"window": "5", "score": 1, "reasons": ["rude"]}, errors.UNKNOWN_REASON)
        await refused(h, "hall.rate", {"window": "5", "score": 1, "channel": "fax"}, errors.INVALID_PARAMS)
        skipped = await h.call("hall.rate", {"window": "5", "score": 1})  # the citizen skipped the reason step
        assert skipped["score"] == 1 and skipped["reasons"] == [] and skipped["level"] == "非常不满意"
        assert (await h.call("hall.reasons"))[-1] == {"code": "other", "name": "其他问题"}
    run(tmp_path, body)


def test_nobody_rating_is_sent_as_unrated_never_as_a_score(tmp_path):
    async def body(h):
        t = await served(h)
        await h.call("clock.advance", {"seconds": 31})
        h.engine.tick()
        [rec] = outbox_rows(h)
        assert rec["kind"] == "unrated" and rec["payload"]["score"] is None and rec["payload"]["level"] == "未评价"
        assert h.engine.store.all("SELECT * FROM ratings") == []
        case = await h.call("hall.case", {"ticket": t["id"], "case_no": "BJ2026112300017", "staff": "s01"})
        assert case["sent"] and case["rating"] is None
        last = outbox_rows(h)[-1]
        assert last["kind"] == "case" and last["payload"]["case_no"] == "BJ2026112300017"
        assert last["payload"]["score"] is None
    run(tmp_path, body)


def test_a_case_number_attached_during_service_or_afterwards(tmp_path):
    async def body(h):
        await h.call("hall.login", {"window": "5", "staff": "s01"})
        t = await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("hall.call_next", {"window": "5"})
        during = await h.call("hall.case", {"ticket": t["number"], "case_no": "BJ-001"})
        assert not during["sent"]  # nothing to resend yet: the rating will carry it
        await h.call("hall.finish", {"window": "5"})
        r = await h.call("hall.rate", {"window": "5", "score": 5})
        assert r["case_no"] == "BJ-001" and outbox_rows(h)[0]["payload"]["case_no"] == "BJ-001"
        again = await h.call("hall.case", {"ticket": t["id"], "case_no": "BJ-001"})
        assert not again["sent"] and len(outbox_rows(h)) == 1  # the same number twice is one change
        fixed = await h.call("hall.case", {"ticket": t["id"], "case_no": "BJ-002", "staff": "s01"})
        assert fixed["sent"] and fixed["previous"] == "BJ-001"
        last = outbox_rows(h)[-1]
        assert (last["kind"], last["payload"]["case_no"], last["payload"]["previous_case_no"]) == \
            ("case", "BJ-002", "BJ-001")
        assert last["payload"]["rating_id"] == r["id"] and last["payload"]["score"] == 5
        await refused(h, "hall.case", {"ticket": t["id"], "case_no": "has space"}, errors.BAD_CASE_NO)
        await refused(h, "hall.case", {"ticket": 999, "case_no": "X1"}, errors.UNKNOWN_TICKET)
    run(tmp_path, body)


def test_a_work_order_from_callback_to_close_keeps_every_step(tmp_path):
    async def body(h):
        await served(h)
        r = await h.call("hall.rate", {"window": "5", "score": 2, "reasons": ["attitude"]})
        wo = r["workorder"]["id"]
        await refused(h, "hall.workorder", {"id": wo, "step": "rectify", "note": "x"}, errors.BAD_STEP)
        await h.call("hall.workorder", {"id": wo, "step": "callback", "note": "电话回访，群众反映等候久", "staff": "m1"})
        await refused(h, "hall.workorder", {"id": wo, "step": "verify"}, errors.BAD_VERDICT)
        await h.call("hall.workorder", {"id": wo, "step": "verify", "verdict": "valid", "staff": "m1"})
        await refused(h, "hall.workorder", {"id": wo, "step": "rectify"}, errors.NOTE_REQUIRED)
        await refused(h, "hall.workorder", {"id": wo, "step": "appeal", "note": "x"}, errors.BAD_STEP)
        await h.call("hall.workorder", {"id": wo, "step": "rectify", "note": "增开窗口，开展服务培训", "staff": "m1"})
        closed = await h.call("hall.workorder", {"id": wo, "step": "close", "staff": "m2"})
        assert closed["state"] == "closed" and not closed["excluded"] and closed["closed_at"]
        assert [(s["step"], s["to"], s["staff"]) for s in closed["steps"]] == [
            ("open", "open", None), ("callback", "called_back", "m1"), ("verify", "verified", "m1"),
            ("rectify", "rectified", "m1"), ("close", "closed", "m2")]
        assert all(s["at"] for s in closed["steps"])
        await refused(h, "hall.workorder", {"id": wo, "step": "close"}, errors.BAD_STEP)
        await refused(h, "hall.workorder", {"id": 99, "step": "close"}, errors.UNKNOWN_WORKORDER)
        assert [o["kind"] for o in outbox_rows(h)] == ["rating"] + ["workorder"] * 5
        assert (await h.call("hall.workorders", {"state": "closed"}))[0]["id"] == wo
        db = h.engine.store.db
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE workorder_steps SET note = 'rewritten'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM workorder_steps")
    run(tmp_path, body)


def test_hall_followup_is_the_work_orders_callback_step(tmp_path):
    """Issue 24: one follow-up path. ``hall.followup`` (kept for its callers) steps the rating's
    work order (回访), so a 差评 followed up is no longer 待回访 anywhere and cannot go overdue
    for its callback; a second one is refused as the work order refuses it."""
    async def body(h):
        await served(h)
        r = await h.call("hall.rate", {"window": "5", "score": 1, "reasons": ["attitude"]})
        wo = r["workorder"]["id"]
        assert r["followup_state"] == "open"
        assert [x["id"] for x in await h.call("hall.ratings", {"bad": True, "open": True})] == [r["id"]]
        done = await h.call("hall.followup", {"rating": r["id"], "note": "已电话回访致歉", "staff": "m1"})
        assert done["id"] == r["id"] and done["followup_state"] == "done"
        assert (done["followup_note"], done["followup_by"]) == ("已电话回访致歉", "m1") and done["followup_at"]
        assert done["workorder"]["state"] == "called_back" and not done["workorder"]["callback_overdue"]
        [order] = await h.call("hall.workorders", {})
        assert order["state"] == "called_back"
        assert [(s["step"], s["staff"], s["note"]) for s in order["steps"]][-1] == ("callback", "m1", "已电话回访致歉")
        assert await h.call("hall.ratings", {"bad": True, "open": True}) == []
        await h.call("clock.set", {"now": "2026-11-26T09:00:00"})   # past the 1-day callback deadline
        assert not (await h.call("hall.workorders", {"overdue": True}))
        await refused(h, "hall.followup", {"rating": r["id"], "note": "again"}, errors.BAD_STEP)
        await refused(h, "hall.workorder", {"id": wo, "step": "callback", "note": "again"}, errors.BAD_STEP)
        assert [o["kind"] for o in outbox_rows(h)] == ["rating", "workorder", "workorder"]
        assert "hall.workorder" in h.topics() and "hall.rating.followup" in h.topics()
        good = await served(h, login=False)
        await h.call("hall.rate", {"ticket": good["id"], "score": 5})
        rating = (await h.call("hall.ratings", {"bad": False}))[0]
        await refused(h, "hall.followup", {"rating": rating["id"], "note": "x"}, errors.BAD_STATE)
    run(tmp_path, body)


def test_an_upheld_appeal_excludes_the_rating_without_deleting_it(tmp_path):
    async def body(h):
        await served(h)
        r = await h.call("hall.rate", {"window": "5", "score": 1, "reasons": ["other"], "reason": "乱评"})
        wo = r["workorder"]["id"]
        await h.call("hall.workorder", {"id": wo, "step": "callback"})
        await h.call("hall.workorder", {"id": wo, "step": "verify", "verdict": "malicious"})
        await refused(h, "hall.workorder", {"id": wo, "step": "appeal"}, errors.NOTE_REQUIRED)
        await h.call("hall.workorder", {"id": wo, "step": "appeal", "note": "监控显示群众未办理业务", "staff": "s01"})
        done = await h.call("hall.workorder", {"id": wo, "step": "review", "verdict": "malicious", "staff": "chief"})
        assert done["state"] == "closed" and done["excluded"]
        [kept] = await h.call("hall.ratings", {"bad": True})
        assert kept["id"] == r["id"] and kept["excluded"]
        [row] = await h.call("hall.stats", {"group_by": "service"})
        assert (row["rated"], row["bad"], row["excluded"], row["ratings"]["非常不满意"]) == (0, 0, 1, 0)
        assert outbox_rows(h)[-1]["kind"] == "exclusion" and outbox_rows(h)[-1]["payload"]["excluded"] is True
    run(tmp_path, body)


def test_a_rejected_appeal_goes_back_to_rectification(tmp_path):
    async def body(h):
        await served(h)
        wo = (await h.call("hall.rate", {"window": "5", "score": 2}))["workorder"]["id"]
        for step, extra in (("callback", {}), ("verify", {"verdict": "mistaken"}), ("appeal", {"note": "误触"}),
                            ("review", {"verdict": "valid"})):
            moved = await h.call("hall.workorder", {"id": wo, "step": step, **extra})
        assert moved["state"] == "verified" and moved["verdict"] == "valid" and not moved["excluded"]
        await h.call("hall.workorder", {"id": wo, "step": "rectify", "note": "整改"})
    run(tmp_path, body)


def test_overdue_work_orders_count_working_days_of_the_hall_calendar(tmp_path):
    async def body(h):
        await served(h)
        wo = (await h.call("hall.rate", {"window": "5", "score": 2}))["workorder"]
        assert (wo["due"], wo["callback_due"]) == ("2026-11-30", "2026-11-24")  # Sat/Sun are not working days
        await h.call("clock.set", {"now": "2026-11-25T10:00:00"})
        [w] = await h.call("hall.workorders", {"overdue": True})
        assert w["callback_overdue"] and not w["overdue"]
        await h.call("hall.workorder", {"id": w["id"], "step": "callback"})
        assert await h.call("hall.workorders", {"overdue": True}) == []
        await h.call("clock.set", {"now": "2026-12-01T10:00:00"})
        [w] = await h.call("hall.workorders", {"overdue": True})
        assert w["overdue"] and w["state"] == "called_back"
    run(tmp_path, body)


def test_a_schema_2_database_is_migrated_in_place(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for script in hall_store.MIGRATIONS[:2]:
        db.executescript(script)
    db.execute("PRAGMA user_version = 2")
    db.execute("INSERT INTO ratings (ticket, number, score, ts, day, bad) VALUES (1, 'B001', 4, 0, '2026-11-20', 0)")
    db.close()
    store = Store(path)
    row = store.one("SELECT * FROM ratings")
    assert row["number"] == "B001" and row["score"] == 4 and row["excluded"] == 0 and row["case_no"] is None
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(hall_store.MIGRATIONS)
    store.close()


def test_ratings_no_longer_import_the_hall_core():
    import ast
    import inspect

    from hwd.hall.ratings import store as rating_store, rules as ratings, workorders

    for module in (ratings, workorders, rating_store):
        tree = ast.parse(inspect.getsource(module))
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "hwd.hall.queue.core" not in names, module.__name__


def test_bad_ratings_and_upstream_config_lists_every_problem(tmp_path):
    from hwd import config as configuration
    from hwd.errors import ConfigError

    text = HALL.replace('region_code = "371402000000"', 'region_code = "3714"') + '''
[[hall.ratings.reason]]
code = "attitude"
name = "态度"
[[hall.ratings.reason]]
code = "attitude"
name = "又是态度"
[hall.upstream]
adapter = "push-json"
signature = "md5"
'''
    with pytest.raises(ConfigError) as info:
        configuration.loads(f'[daemon]\nstate_dir = "{tmp_path}"\n' + text, tmp_path / "hwd.toml")
    problems = "\n".join(info.value.problems)
    for expected in ("region_code", "duplicate reason code 'attitude'", "hall.upstream.signature",
                     "needs a url", "give a secret"):
        assert expected in problems, problems
    assert all(p.startswith(str(tmp_path / "hwd.toml")) for p in info.value.problems), problems


def test_the_ratings_export_keeps_excluded_and_work_order_columns(tmp_path):
    import csv
    import io

    async def body(h):
        await served(h)
        r = await h.call("hall.rate", {"window": "5", "score": 2, "reasons": ["attitude", "process"]})
        text = await h.call("hall.export", {"what": "ratings"})
        [row] = list(csv.DictReader(io.StringIO(text)))
        assert row["reasons"] == "attitude,process" and row["workorder_state"] == "open" and row["excluded"] == "False"
        assert (row["id"], row["workorder"]) == (str(r["id"]), str(r["workorder"]["id"]))
        assert row["workorder_due"] == "2026-11-30" and row["score"] == "2"
    run(tmp_path, body)
