"""Keep the demo's processes running the way systemd keeps hwd.service and hwd-ui.service running.

Under systemd each unit has ``Restart=on-failure``: a child that dies from a signal or exits
non-zero is started again after ``RestartSec``, and the others are left alone, so the pages
show their own recovery while hwd comes back. ``make demo`` has no systemd, so this does the
same for its children: restart on failure with a doubling delay (0.5 s … 10 s, reset once a
child has run ``STABLE_S``), leave a child that exited cleanly stopped, stop all on request.
"""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Callable

FIRST_DELAY_S, MAX_DELAY_S, STABLE_S = 0.5, 10.0, 30.0


@dataclass
class Child:
    """One supervised process: its command and what happened to it."""

    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    started: float = 0.0
    delay: float = FIRST_DELAY_S
    restart_at: float | None = None
    restarts: int = 0
    done: bool = False        # exited cleanly: not restarted (Restart=on-failure)


class Supervisor:
    def __init__(self, say: Callable[[str], None] = print):
        self.children: list[Child] = []
        self.say = say

    def add(self, name: str, argv: list[str]) -> Child:
        child = Child(name, list(argv))
        self.children.append(child)
        return child

    def start(self, child: Child) -> None:
        child.proc = subprocess.Popen(child.argv)
        child.started = time.monotonic()
        child.restart_at = None

    def check(self) -> None:
        """Notice children that died and restart those whose delay has passed."""
        now = time.monotonic()
        for child in self.children:
            if child.done or child.proc is None:
                continue
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self.say(f"demo: starting {child.name} again (restart {child.restarts})")
                    self.start(child)
                continue
            code = child.proc.poll()
            if code is None:
                if now - child.started >= STABLE_S:
                    child.delay = FIRST_DELAY_S
                continue
            if code == 0:
                self.say(f"demo: {child.name} exited; not restarted")
                child.done = True
                continue
            why = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
            self.say(f"demo: {child.name} died ({why}); restarting in {child.delay:g} s")
            child.restart_at = now + child.delay
            child.delay = min(child.delay * 2, MAX_DELAY_S)

    def all_done(self) -> bool:
        return all(c.done for c in self.children)

    def stop(self, timeout: float = 5.0) -> None:
        running = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        for proc in running:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
