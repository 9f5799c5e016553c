"""The event bus: every event gets the next ``seq`` and a timestamp, goes out on the PUB socket
as ``[topic, json]`` and to in-process subscribers (the hall engine listens to keypads).

Device threads publish too; their events are handed to the event loop's thread, so ``seq``
order is the order in which events are sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Any, Callable

log = logging.getLogger("hwd.events")

Subscriber = Callable[[str, dict], None]


class EventBus:
    def __init__(self, loop: asyncio.AbstractEventLoop, socket: Any = None):
        self.loop = loop
        self.socket = socket
        self.seq = 0
        self._subscribers: list[tuple[str, Subscriber]] = []
        self._loop_thread = threading.get_ident()

    def subscribe(self, prefix: str, callback: Subscriber) -> None:
        """Call ``callback(topic, event)`` in the loop thread for topics starting with ``prefix``."""
        self._subscribers.append((prefix, callback))

    def publish(self, topic: str, data: dict) -> None:
        """Publish from any thread."""
        if threading.get_ident() == self._loop_thread:
            self._emit(topic, data)
        elif not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self._emit, topic, data)
            except RuntimeError:
                pass  # loop closed during shutdown

    def _emit(self, topic: str, data: dict) -> dict:
        self.seq += 1
        event = {"seq": self.seq, "ts": round(time.time(), 6), "topic": topic, **data}
        if self.socket is not None:
            try:
                self.socket.send_multipart([topic.encode(), json.dumps(event, ensure_ascii=False).encode()])
            except Exception:
                log.exception("cannot publish %s", topic)
        for prefix, callback in list(self._subscribers):
            if topic.startswith(prefix):
                try:
                    callback(topic, event)
                except Exception:
                    log.exception("subscriber of %s failed", topic)
        return event
