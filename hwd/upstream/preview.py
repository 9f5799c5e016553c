"""``hwctl upstream preview RATING``: exactly what the province would get for one rating — URL,
headers and body — built by the same code that sends it, with the secrets masked, so an engineer
can hold it against the province's interface document before going live. Nothing is sent.

    hwctl --config FILE upstream preview RATING     RATING: a rating id, or a ticket number (its latest rating)
    hwctl upstream sm2-keygen DIR                   the hall's SM2 key pair for profiles that sign

It reads the hall database (read-only) and the config: it needs no running daemon. With an SM2
envelope the ciphertexts differ from one build to the next (SM2 encryption is randomised); the
plaintext is printed too, as "before encryption".
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from hwd import config as configuration
from hwd.errors import HwdError
from hwd.haocp import payload
from hwd.hall.ratings import holders
from hwd.outbox import Record
from hwd.upstream import sinks, sm2keys
from hwd.upstream.push_json import body_of

MASK = "****"


def find(db: sqlite3.Connection, rating: str) -> Record:
    """The outbox record of rating ``rating`` (its id), or of the latest rating of ticket number
    ``rating``."""
    row = None
    if rating.isdigit():
        row = db.execute("SELECT id, key, kind, ref, payload, ts FROM outbox WHERE kind = 'rating' AND ref = ?",
                         (rating,)).fetchone()
    if row is None:
        row = db.execute("SELECT id, key, kind, ref, payload, ts FROM outbox WHERE kind = 'rating' AND "
                         "json_extract(payload, '$.ticket') = ? ORDER BY id DESC LIMIT 1", (rating,)).fetchone()
    if row is None:
        raise HwdError(f"no rating {rating!r} in the hall database (a rating id or a ticket number)")
    rid, key, kind, ref, body, ts = row
    return Record(rid, key, kind, ref, json.loads(body), ts)


def _mask(value: Any, secrets: set) -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, secrets) for v in value]
    if isinstance(value, str) and value in secrets:
        return MASK
    return value


def render(sink: Any, record: Record, holder: dict | None = None) -> str:
    """The request ``sink`` would send for ``record``, secrets masked; ``holder``: the consented
    rater of 实名评价 as the bus shows card holders (masked: the preview never opens the seal)."""
    secrets = {s for s in (getattr(sink.cfg, "password", None), getattr(sink.cfg, "secret", None)) if s}
    lines = [f"# rating {record.ref}, record {record.id} ({record.key}), profile {sink.cfg.profile}"]
    if holder:
        lines.append("# 实名评价 with the citizen's consent: the holder is masked here; the province gets it in full")
    if not hasattr(sink, "request"):  # push-json: the record itself, HMAC-signed
        body = body_of(record, sink.cfg.fields, sink.cfg.channel_codes)
        lines += [f"POST {sink.cfg.url}", "Content-Type: application/json; charset=utf-8",
                  f"Idempotency-Key: {record.key}", "X-HWD-Timestamp: <the time of sending>",
                  f"X-HWD-Signature: {sink.cfg.signature}={MASK}", "",
                  json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))]
        return "\n".join(lines) + "\n"
    req = sink.request(record, holder=holder)
    lines.append(f"POST {req.url}")
    for name, value in req.headers.items():
        if name == "Authorization":
            value = value.split(" ", 1)[0] + " " + MASK
        elif name == "X-HWD-Signature":
            value = value.split("=", 1)[0] + "=" + MASK
        lines.append(f"{name}: {value}")
    lines.append("")
    if sink.profile.body == "form":
        pairs = [(k, MASK if v in secrets else v) for k, v in parse_qsl(req.body.decode("ascii"), keep_blank_values=True)]
        lines += [urlencode(pairs), "", "# the form decoded:"] + [f"{k} = {v}" for k, v in pairs]
    else:
        lines.append(payload.dumps(_mask(json.loads(req.body), secrets)))
    if sink.profile.envelope:
        lines += ["", "# the record before the envelope (and its encryption):", payload.dumps(req.mapped)]
    return "\n".join(lines) + "\n"


def command(args: argparse.Namespace) -> int:
    if args.action == "sm2-keygen":
        private, public = sm2keys.write_pair(args.target)
        print(f"private key (stays here, 0600): {private}   ->  [hall.upstream] sm2_private_key")
        print(f"public key (give to the province): {public}")
        print(public.read_text().strip())
        return 0
    if not args.config:
        raise HwdError("give the daemon's config: hwctl --config FILE upstream preview RATING")
    cfg = configuration.load(args.config)
    hall = cfg.hall
    if hall is None:
        raise HwdError(f"{args.config} has no [hall]: no ratings here")
    built = sinks(hall)
    if not built:
        raise HwdError(f"[hall.upstream] adapter = {hall.upstream.adapter!r}: nothing is pushed")
    path = Path(hall.database or Path(cfg.daemon.state_dir) / "hall.sqlite3")
    if not path.exists():
        raise HwdError(f"no hall database at {path}")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        record = find(db, args.target)
        holder = holders.shown(db, int(record.ref)) if hall.upstream.real_name else None
    finally:
        db.close()
    try:
        print(render(built[0], record, holder), end="")
    except payload.PayloadError as exc:
        raise HwdError(f"the {hall.upstream.profile} body cannot be made for this rating: {exc}") from None
    return 0


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("upstream", help="the provincial link: preview what a rating sends; SM2 keys")
    s.add_argument("action", choices=("preview", "sm2-keygen"))
    s.add_argument("target", help="preview: a rating id or a ticket number; sm2-keygen: the keys directory")
    s.set_defaults(func=command)
