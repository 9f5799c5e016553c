"""Helpers for the hall tests: a config from TOML text, and an engine run in-process on a real
event bus, device manager and method table (only the ZeroMQ sockets are left out)."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

from hwd import config as configuration
from hwd import hall_wiring
from hwd.events import EventBus
from hwd.manager import DeviceManager
from hwd.rpc import MethodTable
from support.halls import basic_hall

HALL = basic_hall(rating_timeout_s=30).toml()


START = "2026-11-23T09:00:00"  # a Monday; the hall opens on the test clock, never on today's date


def load_config(tmp_path: Path, hall: str = HALL, daemon_extra: str = "test_clock = true\n",
                start: str | None = START) -> Any:
    """``start``: the test clock runs from then (``[daemon] test_clock_start``) when the daemon
    section has a test clock."""
    if start and "test_clock = true" in daemon_extra and "test_clock_start" not in daemon_extra:
        daemon_extra += f'test_clock_start = "{start}"\n'
    text = f'[daemon]\nstate_dir = "{tmp_path / "state"}"\n{daemon_extra}\n' + textwrap.dedent(hall)
    return configuration.loads(text, tmp_path / "hwd.toml")


class EngineHarness:
    """A HallEngine wired and started as the daemon starts it (hwd.hall_wiring); ``call`` goes
    through the real method table (params checked)."""

    def __init__(self, cfg: Any):
        self.cfg = cfg
        self.loop = asyncio.get_running_loop()
        self.bus = EventBus(self.loop)
        self.events: list[tuple[str, dict]] = []
        self.bus.subscribe("", lambda topic, event: self.events.append((topic, event)))
        self.manager = DeviceManager(cfg, self.bus.publish, cfg.daemon.state_dir)
        self.manager.build()
        self.methods = MethodTable()
        self.engine: Any = None

    async def start(self) -> "EngineHarness":
        self.engine = hall_wiring.engine(self.cfg, self.manager, self.bus, self.methods)
        await hall_wiring.start(self.engine)
        return self

    async def call(self, method: str, params: dict | None = None) -> Any:
        return await self.methods.call(method, params or {})

    def topics(self, prefix: str = "hall.") -> list[str]:
        return [t for t, _ in self.events if t.startswith(prefix)]

    async def stop(self) -> None:
        await self.engine.stop()
