"""The method table of an engine PC with ``[hall.standby]``: ``hall.*`` and ``outbox.*`` are
answered only while this PC is the active engine. On the standby they get NOT_ACTIVE (1190)
naming the active one, so a client (hwd.standby.follow) goes there; a change the quorum did not
take (a failover under way) gets NOT_REPLICATED (1191): nothing was done, try again.
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol

from hwd import errors
from hwd.errors import HwdError
from hwd.rpc import MethodTable
from hwd.wording import Refusal

GUARDED = ("hall.", "outbox.")


class Node(Protocol):
    @property
    def serving(self) -> bool: ...

    def not_active(self) -> HwdError: ...

    def replication_failed(self) -> bool: ...


class GuardedMethods(MethodTable):
    """A MethodTable whose hall methods follow the node's role (``node`` set by the node)."""

    def __init__(self) -> None:
        super().__init__()
        self.node: Node | None = None

    def invoke(self, name: str, params: Any, request_key: str | None = None) -> Any:
        node = self.node
        if node is None or not name.startswith(GUARDED):
            return super().invoke(name, params, request_key)
        if not node.serving:
            raise node.not_active()
        try:
            result = super().invoke(name, params, request_key)
        except HwdError as exc:
            raise self._translate(exc) from None
        if inspect.isawaitable(result):
            return self._translated(result)
        return result

    async def _translated(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except HwdError as exc:
            raise self._translate(exc) from None

    def _translate(self, exc: HwdError) -> HwdError:
        node = self.node
        if exc.code != errors.STORAGE_ERROR or node is None:
            return exc
        if not node.serving:
            return node.not_active()
        if node.replication_failed():
            return Refusal(errors.NOT_REPLICATED, "", exc.data if isinstance(exc.data, dict) else None)
        return exc
