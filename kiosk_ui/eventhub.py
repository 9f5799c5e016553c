"""Live updates: one ZeroMQ SUB thread fans hwd's events out to per-browser queues, served as
Server-Sent Events.

The SSE ``id:`` of every event is its hwd ``seq``. A browser that reconnects sends
``Last-Event-ID``; if the ring buffer still holds every later event they are replayed, otherwise
the stream starts with ``event: resync`` and the page reloads its state from ``hall.state``.
A gap in ``seq`` (the PUB socket dropped events) or a restarted daemon (``seq`` went back)
sends ``resync`` to everyone. The number of streams is capped: one more gets 503 + Retry-After,
so an overloaded server answers instead of hanging. The cap holds per address too
(``streams_per_address``) for everyone but the hall's configured machines (kiosks, window PCs,
displays, this PC), and ``reserved_streams`` are kept for those machines, so one phone or script
cannot starve them.

Card events (``idcard.*``) and scans are never kept in the ring: a new stream, whatever its
``Last-Event-ID``, never gets an earlier card. ``hall.rating.requested`` goes out without the
ticket id (a rating page rates its window's last service; it needs no id).
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import queue
import threading
import time
from typing import Any, Callable, Iterator, NamedTuple

log = logging.getLogger("kiosk_ui.eventhub")

RESYNC = "resync"
CLOSE = object()


class Rendered(NamedTuple):
    """An event and its text/event-stream form, rendered once for every stream."""

    event: dict
    text: str


def _match(event: dict, prefixes: tuple[str, ...], devices: frozenset[str] | None) -> bool:
    topic = event.get("topic", "")
    if topic == "daemon.heartbeat" or topic == RESYNC:
        return True
    if not topic.startswith(prefixes):
        return False
    if devices is not None and "device" in event and event["device"] not in devices:
        return False
    return True


NO_REPLAY = ("idcard.", "scanner.")


PRIVATE_FIELDS = {"hall.rating.requested": ("ticket",), "speaker.announced": ("file",)}


def _public_form(event: dict) -> dict:
    """The event as pages receive it: no rating ticket id, no file path of the hall PC."""
    hidden = PRIVATE_FIELDS.get(event.get("topic", ""), ())
    if any(k in event for k in hidden):
        event = {k: v for k, v in event.items() if k not in hidden}
    return event


class Stream:
    """One browser's queue; ``prefixes`` and ``devices`` filter what it receives."""

    def __init__(self, prefixes: tuple[str, ...], devices: frozenset[str] | None, size: int = 1000,
                 source: str | None = None, reserved: bool = False):
        self.prefixes = prefixes
        self.devices = devices
        self.source = source
        self.reserved = reserved
        self.queue: queue.Queue = queue.Queue(maxsize=size)
        self.overflowed = False

    def offer(self, item: Rendered) -> None:
        if self.overflowed or not _match(item.event, self.prefixes, self.devices):
            return
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            self.overflowed = True  # a stuck browser: tell it to resync, then drop it
            with contextlib.suppress(queue.Empty):
                self.queue.get_nowait()
            with contextlib.suppress(queue.Full):
                self.queue.put_nowait(CLOSE)

    def get(self, timeout: float) -> Any:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None


