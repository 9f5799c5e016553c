"""The hall engine as the daemon runs it: opens the hall database, links to other nodes,
registers the ``hall.*`` methods, publishes what the rules decided, and turns it into device
actions (window screens, announcements, keypad prompts, printed tickets).

The rules live in hwd.hall.core (synchronous, one SQLite transaction per operation). This module
adds what needs the event loop: card tokens, printing, device calls, keypad and scanner events,
and the timer that expires tickets at the day's end and ratings at their timeout.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any, Callable

from drivers.idcard.privacy import age_on, mask_name
from hwd import clock as clocks, errors, outbox, upstream
from hwd.errors import HwdError
from hwd.county import feed as county_feed
from hwd.hall import api, views
from hwd.hall.appointments import Appointments
from hwd.hall.core import HallCore
from hwd.hall.outputs import Outputs
from hwd.hall.store import Store, StoreError

log = logging.getLogger("hwd.hall")
TICK_S = 1.0


class HallEngine:
    def __init__(self, config: Any, manager: Any, bus: Any, methods: Any, clock: clocks.Clock | None = None):
        self.config = config
        self.cfg = config.hall
        self.manager = manager
        self.bus = bus
        self.methods = methods
        self.clock = clock or clocks.from_config(config.daemon)
        self.tz = self.clock.tz
        # through the method table, so device params are checked and defaulted as over RPC
        self.outputs = Outputs(methods.call)
        self.store: Store | None = None
        self.core: HallCore | None = None
        self.appointments: Appointments | None = None
        self.outbox: outbox.Worker | None = None
        self._ticker: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._keypads = {w.keypad: w.id for w in self.cfg.windows.values() if w.keypad}
        self._scanners = {k.scanner: k.id for k in self.cfg.kiosks.values() if k.scanner}

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        path = self.cfg.database or Path(self.config.daemon.state_dir) / "hall.sqlite3"
        try:
            self.store = Store(path, self.cfg.sync)
        except (sqlite3.Error, StoreError) as exc:
            from hwd.daemon import StartupError
            raise StartupError(f"cannot open the hall database {path}: {exc}") from None
        self.core = HallCore(self.cfg, self.store, self.clock)
        self.appointments = Appointments(self.core)
        try:
            sinks = upstream.sinks(self.cfg) + county_feed.attach(self, path)
        except HwdError as exc:  # e.g. the signing library is not installed
            from hwd.daemon import StartupError
            raise StartupError(f"[hall.upstream] / [hall.central]: {exc}") from None
        self.outbox = outbox.Worker(path, sinks, self.cfg.upstream.retry_s, self.cfg.upstream.retry_max_s)
        self.outbox.start()
        clocks.register(self.methods, self.clock)
        api.register(self.methods, self)
        await self._start_nodes()
        self.bus.subscribe("keypad.key", self._on_key)
        self.bus.subscribe("scanner.scan", self._on_scan)
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        self.clock.on_change(lambda: self.tick() if threading.get_ident() == loop_thread
                             else loop.call_soon_threadsafe(self.tick))
        self.tick()
        for wid in self.cfg.windows:
            self._refresh_screen(wid)
        self._ticker = asyncio.ensure_future(self._tick_loop())
        log.info("hall %r: %d services, %d windows, database %s", self.cfg.name, len(self.cfg.services),
                 len(self.cfg.windows), path)

    async def _start_nodes(self) -> None:
        """The daemon links to the other nodes; when one comes back, re-send what it missed."""
        for link in self.manager.nodes.values():
            link.on_up.append(self.outputs.retry)

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        for task in list(self._tasks) + ([self._ticker] if self._ticker else []):
            task.cancel()
        await asyncio.gather(*self._tasks, *([self._ticker] if self._ticker else []), return_exceptions=True)
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
            raise HwdError("系统存储故障，请联系工作人员", errors.STORAGE_ERROR, {"detail": str(exc)}) from None
        except BaseException:
            core.pending.clear()
            raise
        self._flush()
        return result

    def _flush(self) -> None:
        if self.core.pending and self.outbox is not None:
            self.outbox.notify()
        for topic, data in self.core.drain():
            self.bus.publish(topic, data)
            if topic == "hall.window.state":
                self._refresh_screen(data["id"])
            elif topic == "hall.ticket.called":
                self._announce(data)
            elif topic == "hall.rating.requested":
                keypad = self.cfg.windows[data["window"]].keypad
                if keypad:
                    self.outputs.fire("keypad.prompt", {"device": keypad})

    def tick(self) -> None:
        """Day rollover and rating timeouts; runs every second and whenever the clock jumps."""
        if self.core is None:
            return
        try:
            self.core.roll()
            self.core.ratings.expire_due()
        except sqlite3.Error:
            self.core.pending.clear()
            log.exception("hall timer failed")
            return
        self._flush()

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.tick()

    # -- devices -----------------------------------------------------------------------------
    def _refresh_screen(self, wid: str) -> None:
        window = self.cfg.windows[wid]
        if not window.display:
            return
        row = self.store.window(wid)
        current = self.store.ticket(row["current"]) if row["current"] else None
        self.outputs.show(window.display, views.screen_lines(row, self.cfg, current))

    def _announce(self, ticket: dict) -> None:
        window = self.cfg.windows[ticket["window"]]
        if window.speaker:
            self.outputs.fire("speaker.announce", {
                "device": window.speaker, "template": "call", "repeat": self.cfg.announce_repeat,
                "params": {"ticket": ticket["number"], "window": window.spoken or window.id}})
        for device in self.cfg.displays:
            self.outputs.show(device, [f"请{ticket['number']}号", f"到{window.name}办理"])

    async def _print(self, ticket: dict, kiosk: str | None, reprint: int = 0) -> dict:
        qr = self.cfg.ticket_qr.format(id=ticket["id"], number=ticket["number"], day=ticket["day"],
                                       service=ticket["service"])
        k = self.cfg.kiosks.get(kiosk) if kiosk else None
        if k is None or not k.printer:
            printed, error = False, "未指定带打印机的取号机，请记住您的号码" if k is None else "该取号机没有打印机"
        else:
            data = {"hall_name": self.cfg.name, "number": ticket["number"], "service_name": ticket["service_name"],
                    "waiting_ahead": ticket.get("waiting_ahead", 0), "issued_at": ticket["issued_at"],
                    "qr": qr,
                    "footer": list(self.cfg.ticket_footer)}
            job = f"hall-{ticket['id']}" + (f"-r{reprint}" if reprint else "")
            printed, error = await self.outputs.print(k.printer, "ticket", data, job, self.cfg.print_wait_ms)
        try:
            with self.store.tx():
                if printed:
                    self.store.update_ticket(ticket["id"], printed=1, print_error=None)
                elif not reprint:
                    self.store.update_ticket(ticket["id"], printed=0, print_error=error)
        except sqlite3.Error:  # the ticket is committed and valid: answer it, only the flag is lost
            log.exception("cannot record whether ticket %s was printed", ticket["number"])
        out = dict(ticket, printed=printed, qr=qr)
        out.pop("print_error", None)
        if error:
            out["print_error"] = error
        return out

    # -- operations with I/O -------------------------------------------------------------------
    async def issue_ticket(self, service: str, kiosk: str | None = None, card_token: str | None = None,
                           priority: str | None = None, appointment: str | None = None) -> dict:
        if appointment:
            return await self.checkin(code=appointment, kiosk=kiosk)
        holder = None
        chosen = priority or "normal"
        if card_token:
            card = await self._card(card_token, kiosk)
            holder = mask_name(card.get("name"))
            age = age_on(card.get("birth"), self.clock.now().date())
            if chosen == "normal" and age is not None and age >= self.cfg.priority_age \
                    and "elderly" in self.cfg.priority_classes:
                chosen = "elderly"
        ticket = self.run(self.core.issue, service, kiosk, chosen, holder)
        return await self._print(ticket, kiosk)

    async def checkin(self, code: str | None = None, card_token: str | None = None, kiosk: str | None = None) -> dict:
        if not code and not card_token:
            raise HwdError("give code or card_token", errors.INVALID_PARAMS)
        id_number = None
        if card_token and not code:
            id_number = (await self._card(card_token, kiosk)).get("id_number")
        appt = self.appointments.find(code=code, id_number=id_number)
        if appt["ticket"]:
            existing = self.store.ticket(appt["ticket"])
            if existing and existing["state"] in ("waiting", "called", "serving"):
                return dict(self.core.ticket_view(existing), checked_in=True,
                            waiting_ahead=self.store.waiting_ahead(existing["service"], existing["sort_key"], existing["id"]))
        in_slot = self.appointments.in_slot(appt)
        priority = "appointment" if in_slot and "appointment" in self.cfg.priority_classes else "normal"
        ticket = self.run(self.core.issue, appt["service"], kiosk, priority, None, appt["code"], not in_slot)
        self.appointments.mark(appt["code"], ticket["id"])
        self.bus.publish("hall.checkin", {"code": appt["code"], "ticket": ticket["id"], "number": ticket["number"],
                                          "kiosk": kiosk, "in_slot": in_slot})
        return await self._print(dict(ticket, in_slot=in_slot), kiosk)

    async def reprint(self, ticket: Any, kiosk: str | None) -> dict:
        row = self.core.ticket_lookup(ticket)
        view = self.core.ticket_view(row)
        view["waiting_ahead"] = self.store.waiting_ahead(row["service"], row["sort_key"], row["id"])
        count = self.store.one("SELECT COUNT(*) AS n FROM actions WHERE ticket = ? AND action = 'reprint'",
                               (row["id"],))["n"] + 1
        with self.store.tx():
            self.store.log(self.clock.time(), "reprint", row["id"], detail=kiosk)
        return await self._print(view, kiosk or row["kiosk"], reprint=count)

    async def guide(self, service: str, kiosk: str | None = None, print_notice: bool = False) -> dict:
        svc = self.cfg.services.get(service)
        if svc is None:
            raise HwdError("没有该业务，请重新选择", errors.UNKNOWN_SERVICE, {"service": service})
        out = {"service": svc.id, "matter": svc.name, "name": svc.name, "department": svc.department,
               "materials": list(svc.materials), "conditions": svc.conditions, "time_limit": svc.time_limit,
               "fees": svc.fees}
        if print_notice:
            k = self.cfg.kiosks.get(kiosk) if kiosk else None
            if k is None:
                raise HwdError(f"未知的取号机 {kiosk}", errors.UNKNOWN_KIOSK, {"kiosk": kiosk})
            if not k.printer:
                out.update(printed=False, print_error="该取号机没有打印机")
                return out
            data = {k2: out[k2] for k2 in ("matter", "materials", "conditions", "time_limit", "fees")}
            data.update(hall_name=self.cfg.name, footer=list(self.cfg.ticket_footer))
            job = f"notice-{svc.id}-{self.clock.time():.6f}"
            printed, error = await self.outputs.print(k.printer, "notice", data, job, self.cfg.print_wait_ms)
            out["printed"] = printed
            if error:
                out["print_error"] = error
        return out

    async def _card(self, token: str, kiosk: str | None) -> dict:
        tokens = self.manager.extras.get("card_tokens")
        card = tokens.resolve(token) if tokens is not None else None
        k = self.cfg.kiosks.get(kiosk) if kiosk else None
        if card is None and k is not None and k.idcard:
            try:
                card = await self.methods.call("idcard.resolve", {"device": k.idcard, "token": token})
            except HwdError as exc:
                if exc.code != errors.CARD_TOKEN_EXPIRED:
                    log.warning("cannot resolve a card token at kiosk %s: %s", kiosk, exc.code)
                card = None
        if not card:
            raise HwdError("身份证信息已失效，请重新刷卡", errors.CARD_TOKEN_EXPIRED)
        return card

    # -- events from devices ------------------------------------------------------------------
    def _on_key(self, topic: str, event: dict) -> None:
        wid = self._keypads.get(event.get("device"))
        action = event.get("action")
        if wid is None or not action:
            return
        self._spawn(self._key_action(wid, action, event))

    async def _key_action(self, wid: str, action: str, event: dict) -> None:
        try:
            name, _, arg = action.partition(":")
            if name == "rate":
                score, _, reasons = arg.partition(":")  # rate:2:attitude,efficiency — a reason key
                self.run(self.core.ratings.rate, int(score), window=wid, channel="keypad",
                         reasons=reasons.split(",") if reasons else None)
            elif name in ("call_next", "recall", "no_show", "start", "finish"):
                self.run(getattr(self.core, name), wid)
            elif name in ("pause", "resume"):
                self.run(getattr(self.core, name), wid, "keypad")
            elif name == "transfer" and arg:
                self.run(self.core.transfer, wid, arg)
            else:
                log.info("keypad %s: no hall action for %r", event.get("device"), action)
        except HwdError as exc:
            log.info("keypad %s at window %s: %s refused: %s", event.get("device"), wid, action, exc)
            self.bus.publish("hall.keypad.refused", {"window": wid, "action": action, "code": exc.code,
                                                     "message": exc.message})
        except ValueError:
            log.warning("keypad %s sent a bad action %r", event.get("device"), action)

    def _on_scan(self, topic: str, event: dict) -> None:
        kiosk = self._scanners.get(event.get("device"))
        text = (event.get("text") or "").strip()
        if kiosk is None or not text:
            return

        async def scan() -> None:
            try:
                await self.checkin(code=text, kiosk=kiosk)
            except HwdError as exc:
                self.bus.publish("hall.checkin.failed", {"kiosk": kiosk, "code": exc.code, "message": exc.message})
        self._spawn(scan())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def snapshot(self) -> dict:
        snap = self.core.snapshot()
        snap["seq"] = self.bus.seq
        snap["nodes"] = {node_id: link.up for node_id, link in self.manager.nodes.items()}
        return snap


