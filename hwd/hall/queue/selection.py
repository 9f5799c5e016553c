"""Which ticket a window calls next, and the order in which every waiting ticket will be called:
pure rules, no storage, so property tests can check them.

**Calling** (``pick``). A window looks at the waiting tickets of every service it serves, in
tiers: first the priority class of its own kind (a 老年人 window: ``elderly``; a 军人优先 window:
``military``), then the other priority classes, then normal tickets. Within a tier: the window's
services in order of preference, then the oldest by issue time (sort key, then id). Fairness:
once ``fairness`` priority tickets in a row have overtaken a waiting normal ticket of any of the
window's services at this window (its ``streak``), the window's best normal ticket goes next. So
at every window a normal ticket is overtaken by at most ``fairness`` priority calls in a row.

**The predicted order** (``places``). With several windows the order of calls depends on which
window calls next, so the prediction states it: the open windows take turns in the order they
would become free if every service took the same time (the model of the wait estimate, hence
its name ``rotation``): first the idle ones (in config order), then the busy ones, the one that
called its current ticket first ahead; then again in the same order, each window calling by
``pick`` with its own streak, until no window finds a ticket. No new ticket arrives, every
called ticket is served. A service no open window serves is predicted as if its paused or
closed windows opened, after the open ones, each taking only such services. A ticket's
``ahead`` is the number of calls, in that order, made before its own by windows that serve its
service: the people its windows will call before it.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

NORMAL = "normal"
# the priority class a window of this kind calls first (design: 老年人服务窗口, 军人依法优先)
KIND_CLASS = {"老年人": "elderly", "军人优先": "military"}


@dataclass(frozen=True)
class Ticket:
    """A waiting ticket as the rules see it."""

    id: int
    service: str
    cls: str = NORMAL  # "normal" or a priority class
    sort_key: float = 0.0

    @property
    def priority(self) -> bool:
        return self.cls != NORMAL


@dataclass
class Caller:
    """A window as the rules see it: its services in order of preference, the class its kind
    calls first, its streak of priority calls that overtook a waiting normal ticket."""

    id: str
    services: tuple[str, ...]
    prefers: str | None = None
    streak: int = 0


@dataclass(frozen=True)
class WindowNow:
    """A window's state, for ``rotation``."""

    id: str
    services: tuple[str, ...]
    prefers: str | None
    streak: int
    state: str          # "open", "paused" or "closed"
    busy: bool = False  # holds a called or serving ticket
    since: float = 0.0  # when it called its current ticket


@dataclass(frozen=True)
class Place:
    """Where a waiting ticket stands: ``ahead`` calls before it by the windows of its service;
    the window predicted to call it, that window's calls before it (``turn``), whether that
    window is busy now, and whether it is open (False: predicted as if it opened)."""

    ahead: int
    window: str
    turn: int
    busy: bool
    open: bool


Heads = Mapping[str, Mapping[str, Ticket]]  # service -> class -> its oldest waiting ticket


def tier(caller: Caller, cls: str) -> int:
    """0: the window's own class, 1: another priority class, 2: normal."""
    if cls == NORMAL:
        return 2
    return 0 if cls == caller.prefers else 1


def pick(caller: Caller, heads: Heads, fairness: int) -> Ticket | None:
    """The ticket ``caller`` calls next, from the oldest waiting ticket of each class of each
    service (``heads``), by the rules above."""
    best, normal = None, None
    for rank, service in enumerate(caller.services):
        for cls, t in heads.get(service, {}).items():
            if cls == NORMAL:
                if normal is None:
                    normal = t
                continue
            key = (tier(caller, cls), rank, t.sort_key, t.id)
            if best is None or key < best[0]:
                best = (key, t)
    if best is not None and (normal is None or caller.streak < fairness):
        return best[1]
    return normal


def next_streak(streak: int, picked: Ticket, normal_waiting: bool) -> int:
    """The window's count of priority calls that overtook a waiting normal ticket, in a row."""
    if not picked.priority:
        return 0
    return streak + 1 if normal_waiting else streak


def normal_waiting(caller: Caller, heads: Heads) -> bool:
    return any(NORMAL in heads.get(s, {}) for s in caller.services)


def rotation(windows: Sequence[WindowNow], services: Iterable[str]) -> list[Caller]:
    """The windows in the stated calling order (see the module's doc): the open ones (idle in
    the given order, then busy by ``since``), then, for each service no open window serves, its
    other windows restricted to such services (config order); a service with no window at all
    gets a window of its own. ``services``: every service of the hall."""
    index = {w.id: i for i, w in enumerate(windows)}
    opened = [w for w in windows if w.state == "open"]
    opened.sort(key=lambda w: (w.busy, w.since if w.busy else 0.0, index[w.id]))
    out = [Caller(w.id, tuple(w.services), w.prefers, w.streak) for w in opened]
    served = {s for w in opened for s in w.services}
    orphans = [s for s in services if s not in served]
    for w in windows:
        if w.state != "open":
            mine = tuple(s for s in w.services if s in orphans)
            if mine:
                out.append(Caller(w.id, mine, w.prefers, w.streak))
    covered = {s for c in out for s in c.services}
    out += [Caller("", (s,)) for s in orphans if s not in covered]
    return out


def order(callers: Sequence[Caller], tickets: Iterable[Ticket], fairness: int) -> list[tuple[str, Ticket]]:
    """(window, ticket) of every call, in order, when ``callers`` take turns as listed (each by
    ``pick`` with its own streak; a window that finds nothing leaves the turn) until none finds
    a ticket; tickets no caller serves are never called. The callers are not changed."""
    queues: dict[str, dict[str, collections.deque]] = collections.defaultdict(dict)
    for t in sorted(tickets, key=lambda t: (t.sort_key, t.id)):
        queues[t.service].setdefault(t.cls, collections.deque()).append(t)
    turn = [Caller(c.id, c.services, c.prefers, c.streak) for c in callers]
    out: list[tuple[str, Ticket]] = []
    while turn:
        still = []
        for caller in turn:
            heads = {s: {cls: q[0] for cls, q in queues[s].items()} for s in caller.services if queues.get(s)}
            picked = pick(caller, heads, fairness)
            if picked is None:
                continue
            caller.streak = next_streak(caller.streak, picked, normal_waiting(caller, heads))
            q = queues[picked.service][picked.cls]
            q.popleft()
            if not q:
                del queues[picked.service][picked.cls]
            out.append((caller.id, picked))
            still.append(caller)
        turn = still
    return out


def places(callers: Sequence[Caller], tickets: Iterable[Ticket], fairness: int,
           open_windows: set[str] | None = None, busy: set[str] | None = None) -> dict[int, Place]:
    """Ticket id → its ``Place`` when ``callers`` take turns (``order``): ``ahead`` counts the
    calls before it by windows serving its service. ``open_windows``/``busy``: the window ids
    open / holding a ticket now (default: all open, none busy)."""
    serves = {c.id: c.services for c in callers}
    done: collections.Counter = collections.Counter()   # calls so far by windows serving a service
    turns: collections.Counter = collections.Counter()  # calls so far by each window
    out: dict[int, Place] = {}
    for wid, t in order(callers, tickets, fairness):
        out[t.id] = Place(done[t.service], wid, turns[wid], wid in (busy or set()),
                          open_windows is None or wid in open_windows)
        for s in serves[wid]:
            done[s] += 1
        turns[wid] += 1
    return out