class EventHub:
    """The single subscriber to hwd's events inside a hwd-ui process."""

    def __init__(self, subscriber_factory: Callable[[], Any], *, ring: int = 512, max_streams: int = 400,
                 per_address: int = 0, reserved: int = 0):
        self.subscriber_factory = subscriber_factory
        self.ring: collections.deque = collections.deque(maxlen=ring)
        self.max_streams = max_streams
        self.per_address = per_address  # 0: no per-address cap
        self.reserved = min(reserved, max_streams)
        self.streams: set[Stream] = set()
        self.by_source: collections.Counter = collections.Counter()
        self.public = 0  # streams not from the reserved pool
        self.lock = threading.Lock()
        self.last_seq = 0
        self.last_event_at = 0.0
        self.last_heartbeat_at = 0.0
        self.boot_id: str | None = None
        self.announcements: collections.deque = collections.deque(maxlen=50)  # for the virtual hall
        self.listeners: list[Callable[[dict], None]] = []  # called with every event (the phones' hub)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "EventHub":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hwd-ui-events", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def _run(self) -> None:
        sub = None
        while not self._stop.is_set():
            try:
                if sub is None:
                    sub = self.subscriber_factory()
                item = sub.recv(timeout=0.5)
            except Exception:  # a broken socket: log, back off, reconnect
                log.exception("event subscription failed; reconnecting")
                if sub is not None:
                    try:
                        sub.close()
                    except Exception:
                        log.debug("closing the subscriber failed", exc_info=True)
                sub = None
                self._stop.wait(1.0)
                continue
            if item is not None:
                self.dispatch(item[1])
        if sub is not None:
            sub.close()

    # -- fan out -------------------------------------------------------------------------------
    def dispatch(self, event: dict) -> None:
        """Add one hwd event to the ring and every matching stream."""
        event = _public_form(event)
        seq = event.get("seq")
        now = time.monotonic()
        with self.lock:
            self.last_event_at = now
            if event.get("topic") == "speaker.announced" and event.get("text"):
                self.announcements.append(event)
            if event.get("topic") == "daemon.heartbeat":
                self.last_heartbeat_at = now
                boot = event.get("boot_id")
                if boot and self.boot_id and boot != self.boot_id:
                    self._resync_locked("hwd restarted")
                self.boot_id = boot or self.boot_id
            if isinstance(seq, int):
                if self.last_seq and seq <= self.last_seq:
                    self._resync_locked("hwd restarted (seq went back)")
                elif self.last_seq and seq > self.last_seq + 1:
                    self._resync_locked(f"missed events {self.last_seq + 1}..{seq - 1}")
                self.last_seq = seq
                if not str(event.get("topic", "")).startswith(NO_REPLAY):
                    self.ring.append(event)
            streams = list(self.streams)
        rendered = Rendered(event, sse(event))
        for stream in streams:
            stream.offer(rendered)
        for listener in list(self.listeners):
            listener(event)

    def _resync_locked(self, reason: str) -> None:
        log.info("asking pages to resync: %s", reason)
        self.ring.clear()
        event = {"topic": RESYNC, "reason": reason}
        rendered = Rendered(event, sse(event))
        for stream in self.streams:
            stream.offer(rendered)

    def open(self, prefixes: tuple[str, ...], devices: frozenset[str] | None = None, source: str | None = None,
             reserved: bool = False) -> Stream | None:
        """A new stream, or None when no more are allowed: ``max_streams`` in all, ``per_address``
        for one ``source``, and for streams not ``reserved`` (not a configured machine) only the
        part of ``max_streams`` that is not reserved."""
        with self.lock:
            if len(self.streams) >= self.max_streams:
                return None
            if self.per_address and not reserved and source is not None and self.by_source[source] >= self.per_address:
                return None
            if not reserved and self.public >= self.max_streams - self.reserved:
                return None
            stream = Stream(prefixes, devices, source=source, reserved=reserved)
            self.streams.add(stream)
            self.by_source[stream.source] += 1
            if not reserved:
                self.public += 1
            return stream

    def close(self, stream: Stream) -> None:
        with self.lock:
            if stream not in self.streams:
                return
            self.streams.discard(stream)
            self.by_source[stream.source] -= 1
            if self.by_source[stream.source] <= 0:
                del self.by_source[stream.source]
            if not stream.reserved:
                self.public -= 1

    def since(self, seq: int) -> list[dict] | None:
        """Events after ``seq`` from the ring, or None if some of them are gone."""
        with self.lock:
            if seq == self.last_seq:
                return []
            if seq > self.last_seq or not self.ring or self.ring[0]["seq"] > seq + 1:
                return None
            return [e for e in self.ring if e["seq"] > seq]

    def alive(self, within: float) -> bool:
        """Has hwd published anything (heartbeats included) in the last ``within`` seconds?"""
        return self.last_event_at > 0 and time.monotonic() - self.last_event_at < within


def sse(event: dict) -> str:
    """One event in text/event-stream form."""
    topic = event.get("topic", "message")
    lines = []
    if isinstance(event.get("seq"), int) and topic != RESYNC:
        lines.append(f"id: {event['seq']}")
    lines.append(f"event: {topic}")
    lines.append("data: " + json.dumps(event, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


def stream_body(hub: EventHub, stream: Stream, last_id: str | None, keepalive: float) -> Iterator[str]:
    """The response body of one SSE connection; closes the stream when the browser leaves."""
    try:
        yield "retry: 1000\n\n"
        if last_id:
            try:
                missed = hub.since(int(last_id))
            except ValueError:
                missed = None
            if missed is None:
                yield sse({"topic": RESYNC, "reason": "Last-Event-ID too old"})
            else:
                for event in missed:
                    if _match(event, stream.prefixes, stream.devices):
                        yield sse(event)
        else:
            yield sse({"topic": "hello", "seq": hub.last_seq or None})
        while True:
            item = stream.get(keepalive)
            if item is None:
                yield ": keepalive\n\n"
            elif item is CLOSE:
                yield sse({"topic": RESYNC, "reason": "too slow"})
                return
            else:
                yield item.text
    finally:
        hub.close(stream)
