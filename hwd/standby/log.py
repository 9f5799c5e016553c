"""The replicated log's layout in etcd and the encoding of its entries.

One hall transaction is one entry: the data-changing statements it executed, each with its bound
parameters, in order. Replaying them on a copy of the database in the same state gives the same
rows (SQLite's statements are deterministic as long as they call no ``random()`` or ``'now'``;
the hall binds every time and random id as a parameter, and hwd.standby.replica refuses
``random()`` while capturing). Entries are numbered 1, 2, 3 … without gaps; each engine keeps
the number of the last one it applied in its own database, in the same SQLite transaction.

Keys under the hall's prefix ``P`` (``[hall.standby] prefix``):

| key | value |
| --- | --- |
| ``P/leader`` | the active engine (JSON), attached to its lease; its create revision is the fencing token |
| ``P/log/<seq, 20 digits>`` | one entry |
| ``P/genesis`` | the database the log starts from (its id and entry number) |
| ``P/member/<engine>`` | an engine that is up: role, applied entry, endpoints (on its lease) |
| ``P/applied/<engine>`` | the last entry that engine applied (kept when it is down: trimming waits for it) |
| ``P/handover`` | ``hwctl standby promote``: the engine that asked to become active (on its lease) |
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from typing import Any

SEQ_DIGITS = 20
COMPRESS_OVER = 2048  # bytes of JSON; smaller entries are stored as they are (fast, readable)


class Keys:
    """The etcd keys of one hall."""

    def __init__(self, prefix: str):
        p = prefix.rstrip("/").encode()
        self.prefix = p + b"/"
        self.leader = p + b"/leader"
        self.genesis = p + b"/genesis"
        self.handover = p + b"/handover"
        self.log_prefix = p + b"/log/"
        self.log_end = p + b"/log0"  # "0" follows "/": the end of the log's range
        self.member_prefix = p + b"/member/"
        self.applied_prefix = p + b"/applied/"

    def log(self, seq: int) -> bytes:
        return self.log_prefix + str(seq).zfill(SEQ_DIGITS).encode()

    def seq_of(self, key: bytes) -> int:
        return int(key[len(self.log_prefix):])

    def member(self, engine: str) -> bytes:
        return self.member_prefix + engine.encode()

    def applied(self, engine: str) -> bytes:
        return self.applied_prefix + engine.encode()


def _param(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    return value


def _unparam(value: Any) -> Any:
    if isinstance(value, dict) and "$b" in value:
        return base64.b64decode(value["$b"])
    return value


def encode_params(params: Any) -> Any:
    if isinstance(params, dict) or hasattr(params, "keys"):
        return {str(k): _param(params[k]) for k in params.keys()}
    return [_param(v) for v in params]


def decode_params(params: Any) -> Any:
    if isinstance(params, dict):
        return {k: _unparam(v) for k, v in params.items()}
    return tuple(_unparam(v) for v in params)


@dataclass
class Entry:
    seq: int
    schema: int  # the writer's PRAGMA user_version
    by: str  # the engine that wrote it
    term: int  # its leadership (the leader key's create revision)
    nonce: str  # tells this entry from another written with the same number
    ts: float  # the writer's wall time, for people
    statements: list  # [[sql, params], …]

    def encode(self) -> bytes:
        body = json.dumps({"seq": self.seq, "v": self.schema, "by": self.by, "term": self.term, "id": self.nonce,
                           "ts": self.ts, "s": [[sql, encode_params(p)] for sql, p in self.statements]},
                          ensure_ascii=False, separators=(",", ":")).encode()
        if len(body) > COMPRESS_OVER:
            return b"z" + zlib.compress(body, 1)
        return b"j" + body

    @classmethod
    def decode(cls, raw: bytes) -> "Entry":
        if raw[:1] == b"z":
            body = json.loads(zlib.decompress(raw[1:]))
        elif raw[:1] == b"j":
            body = json.loads(raw[1:])
        else:
            raise ValueError("not a hall log entry")
        return cls(int(body["seq"]), int(body["v"]), str(body["by"]), int(body["term"]), str(body["id"]),
                   float(body["ts"]), [(sql, decode_params(p)) for sql, p in body["s"]])
