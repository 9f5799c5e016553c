"""Payload maps: how one outbox record becomes the body a province takes, field by field.

A map is a table of output keys, each with a *spec* (the same shape in a built-in profile,
hwd.haocp.profiles, and in a hall's own ``[hall.upstream.profiles.NAME]``):

    "score"                               the record's field ``score`` (a bare string is ``from``)
    { value = "133" }                     a constant
    { from = "case_no" }                  a source; a list takes the first that is not empty:
    { from = ["province.areaCode", "region_code"] }
    { concat = ["send.time", "upstream.username", "upstream.password"] }   sources joined as text
    { object = { projectNo = …, … } }     a nested object
    { list = { … } }                      a one-element list of what the inner spec gives

and, on a leaf, these steps in this order:

    default = V        when the source is missing, null or ""
    map = { a = "b" }  through a code table (a value not in it stays as it is)
    join = ","         a list as one string
    date = "%Y-%m-%d %H:%M:%S"   an ISO time (the record's) in this strftime pattern
    type = "str" | "int" | "json"   ("json": compact JSON text of the value, e.g. of ``body``)
    prefix = "37"      text put in front
    digest = "sm3"     the lower-case hex digest of the text: sm3, sha256, md5, or hmac-sm3 /
                       hmac-sha256 keyed with ``upstream.password`` (in-body appKey/time/sign)
    encrypt = "sm2"    SM2 ciphertext (hex) of the text, for the province's public key
    sign = "sm2"       SM2 signature (hex) of the text, with our private key;
    sign_id = SOURCE   the signer ID (default 1234567812345678)
    omit_empty = true  leave the key out when the value is null or "" (fastjson's default)

Sources: the record's fields (docs/hall.md, 好差评), ``province.X`` (the province's data for the
record's service, hwd.haocp.profiles), ``hall.name``, ``hall.region_code``, ``send.time`` (the
moment of sending, ISO), ``upstream.username`` / ``upstream.password``, ``holder.name`` / ``holder.id_number`` /
``holder.prop`` / ``holder.cert_type`` (实名评价: empty unless the citizen consented, docs/security.md),
and in an envelope ``body``
(the mapped record) ``body_list`` (it in a one-element list, as epoint encrypts it) and ``out.X`` (a key already made
beside it, e.g. the ciphertext to sign).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import ChainMap
from typing import Any, Callable, Mapping

LEAF_KINDS = ("value", "from", "concat")
NODE_KINDS = ("object", "list")
STEPS = ("default", "map", "join", "date", "type", "prefix", "digest", "encrypt", "sign", "sign_id", "omit_empty")
DIGESTS = ("sm3", "sha256", "md5", "hmac-sm3", "hmac-sha256")
TYPES = ("str", "int", "json")
NAMESPACES = ("province", "hall", "send", "upstream", "out", "holder")
SPECIAL = ("body", "body_list")
_OMIT = object()


class PayloadError(Exception):
    """A record cannot be made into the province's body (a value the map cannot convert)."""


class Crypto:
    """What ``encrypt`` and ``sign`` steps use (hwd.upstream.envelope gives the keys)."""

    def __init__(self, encrypt: Callable[[bytes], str] | None = None,
                 sign: Callable[[bytes, bytes], str] | None = None):
        self.encrypt, self.sign = encrypt, sign


