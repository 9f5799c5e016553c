"""Short-lived card tokens: the only way full card data travels beyond the reader's driver.

A token names one card read for ``ttl_s`` seconds (option ``token_ttl_s``, default 60) and is
then forgotten: nothing is written to disk. One store is shared by every reader in a daemon
(``ctx.extras["card_tokens"]``) so the hall engine in the same process resolves any reader's
token without an RPC.
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
        self._items: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def issue(self, card: dict[str, Any], ttl_s: float | None = None) -> str:
        """Remember ``card``; return a new unguessable token for it."""
        token = secrets.token_urlsafe(16)
        expires = self.clock() + (self.ttl_s if ttl_s is None else float(ttl_s))
        with self._lock:
            self._purge()
            self._items[token] = (expires, copy.deepcopy(card))
        return token

    def resolve(self, token: str) -> dict[str, Any] | None:
        """The full card behind ``token``, or None when unknown or expired."""
        with self._lock:
            self._purge()
            item = self._items.get(token)
            return copy.deepcopy(item[1]) if item else None

    def forget(self, token: str) -> None:
        with self._lock:
            self._items.pop(token, None)

    def __len__(self) -> int:
        with self._lock:
            self._purge()
            return len(self._items)

    def _purge(self) -> None:
        now = self.clock()
        for token in [t for t, (expires, _) in self._items.items() if expires <= now]:
            del self._items[token]
