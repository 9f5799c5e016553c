"""Waiting on what happens instead of sleeping for it.

- ``wait_for(fn)``: poll until ``fn()`` is true (a state read over RPC, a file, a page).
- ``EventWatcher``: a subscriber to hwd's events that proves it is subscribed before the test
  acts (the handshake: it calls ``daemon.ping`` with an ``echo`` until its own ``daemon.echo``
  arrives; ZeroMQ drops whatever is published before a subscription reaches the publisher), and
  checks that something did NOT happen without waiting out a second: ``ev.until_marker()`` asks
  hwd for a fresh ``daemon.echo`` and returns every event published before it. An unwanted event
  that the action would have published before that marker is in the list or never happened.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable

from hwd.client import Subscriber

ECHO = "daemon.echo"


def wait_for(fn: Callable[[], Any], timeout: float = 10.0, what: str = "condition", interval: float = 0.02,
             tolerate: tuple[type[BaseException], ...] = ()) -> Any:
    """Poll ``fn`` until it returns something true and return that; an exception in ``tolerate``
    counts as not yet. Fails the test after ``timeout`` seconds, showing the last value."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = fn()
        except tolerate as exc:
            value, ok = exc, False
        else:
            ok = bool(value)
        if ok:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s (last: {value!r})")
        time.sleep(interval)


def _matches(event: dict, topic: str, match: dict) -> bool:
    return event["topic"] == topic and all(event.get(k) == v for k, v in match.items())


class EventWatcher:
    """Events of ``prefixes`` from ``endpoint``; ``ping(text)`` calls ``daemon.ping {echo: text}``
    on the same daemon. Returns once subscribed (see the module docstring)."""

    def __init__(self, endpoint: str, prefixes: tuple[str, ...], ping: Callable[[str], Any], *,
                 timeout: float = 10.0, **keys: Any):
        prefixes = tuple(prefixes) or ("",)
        self.sub = Subscriber(endpoint, prefixes + (ECHO,), **keys)
        self.ping = ping
        self.seen: list[dict] = []
        self._marker(timeout, what="the subscription")

    def _marker(self, timeout: float, what: str = "the marker") -> list[dict]:
        """Ask for an echo (again every 50 ms until the subscription is live) and collect the events
        that come before it."""
        token = uuid.uuid4().hex
        before: list[dict] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ping(token)
            resend = time.monotonic() + 0.05
            while (left := min(resend, deadline) - time.monotonic()) > 0:
                item = self.sub.recv(timeout=left)
                if item is None:
                    break
                event = item[1]
                if event["topic"] == ECHO:
                    if event.get("echo") == token:
                        return before
                    continue  # another watcher's handshake
                before.append(event)
                self.seen.append(event)
        raise AssertionError(f"{what}: no daemon.echo within {timeout} s")

    def wait(self, topic: str, timeout: float = 5.0, **match: Any) -> dict:
        """The first event of ``topic`` with these fields (seen earlier or arriving now)."""
        for event in self.seen:
            if _matches(event, topic, match):
                self.seen.remove(event)
                return event
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            item = self.sub.recv(timeout=max(0.01, left))
            if item is None:
                break
            event = item[1]
            if event["topic"] == ECHO:
                continue
            if _matches(event, topic, match):
                return event
            self.seen.append(event)
        raise AssertionError(f"no {topic} {match} within {timeout} s; saw {[e['topic'] for e in self.seen][-20:]}")

    def until_marker(self, timeout: float = 10.0) -> list[dict]:
        """Every event not yet taken that hwd published before now: a fresh ``daemon.echo`` is the
        marker (events from the event loop keep their order, so anything an action published
        before it returned is in the list)."""
        self._marker(timeout)
        return list(self.seen)

    def drain(self, timeout: float = 0.3) -> list[dict]:
        """Everything that arrives until ``timeout`` seconds pass without an event: for events no
        marker can follow (another process's, or a device thread's that may come later)."""
        while (item := self.sub.recv(timeout=timeout)) is not None:
            if item[1]["topic"] != ECHO:
                self.seen.append(item[1])
        return self.seen

    def close(self) -> None:
        self.sub.close()
