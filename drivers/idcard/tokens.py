"""Short-lived card tokens: the only way full card data travels beyond the reader's driver.

A token names one card read for ``ttl_s`` seconds (option ``token_ttl_s``, default 60) and is
then forgotten: nothing is written to disk. One store is shared by every reader in a daemon
(``ctx.extras["card_tokens"]``) so the hall engine in the same process resolves any reader's
token without an RPC. A token remembers the reader that read it: ``resolve(token, device)``
answers only for that reader, so a token is bound to its kiosk. Issuing a ticket uses a token up
(the hall engine keeps the used ones); a card left on the reader may get a fresh token.
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from typing import Any, Callable


class TokenStore:
    def __init__(self, ttl_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = float(ttl_s)
        self.clock = clock
        self._items: dict[str, tuple[float, dict, str | None]] = {}
        self._lock = threading.Lock()

    def issue(self, card: dict[str, Any], ttl_s: float | None = None, device: str | None = None) -> str:
        """Remember ``card`` (read by ``device``); return a new unguessable token for it."""
        token = secrets.token_urlsafe(16)
        expires = self.clock() + (self.ttl_s if ttl_s is None else float(ttl_s))
        with self._lock:
            self._purge()
            self._items[token] = (expires, copy.deepcopy(card), device)
        return token

    def resolve(self, token: str, device: str | None = None) -> dict[str, Any] | None:
        """The full card behind ``token``, or None when unknown, expired, or (``device`` given)
        read by another reader."""
        with self._lock:
            self._purge()
            item = self._items.get(token)
            if item is None or (device is not None and item[2] is not None and item[2] != device):
                return None
            return copy.deepcopy(item[1])

    def device_of(self, token: str) -> str | None:
        with self._lock:
            item = self._items.get(token)
            return item[2] if item else None

    def forget(self, token: str) -> None:
        with self._lock:
            self._items.pop(token, None)

    def __len__(self) -> int:
        with self._lock:
            self._purge()
            return len(self._items)

    def _purge(self) -> None:
        now = self.clock()
        for token in [t for t, item in self._items.items() if item[0] <= now]:
            del self._items[token]
