"""The hall engine as the daemon runs it: opens the hall database, runs the rules, publishes what
they decided and hands it to the parts that act on it.

The rules live in hwd.hall.queue.core (synchronous, one SQLite transaction per operation). The
engine adds what needs the event loop and composes the parts by concern:

    hwd.hall.identity          card tokens, staff PIN checks and logins
    hwd.hall.issuing           kiosk and desk operations: card, rule, print
    hwd.hall.devices.printing  tickets and notices on paper
    hwd.hall.devices.screens   window screens, keypad LCDs, hall displays, announcements
    hwd.hall.devices.events    keypad keys and scanned codes as hall operations
    hwd.hall.phone.links       a ticket's phone page and QR text
    hwd.hall.pickup            the 24-hour area's locker: deposits, pickups, its doors' alarms
    hwd.hall.area              the 24-hour area's kiosk after hours: the hours said, slots booked

and the timer that expires tickets at the day's end and ratings at their timeout. The outbox's
sinks (province, county, phone notices) are not the hall's: hwd.hall_wiring, which runs the
engine, hands it the factories that make them (``sinks``) and the province's own rating page when
it has one (``rating_page``, the h5 adapter).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

from hwd import clock as clocks, errors, outbox, statedir
from hwd.errors import HwdError, StartupError
from hwd.hall import hallkeys
from hwd.hall.area import Area
from hwd.hall.phone import notices
from hwd.hall.queue.alerts import TidalAlerts
from hwd.hall.queue.appointments import Appointments
from hwd.hall.queue.core import HallCore
from hwd.hall.devices.events import DeviceEvents
from hwd.hall.devices.outputs import Outputs
from hwd.hall.devices.printing import Printing
from hwd.hall.devices.screens import Screens
from hwd.hall.identity import CardTokens, StaffLogins
from hwd.hall.issuing import Issuing
from hwd.hall.phone.links import Links
from hwd.hall.phone.board import PhoneBoard
from hwd.hall.pickup.codes import Codes
from hwd.hall.pickup.flow import Pickup
from hwd.hall.ratings import holders
from hwd.hall.ratings.channels import RatingChannels
from hwd.hall.store import Store, StoreError
from hwd.wording import Refusal

log = logging.getLogger("hwd.hall")
TICK_S = 1.0

SinkFactory = Callable[["HallEngine"], list]  # the outbox sinks one link asks for (none when unconfigured)


class HallEngine:
    def __init__(self, config: Any, manager: Any, bus: Any, methods: Any, clock: clocks.Clock | None = None,
                 sinks: Sequence[SinkFactory] = (), rating_page: Callable[[Any, dict], str] | None = None,
                 connect: Callable[..., sqlite3.Connection] = sqlite3.connect):
        self.config = config
        self.connect = connect  # the database's connections (replicated with [hall.standby])
        self.cfg = config.hall
        self.ui = getattr(config, "ui", None)
        self.manager = manager
        self.bus = bus
        self.methods = methods
        self.clock = clock or clocks.from_config(config.daemon)
        self.tz = self.clock.tz
        self.sink_factories = tuple(sinks)
        self.rating_page = rating_page  # the province's own rating page (h5), or None
        self.database = Path(self.cfg.database or Path(config.daemon.state_dir) / "hall.sqlite3")
        # through the method table, so device params are checked and defaulted as over RPC
        self.outputs = Outputs(methods.call)
        self.store: Store | None = None
        self.core: HallCore | None = None
        self.alerts: TidalAlerts | None = None
        self.appointments: Appointments | None = None
        self.outbox: outbox.Worker | None = None
        self.channels: RatingChannels | None = None
        self.phones: PhoneBoard | None = None
        self.notices: notices.Notices | None = None  # [hall.notify]
        self.links: Links | None = None
        self.holders: holders.Vault | None = None  # 实名评价 opt-in ([hall.upstream] real_name)
        self.printing: Printing | None = None
        self.cards = CardTokens(self.cfg, manager, methods.call)
        self.logins: StaffLogins | None = None
        self.issuing: Issuing | None = None
        self.screens: Screens | None = None
        self.device_events: DeviceEvents | None = None
        self.pickup: Pickup | None = None
        self.area: Area | None = None
        self.pickup_codes: Codes | None = None
        self._ticker: asyncio.Task | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        path = self.database
        try:
            self.store = Store(path, self.cfg.sync, self.connect)
        except (sqlite3.Error, StoreError) as exc:
            raise StartupError(f"cannot open the hall database {path}: {exc}") from None
        statedir.restrict(path)
        self.core = HallCore(self.cfg, self.store, self.clock, self.rating_page)
        self.alerts = TidalAlerts(self.cfg, self.store, self.clock, self.bus.publish)
        self._open_keyed_parts()
        self.outbox = outbox.Worker(path, self._sinks(), self.cfg.upstream.retry_s, self.cfg.upstream.retry_max_s,
                                    connect=self.connect)
        self.outbox.start()
        self.printing = Printing(self.cfg, self.core, self.outputs, self.links.qr_text)
        self.logins = StaffLogins(self.cfg, self.ui, self.core, self.run)
        self.issuing = Issuing(self.cfg, self.core, self.appointments, self.cards, self.printing, self.run,
                               self.bus.publish, self.holders)
        self.screens = Screens(self.cfg, self.store, self.outputs, self.config.devices)
        self.area = Area(self.cfg, self.core, self.appointments, self.cards, self.outputs)
        self.device_events = DeviceEvents(self.cfg, self.core, self.run, self.bus.publish, self.issuing.checkin,
                                          self.logins.login, self.screens.feedback)
        for link in self.manager.nodes.values():  # a node back: re-send what its screens missed
            link.on_up.append(self.outputs.retry)
        self.device_events.subscribe(self.bus)
        self.bus.subscribe("printer.job", self.printing.on_job)
        self._start_pickup()
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        self.clock.on_change(lambda: self.tick() if threading.get_ident() == loop_thread
                             else loop.call_soon_threadsafe(self.tick))
        self.tick()
        self.screens.refresh_all()
        self._ticker = asyncio.ensure_future(self._tick_loop())
        log.info("hall %r: %d services, %d windows, database %s", self.cfg.name, len(self.cfg.services),
                 len(self.cfg.windows), path)

    def _open_keyed_parts(self) -> None:
        """The parts that need the hall's keys: phone tokens (ratings, the phone board, notices,
        links) and appointments."""
        keys_dir = self.cfg.keys_dir or Path(self.config.daemon.state_dir) / "keys"
        try:
            self.channels = RatingChannels(self.core, hallkeys.load(keys_dir, "ticket-token"))
            appointment_key = hallkeys.load(keys_dir, "appointment")
            self.pickup_codes = Codes(hallkeys.load(keys_dir, "pickup"), self.cfg.pickup.code_length)
        except (OSError, hallkeys.KeyError_) as exc:
            raise StartupError(f"cannot use the hall keys in {keys_dir}: {exc}") from None
        self.phones = PhoneBoard(self.core, self.channels)
        self.links = Links(self.cfg, getattr(self.ui, "public_url", "") or "", self.channels)
        if self.cfg.notify.on:
            self.notices = notices.Notices(self.phones, self.cfg.notify.alert_ahead, self.links.token_url)
        self.appointments = Appointments(self.core, appointment_key)
        if self.cfg.upstream.real_name:
            try:
                key = hallkeys.load(keys_dir, holders.KEY_NAME)
            except (OSError, hallkeys.KeyError_) as exc:
                raise StartupError(f"cannot use the hall keys in {keys_dir}: {exc}") from None
            self.holders = holders.Vault(key, str(self.database), self.connect)

    def _start_pickup(self) -> None:
        """The locker (hwd.hall.pickup): its doors' events, its notices and the phone page's view."""
        doors = {d.id: int(d.options.get("doors", 24)) for d in self.config.devices if d.kind == "locker"}
        self.pickup = Pickup(self.cfg, self.core, self.run, self.methods.call, self.cards, self.pickup_codes,
                             self.appointments.person_key, doors,
                             tell=self._tell_pickup if self.cfg.notify.on else None)
        self.bus.subscribe("locker.door", lambda topic, event: self.pickup.on_door(event))
        self.bus.subscribe("locker.fault", lambda topic, event: self.pickup.on_fault(event))
        self.bus.subscribe("device.state", lambda topic, event: self.pickup.on_device(event))
        self.phones.pickups = self.pickup.phone_views
        if self.cfg.pickup.on:
            self.pickup.start()

    def _tell_pickup(self, db: sqlite3.Connection, deposit: dict, code: str) -> None:
        """The phone notice of a result in the locker ([hall.notify]), in the deposit's transaction."""
        ticket = self.store.ticket(deposit["ticket"])
        if ticket is not None:
            token = self.channels.token(ticket["id"], ticket["day"])
            notices.pickup(db, ticket, deposit, code, token, self.links.token_url(token), self.core, self.clock)

    def _sinks(self) -> list:
        try:
            return [sink for factory in self.sink_factories for sink in factory(self)]
        except HwdError as exc:  # e.g. the signing library is not installed
            raise StartupError(f"[hall.upstream] / [hall.central] / [hall.notify]: {exc}") from None

    # -- a new config, applied live (hwd.configstore) ------------------------------------------
    # what the engine opened at start keeps its value until a restart (hwd.configstore.RESTART_HALL_KEYS)
    KEPT_UNTIL_RESTART = ("database", "keys_dir", "sync", "standby", "central", "upstream", "notify", "pickup")

    def reconfigure(self, config: Any) -> None:
        """Run by ``config``'s ``[hall]`` from now on, in every part, on the engine's loop; the
        queue, calls in progress, logins, device connections and streams go on. Keys opened at
        start (database, keys, links) keep their running values until a restart."""
        cfg = config.hall
        for key in self.KEPT_UNTIL_RESTART:
            setattr(cfg, key, getattr(self.cfg, key))
        self.core.reconfigure(cfg)  # keeps retiring windows and services in cfg
        self.cfg = cfg
        for part in (self.cards, self.alerts, self.links, self.printing, self.logins, self.issuing, self.screens,
                     self.area, self.pickup, self.device_events):
            if part is None:
                continue
            reconfigure = getattr(part, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(cfg)
            else:
                part.cfg = cfg
        log.info("hall %r reconfigured: %d services, %d windows, %d staff", cfg.name, len(cfg.services),
                 len(cfg.windows), len(cfg.staff))
        self.screens.refresh_all()

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        if self.device_events is not None:
            await self.device_events.close()
        if self.pickup is not None:
            await self.pickup.close()
        if self.screens is not None:
            self.screens.close()
        await self.outputs.close()
        if self.outbox is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.outbox.stop)
        if self.store is not None:
            self.store.close()

    # -- running rules -----------------------------------------------------------------------
    def run(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        """Run one rule operation (committed), then publish its events and drive the devices."""
        core = self.core
        try:
            core.roll()
            self._flush()
            result = fn(*args, **kwargs)
        except sqlite3.Error as exc:
            core.pending.clear()
            log.exception("hall database error")
            raise Refusal(errors.STORAGE_ERROR, "", {"detail": str(exc)}) from None
        except BaseException:
            core.pending.clear()
            raise
        self._flush(notify=True)
        self.alerts.check()  # the queue may have grown or shrunk (tidal-window alerts)
        if self.core.retire():  # a window removed from the config finished its last ticket
            self.screens.refresh_all()
        return result

    def _flush(self, notify: bool = False) -> None:
        changed = bool(self.core.pending)
        if changed and self.outbox is not None:
            self.outbox.notify()
        if changed and notify and self.notices is not None:
            self._write_notices()
        for topic, data in self.core.drain():
            self.bus.publish(topic, data)
            if self.screens is not None:
                self.screens.on_event(topic, data)

    def _write_notices(self) -> None:
        """Phone notices for what just changed ([hall.notify]); a failure costs notices, not the change."""
        try:
            if self.notices.check():
                self.outbox.notify()
        except Exception:  # the change is committed: its reply must not fail for a notice
            log.exception("phone notices not written")

    def tick(self) -> None:
        """Day rollover, rating timeouts and tidal-window alerts; runs every second and whenever the
        clock jumps."""
        if self.core is None:
            return
        try:
            self.core.roll()
            self.core.ratings.expire_due()
            if self.holders is not None:
                with self.store.tx():
                    holders.purge(self.store.db, self.clock.time())
        except sqlite3.Error:
            self.core.pending.clear()
            log.exception("hall timer failed")
            return
        self._flush(notify=True)
        self.alerts.check()  # waits grow with time alone
        if self.pickup is not None and self.cfg.pickup.on:
            try:
                self.pickup.tick()  # doors left open
            except HwdError as exc:
                log.warning("locker doors not checked: %s", exc)
        if self.core.retire():  # a retiring window's last rating timed out
            self.screens.refresh_all()

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.tick()

    def snapshot(self) -> dict:
        snap = self.core.snapshot()
        snap["seq"] = self.bus.seq
        snap["nodes"] = {node_id: link.up for node_id, link in self.manager.nodes.items()}
        return snap
