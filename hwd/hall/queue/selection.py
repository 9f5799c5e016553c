"""Which ticket a window calls next: pure rules, no storage, so property tests can check them.

Order: the window's services in order of preference (the first service with anyone waiting);
within it, priority tickets first, oldest first (by issue time, kept across transfers); but once
``fairness`` priority tickets in a row have overtaken a waiting normal ticket at this window,
the oldest normal ticket goes next. So a normal ticket is overtaken at most ``fairness`` times
in a row and never starves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Head:
    """The oldest waiting ticket of one class in one service."""

    id: int
    sort_key: float
    priority: bool


def pick(queues: Sequence[tuple[Head | None, Head | None]], streak: int, fairness: int) -> Head | None:
    """``queues``: per service in preference order, (oldest priority, oldest normal)."""
    for prio, normal in queues:
        if prio is None and normal is None:
            continue
        if prio is not None and (normal is None or streak < fairness):
            return prio
        return normal
    return None


def next_streak(streak: int, picked: Head, normal_waiting: bool) -> int:
    """The window's count of priority calls that overtook a waiting normal ticket, in a row."""
    if not picked.priority:
        return 0
    return streak + 1 if normal_waiting else streak


def ahead(priority: Sequence[int], normal: Sequence[int], target: int, streak: int, fairness: int) -> int:
    """How many of one service's waiting tickets a window calls before ``target``, by the rules of
    ``pick``: ``priority`` and ``normal`` are the ticket ids of each class, oldest first, and
    ``streak`` the window's count of priority calls that overtook a normal ticket."""
    p, n, count = list(priority), list(normal), 0
    if target not in p and target not in n:
        raise ValueError(f"ticket {target} is not waiting")
    while True:
        hp = Head(p[0], 0, True) if p else None
        hn = Head(n[0], 0, False) if n else None
        picked = pick([(hp, hn)], streak, fairness)
        if picked.id == target:
            return count
        streak = next_streak(streak, picked, bool(n))
        (p if picked.priority else n).pop(0)
        count += 1


def order(priority: Sequence[int], normal: Sequence[int], streak: int, fairness: int) -> list[int]:
    """Every waiting ticket of one service in the order a window calls them, by the rules of
    ``pick`` (``ahead`` of a ticket is its index here); one pass, for a board of all tickets."""
    p, n, out = list(reversed(priority)), list(reversed(normal)), []
    while p or n:
        hp = Head(p[-1], 0, True) if p else None
        hn = Head(n[-1], 0, False) if n else None
        picked = pick([(hp, hn)], streak, fairness)
        streak = next_streak(streak, picked, bool(n))
        out.append((p if picked.priority else n).pop())
    return out
