"""Open connections (or requests) counted per client, one rule for every page server hwd runs:
hwd-ui's plain HTTP port (waitress), its HTTPS port (cheroot) and the phone server (aiohttp).

- each address holds at most ``per_address`` (an IPv4 address, an IPv6 /64: a machine picks any
  address of its /64; with ``per_64``, each IPv6 address is held to ``per_address`` and its /64
  to the looser ``per_64``, for phones that share the hall WiFi's /64);
- of ``total`` in all, ``reserved`` are kept for the hall's configured machines (``exempt``: the
  kiosks, window PCs, displays and this PC), which no per-address limit holds: however many
  addresses a script uses, it cannot take the last connections from the hall's own screens.

The servers ask ``admit`` when a connection opens and give its ``Slot`` back with ``release``
when it closes; ``watch`` gives it back as well when the object that owns it is collected, so a
path that forgets to release cannot lock an address out for good.
"""

from __future__ import annotations

import collections
import threading
import weakref
from dataclasses import dataclass
from typing import Callable

from hwd.audit import AUDIT
from hwd.web import addresses


class Refused(Exception):
    """``admit`` said no: ``reason`` is "address" (its address or /64 holds its share) or "full"."""

    def __init__(self, reason: str, held: int):
        super().__init__(f"{reason}: {held} held")
        self.reason, self.held = reason, held


@dataclass(eq=False)
class Slot:
    """One admitted connection: the keys it is counted under."""

    host: str
    keys: tuple[str, ...]
    exempt: bool
    released: bool = False


class ConnectionCap:
    def __init__(self, per_address: int, total: int, reserved: int = 0,
                 exempt: Callable[[str], bool] = lambda host: False, per_64: int | None = None,
                 what: str | None = "connection"):
        """``what`` names the thing in audit lines ("TLS connection"); None: refusals are not
        audited (a caller that answers them, e.g. with 429)."""
        self.per_address, self.total, self.per_64 = per_address, total, per_64
        self.reserved = max(0, min(reserved, total))
        self.exempt, self.what = exempt, what
        self.open = 0          # every admitted slot not released yet
        self.open_public = 0   # those of clients that are not configured machines
        self._held: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    @property
    def public_limit(self) -> int:
        """What all the other clients together may hold: ``total`` less the reserve."""
        return self.total - self.reserved

    def _limits(self, host: str) -> list[tuple[str, int]]:
        keys = addresses.keys(host, per_device=self.per_64 is not None)
        return [(keys[0], self.per_address)] + ([(keys[1], self.per_64)] if len(keys) > 1 else [])

    def admit(self, host: str) -> Slot:
        """Count one more for ``host`` or raise ``Refused`` (audited, rate-limited per key)."""
        exempt = self.exempt(host)
        limits = [] if exempt else self._limits(host)
        with self._lock:
            if self.open >= self.total or (not exempt and self.open_public >= self.public_limit):
                refused = Refused("full", self.open)
            else:
                refused = next((Refused("address", self._held[k]) for k, limit in limits
                                if self._held[k] >= limit), None)
            if refused is None:
                self.open += 1
                if not exempt:
                    self.open_public += 1
                for k, _ in limits:
                    self._held[k] += 1
                return Slot(host, tuple(k for k, _ in limits), exempt)
        if self.what is not None:
            if refused.reason == "full":
                AUDIT.warning(f"conn-full:{self.what}", "refused a %s from %s: %d open, the last %d kept for "
                              "the hall's machines", self.what, host, refused.held, self.reserved)
            else:
                AUDIT.warning(f"conn-limit:{limits[0][0]}", "refused a %s from %s: it holds %d already",
                              self.what, host, refused.held)
        raise refused

    def release(self, slot: Slot) -> None:
        """Give the slot back (once; later calls do nothing)."""
        with self._lock:
            if slot.released:
                return
            slot.released = True
            self.open -= 1
            if not slot.exempt:
                self.open_public -= 1
            for k in slot.keys:
                self._held[k] -= 1
                if self._held[k] <= 0:
                    del self._held[k]

    def watch(self, owner: object, slot: Slot) -> Slot:
        """Release ``slot`` when ``owner`` (the connection's object) is collected, if nobody did."""
        weakref.finalize(owner, self.release, slot)
        return slot

    def held(self, host: str) -> int:
        """How many ``host``'s own key holds (its address, or its /64 without ``per_64``)."""
        with self._lock:
            return self._held.get(self._limits(host)[0][0], 0)
