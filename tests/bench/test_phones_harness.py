"""The pure parts of bench/phones.py's load generator and its arithmetic: the SSE parser, the
chunked decoder, the response head, which receipt counts as "page updated" for which call, and
the percentiles the figures are reported with. The benchmark itself never runs in the tests.

SSE cases are the examples of the WHATWG HTML standard, §9.2.6 "Interpreting an event stream"
and §9.2.5 (https://html.spec.whatwg.org/multipage/server-sent-events.html), and streams rendered
by hwd-ui's own ``kiosk_ui.eventhub.sse``; chunked coding after RFC 9112 §7.1.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.common import percentiles
from bench.phones import (Dechunker, SseEvent, SseParser, event_latencies, parse_head, view_latencies)
from kiosk_ui.eventhub import sse


def feed_all(parser: SseParser, pieces: list[bytes]) -> list[SseEvent]:
    out = []
    for piece in pieces:
        out += parser.feed(piece)
    return out


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points + [len(data)]:
        pieces.append(data[last:p])
        last = p
    return pieces


# -- SSE: the standard's examples ---------------------------------------------------------------

def test_spec_example_multiline_data():
    stream = b"data: YHOO\ndata: +2\ndata: 10\n\n"
    assert SseParser().feed(stream) == [SseEvent("message", "YHOO\n+2\n10", None)]


def test_spec_example_comment_ids_and_leading_space():
    stream = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"
    events = SseParser().feed(stream)
    assert events == [SseEvent("message", "first event", "1"), SseEvent("message", "second event", ""),
                      SseEvent("message", " third event", "")]


def test_spec_example_empty_data_and_undispatched_tail():
    # "data" alone is a data field with an empty value; the last block has no blank line after it
    stream = b"data\n\ndata\ndata\n\ndata:"
    assert SseParser().feed(stream) == [SseEvent("message", "", None), SseEvent("message", "\n", None)]


def test_spec_example_space_after_colon_optional():
    assert SseParser().feed(b"data:test\n\ndata: test\n\n") == [SseEvent("message", "test", None)] * 2


def test_event_type_crlf_keepalive_and_retry():
    stream = b"retry: 1000\r\n\r\n: keepalive\r\n\r\nevent: ticket\r\nid: 7\r\ndata: {\"ahead\":3}\r\n\r\n"
    assert SseParser().feed(stream) == [SseEvent("ticket", '{"ahead":3}', "7")]


def test_event_type_resets_after_dispatch():
    events = SseParser().feed(b"event: ticket\ndata: a\n\ndata: b\n\n")
    assert [e.event for e in events] == ["ticket", "message"]


def test_utf8_split_inside_a_character():
    data = "event: ticket\ndata: {\"window_name\":\"5号窗口\"}\n\n".encode()
    cut = data.index("号".encode()) + 1
    parser = SseParser()
    assert parser.feed(data[:cut]) == []
    assert parser.feed(data[cut:]) == [SseEvent("ticket", '{"window_name":"5号窗口"}', None)]


# -- SSE: hwd-ui's own rendering, cut anywhere --------------------------------------------------

topics = st.sampled_from(["hall.ticket.called", "hall.ticket.issued", "daemon.heartbeat", "ticket"])
payloads = st.dictionaries(st.sampled_from(["number", "window_name", "ahead", "state", "text"]),
                           st.one_of(st.integers(-5, 5000), st.text(max_size=12), st.none()), max_size=5)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(topics, st.integers(1, 10**6), payloads), max_size=8),
       st.lists(st.integers(0, 10**6), max_size=12), st.booleans())
def test_hwd_ui_stream_cut_anywhere(items, cuts, keepalives):
    rendered, expected = [], []
    for topic, seq, payload in items:
        event = {"topic": topic, "seq": seq, **payload}
        rendered.append(sse(event))
        if keepalives:
            rendered.append(": keepalive\n\n")
        expected.append(SseEvent(topic, json.dumps(event, ensure_ascii=False, separators=(",", ":")), str(seq)))
    data = ("retry: 1000\n\n" + "".join(rendered)).encode()
    assert feed_all(SseParser(), split(data, cuts)) == expected


# -- chunked transfer coding --------------------------------------------------------------------

def chunked(pieces: list[bytes], ext: bool) -> bytes:
    out = b""
    for p in pieces:
        if p:
            out += f"{len(p):x}".encode() + (b";name=value" if ext else b"") + b"\r\n" + p + b"\r\n"
    return out + b"0\r\n\r\n"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=8), st.lists(st.integers(0, 10**6), max_size=12), st.booleans())
def test_dechunk_cut_anywhere(pieces, cuts, ext):
    d = Dechunker()
    out = b"".join(d.feed(part) for part in split(chunked(pieces, ext), cuts))
    assert out == b"".join(pieces)
    assert d.done


def test_dechunk_not_done_before_last_chunk():
    d = Dechunker()
    assert d.feed(b"5\r\nhello\r\n") == b"hello"
    assert not d.done


def test_parse_head():
    assert parse_head(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream") is None
    status, headers, rest = parse_head(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n"
                                       b"Transfer-Encoding: chunked\r\n\r\n1a\r\n")
    assert (status, headers["retry-after"], headers["transfer-encoding"], rest) == (503, "5", "chunked", b"1a\r\n")


# -- which receipt is "page updated" -------------------------------------------------------------

def test_event_latencies_first_receipt_and_missing():
    records = [("p1", 10.100, "A001"), ("p1", 10.300, "A001"), ("p2", 10.250, "A001"),
               ("p1", 12.050, "B001")]  # p2 never got B001
    ms, missing = event_latencies(records, [(10.0, "A001"), (12.0, "B001")], {"p1", "p2", "p3"})
    assert sorted(round(x) for x in ms) == [50, 100, 250]
    assert missing == 3  # p2 × B001, p3 × both


def test_view_latencies_counts_only_changes_after_the_call():
    records = [
        ("p1", 0.5, 3, "waiting"), ("p1", 10.2, 2, "waiting"),                      # ahead 3 → 2: 200 ms
        ("p2", 0.5, 0, "waiting"), ("p2", 10.4, 0, "called"),                       # the called phone: 400 ms
        ("p3", 0.5, 5, "waiting"), ("p3", 10.1, 5, "waiting"),                      # same view again: no update
        ("p4", 0.5, 7, "waiting"), ("p4", 9.9, 6, "waiting"), ("p4", 10.3, 6, "waiting"),  # changed before t0
        ("p5", 0.5, 9, "waiting"), ("p5", 13.0, 8, "waiting"),                      # after t_end: not this call's
    ]
    v = view_latencies(records, [(10.0, 12.0, "p2")])
    assert sorted(round(x) for x in v.all_ms) == [200, 400]
    assert [round(x) for x in v.called_ms] == [400]
    assert v.changed_per_call == [1 + 1] and v.called_missing == 0


def test_view_latencies_two_calls_and_a_missed_called_phone():
    records = [("p1", 0.5, 2, "waiting"), ("p1", 10.5, 1, "waiting"), ("p1", 20.25, 0, "waiting"),
               ("p2", 0.5, 1, "waiting")]
    v = view_latencies(records, [(10.0, 15.0, "p9"), (20.0, 25.0, "p2")])
    assert [round(x) for x in v.all_ms] == [500, 250]
    assert v.changed_per_call == [1, 1]
    assert v.called_ms == [] and v.called_missing == 1


def test_percentiles_nearest_rank():
    p = percentiles([float(x) for x in range(1, 101)])
    assert (p["n"], p["p50"], p["p99"], p["max"]) == (100, 51.0, 99.0, 100.0)
    assert percentiles([7.0])["p99"] == 7.0


def test_spread_of_first_and_last_phone():
    from bench.phones import spread

    assert spread([[300.0, 100.0, 200.0], [], [150.0, 650.0], [120.0]]) == (120.0, 200.0)
    assert spread([[], []]) is None
