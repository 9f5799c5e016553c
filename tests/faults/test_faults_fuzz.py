"""Fuzzing (hypothesis) of the two parsers every outside input reaches that had no property
tests: the config loader and the JSON-RPC request handler. (The frame parsers — display frames,
ID card frames, keypad sequences, scanner wedge, and the ESC/POS emulator's stream parser —
already have theirs in tests/drivers/.)

Proved:
- ``hwd.config.loads`` on arbitrary TOML-ish text, and on structurally valid TOML (the real
  sections, tables and keys) with random values of every TOML type, either returns a Config or
  raises ``ConfigError`` — nothing else — and every line of a ConfigError has the shape
  ``FILE:LINE KEY: reason`` on one line.
- ``hwd.rpc.RpcServer.handle`` with a MethodTable, on arbitrary bytes and on random JSON
  objects, always returns an error reply (``jsonrpc: "2.0"``, an int code of the API's table,
  a str message) that serialises to valid UTF-8 JSON, and never raises.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hwd import config as configuration
from hwd.errors import ConfigError
from hwd.rpc import MethodTable, RpcServer, _dumps
from hwd.schema import Field

pytestmark = [pytest.mark.faults, pytest.mark.fast]  # all quick: they run in make test too

PATH = "/etc/hwd/fuzz.toml"
LINE_RE = re.compile(r"^" + re.escape(PATH) + r":\d+ [^\n]+: [^\n]*$")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- the config loader --------------------------------------------------------------------------
FRAGMENTS = ["[daemon]", "[[device]]", "[[node]]", "[hall]", "[hall.hours]", "[[hall.service]]",
             "[[hall.window]]", "[[hall.kiosk]]", "[[hall.staff]]", "[ui]", "[[hall.hours.exception]]",
             'id = "x"', 'kind = "printer"', 'driver = "escpos"', 'url = "sim://p"', 'rpc = "ipc:///tmp/r"',
             'events = "tcp://h:1"', "heartbeat_s = 0", "max_request_bytes = 1e3", 'services = ["a"]',
             'prefix = "A"', "always_open = true", 'mon = ["09:00-12:00"]', "quota = -1", 'name = "窗口"',
             "a.b.c = 1", '"quoted key" = 1', "x = [1, 'a']", "y = {z = 1}", "t = 1979-05-27T07:32:00Z",
             "= 1", "[", "]]", '"', "'''", "\t", "#", "\\", "\r", "\x00"]


def config_text() -> st.SearchStrategy[str]:
    line = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30),
                     st.tuples(st.sampled_from(FRAGMENTS), st.text(max_size=8)).map("".join))
    return st.lists(line, max_size=25).map("\n".join)


def check_loader(text: str) -> None:
    try:
        configuration.loads(text, PATH)
    except ConfigError as exc:
        assert exc.problems, "a ConfigError without problems"
        for problem in exc.problems:
            assert LINE_RE.match(problem), f"not FILE:LINE KEY: reason: {problem!r}"
        assert str(exc) == "\n".join(exc.problems)


@FUZZ
@given(config_text())
def test_config_loader_on_arbitrary_text(text):
    check_loader(text)


# structurally valid TOML: a value of any TOML type
safe_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
scalars = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=True), safe_text,
                    st.dates(), st.datetimes(timezones=st.sampled_from([None, dt.timezone.utc])),
                    st.times(), st.sampled_from(["sim://x", "tcp://127.0.0.1:9100", "ipc:///tmp/x", "09:00-12:00",
                                                 "printer", "display", "escpos", "frame", "A", "bdc"]))
keys = st.one_of(safe_text, st.text(st.sampled_from(list("ab_-.:= \n\t\r\x00\x7f中\"'[]#")), max_size=8))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=3),
                      max_leaves=8)


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


KEYS = {
    "daemon": ["rpc", "events", "state_dir", "insecure", "server_key", "clients_dir", "client_key", "log_level",
               "max_request_bytes", "heartbeat_s", "timezone", "test_clock"],
    "device": ["id", "kind", "driver", "url", "enabled", "node", "description", "address", "lines", "frame", "ack",
               "mode", "width_mm", "status_interval", "keys", "prompt", "poll_ms", "encoding", "escape"],
    "node": ["id", "rpc", "events", "server_key", "client_key", "insecure"],
    "hall": ["name", "database", "sync", "expire_at", "rating_timeout_s", "followup_days", "announce_repeat",
             "print_wait_ms", "ticket_footer", "displays", "recent_calls"],
    "hall.hours": ["mon", "tue", "sat", "early_minutes", "always_open"],
    "hall.priority": ["age", "classes", "fairness"],
    "hall.service": ["id", "name", "prefix", "quota", "department", "materials", "conditions", "time_limit", "fees"],
    "hall.window": ["id", "name", "services", "kind", "display", "keypad", "speaker", "spoken"],
    "hall.kiosk": ["id", "printer", "idcard", "scanner"],
    "hall.staff": ["id", "name", "pin_hash", "windows"],
    "ui": ["title", "notice", "host", "port", "max_streams", "threads", "rpc_timeout_s", "idle_s", "demo", "ring"],
}
ARRAYS = {"device", "node", "hall.service", "hall.window", "hall.kiosk", "hall.staff"}


@st.composite
def config_document(draw) -> str:
    out = []
    for section in draw(st.lists(st.sampled_from(sorted(KEYS)), max_size=8)):
        header = f"[[{section}]]" if section in ARRAYS else f"[{section}]"
        out.append(header)
        names = draw(st.lists(st.one_of(st.sampled_from(KEYS[section]), keys.filter(bool)), max_size=6,
                              unique=True))
        for key in names:
            out.append(f"{toml_key(key)} = {toml_value(draw(values))}")
    text = "\n".join(out) + "\n"
    if section_headers_repeat(out):
        return ""  # a [table] twice is a syntax error: fine, but not what this strategy is for
    return text


def section_headers_repeat(lines: list[str]) -> bool:
    singles = [line for line in lines if line.startswith("[") and not line.startswith("[[")]
    return len(singles) != len(set(singles))


@FUZZ
@given(config_document())
def test_config_loader_on_valid_toml_with_random_values(text):
    import tomllib

    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:  # e.g. a key given twice: still must be a ConfigError
        pass
    check_loader(text)


def test_config_problem_lines_are_one_line_each():
    """A key with a newline or a colon in it still gives one line per problem."""
    with pytest.raises(ConfigError) as info:
        configuration.loads('"bad\\nkey" = 1\n[daemon]\n"x: y" = 2\n', PATH)
    assert len(info.value.problems) == 2
    for problem in info.value.problems:
        assert LINE_RE.match(problem), problem


# -- the RPC request handler ----------------------------------------------------------------------
CODES = {-32700, -32600, -32601, -32602, -32603, -32000, 1104}


def table() -> MethodTable:
    methods = MethodTable()
    methods.add("hall.issue_ticket", lambda p: (_ for _ in ()).throw(AssertionError("must not run")),
                (Field("service", str), Field("kiosk", str, None), Field("priority", str, "normal",
                                                                          choices=("normal", "elderly"))))
    return methods


def check_reply(server: RpcServer, payload: bytes) -> None:
    reply = server.handle(payload)
    assert isinstance(reply, dict), "an invalid request must be answered at once"
    assert reply["jsonrpc"] == "2.0" and "result" not in reply
    assert isinstance(reply["error"]["code"], int) and reply["error"]["code"] in CODES, reply
    assert isinstance(reply["error"]["message"], str)
    assert reply["id"] is None or isinstance(reply["id"], (str, int))
    decoded = json.loads(_dumps(reply).decode("utf-8"))  # what goes on the wire is UTF-8 JSON
    assert decoded["error"]["code"] == reply["error"]["code"]


@FUZZ
@given(st.binary(max_size=400))
def test_rpc_handle_on_arbitrary_bytes(payload):
    check_reply(RpcServer(None, table(), max_request_bytes=300), payload)


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=3),
                           max_leaves=10)


@FUZZ
@given(st.dictionaries(st.sampled_from(["jsonrpc", "id", "method", "params", "client", "x"]), json_values, max_size=6),
       st.sampled_from([None, "2.0"]), st.sampled_from([None, "hall.issue_ticket", "nope"]))
def test_rpc_handle_on_random_request_objects(request, jsonrpc, method):
    if jsonrpc:
        request["jsonrpc"] = jsonrpc
    if method:
        request["method"] = method
    params = request.get("params")
    if isinstance(params, dict) and isinstance(params.get("service"), str) and set(params) <= {"service"}:
        request["params"] = {"service": 1}  # a valid call would run the method: keep it invalid
    payload = json.dumps(request, ensure_ascii=False).encode("utf-8", "surrogatepass")
    check_reply(RpcServer(None, table()), payload)


def test_rpc_reply_with_a_lone_surrogate_is_utf8_json():
    """A request whose id (echoed in the reply) holds a lone surrogate is answered with valid
    UTF-8 JSON; before the fix the reply could not be encoded and was never sent."""
    server = RpcServer(None, table())
    payload = b'{"jsonrpc": "2.0", "id": "\\ud800", "method": "nope"}'
    check_reply(server, payload)
    assert json.loads(_dumps(server.handle(payload)))["id"] == "\ud800"

