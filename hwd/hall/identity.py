"""Who is at the kiosk and at the window: the citizen's ID-card token, and the staff's PIN login.

**Card tokens.** A kiosk's card reader publishes a short-lived token for the card it read
(drivers/idcard); a ticket may be issued with it once (single-use, given back if the issue
fails), and only at the kiosk whose reader read it. A reader on another PC is asked over RPC
(``idcard.resolve``), which that PC answers only to the PCs in its ``[daemon]
card_data_clients`` (docs/security.md).

**Staff logins** (counter windows and guide desks): the PIN is checked off the event loop
(PBKDF2 takes tens of ms) behind the login policy (hwd.lockout.LoginThrottle, ``[ui]
login_failures`` / ``login_lock_s``), counted before checking, per staff id **and** source
address, so a stranger's wrong PINs from another machine never lock the clerk out of his own; per
source over all staff ids; and, for a source that is not one of the hall's configured machines,
under the shared backstop. A PIN typed on a window's caller keypad counts with the keypad as its
source (``keypad:<device>``), one of the hall's own devices.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from typing import Any, Callable, Iterator

from hwd import errors
from hwd.audit import AUDIT
from hwd.errors import HwdError
from hwd.hall import pin as pins
from hwd.hall.queue import desk as desks
from hwd.lockout import LOGIN_FAILURES, LOGIN_LOCK_S, LoginThrottle
from hwd.web import addresses
from hwd.wording import Refusal

log = logging.getLogger("hwd.hall.identity")
USED_TOKEN_S = 3600.0  # a used card token is remembered longer than any token lives
USED_TOKENS_MAX = 10000  # past this many remembered tokens, the expired ones are dropped
KEYPAD_SOURCE = "keypad:"  # a login typed on a window's caller: keypad:<device id>, one of the hall's own devices


def _check_pin(staff: str, pin: str, stored: str) -> bool:
    """PBKDF2 in a worker thread (hashlib releases the GIL), so the event loop goes on serving."""
    log.debug("PIN check for staff %s in thread %s", staff, threading.current_thread().name)
    return pins.verify(pin, stored)


def configured_networks(hall: Any, ui: Any) -> list:
    """The networks of the hall's configured machines (window PCs, kiosks — loopback when none
    is given, as hwd-ui counts them — hall displays) and of this PC: a spray of guesses from
    elsewhere (the shared backstop) never slows their staff logins."""
    values = list(addresses.LOCAL) + list(getattr(ui, "display_addresses", None) or [])
    for window in hall.windows.values():
        values += list(window.addresses or [])
    for kiosk in hall.kiosks.values():
        values += list(kiosk.addresses or addresses.LOCAL)
    return addresses.networks(values)


class CardTokens:
    """The card behind a token, for issuing: read at this kiosk's own reader, used once."""

    def __init__(self, cfg: Any, manager: Any, call: Callable[[str, dict], Any]):
        self.cfg, self.manager, self.call = cfg, manager, call
        self._used: dict[str, float] = {}

    def used(self, token: str) -> bool:
        now = time.monotonic()
        if len(self._used) > USED_TOKENS_MAX:
            self._used = {t: exp for t, exp in self._used.items() if exp > now}
        return self._used.get(token, 0) > now

    @contextlib.contextmanager
    def using(self, token: str | None) -> Iterator[None]:
        """Use a card token up for issuing: single-use; given back if the issue fails."""
        if not token:
            yield
            return
        if self.used(token):
            raise Refusal(errors.CARD_TOKEN_USED)
        self._used[token] = time.monotonic() + USED_TOKEN_S
        try:
            yield
        except BaseException:
            self._used.pop(token, None)
            raise

    async def card(self, token: str, kiosk: str | None) -> dict:
        """The card behind a token read at this kiosk's own reader and not used yet."""
        k = self.cfg.kiosks.get(kiosk) if kiosk else None
        tokens = self.manager.extras.get("card_tokens")
        if k is None or not k.idcard:
            if tokens is None or tokens.resolve(token) is None:
                raise Refusal(errors.CARD_TOKEN_EXPIRED)
            raise Refusal(errors.CARD_TOKEN_WRONG_KIOSK, "no_reader", {"kiosk": kiosk})
        if self.used(token):
            raise Refusal(errors.CARD_TOKEN_USED)
        card = tokens.resolve(token, device=k.idcard) if tokens is not None else None
        if card is None and tokens is not None and tokens.resolve(token) is not None:
            log.warning("a card token of reader %s was offered at kiosk %s: refused", tokens.device_of(token), kiosk)
            raise Refusal(errors.CARD_TOKEN_WRONG_KIOSK, "", {"kiosk": kiosk})
        if card is None and k.idcard in self.manager.remote:
            card = await self._remote(token, k)
        if not card:
            raise Refusal(errors.CARD_TOKEN_EXPIRED)
        return card

    async def _remote(self, token: str, kiosk: Any) -> dict | None:
        """The reader sits on another PC: its hwd serves idcard.resolve to this PC only if this
        PC's certificate name is in that node's [daemon] card_data_clients (docs/security.md)."""
        try:
            return await self.call("idcard.resolve", {"device": kiosk.idcard, "token": token})
        except HwdError as exc:
            if exc.code == errors.NOT_AUTHORISED:
                node = self.manager.remote[kiosk.idcard].node
                log.error("node %s refuses card data to this hall PC (reader %s, kiosk %s): add this PC's "
                          "certificate name to that node's [daemon] card_data_clients", node, kiosk.idcard, kiosk.id)
                raise Refusal(errors.NOT_AUTHORISED, "card_data", {"kiosk": kiosk.id}) from None
            if exc.code != errors.CARD_TOKEN_EXPIRED:
                log.warning("cannot resolve a card token at kiosk %s: %s", kiosk.id, exc.code)
            return None


