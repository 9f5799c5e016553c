"""The daemon: binds the ZeroMQ sockets, starts the devices (and the hall engine when the config
has ``[hall]``), serves RPC, publishes events and talks to systemd.

One asyncio loop; each device's blocking I/O runs in its own worker thread (hwd.device).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import socket
import time
import uuid
import zoneinfo
from pathlib import Path
from typing import Any

import zmq

from hwd import __version__, access, audit, capture_api, clock as clocks, configapi, keys, metrics, replay as replays, statedir
from hwd.clockwatch import ClockWatch
from hwd.config import Config
from hwd.configstore import ConfigStore
from hwd.errors import StartupError
from hwd.events import EventBus
from hwd.manager import DeviceManager
from hwd.notify import Notifier
from hwd.rpc import MethodTable, RpcServer
from hwd.schema import Field

log = logging.getLogger("hwd")
RESTART_STATUS = 75  # a planned restart: the unit's RestartForceExitStatus= starts hwd again
PUB_SNDHWM = 10000  # events queued per subscriber before the PUB socket drops (docs/security.md)


def max_message_bytes(daemon: Any) -> int:
    """The largest frame the RPC socket takes: a bigger one makes libzmq drop that connection
    before buffering it. Up to this size an oversized request still gets error -32000
    (``max_request_bytes``), so a client learns why."""
    return max(1024 * 1024, 4 * daemon.max_request_bytes)


def _ipc_path(endpoint: str) -> Path | None:
    return Path(endpoint[len("ipc://"):]) if endpoint.startswith("ipc://") else None


def _check_ipc_free(path: Path) -> None:
    if not path.exists():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return  # stale socket file from a daemon that died: zmq replaces it
    finally:
        probe.close()
    raise StartupError(f"{path} is in use: another hwd is running with this endpoint")


class Daemon:
    def __init__(self, config: Config, notifier: Notifier | None = None):
        self.config = config
        self.notifier = notifier or Notifier()
        self.started = time.monotonic()
        self.boot_id = uuid.uuid4().hex[:16]
        standby = config.hall.standby if config.hall is not None else None
        self.engine_pc = config.hall is not None and (standby is None or bool(standby.this))
        if standby is not None and standby.this:  # an engine PC of a hall with two (docs/standby.md)
            from hwd.standby.guard import GuardedMethods

            self.methods: MethodTable = GuardedMethods()
        else:
            self.methods = MethodTable()
        self.stop_event: asyncio.Event | None = None
        self.hall: Any = None
        self.context: zmq.Context | None = None
        self.sockets: list[zmq.Socket] = []
        self.auth: Any = None
        self.bound_paths: list[Path] = []
        self.node_links: list[Any] = []
        self.clock: clocks.Clock | None = None
        self.clock_watch: ClockWatch | None = None
        self.journal: replays.Journal | None = None
        self.rpc_server: RpcServer | None = None
        self.config_store: ConfigStore | None = None
        self.exit_code = 0
        self.restart_at: dt.datetime | None = None  # a planned restart (config.restart)

    # -- sockets -----------------------------------------------------------------------------
    def _bind(self, kind: int, endpoint: str, options: dict[int, int] | None = None) -> zmq.Socket:
        """A socket bound to ``endpoint``. ``options`` are set before ``bind``: libzmq copies a
        socket's options into its listener at bind time, so anything set later never reaches the
        connections it accepts (MAXMSGSIZE and SNDHWM did not hold before this)."""
        sock = self.context.socket(kind)
        sock.linger = 0
        for option, value in (options or {}).items():
            sock.setsockopt(option, value)
        self.sockets.append(sock)
        daemon = self.config.daemon
        path = _ipc_path(endpoint)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            _check_ipc_free(path)
        elif endpoint.startswith("tcp://") and not daemon.insecure:
            if self.auth is None:
                self.auth = keys.start_authenticator(self.context, daemon.clients_dir)
            keys.secure_server(sock, daemon.server_key)
        elif endpoint.startswith("tcp://"):
            log.warning("%s is served WITHOUT encryption or authentication (insecure = true)", endpoint)
        try:
            sock.bind(endpoint)
        except zmq.ZMQError as exc:
            raise StartupError(f"cannot bind {endpoint}: {exc}") from None
        if path is not None:
            self.bound_paths.append(path)
            os.chmod(path, 0o660)
        return sock

    # -- core methods ------------------------------------------------------------------------
    def _register_core(self, manager: DeviceManager, bus: EventBus) -> None:
        m = self.methods

        def ping(p: dict) -> dict:
            if p["echo"] is not None:
                bus.publish("daemon.echo", {"echo": p["echo"]})
            return {"pong": True}
        echo = Field("echo", str, None, check=lambda v: "at most 64 characters" if len(v) > 64 else None)
        m.add("daemon.ping", ping, (echo,),
              "answers at once: for latency checks; with ``echo``, publishes ``daemon.echo`` {echo} first, "
              "so a subscriber can see its subscription is live", replay=False)
        m.add("devices.list", lambda p: manager.describe(), (), "every device with its state", replay=False)
        m.add("daemon.status", lambda p: self.status(manager, bus), (), "version, uptime, last seq, devices",
              replay=False)
        m.add("daemon.methods", lambda p: m.describe(), (),
              "the RPC methods this daemon serves, with their params", replay=False)
        m.add("sim.list", lambda p: [e.status() for e in manager.sims.emulators.values()], (),
              "emulated devices (sim://)", replay=False)

        async def sim_control(p: dict) -> Any:
            emulator = manager.sims.get(p["device"])
            return await asyncio.to_thread(emulator.control_device, p["device"], p["action"], p["params"])
        capture_api.register(m, manager)
        metrics.register(m, self)
        m.add("sim.control", sim_control, (Field("device", str), Field("action", str), Field("params", dict, {})),
              "act on an emulated device: its own actions and fault injection",
              max_text=self.config.daemon.max_request_bytes)  # a burst of scans for an emulator

    def status(self, manager: DeviceManager, bus: EventBus) -> dict:
        return {"version": __version__, "pid": os.getpid(), "boot_id": self.boot_id,
                "uptime_s": round(time.monotonic() - self.started, 3), "seq": bus.seq,
                "config": str(self.config.path), "devices": manager.summary(),
                "hall": self.hall is not None}

    # -- main --------------------------------------------------------------------------------
    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop_event.set)
        daemon = self.config.daemon
        self.notifier.status("starting")
        self.context = zmq.Context()
        try:
            router = self._bind(zmq.ROUTER, daemon.rpc, {zmq.MAXMSGSIZE: max_message_bytes(daemon)})
            pub = self._bind(zmq.PUB, daemon.events, {zmq.SNDHWM: PUB_SNDHWM})
            bus = EventBus(loop, pub)
            statedir.prepare(daemon.state_dir)
            audit.to_file(daemon.state_dir / "audit", "hwd", daemon.audit_keep_days, zoneinfo.ZoneInfo(daemon.timezone))
            manager = DeviceManager(self.config, bus.publish, daemon.state_dir)
            self.manager = manager
            manager.build()
            self._register_core(manager, bus)
            self.clock = clocks.from_config(daemon)
            self.clock_watch = ClockWatch(self.clock, daemon.state_dir, bus.publish)
            self.clock_watch.start()
            clocks.register(self.methods, self.clock, self.clock_watch.status)
            manager.register_methods(self.methods)
            if self.config.nodes:
                from hwd.nodes import connect_all

                self.node_links = await connect_all(self.config, manager, bus.publish)
            if self.engine_pc and self.config.hall.standby is not None:
                from hwd.standby.node import StandbyNode  # the engine runs while this PC is the active one

                self.hall = StandbyNode(self.config, manager, bus, self.methods, self.clock)
                await self.hall.start()
            elif self.engine_pc:
                from hwd import hall_wiring

                self.hall = hall_wiring.engine(self.config, manager, bus, self.methods, self.clock)
                await hall_wiring.start(self.hall)
            self._open_config_store(bus)
            manager.start()
        except BaseException:
            self._close()
            raise
        self.journal = replays.Journal(daemon.state_dir / "rpc-replay.sqlite3")
        statedir.restrict(daemon.state_dir / "rpc-replay.sqlite3")
        server = self.rpc_server = RpcServer(router, self.methods, daemon.max_request_bytes, self.journal,
                                             daemon.replay_max_bytes, access.CardDataAccess(daemon.card_data_clients),
                                             access.ConfigAccess(daemon.config_clients))
        tasks = [asyncio.ensure_future(server.serve()), asyncio.ensure_future(self._heartbeat(bus, manager))]
        interval = Notifier.watchdog_interval()
        if interval:
            tasks.append(asyncio.ensure_future(self._watchdog(interval)))
        tasks.append(asyncio.ensure_future(self._night_restart()))
        log.info("hwd %s serving %s and %s with %d devices", __version__, daemon.rpc, daemon.events,
                 len(manager.devices))
        self.notifier.ready(f"serving {len(manager.devices)} devices")
        try:
            await self.stop_event.wait()
        finally:
            log.info("stopping")
            self.notifier.stopping()
            for task in tasks:
                task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(*tasks, return_exceptions=True)
            if self.hall is not None:
                await self.hall.stop()
            if self.clock_watch is not None:
                await self.clock_watch.stop()
            for link in self.node_links:
                await link.stop()
            await asyncio.to_thread(manager.stop, 1.2)
            if self.config_store is not None:
                self.config_store.close()
            self._close()

    def _close(self) -> None:
        if self.auth is not None:
            with contextlib.suppress(Exception):
                self.auth.stop()
        for sock in self.sockets:
            sock.close(linger=0)
        if self.context is not None:
            self.context.term()
        if self.journal is not None:
            with contextlib.suppress(Exception):
                self.journal.close()
        for path in self.bound_paths:
            with contextlib.suppress(OSError):
                path.unlink()

    async def _heartbeat(self, bus: EventBus, manager: DeviceManager) -> None:
        while True:
            await asyncio.sleep(self.config.daemon.heartbeat_s)
            extra = getattr(self.hall, "heartbeat_info", None)  # [hall.standby]: who is active
            bus.publish("daemon.heartbeat", {"boot_id": self.boot_id,
                                             "uptime_s": round(time.monotonic() - self.started, 1),
                                             **(extra() if extra else {})})

    # -- the config file (hwd.configstore) ------------------------------------------------------
    def _open_config_store(self, bus: EventBus) -> None:
        """The config file's versions and the ``config.*`` methods; changes under ``[hall]`` go to
        the running engine (HallEngine.reconfigure)."""
        daemon = self.config.daemon
        self.config_store = ConfigStore(self.config.path, daemon.state_dir, self.clock.now, self.config,
                                        self._apply_live)
        central = self.config.hall.central if self.config.hall is not None else None
        fetch = None
        if central is not None:
            from hwd.county import catalogue as county_catalogue  # psycopg only where the county is linked

            fetch = lambda: county_catalogue.latest(central.dsn, central.connect_timeout_s)  # noqa: E731
        configapi.register(self.methods, self.config_store, bus.publish, daemon.max_request_bytes,
                           self._plan_restart, fetch)
        logins = getattr(self.hall, "logins", None)
        if logins is not None:
            logins.write_pin = lambda staff, stored, source: self._write_pin(bus, staff, stored, source)

    def _write_pin(self, bus: EventBus, staff: str, stored: str, source: str | None) -> None:
        """A clerk's new PIN hash into the config file, as its own audited version."""
        op = {"op": "set", "path": ["hall", "staff", {"id": staff}, "pin_hash"], "value": stored}
        reply = self.config_store.edit([op], None, staff, source or "rpc", "new PIN set by the clerk")
        bus.publish("hall.config_changed", configapi.event(reply))

    def _apply_live(self, new: Config, keys: list[str]) -> None:
        reconfigure = getattr(self.hall, "reconfigure", None)
        if any(k.startswith("hall.") for k in keys):
            if reconfigure is None:  # an engine PC of two ([hall.standby]) takes changes at a restart
                raise RuntimeError("this hall engine takes config changes at a restart")
            reconfigure(new)
        log.info("config applied live: %s", ", ".join(keys))

    def _plan_restart(self, at: str) -> dict:
        """Plan (``night``) or cancel a restart at the next ``night_restart_at`` of the hall's clock."""
        self.restart_at = None
        if at == "night":
            hour, minute = map(int, self.config.daemon.night_restart_at.split(":"))
            now = self.clock.now()
            when = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            self.restart_at = when if when > now else when + dt.timedelta(days=1)
        log.info("restart at night %s", f"planned at {self.restart_at.isoformat()}" if self.restart_at else "cancelled")
        return {"planned": self.restart_at is not None,
                "at": self.restart_at.isoformat(timespec="minutes") if self.restart_at else None,
                "restart": list(self.config_store.pending_restart) if self.config_store else []}

    async def _night_restart(self) -> None:
        """A planned restart: once the hall's clock reaches it, hwd stops with status 75."""
        while True:
            await asyncio.sleep(1.0)
            if self.restart_at is not None and self.clock.now() >= self.restart_at:
                log.warning("restarting as planned for the night: %s",
                            ", ".join(self.config_store.pending_restart) if self.config_store else "")
                self.exit_code = RESTART_STATUS
                self.stop_event.set()
                return

    async def _watchdog(self, interval: float) -> None:
        while True:
            self.notifier.watchdog()
            await asyncio.sleep(interval)