def dumps(value: Any) -> str:
    """JSON as the provinces' fastjson writes it: compact, UTF-8 text (not \\u escapes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def digest(name: str, text: str, key: Any) -> str:
    """Hex digest of ``text`` (UTF-8); the HMACs are keyed with ``key`` (the upstream password)."""
    data = text.encode("utf-8")
    if name == "md5":
        return hashlib.md5(data, usedforsecurity=False).hexdigest()
    if name == "sha256":
        return hashlib.sha256(data).hexdigest()
    from cryptography.hazmat.primitives import hashes, hmac as crypto_hmac

    algorithm = hashes.SM3() if name.endswith("sm3") else hashes.SHA256()
    if name.startswith("hmac-"):
        if not key:
            raise PayloadError(f"{name} needs [hall.upstream] password as its key")
        h = crypto_hmac.HMAC(str(key).encode("utf-8"), algorithm)
    else:
        h = hashes.Hash(algorithm)  # type: ignore[assignment]
    h.update(data)
    return h.finalize().hex()


def lookup(ctx: Mapping[str, Any], path: str) -> Any:
    if path in ctx:
        return ctx[path]
    head, _, rest = path.partition(".")
    value: Any = ctx.get(head)
    for part in rest.split(".") if rest else ():
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _source(spec: dict, ctx: Mapping[str, Any], crypto: Crypto) -> Any:
    if "value" in spec:
        return spec["value"]
    if "concat" in spec:
        return "".join("" if _empty(v := build(part, ctx, crypto)) else str(v) for part in spec["concat"])
    paths = spec["from"] if isinstance(spec["from"], list) else [spec["from"]]
    for path in paths:
        value = lookup(ctx, path)
        if not _empty(value):
            return value
    return None


def _leaf(spec: dict, ctx: Mapping[str, Any], crypto: Crypto, key: str) -> Any:
    value = _source(spec, ctx, crypto)
    if _empty(value) and "default" in spec:
        value = spec["default"]
    if "map" in spec and not isinstance(value, (list, dict)) and value is not None:
        value = spec["map"].get(str(value), value)
    if "join" in spec and isinstance(value, list):
        value = spec["join"].join(str(v) for v in value)
    if "date" in spec and not _empty(value):
        try:
            value = dt.datetime.fromisoformat(str(value)).strftime(spec["date"])
        except ValueError:
            raise PayloadError(f"{key}: {value!r} is not an ISO time") from None
    kind = spec.get("type")
    if kind == "int" and not _empty(value):
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise PayloadError(f"{key}: {value!r} is not a whole number") from None
    elif kind == "str":
        value = "" if value is None else (dumps(value) if isinstance(value, (list, dict)) else str(value))
    elif kind == "json":
        value = dumps(value)
    if "prefix" in spec and not _empty(value):
        value = spec["prefix"] + str(value)
    if "digest" in spec:
        value = digest(spec["digest"], "" if value is None else str(value), lookup(ctx, "upstream.password"))
    if spec.get("encrypt") == "sm2":
        if crypto.encrypt is None:
            raise PayloadError(f"{key}: no SM2 public key of the province configured")
        value = crypto.encrypt(("" if value is None else str(value)).encode("utf-8"))
    if spec.get("sign") == "sm2":
        if crypto.sign is None:
            raise PayloadError(f"{key}: no SM2 private key configured to sign with")
        signer = lookup(ctx, spec["sign_id"]) if "sign_id" in spec else None
        value = crypto.sign(("" if value is None else str(value)).encode("utf-8"),
                            str(signer).encode("utf-8") if signer else b"1234567812345678")
    if spec.get("omit_empty") and _empty(value):
        return _OMIT
    return value


def build(spec: Any, ctx: Mapping[str, Any], crypto: Crypto, key: str = "") -> Any:
    """The value ``spec`` gives for the record in ``ctx``."""
    if isinstance(spec, str):
        spec = {"from": spec}
    if "object" in spec:
        return build_object(spec["object"], ctx, crypto, key)
    if "list" in spec:
        inner = build(spec["list"], ctx, crypto, key)
        return [] if inner is _OMIT else [inner]
    return _leaf(spec, ctx, crypto, key)


def build_object(fields: Mapping[str, Any], ctx: Mapping[str, Any], crypto: Crypto, key: str = "") -> dict:
    """Each output key in order; a key sees the ones made before it as ``out.KEY``."""
    out: dict[str, Any] = {}
    scope = ChainMap({"out": out}, ctx)  # type: ignore[arg-type]
    for name, spec in fields.items():
        value = build(spec, scope, crypto, f"{key}.{name}" if key else name)
        if value is not _OMIT:
            out[name] = value
    return out


# -- checking a hall's own maps (config) -------------------------------------------------------
def check(spec: Any, path: tuple, problems: Any, known: Any, envelope: bool = False) -> None:
    """Report what is wrong in ``spec`` as ``problems.add(path, reason)``; ``known(source)`` says
    whether a record field exists."""
    if isinstance(spec, str):
        _check_source(spec, path, problems, known, envelope)
        return
    if not isinstance(spec, dict):
        problems.add(path, "expected a source name or a table {from, value, concat, object, list}")
        return
    kinds = [k for k in LEAF_KINDS + NODE_KINDS if k in spec]
    if len(kinds) != 1:
        problems.add(path, "give exactly one of value, from, concat, object, list")
        return
    if kinds[0] in NODE_KINDS:
        extra = set(spec) - {kinds[0]}
        if extra:
            problems.add(path, f"{kinds[0]} takes no other keys (got {', '.join(sorted(extra))})")
        if kinds[0] == "object":
            if not isinstance(spec["object"], dict):
                problems.add(path + ("object",), "expected a table of output keys")
                return
            for name, inner in spec["object"].items():
                check(inner, path + ("object", name), problems, known, envelope)
        else:
            check(spec["list"], path + ("list",), problems, known, envelope)
        return
    for key in spec:
        if key not in LEAF_KINDS + STEPS:
            problems.add(path + (key,), f"unknown key; a field takes {', '.join(LEAF_KINDS + STEPS)}")
    if "from" in spec:
        sources = spec["from"] if isinstance(spec["from"], list) else [spec["from"]]
        if not sources or not all(isinstance(s, str) for s in sources):
            problems.add(path + ("from",), "expected a source name or a list of them")
        for s in sources:
            if isinstance(s, str):
                _check_source(s, path + ("from",), problems, known, envelope)
    if "concat" in spec:
        if not isinstance(spec["concat"], list) or not spec["concat"]:
            problems.add(path + ("concat",), "expected a list of sources")
        else:
            for i, part in enumerate(spec["concat"]):
                check(part, path + ("concat", i), problems, known, envelope)
    if "map" in spec and not (isinstance(spec["map"], dict)
                              and all(isinstance(v, (str, int)) for v in spec["map"].values())):
        problems.add(path + ("map",), "expected a table of codes (strings or numbers)")
    for key in ("join", "prefix", "date", "sign_id"):
        if key in spec and not isinstance(spec[key], str):
            problems.add(path + (key,), "expected a string")
    if isinstance(spec.get("date"), str):
        try:
            dt.datetime(2020, 1, 2, 3, 4, 5).strftime(spec["date"])
        except ValueError as exc:
            problems.add(path + ("date",), f"not a strftime pattern: {exc}")
    if "type" in spec and spec["type"] not in TYPES:
        problems.add(path + ("type",), f"one of {', '.join(TYPES)}")
    if "digest" in spec and spec["digest"] not in DIGESTS:
        problems.add(path + ("digest",), f"one of {', '.join(DIGESTS)}")
    for key in ("encrypt", "sign"):
        if key in spec and spec[key] != "sm2":
            problems.add(path + (key,), "the only scheme is \"sm2\"")
    if "omit_empty" in spec and not isinstance(spec["omit_empty"], bool):
        problems.add(path + ("omit_empty",), "expected true or false")


def _check_source(name: str, path: tuple, problems: Any, known: Any, envelope: bool) -> None:
    head = name.partition(".")[0]
    if "." in name and head in NAMESPACES:
        if head == "out" and not envelope:
            problems.add(path, "out.KEY is for envelopes (a key made beside this one)")
        return
    if name in SPECIAL:
        if not envelope:
            problems.add(path, f"{name!r} is the mapped record: use it in an envelope")
        return
    if not known(name):
        problems.add(path, f"unknown source {name!r}: a record field (docs/hall.md) or "
                           f"{', '.join(n + '.X' for n in NAMESPACES)}")


def uses(spec: Any, step: str) -> bool:
    """Whether a leaf of ``spec`` has ``step`` (e.g. ``encrypt``), to know which keys to load; a
    whole map is ``{"object": fields}``."""
    if isinstance(spec, str) or not isinstance(spec, dict):
        return False
    if "object" in spec:
        return isinstance(spec["object"], dict) and any(uses(v, step) for v in spec["object"].values())
    if "list" in spec:
        return uses(spec["list"], step)
    return step in spec or any(uses(part, step) for part in spec.get("concat") or ())


def sources(spec: Any) -> set:
    """Every source name ``spec`` reads (to know which config keys a profile needs)."""
    if isinstance(spec, str):
        return {spec}
    if not isinstance(spec, dict):
        return set()
    if "object" in spec:
        return set().union(*(sources(v) for v in spec["object"].values())) if isinstance(spec["object"], dict) else set()
    if "list" in spec:
        return sources(spec["list"])
    found = set(spec["from"] if isinstance(spec.get("from"), list) else [spec["from"]] if "from" in spec else [])
    if isinstance(spec.get("sign_id"), str):
        found.add(spec["sign_id"])
    if spec.get("digest", "").startswith("hmac-"):
        found.add("upstream.password")
    for part in spec.get("concat") or ():
        found |= sources(part)
    return found
