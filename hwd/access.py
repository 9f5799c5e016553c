"""Which RPC clients may call the methods that hand out personal data.

``idcard.read`` returns the full card (name, ID number, address, photo). It is served only to
the clients named in ``[daemon] card_data_clients``: local user names for ipc:// (the peer's
uid, from the kernel) or CURVE certificate names for tcp:// (hwd.keys). Every call is logged —
who, which device, allowed or refused — and never with the data.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

from hwd import errors
from hwd.errors import HwdError

log = logging.getLogger("hwd.access")
CARD_DATA_METHODS = ("idcard.read",)


def card_data_guard(allowed: Iterable[str]) -> Callable[[str | None, dict], None]:
    names = frozenset(allowed)

    def guard(caller: str | None, params: dict) -> None:
        device = params.get("device") if isinstance(params.get("device"), str) else "?"
        if caller is not None and caller in names:
            log.info("idcard.read by %s on %s: allowed", caller, device)
            return
        log.warning("idcard.read by %s on %s: refused (not in [daemon] card_data_clients)", caller or "unknown",
                    device)
        raise HwdError("this client may not read full card data; name it in [daemon] card_data_clients",
                       errors.NOT_AUTHORISED, {"client": caller})
    return guard


def install(methods: Any, card_data_clients: Iterable[str]) -> None:
    guard = card_data_guard(card_data_clients)
    for name in CARD_DATA_METHODS:
        method = methods.methods.get(name)
        if method is not None:
            method.guard = guard
