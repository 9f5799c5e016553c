"""实名评价, opt-in ([hall.upstream] real_name): the card holder reaches the province only with
the citizen's consent on that rating, sealed at rest until the province has the rating, then
erased; never in the outbox record (which the county feed and ``hwctl outbox`` read), the events,
the logs or ``hwctl upstream preview`` in clear (docs/security.md, 实名评价).

The hall engine runs as the daemon runs it (method table, SQLite, test clock, the real outbox
worker and the zj-offlinereport profile posting to a local HTTP receiver); the card comes from the
reader's own token store, as a kiosk's reader hands it to the hall.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from drivers.idcard.tokens import TokenStore
from hwd import config as configuration, hwctl, outbox
from hwd.errors import ConfigError
from hwd.upstream.emulator import Receiver

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hall"))
from hall_helpers import EngineHarness, load_config  # noqa: E402

MONDAY = "2026-11-23T09:00:00"
CARD = {"name": "王小丫", "birth": "1990-05-06", "id_number": "110101199005060014", "sex": "女",
        "address": "北京市东城区东华门街道1号"}
HALL = '''
[[device]]
id = "r1"
kind = "idcard"
driver = "sam"
url = "sim://r1"
[hall]
name = "测试政务服务中心"
region_code = "330102000000"
rating_timeout_s = 30
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
matter_code = "330100-000-XK-0026-01"
province = {{ promiseTime = "1" }}
[[hall.window]]
id = "5"
name = "5号窗口"
services = ["bdc"]
[[hall.kiosk]]
id = "k1"
idcard = "r1"
[hall.upstream]
profile = "zj-offlinereport"
username = "nbzjw_gjj"
password = "nbgjj12345"
url = "{url}"
retry_s = 0.05
retry_max_s = 0.2
{extra}
[hall.upstream.province]
deptCode = "11330100002489716J"
'''


def wait_until(fn, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout} s")


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def hall_text(receiver: Receiver, extra: str = "real_name = true") -> str:
    return HALL.format(url=receiver.base + "/api/evaluate", extra=extra)


def form_of(req: dict) -> dict:
    return {k: v[0] for k, v in urllib.parse.parse_qs(req["body"].decode("ascii"), keep_blank_values=True).items()}


def holders(h) -> list:
    return h.engine.store.all("SELECT * FROM rating_holders")


async def serve(h, tokens: TokenStore, card: dict | None = CARD) -> dict:
    """A ticket taken with the card at kiosk k1, called, served and finished at window 5."""
    params = {"service": "bdc", "kiosk": "k1"}
    if card is not None:
        params["card_token"] = tokens.issue(card, device="r1")
    t = await h.call("hall.issue_ticket", params)
    await h.call("hall.call_next", {"window": "5"})
    await h.call("clock.advance", {"seconds": 30})
    await h.call("hall.start", {"window": "5"})
    await h.call("clock.advance", {"seconds": 300})
    await h.call("hall.case", {"ticket": t["number"], "case_no": "330102202611230001"})
    await h.call("hall.finish", {"window": "5"})
    return t


def run(tmp_path: Path, receiver: Receiver, body, extra: str = "real_name = true"):
    text = hall_text(receiver, extra)
    cfg = load_config(tmp_path, text)
    (tmp_path / "hwd.toml").write_text(f'[daemon]\nstate_dir = "{tmp_path / "state"}"\n' + text, encoding="utf-8")

    async def main():
        h = await EngineHarness(cfg).start()
        tokens = TokenStore()
        h.manager.extras["card_tokens"] = tokens
        try:
            await h.call("clock.set", {"now": MONDAY})
            return await body(h, tokens)
        finally:
            await h.stop()
    return asyncio.run(main())


def delivered(h) -> list:
    def settled():
        rows = outbox.records(h.engine.store.db, "upstream", limit=100)
        return rows if rows and all(r["state"] in ("sent", "rejected") for r in rows) else None
    return wait_until(settled, 30.0, "the rating delivered")


def test_with_consent_the_province_gets_the_holder_and_it_is_erased_once_sent(tmp_path, receiver, caplog):
    for _ in range(3):  # the province is down at first: the holder waits, sealed
        receiver.queue(500, {"result": "1"})
    receiver.reply = {"result": "0", "resultmsg": "成功"}
    caplog.set_level(logging.DEBUG)
    db_path = tmp_path / "state" / "hall.sqlite3"

    async def body(h, tokens):
        t = await serve(h, tokens)
        [row] = holders(h)
        assert row["ticket"] == t["id"] and row["rating"] is None
        [asked] = [e for topic, e in h.events if topic == "hall.rating.requested"]
        assert asked["real_name"] is True  # the rating screen may ask for consent
        await h.call("hall.rate", {"window": "5", "score": 5, "channel": "pad", "real_name": True})
        stored = holders(h)  # bound to the rating in its transaction; erased only after the province's answer
        rows = await asyncio.to_thread(delivered, h)
        return t, stored, rows, [p for p in h.engine.store.all("SELECT payload FROM outbox")], holders(h)

    t, stored, rows, payloads, left = run(tmp_path, receiver, body)
    assert [r["state"] for r in rows] == ["sent"]
    assert len(receiver.requests) == 4
    for req in receiver.requests:  # each retry opens the seal again
        form = form_of(req)
        assert form["certkeyGOV"] == CARD["id_number"] and form["userName"] == CARD["name"]
        assert form["userProp"] == "1"
    assert left == [], "erased once the province has it"
    [kept] = stored
    assert kept["ticket"] == t["id"] and kept["rating"] is not None
    sealed = bytes(stored[0]["sealed"])
    assert CARD["id_number"].encode() not in sealed and CARD["name"].encode("utf-8") not in sealed
    assert "110101********0014" in kept["shown"] and "王*" in kept["shown"] and CARD["name"] not in kept["shown"]
    raw = db_path.read_bytes() + (db_path.with_name("hall.sqlite3-wal").read_bytes()
                                  if db_path.with_name("hall.sqlite3-wal").exists() else b"")
    assert CARD["id_number"].encode() not in raw, "never in clear in the database or its WAL"
    assert all(CARD["id_number"] not in p["payload"] and CARD["name"] not in p["payload"] for p in payloads), \
        "never in the outbox record (the county feed reads it)"
    assert CARD["id_number"] not in caplog.text and CARD["name"] not in caplog.text


def test_without_consent_the_rating_is_anonymous_and_the_holder_gone_at_once(tmp_path, receiver):
    receiver.reply = {"result": "0"}

    async def body(h, tokens):
        await serve(h, tokens)
        assert len(holders(h)) == 1
        await h.call("hall.rate", {"window": "5", "score": 4, "channel": "pad"})
        left = holders(h)  # in the rating's own transaction
        await asyncio.to_thread(delivered, h)
        return left

    assert run(tmp_path, receiver, body) == []
    form = form_of(receiver.requests[0])
    assert form["certkeyGOV"] == "" and form["userName"] == "" and form["userProp"] == ""


def test_an_unrated_or_cardless_ticket_keeps_nothing(tmp_path, receiver):
    receiver.reply = {"result": "0"}

    async def body(h, tokens):
        await serve(h, tokens)
        assert len(holders(h)) == 1
        await h.call("clock.advance", {"seconds": 31})  # the rating time runs out
        h.engine.tick()
        after_timeout = holders(h)
        await serve(h, tokens, card=None)
        asked = [e for topic, e in h.events if topic == "hall.rating.requested"]
        assert asked[0]["real_name"] is True and "real_name" not in asked[1]  # no card, nothing to ask
        await h.call("hall.rate", {"window": "5", "score": 5, "channel": "pad", "real_name": True})
        await asyncio.to_thread(delivered, h)
        return after_timeout, holders(h)

    after_timeout, left = run(tmp_path, receiver, body)
    assert after_timeout == [] and left == []
    form = form_of(receiver.requests[-1])
    assert form["certkeyGOV"] == "" and form["userName"] == ""


def test_off_by_default_nothing_is_kept(tmp_path, receiver):
    receiver.reply = {"result": "0"}

    async def body(h, tokens):
        await serve(h, tokens)
        kept = holders(h)
        await h.call("hall.rate", {"window": "5", "score": 5, "channel": "pad", "real_name": True})
        await asyncio.to_thread(delivered, h)
        return kept

    assert run(tmp_path, receiver, body, extra="") == []
    assert form_of(receiver.requests[0])["certkeyGOV"] == ""


def test_the_preview_shows_the_consented_holder_masked(tmp_path, receiver, capsys):
    receiver.reply = {"result": "1", "resultmsg": "接口维护中"}  # refused: the record stays, so does the holder

    async def body(h, tokens):
        await serve(h, tokens)
        await h.call("hall.rate", {"window": "5", "score": 5, "channel": "pad", "real_name": True})
        await asyncio.to_thread(wait_until, lambda: len(receiver.requests) >= 1, 30.0, "an attempt")
        return holders(h)

    left = run(tmp_path, receiver, body)
    assert len(left) == 1, "a refusal inside a 200 is not the province having it: kept for the retry"
    assert hwctl.main(["--config", str(tmp_path / "hwd.toml"), "upstream", "preview", "1"]) == 0
    out = capsys.readouterr().out
    assert "实名评价" in out and "certkeyGOV = 110101********0014" in out and "userName = 王*" in out
    assert CARD["id_number"] not in out and CARD["name"] not in out


def test_a_seal_made_under_another_key_goes_anonymous(tmp_path, receiver, caplog):
    """A holder sealed on another PC (a standby whose holder.key was not copied) cannot be opened:
    the rating goes anonymous with a warning, never with garbage."""
    receiver.reply = {"result": "0"}

    async def body(h, tokens):
        await serve(h, tokens)
        h.engine.store.db.execute("UPDATE rating_holders SET sealed = randomblob(80)")
        await h.call("hall.rate", {"window": "5", "score": 5, "channel": "pad", "real_name": True})
        await asyncio.to_thread(delivered, h)

    run(tmp_path, receiver, body)
    assert form_of(receiver.requests[0])["certkeyGOV"] == ""
    assert "cannot be opened" in caplog.text


def test_real_name_needs_a_profile_that_sends_the_holder(tmp_path):
    text = ('[daemon]\nstate_dir = "/tmp/x"\n[hall]\n[[hall.service]]\nid = "a"\nname = "甲"\nprefix = "A"\n'
            '[hall.upstream]\nadapter = "push-json"\nurl = "http://127.0.0.1:9/"\nsecret = "s"\nreal_name = true\n')
    with pytest.raises(ConfigError) as exc:
        configuration.loads(text, tmp_path / "hwd.toml")
    assert "real_name: 实名评价 needs a payload profile" in str(exc.value)
