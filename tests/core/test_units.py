"""Pure pieces of the core: URLs, schema checks, log masking, the event bus order."""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import given, strategies as st

from hwd import url as urls
from hwd.events import EventBus
from hwd.log import MaskingFilter, mask_id_numbers
from hwd.schema import Field, Problems, check_table


def test_urls_of_every_scheme():
    assert urls.parse("serial:///dev/ttyUSB0?baudrate=115200").params == {"baudrate": 115200}
    assert urls.parse("usb://0416:5011").usb_ids() == (0x0416, 0x5011)
    tcp = urls.parse("tcp://192.168.1.50:9100")
    assert (tcp.host, tcp.port) == ("192.168.1.50", 9100)
    assert urls.parse("file:///dev/usb/lp0").target == "/dev/usb/lp0"
    assert urls.parse("evdev:///dev/input/by-id/x-event-kbd").target == "/dev/input/by-id/x-event-kbd"
    assert urls.parse("alsa://").target == "default"
    assert urls.parse("sim://bus1?transport=tcp").params == {"transport": "tcp"}
    assert urls.parse("spy:///dev/ttyUSB0?file=x.txt").is_serial_like


@pytest.mark.parametrize("bad", ["/dev/ttyUSB0", "gopher://x", "tcp://host", "usb://416:5011", "usb://zzzz:0001",
                                 "serial://ttyUSB0", "file://relative", "serial:///dev/x?parity="[:-1] + "?baud=1"])
def test_bad_urls_say_why(bad):
    with pytest.raises(urls.UrlError):
        urls.parse(bad)


@given(st.text(max_size=80))
def test_url_parser_only_ever_raises_url_error(text):
    try:
        urls.parse(text)
    except urls.UrlError:
        pass


def test_schema_collects_every_problem():
    fields = (Field("a", int, min=1), Field("b", str, choices=("x", "y")), Field("c", bool, False),
              Field("d", list, [], items=str))
    p = Problems()
    out = check_table({"a": 0, "b": "z", "c": 1, "d": [1], "e": 2}, fields, ("t",), p)
    assert sorted(path[-1] for path, _ in p.items) == ["a", "b", "c", "d", "e"]
    assert out["c"] is False and out["d"] == []


def test_bool_is_not_an_integer():
    p = Problems()
    check_table({"a": True}, (Field("a", int),), (), p)
    assert "expected an integer" in p.items[0][1]


@pytest.mark.parametrize("text, masked", [
    ("card 110101199003071234 read", "card 110101********1234 read"),
    ("x=11010119900307123X.", "x=110101********123X."),
    ("order 12345678901234567890 is not an id", "order 12345678901234567890 is not an id"),
])
def test_id_numbers_are_masked_in_log_lines(text, masked):
    assert mask_id_numbers(text) == masked


def test_masking_filter_rewrites_formatted_records(caplog):
    logger = logging.getLogger("test.mask")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, "test.mask"):
        logger.info("read %s for %s", "110101199003071234", "张三")
    assert "110101199003071234" not in caplog.text and "110101********1234" in caplog.text


def test_event_bus_numbers_events_in_order_across_threads():
    async def run():
        bus = EventBus(asyncio.get_running_loop())
        seen = []
        bus.subscribe("t.", lambda topic, ev: seen.append(ev["seq"]))
        await asyncio.gather(*(asyncio.to_thread(bus.publish, "t.x", {"i": i}) for i in range(50)))
        for i in range(50):
            bus.publish("t.y", {"i": i})
        await asyncio.sleep(0.05)
        return seen
    seen = asyncio.run(run())
    assert seen == list(range(1, 101))


def test_null_for_an_optional_key_means_absent():
    p = Problems()
    out = check_table({"a": None}, (Field("a", str, "dflt"),), (), p)
    assert not p and out == {"a": "dflt"}
    check_table({"a": None}, (Field("a", str),), (), p)
    assert p.items[0][1].startswith("expected a string")


def test_replies_of_read_only_methods_are_not_kept_for_retries():
    """Retries of state changes get the first reply; reads (card data among them) keep no copy."""
    import json

    from hwd.replay import request_key
    from hwd.rpc import MethodTable, RpcServer

    calls = {"write": 0, "read": 0}

    def count(name):
        def handler(params):
            calls[name] += 1
            return {"n": calls[name]}
        return handler

    async def run():
        table = MethodTable()
        table.add("x.write", count("write"))
        table.add("x.read", count("read"), replay=False)
        server = RpcServer(None, table)
        replies = []
        for method in ("x.write", "x.write", "x.read", "x.read"):
            req = json.dumps({"jsonrpc": "2.0", "id": 1 if "write" in method else 2, "client": "c", "method": method})
            reply = server.handle(req.encode())
            replies.append(json.loads(await reply) if not isinstance(reply, dict) else reply)
        return server, replies
    server, replies = asyncio.run(run())
    assert [r["result"]["n"] for r in replies] == [1, 1, 1, 2]
    assert list(server.replies.items) == [request_key("c", 1)]


def test_the_replay_journal_holds_at_most_its_bytes_newest_first(tmp_path):
    """A flood of state-changing requests within the 5-minute window cannot grow the journal on
    disk without bound: past ``max_bytes`` the oldest replies go first."""
    from hwd.replay import Journal

    journal = Journal(tmp_path / "j.sqlite3", max_bytes=50_000)
    for i in range(100):
        journal.begin(f"k{i}", "fp", "hall.issue_ticket")
        journal.finish(f"k{i}", b"x" * 1000)
    journal.purge()
    kept = [i for i in range(100) if journal.get(f"k{i}") is not None]
    assert kept == list(range(100 - len(kept), 100)) and 30 <= len(kept) <= 50, kept
    size = journal.db.execute("SELECT SUM(LENGTH(reply) + 200) FROM replay").fetchone()[0]
    assert size <= 50_000
    journal.close()
