"""Which channel may rate which service (好差评 counts in staff appraisal, so a rating must come
from where the citizen was served).

- The **window's evaluator** (评价器, config ``evaluator``), or its **keypad** when the window has
  no evaluator: their presses arrive as device events (``keypad.key``), bound to that one window
  by the config (``keypad_parts``). When a window names an evaluator, its keypad is the clerk's
  caller (呼叫器): a rating from it is refused (the clerk does not rate his own service), and the
  evaluator, in the citizen's hands, only rates.
- A **rating pad or page** enrolled by the admin for one window (``hall.pad.enroll``, once, with
  a per-device secret that only the pad keeps; the database keeps a SHA-256 of it). It may rate
  only the ticket its own window finished last, while that rating is pending (the timeout).
- A **phone** carries the ticket's own token: 22 URL-safe characters of HMAC-SHA256(ticket id +
  day) under the hall's ``ticket-token`` key (hwd.hall.hallkeys), with no ticket id in clear; the
  page ``/t/<token>`` (kiosk_ui.phone_server). A token names a ticket of the current business day
  or of yesterday: the index from token to ticket holds those days' tickets, so a link says its
  ticket's end (号票已失效) the day after and is invalid from the day after that. The same token cancels
  the ticket while it waits (``hall.cancel``, 取消排队).
- ``hall.rate`` without any of these is the trusted local RPC client (file permissions of the
  RPC socket), as before.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets
from typing import TYPE_CHECKING, Any

from hwd import errors
from hwd.errors import HwdError
from hwd.wording import Refusal

if TYPE_CHECKING:
    from hwd.hall.queue.core import HallCore

log = logging.getLogger("hwd.hall.ratings.channels")
MAC_CHARS = 22  # 132 bits of HMAC-SHA256, URL-safe base64


KEYPAD, EVALUATOR = "keypad", "evaluator"


def keypad_parts(cfg: Any) -> dict[str, tuple[str, str]]:
    """Device id → (window, ``keypad`` or ``evaluator``) for every window's keypad and evaluator
    (the config gives each device to one window)."""
    parts: dict[str, tuple[str, str]] = {}
    for window in cfg.windows.values():
        if window.keypad:
            parts[window.keypad] = (window.id, KEYPAD)
        if window.evaluator:
            parts[window.evaluator] = (window.id, EVALUATOR)
    return parts


def keypad_may(window: Any, part: str, rating: bool) -> bool:
    """May this part of ``window`` do this: rate (``rating``) or operate the window? The window's
    rating device (its evaluator, else its keypad) rates; its keypad operates; an evaluator only
    rates."""
    if rating:
        return part == EVALUATOR or not window.evaluator
    return part == KEYPAD


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class RatingChannels:
    def __init__(self, core: "HallCore", token_key: bytes):
        self.core = core
        self.store = core.store
        self.token_key = token_key
        self._index: dict[str, tuple[dict[int, str], int]] = {}  # day -> (id -> token, last id indexed)
        self._by_token: dict[str, int] = {}

    # -- ticket tokens (phones) ---------------------------------------------------------------
    def token(self, ticket_id: int, day: str) -> str:
        mac = hmac.new(self.token_key, f"{int(ticket_id)}:{day}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode()[:MAC_CHARS]

    def days(self) -> list[str]:
        """The business days whose links work: today and yesterday, so a page says its own end
        (号票已失效) the day after, and a phone may rate within ``phone_rating_timeout_s`` across
        the rollover; a link of any earlier day is invalid."""
        today = self.core.today()
        return [today, (dt.date.fromisoformat(today) - dt.timedelta(days=1)).isoformat()]

    def tokens(self, day: str) -> dict[int, str]:
        """Ticket id → token for the tickets of ``day`` (kept, and extended by new tickets)."""
        live = set(self.days()) | {day}
        for old in [d for d in self._index if d not in live]:
            for token in self._index.pop(old)[0].values():
                self._by_token.pop(token, None)
        by_id, last = self._index.get(day, ({}, 0))
        for (tid,) in self.store.db.execute("SELECT id FROM tickets WHERE day = ? AND id > ? ORDER BY id",
                                            (day, last)):
            token = self.token(tid, day)
            by_id[tid], self._by_token[token] = token, tid
            last = tid
        self._index[day] = (by_id, last)
        return by_id

    def ticket_for_token(self, token: str) -> dict:
        """The ticket of today or the day before a token names; BAD_RATING_TOKEN for anything
        else (no hint why)."""
        token = str(token)
        tid = None
        days = self.days()
        if len(token) == MAC_CHARS and token.isascii():
            if token not in self._by_token:
                for day in days:  # a new day, or tickets issued since the index grew
                    self.tokens(day)
            tid = self._by_token.get(token)
        row = self.store.ticket(tid) if tid is not None else None
        if row is None or row["day"] not in days or not hmac.compare_digest(self.token(row["id"], row["day"]), token):
            raise Refusal(errors.BAD_RATING_TOKEN)
        return row

    def cancel(self, token: str) -> dict:
        """``hall.cancel``: the citizen leaves the queue from the phone page; the token names the
        one ticket it may cancel, and only while it waits."""
        t = self.ticket_for_token(token)
        return self.core.cancel(t["id"], "phone")

    # -- rating pads ----------------------------------------------------------------------------
    def enroll(self, window: str) -> dict:
        """A new pad for ``window`` (replacing the window's earlier pad); the secret is shown once."""
        self.core.window_row(window)
        pad = f"pad-{window}-{secrets.token_hex(3)}"
        secret = secrets.token_urlsafe(24)
        now = self.core.clock.time()
        with self.store.tx():
            old = self.store.all("SELECT id FROM rating_pads WHERE window = ?", (window,))
            self.store.db.execute("DELETE FROM rating_pads WHERE window = ?", (window,))
            self.store.db.execute("INSERT INTO rating_pads (id, window, secret_hash, enrolled_ts) VALUES (?, ?, ?, ?)",
                                  (pad, window, _digest(secret), now))
            self.store.log(now, "pad_enroll", None, window, None, pad)
        log.info("rating pad %s enrolled for window %s%s", pad, window,
                 f" (replaces {', '.join(r['id'] for r in old)})" if old else "")
        return {"pad": pad, "window": window, "secret": secret}

    def revoke(self, pad: str) -> dict:
        with self.store.tx():
            row = self.store.one("SELECT * FROM rating_pads WHERE id = ?", (pad,))
            if row is None:
                raise Refusal(errors.UNKNOWN_PAD, "revoke", {"pad": pad}, pad=pad)
            self.store.db.execute("DELETE FROM rating_pads WHERE id = ?", (pad,))
            self.store.log(self.core.clock.time(), "pad_revoke", None, row["window"], None, pad)
        return {"pad": pad, "window": row["window"], "revoked": True}

    def pads(self) -> list[dict]:
        return [{"pad": r["id"], "window": r["window"], "enrolled_ts": r["enrolled_ts"],
                 "last_used_ts": r["last_used_ts"]}
                for r in self.store.all("SELECT * FROM rating_pads ORDER BY window, id")]

    def check_pad(self, pad: str, secret: str | None, window: str | None) -> dict:
        row = self.store.one("SELECT * FROM rating_pads WHERE id = ?", (pad,))
        if row is None or not secret or not hmac.compare_digest(row["secret_hash"], _digest(secret)):
            raise Refusal(errors.UNKNOWN_PAD, "", {"pad": pad})
        if window is not None and row["window"] != window:
            raise Refusal(errors.RATING_CHANNEL_REFUSED, "pad_window", {"pad": pad, "window": window})
        return row

    # -- the hook where hall.rate is dispatched ----------------------------------------------------
    def rate(self, p: dict) -> dict:
        """``hall.rate``: by token (phone), by pad (bound to its window), else the trusted RPC."""
        ratings = self.core.ratings
        if p.get("token") is not None:
            t = self.ticket_for_token(p["token"])
            if p.get("ticket") is not None and str(p["ticket"]) not in (str(t["id"]), t["number"]):
                raise Refusal(errors.BAD_RATING_TOKEN, "ticket")
            return ratings.rate(p["score"], ticket=t["id"], channel="phone", reason=p.get("reason"),
                                reasons=p.get("reasons"), real_name=bool(p.get("real_name")))
        if p.get("pad") is not None:
            row = self.check_pad(p["pad"], p.get("secret"), p.get("window"))
            window = row["window"]
            w = self.core.window_row(window)
            if p.get("ticket") is not None:
                last = self.store.ticket(w["last_done"]) if w["last_done"] else None
                if last is None or str(p["ticket"]) not in (str(last["id"]), last["number"]):
                    raise Refusal(errors.RATING_CHANNEL_REFUSED, "", {"window": window, "ticket": p["ticket"]})
            view = ratings.rate(p["score"], window=window, channel="pad", reason=p.get("reason"),
                                reasons=p.get("reasons"), real_name=bool(p.get("real_name")))
            with self.store.tx():
                self.store.db.execute("UPDATE rating_pads SET last_used_ts = ? WHERE id = ?",
                                      (self.core.clock.time(), row["id"]))
            return view
        if p.get("secret") is not None:
            raise HwdError("give pad with secret", errors.INVALID_PARAMS)
        return ratings.rate(p["score"], window=p.get("window"), ticket=p.get("ticket"), channel=p.get("channel", "rpc"),
                            reason=p.get("reason"), reasons=p.get("reasons"), real_name=bool(p.get("real_name")))
