"""Which RPC clients may call the methods that hand out full ID-card data, and those that read
or change the config file.

A method whose reply holds a card's name, ID number, address or photo is declared so where it is
registered (``@method(..., card_data=True)`` on a driver, ``MethodTable.add(..., card_data=True)``
otherwise: today ``idcard.read`` and ``idcard.resolve``). The RPC server (hwd.rpc) asks
``CardDataAccess.check`` before it runs any such method, whoever registered it: the caller must
be named in ``[daemon] card_data_clients`` — a local user name for ipc:// (the peer's uid, from
the kernel) or a CURVE certificate name for tcp:// (hwd.keys). In-process callers (the hall
engine resolving a kiosk's card token) do not pass through the RPC server and are not checked.

Every call is an audit line (hwd.audit) naming the method, the caller, the device and the
verdict — never the data, never the token — rate-limited per (method, caller, device, verdict).
"""

from __future__ import annotations

import logging
from typing import Iterable

from hwd import errors
from hwd.audit import AUDIT
from hwd.errors import HwdError


class CardDataAccess:
    def __init__(self, clients: Iterable[str]):
        self.clients = frozenset(clients)

    def allowed(self, caller: str | None) -> bool:
        return caller is not None and caller in self.clients

    def check(self, method: str, caller: str | None, params: dict) -> None:
        """Return if ``caller`` may call the card-data ``method``; log it; raise NOT_AUTHORISED if not."""
        device = _printable(params.get("device"))
        who = caller or "unknown"
        if self.allowed(caller):
            AUDIT.log(logging.INFO, f"card:{method}:{who}:{device}:allowed", "%s by %s on %s: allowed",
                      method, who, device)
            return
        AUDIT.log(logging.WARNING, f"card:{method}:{who}:{device}:refused",
                  "%s by %s on %s: refused (not in [daemon] card_data_clients)", method, who, device)
        raise HwdError(f"this client may not call {method} (full card data); name it in [daemon] card_data_clients",
                       errors.NOT_AUTHORISED, {"client": caller, "method": method})


def _printable(value: object) -> str:
    """A device id fit for a log line: the id, or its escaped start when it is not a plain one."""
    if isinstance(value, str) and value.isprintable() and 0 < len(value) <= 64:
        return value
    return ascii(value)[:40] if isinstance(value, str) else "?"


class ConfigAccess:
    """Who may read or change the config file over RPC (the ``config.*`` methods: its text holds
    password and PIN hashes and the province's credentials, and a change rewires the hall): a local
    process that can open the ipc:// socket (its file permissions decide: hwd-ui and hwctl on this
    PC), and over tcp:// only the CURVE certificate names in ``[daemon] config_clients`` — a kiosk
    or window PC holding a client certificate may take tickets and call, never rewrite the hall.
    Every refusal is an audit line."""

    def __init__(self, clients: Iterable[str]):
        self.clients = frozenset(clients)

    def check(self, method: str, caller: str | None, local: bool) -> None:
        if local or (caller is not None and caller in self.clients):
            return
        who = caller or "unknown"
        AUDIT.log(logging.WARNING, f"config:{method}:{who}:refused",
                  "%s by %s over the network: refused (not in [daemon] config_clients)", method, who)
        raise HwdError(f"this client may not call {method} (the config file) over the network; name it in "
                       "[daemon] config_clients", errors.NOT_AUTHORISED, {"client": caller, "method": method})
