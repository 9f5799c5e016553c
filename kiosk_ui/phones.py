"""The phones' snapshot: every ticket's phone page, rendered once per change for all phones.

Thousands of phones follow their tickets at once (docs/ui.md). Asking hwd for each phone's view on
each poll would cost one RPC per request; instead one refresher thread fetches the whole board
(``hall.phone_board``, after the first time only what changed since) when a ``hall.*`` event arrives (debounced, so a burst costs one fetch)
and every ``period_s`` (estimates and rating deadlines change with time alone), renders each
ticket's page once (kiosk_ui.phone_words) as JSON and as an SSE event, and swaps the table in
one assignment. A request is then a dict lookup: tokens are the table's keys. Listeners (the
phone server) learn which tokens changed, so only their phones are woken.

The ETag of an entry is ``"<boot>-<version>"``: a hwd-ui restart never matches an old ETag.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from typing import Callable, NamedTuple

from kiosk_ui import phone_words

log = logging.getLogger("kiosk_ui.phones")


class Entry(NamedTuple):
    body: bytes    # the page's JSON
    sse: bytes     # the same as one text/event-stream event
    etag: str
    version: int
    view: dict | None = None  # the board's view it was rendered from (unchanged: not rendered again)


class PhoneHub:
    def __init__(self, fetch: Callable[[str | None], dict], alert_ahead: int = 3, debounce_s: float = 0.02,
                 period_s: float = 15.0):
        self.fetch = fetch
        self.alert_ahead = alert_ahead
        self.debounce_s = debounce_s
        self.period_s = period_s
        self.entries: dict[str, Entry] = {}
        self.hall = ""
        self.ready = False
        self.version = 0
        self.refreshes = 0
        self.boot = secrets.token_hex(4)
        self.listeners: list[Callable[[set[str]], None]] = []
        self._context: dict | None = None
        self.since: str | None = None  # the board version we hold
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def get(self, token: str) -> Entry | None:
        return self.entries.get(token)

    def poke(self, event: dict | None = None) -> None:
        """Something may have changed (an event from hwd, a rating made here): refresh soon."""
        if event is None or str(event.get("topic", "")).startswith(("hall.", "resync")):
            self._wake.set()

    def start(self) -> "PhoneHub":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hwd-ui-phones", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.period_s if self.ready else 1.0)
            if self._stop.is_set():
                return
            self._wake.clear()
            time.sleep(self.debounce_s)  # let a burst of events arrive; they cost one fetch
            self._wake.clear()
            try:
                self.refresh()
            except Exception as exc:  # hwd down or restarting: keep the last table, try again
                log.info("phone board refresh failed: %s", exc)
                self._stop.wait(1.0)
                self._wake.set()

    def refresh(self) -> set[str]:
        """Fetch the board, re-render what changed, tell the listeners; returns the changed tokens."""
        board = self.fetch(self.since)
        old, new, changed = self.entries, {}, set()
        if board.get("full", True):
            views = board["tickets"]
        else:  # only what changed since our last answer: the rest as we have it
            views = {token: entry.view for token, entry in old.items()}
            views.update(board["tickets"])
            for token in board.get("removed", ()):
                views.pop(token, None)
        context = {k: v for k, v in board.items() if k not in ("tickets", "version", "full", "removed")}
        same_context = context == self._context
        for token, view in views.items():
            entry = old.get(token)
            if entry is not None and same_context and (entry.view is view or entry.view == view):
                new[token] = entry
                continue
            page = phone_words.page(view, board, self.alert_ahead)
            body = json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()
            if entry is None or entry.body != body:
                self.version += 1
                sse = b"id: %d\nevent: ticket\ndata: %s\n\n" % (self.version, body)
                entry = Entry(body, sse, f'"{self.boot}-{self.version}"', self.version, view)
                changed.add(token)
            else:
                entry = entry._replace(view=view)
            new[token] = entry
        changed.update(set(old) - set(new))  # a day rolled over: those links are gone
        self.entries, self.hall, self.ready, self._context = new, board.get("hall", ""), True, context
        self.since = board.get("version")
        self.refreshes += 1
        if changed:
            for listener in list(self.listeners):
                listener(changed)
        return changed