class StaffLogins:
    """``hall.login`` and ``hall.desk_login`` with the PIN checked here, throttled (module docstring)."""

    def __init__(self, cfg: Any, ui: Any, core: Any, run: Callable[..., Any]):
        self.cfg, self.core, self.run, self.ui = cfg, core, run, ui
        # writes a clerk's new PIN hash into the config file (the daemon's config store); None: cannot
        self.write_pin: Callable[[str, str, str | None], Any] | None = None
        self.throttle = LoginThrottle(getattr(ui, "login_failures", LOGIN_FAILURES),
                                      getattr(ui, "login_lock_s", LOGIN_LOCK_S))
        self._configured = configured_networks(cfg, ui)

    def reconfigure(self, cfg: Any) -> None:
        """Staff and windows as a new config has them; the lockouts under way stay."""
        self.cfg = cfg
        self._configured = configured_networks(cfg, self.ui)

    async def set_pin(self, staff: str, pin: str, source: str | None) -> dict:
        """``hall.set_pin``: a clerk whose PIN was reset (or who is new) sets one before the first
        login; only the hash is kept, in the config file ([[hall.staff]] pin_hash). Only from a
        window PC (or this PC) when the hall lists its windows' addresses."""
        if not self.core.pin_reset(staff):
            raise Refusal(errors.LOGIN_FAILED, "no_pin_reset", {"staff": staff})
        counters = [a for w in self.cfg.windows.values() for a in (w.addresses or [])]
        if source is not None and counters and not addresses.in_networks(
                source, addresses.networks(list(addresses.LOCAL) + counters)):
            AUDIT.warning(f"set-pin-refused:{staff}:{source}", "new PIN of staff %s refused from %s: not a "
                          "window or desk PC", staff, source)
            raise Refusal(errors.LOGIN_FAILED, "", {"staff": staff})
        if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
            raise Refusal(errors.LOGIN_FAILED, "pin_format", {"staff": staff})
        if self.write_pin is None:
            raise HwdError("this hall cannot store a new PIN (no config store)", errors.BAD_STATE)
        stored = await asyncio.to_thread(pins.hash_pin, pin)
        self.write_pin(staff, stored, source)
        AUDIT.info("staff %s set a new PIN from %s", staff, source or "rpc")
        return {"staff": staff, "set": True}

    async def login(self, window: str, staff: str, pin: str | None, source: str | None) -> dict:
        self.core.window_row(window)
        verified = await self.verified_pin(staff, pin, source, {"window": window})
        return self.run(self.core.login, window, staff, None if verified else pin, verified)

    async def desk_login(self, desk: str, staff: str, pin: str | None, source: str | None) -> dict:
        desks.desk_or_error(self.core, desk)
        verified = await self.verified_pin(staff, pin, source, {"desk": desk})
        return self.run(desks.login, self.core, desk, staff, None if verified else pin, verified)

    async def verified_pin(self, staff: str, pin: str | None, source: str | None, place: dict) -> bool:
        """The staff PIN checked off the event loop behind the throttle. ``source`` is the
        caller's word (hwd-ui passes the browser's address; RPC clients are trusted: they can read
        the config). False when there is no PIN to check (the rules decide)."""
        person = self.cfg.staff.get(staff)
        if not self.core.staff_required or (person is not None and not person.pin_hash):
            return False
        where = ", ".join(f"{k} {v}" for k, v in place.items())
        shown = source or "rpc"
        exempt = (source is None or source.startswith(KEYPAD_SOURCE)
                  or addresses.in_networks(source, self._configured))
        keys, wait = self.throttle.begin(staff, addresses.key(source) if source else "rpc", backstop=not exempt)
        if wait > 0:
            AUDIT.warning(f"login-locked:{staff}:{source}", "login of staff %s at %s from %s refused: "
                          "locked for %.0f s after wrong PINs", staff, where, shown, wait)
            raise Refusal(errors.LOGIN_LOCKED, "seconds", {**place, "retry_after_s": math.ceil(wait)},
                          seconds=math.ceil(wait))
        try:
            ok = person is not None and pin is not None and await asyncio.to_thread(_check_pin, staff, pin,
                                                                                    person.pin_hash)
        except BaseException:
            self.throttle.abandoned(keys)
            raise
        if not ok:
            self.throttle.failed(keys)
            AUDIT.warning(f"login-failed:{staff}:{source}", "wrong PIN for staff %s at %s from %s", staff, where, shown)
            raise Refusal(errors.LOGIN_FAILED, "", place)
        self.throttle.succeeded(keys)
        AUDIT.info("login of staff %s at %s from %s", staff, where, shown)
        return True
