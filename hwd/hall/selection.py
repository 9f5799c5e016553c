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
