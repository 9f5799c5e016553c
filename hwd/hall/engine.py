"""The hall engine as the daemon runs it: opens the hall database, links to other nodes,
registers the ``hall.*`` methods, publishes what the rules decided, and turns it into device
actions (window screens, announcements, keypad prompts, printed tickets).

The rules live in hwd.hall.core (synchronous, one SQLite transaction per operation). This module
adds what needs the event loop: card tokens, printing, device calls, keypad and scanner events,
and the timer that expires tickets at the day's end and ratings at their timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable

from drivers.idcard.privacy import age_on, mask_name
from hwd import clock as clocks, errors, outbox, upstream
from hwd.errors import HwdError
from hwd import statedir
from hwd.audit import AUDIT
from hwd.county import feed as county_feed
from hwd.lockout import LOGIN_FAILURES, LOGIN_LOCK_S, LoginThrottle
from hwd.hall import api, config as hall_config, desk as desks, hallkeys, notices, views
from hwd.hall.phone import PhoneBoard
from hwd.hall.appointments import Appointments
from hwd.hall.rating_channels import RatingChannels
from hwd.hall.core import HallCore
from hwd.hall.outputs import Outputs
from hwd.hall.alerts import TidalAlerts
from hwd.hall.store import Store, StoreError
from hwd.web import addresses

log = logging.getLogger("hwd.hall")
TICK_S = 1.0
USED_TOKEN_S = 3600.0  # a used card token is remembered longer than any token lives


def _check_pin(staff: str, pin: str, stored: str) -> bool:
    """PBKDF2 in a worker thread (hashlib releases the GIL), so the event loop goes on serving."""
    from hwd.hall import pin as pins

    log.debug("PIN check for staff %s in thread %s", staff, threading.current_thread().name)
    return pins.verify(pin, stored)


def _used_message(ticket: dict, tz) -> str:
    """Why a used appointment code gives no new ticket, in the citizen's words."""
    when = dt.datetime.fromtimestamp(ticket["issued_ts"], tz).strftime("%H:%M")
    what = {"done": "已办结", "no_show": "已过号", "expired": "已过期"}.get(ticket["state"], "已使用")
    return f"该预约已于{when}签到（{ticket['number']}号，{what}），不能重复签到；如需办理请直接取号"


def _configured_networks(hall: Any, ui: Any) -> list:
    """The networks of the hall's configured machines (window PCs, kiosks — loopback when none
    is given, as hwd-ui counts them — hall displays) and of this PC: a spray of guesses from
    elsewhere (the shared backstop) never slows their staff logins."""
    values = list(addresses.LOCAL) + list(getattr(ui, "display_addresses", None) or [])
    for window in hall.windows.values():
        values += list(window.addresses or [])
    for kiosk in hall.kiosks.values():
        values += list(kiosk.addresses or addresses.LOCAL)
    return addresses.networks(values)


class HallEngine:
    def __init__(self, config: Any, manager: Any, bus: Any, methods: Any, clock: clocks.Clock | None = None,
                 connect: Callable[..., sqlite3.Connection] = sqlite3.connect):
        self.config = config
        self.connect = connect  # the database's connections (replicated with [hall.standby])
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
        self.alerts: TidalAlerts | None = None
        self.appointments: Appointments | None = None
        self.outbox: outbox.Worker | None = None
        self.channels: RatingChannels | None = None
        self.phones: PhoneBoard | None = None
        self.notices: notices.Notices | None = None  # [hall.notify]
        ui = getattr(config, "ui", None)
        self.pin_throttle = LoginThrottle(getattr(ui, "login_failures", LOGIN_FAILURES),
                                          getattr(ui, "login_lock_s", LOGIN_LOCK_S))
        self._configured = _configured_networks(self.cfg, ui)
        self._used_tokens: dict[str, float] = {}
        self._ticker: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._keypads = {w.keypad: w.id for w in self.cfg.windows.values() if w.keypad}
        self._scanners = {k.scanner: k.id for k in self.cfg.kiosks.values() if k.scanner}

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        path = self.cfg.database or Path(self.config.daemon.state_dir) / "hall.sqlite3"
        try:
            self.store = Store(path, self.cfg.sync, self.connect)
        except (sqlite3.Error, StoreError) as exc:
            from hwd.daemon import StartupError
            raise StartupError(f"cannot open the hall database {path}: {exc}") from None
        statedir.restrict(Path(path))
        self.core = HallCore(self.cfg, self.store, self.clock)
        self.alerts = TidalAlerts(self.cfg, self.store, self.clock, self.bus.publish)
        keys_dir = self.cfg.keys_dir or Path(self.config.daemon.state_dir) / "keys"
        try:
            self.channels = RatingChannels(self.core, hallkeys.load(keys_dir, "ticket-token"))
            self.phones = PhoneBoard(self.core, self.channels)
            if self.cfg.notify.on:
                self.notices = notices.Notices(self.phones, self.cfg.notify.alert_ahead, self.token_url)
            appointment_key = hallkeys.load(keys_dir, "appointment")
        except (OSError, hallkeys.KeyError_) as exc:
            from hwd.daemon import StartupError
            raise StartupError(f"cannot use the hall keys in {keys_dir}: {exc}") from None
        self.appointments = Appointments(self.core, appointment_key)
        try:
            sinks = upstream.sinks(self.cfg) + county_feed.attach(self, path) + notices.sinks(self.cfg)
        except HwdError as exc:  # e.g. the signing library is not installed
            from hwd.daemon import StartupError
            raise StartupError(f"[hall.upstream] / [hall.central] / [hall.notify]: {exc}") from None
        self.outbox = outbox.Worker(path, sinks, self.cfg.upstream.retry_s, self.cfg.upstream.retry_max_s,
                                    connect=self.connect)
        self.outbox.start()
        clocks.register(self.methods, self.clock)
        api.register(self.methods, self)
        await self._start_nodes()
        self.bus.subscribe("keypad.key", self._on_key)
        self.bus.subscribe("scanner.scan", self._on_scan)
        self.bus.subscribe("printer.job", self._on_printer_job)
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
        self._flush(notify=True)
        self.alerts.check()  # the queue may have grown or shrunk (tidal-window alerts)
        return result

    def _flush(self, notify: bool = False) -> None:
        changed = bool(self.core.pending)
        if changed and self.outbox is not None:
            self.outbox.notify()
        if changed and notify and self.notices is not None:
            self._write_notices()
        for topic, data in self.core.drain():
            self.bus.publish(topic, data)
            if topic == "hall.window.state":
                self._refresh_screen(data["id"])
            elif topic == "hall.ticket.called":
                self._announce(data)
            elif topic == "hall.rating.requested":
                keypad = self.cfg.windows[data["window"]].keypad
                if keypad:
                    self.outputs.keypad_prompt(keypad)

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
        except sqlite3.Error:
            self.core.pending.clear()
            log.exception("hall timer failed")
            return
        self._flush(notify=True)
        self.alerts.check()  # waits grow with time alone

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.tick()

    # -- devices -----------------------------------------------------------------------------
    def _refresh_screen(self, wid: str) -> None:
        window = self.cfg.windows[wid]
        if not window.display and not window.keypad:
            return
        row = self.store.window(wid)
        current = self.store.ticket(row["current"]) if row["current"] else None
        if window.display:
            self.outputs.show(window.display, views.screen_lines(row, self.cfg, current))
        if window.keypad:
            self.outputs.keypad_text(window.keypad, views.keypad_text(row, current))

    def _announce(self, ticket: dict) -> None:
        window = self.cfg.windows[ticket["window"]]
        if window.speaker:
            self.outputs.fire("speaker.announce", {
                "device": window.speaker, "template": "call", "repeat": self.cfg.announce_repeat,
                "params": {"ticket": ticket["number"], "window": window.spoken or window.id}})
        for device in self.cfg.displays:
            self.outputs.show(device, [f"请{ticket['number']}号", f"到{window.name}办理"])

    def job_id(self, ticket_id: int, reprint: int = 0) -> str:
        """The printer job id of a ticket: unique for the hall database's lifetime."""
        return f"hall-{self.store.db_id}-{ticket_id}" + (f"-r{reprint}" if reprint else "")

    def _on_printer_job(self, topic: str, event: dict) -> None:
        """A backstop for "the record says what really happened": a ticket job reported printed
        after the kiosk gave up on it (it should have been cancelled) is recorded as printed."""
        prefix = f"hall-{self.store.db_id}-"
        job = str(event.get("job") or "")
        if event.get("state") != "printed" or not job.startswith(prefix):
            return
        try:
            ticket_id = int(job[len(prefix):].split("-")[0])
            row = self.store.ticket(ticket_id)
            if row is not None and not row["printed"]:
                log.warning("ticket %s printed after the kiosk said it did not (job %s)", row["number"], job)
                with self.store.tx():
                    self.store.update_ticket(ticket_id, printed=1, print_error=None)
                    self.store.log(self.clock.time(), "printed_late", ticket_id, detail=job)
        except (ValueError, sqlite3.Error):
            log.exception("cannot record the late print of job %s", job)

    async def _print(self, ticket: dict, kiosk: str | None, reprint: int = 0,
                     desk: Any = None) -> dict:
        qr = self.qr_text(ticket)
        k = self.cfg.kiosks.get(kiosk) if kiosk else None
        printer = desk.printer if desk is not None else k.printer if k is not None else None
        if not printer:
            printed, error = False, ("该导办台没有打印机，请扫码或记住号码" if desk is not None else
                                     "未指定带打印机的取号机，请记住您的号码" if k is None else "该取号机没有打印机")
        else:
            data = {"hall_name": self.cfg.name, "number": ticket["number"], "service_name": ticket["service_name"],
                    "waiting_ahead": ticket.get("waiting_ahead", 0), "issued_at": ticket["issued_at"],
                    "qr": qr, "priority": ticket.get("priority", "normal") != "normal",
                    "wait_text": (ticket.get("wait") or {}).get("text") or "",
                    "footer": desks.receipt_lines(self.core, ticket) + list(self.cfg.ticket_footer)
                    + [self.cfg.no_show_text]}
            job = self.job_id(ticket["id"], reprint)
            printed, error = await self.outputs.print(printer, "ticket", data, job, self.cfg.print_wait_ms)
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
        with self._using_token(card_token):  # no await between the check above and the commit
            ticket = self.run(self.core.issue, service, kiosk, chosen, holder)
        return await self._print(ticket, kiosk)

    async def desk_issue(self, desk_id: str, service: str, priority: str = "normal", staff: str | None = None,
                         verified: bool = False, assisted: bool = False) -> dict:
        """A ticket issued at a guide desk (导办台), printed at the desk's printer."""
        ticket = self.run(desks.issue, self.core, desk_id, service, priority, staff, verified, assisted)
        return await self._print(ticket, None, desk=self.cfg.desks[desk_id])

    def _token_used(self, token: str) -> bool:
        now = time.monotonic()
        if len(self._used_tokens) > 10000:
            self._used_tokens = {t: exp for t, exp in self._used_tokens.items() if exp > now}
        return self._used_tokens.get(token, 0) > now

    @contextlib.contextmanager
    def _using_token(self, token: str | None):
        """Use a card token up for issuing: single-use; given back if the issue fails."""
        if not token:
            yield
            return
        if self._token_used(token):
            raise HwdError("这张身份证已经取过号了，请重新刷卡", errors.CARD_TOKEN_USED)
        self._used_tokens[token] = time.monotonic() + USED_TOKEN_S
        try:
            yield
        except BaseException:
            self._used_tokens.pop(token, None)
            raise

    async def checkin(self, code: str | None = None, card_token: str | None = None, kiosk: str | None = None) -> dict:
        if not code and not card_token:
            raise HwdError("give code or card_token", errors.INVALID_PARAMS)
        id_number = None
        use_token = card_token if card_token and not code else None
        if use_token:
            id_number = (await self._card(card_token, kiosk)).get("id_number")
        appt = self.appointments.find(code=code, id_number=id_number)
        if appt["ticket"]:
            existing = self.store.ticket(appt["ticket"])
            if existing and existing["state"] in ("waiting", "called", "serving"):
                # checked in before: the same ticket again, announced like a check-in so the kiosk shows it
                self.bus.publish("hall.checkin", {"code": appt["code"], "ticket": existing["id"],
                                                  "number": existing["number"], "kiosk": kiosk, "again": True})
                return dict(self.core.ticket_view(existing), checked_in=True,
                            waiting_ahead=self.core.waiting_ahead(existing))
            if existing:
                raise HwdError(_used_message(existing, self.tz), errors.APPOINTMENT_USED,
                               {"code": appt["code"], "number": existing["number"], "state": existing["state"]})
        in_slot = self.appointments.in_slot(appt)
        priority = "appointment" if in_slot and "appointment" in self.cfg.priority_classes else "normal"
        with self._using_token(use_token):
            ticket = self.run(self.core.issue, appt["service"], kiosk, priority, None, appt["code"], not in_slot)
        self.appointments.mark(appt["code"], ticket["id"])
        self.bus.publish("hall.checkin", {"code": appt["code"], "ticket": ticket["id"], "number": ticket["number"],
                                          "kiosk": kiosk, "in_slot": in_slot})
        return await self._print(dict(ticket, in_slot=in_slot), kiosk)

    async def _verified_pin(self, staff: str, pin: str | None, source: str | None, place: dict) -> bool:
        """The staff PIN checked off the event loop (PBKDF2 takes tens of ms), behind the login
        policy (hwd.lockout.LoginThrottle, ``[ui] login_failures`` / ``login_lock_s``): counted
        before checking, per staff id **and** source address, so a stranger's wrong PINs from
        another machine never lock the clerk out of his own; per source over all staff ids; and,
        for a source that is not one of the hall's configured machines, under the shared backstop. For
        every staff login (counter windows and guide desks). ``source`` is the caller's word
        (hwd-ui passes the browser's address; RPC clients are trusted: they can read the config).
        False when there is no PIN to check (the rules decide)."""
        person = self.cfg.staff.get(staff)
        if not self.core.staff_required or (person is not None and not person.pin_hash):
            return False
        where = ", ".join(f"{k} {v}" for k, v in place.items())
        shown = source or "rpc"
        exempt = source is None or addresses.in_networks(source, self._configured)
        keys, wait = self.pin_throttle.begin(staff, addresses.key(source) if source else "rpc", backstop=not exempt)
        if wait > 0:
            AUDIT.warning(f"login-locked:{staff}:{source}", "login of staff %s at %s from %s refused: "
                          "locked for %.0f s after wrong PINs", staff, where, shown, wait)
            raise HwdError(f"密码错误次数过多，请{math.ceil(wait)}秒后再试", errors.LOGIN_LOCKED,
                           {**place, "retry_after_s": math.ceil(wait)})
        try:
            ok = person is not None and pin is not None and await asyncio.to_thread(_check_pin, staff, pin,
                                                                                    person.pin_hash)
        except BaseException:
            self.pin_throttle.abandoned(keys)
            raise
        if not ok:
            self.pin_throttle.failed(keys)
            AUDIT.warning(f"login-failed:{staff}:{source}", "wrong PIN for staff %s at %s from %s", staff, where, shown)
            raise HwdError("工号或密码错误", errors.LOGIN_FAILED, place)
        self.pin_throttle.succeeded(keys)
        AUDIT.info("login of staff %s at %s from %s", staff, where, shown)
        return True

    async def login(self, window: str, staff: str, pin: str | None, source: str | None) -> dict:
        """hall.login with the PIN checked by ``_verified_pin``."""
        self.core._window(window)
        verified = await self._verified_pin(staff, pin, source, {"window": window})
        return self.run(self.core.login, window, staff, None if verified else pin, verified)

    async def desk_login(self, desk: str, staff: str, pin: str | None, source: str | None) -> dict:
        """hall.desk_login: the same PIN check and throttle as a counter window's."""
        desks.desk_or_error(self.core, desk)
        verified = await self._verified_pin(staff, pin, source, {"desk": desk})
        return self.run(desks.login, self.core, desk, staff, None if verified else pin, verified)

    def phone_url(self, ticket: dict) -> str | None:
        """The ticket's phone page (``[ui] public_url``/t/<token>), or None without a public URL."""
        if self.channels is None:
            return None
        return self.token_url(self.channels.token(ticket["id"], ticket["day"]))

    def token_url(self, token: str) -> str | None:
        ui = self.config.ui if hasattr(self.config, "ui") else None
        base = getattr(ui, "public_url", "") if ui is not None else ""
        return f"{base.rstrip('/')}/t/{token}" if base else None

    def qr_text(self, ticket: dict) -> str:
        """The ticket's QR: ``[hall] ticket_qr``, which is the phone page once ``[ui] public_url``
        is set and the template is the default."""
        url = self.phone_url(ticket)
        template = self.cfg.ticket_qr
        if url and template == hall_config.DEFAULT_QR:
            template = "{url}"
        token = self.channels.token(ticket["id"], ticket["day"]) if self.channels is not None else ""
        return template.format(id=ticket["id"], number=ticket["number"], day=ticket["day"],
                               service=ticket["service"], token=token, url=url or "")

    def recover_issue(self, request_key: str) -> dict | None:
        """The ticket a request issued before a crash cut off its reply (hwd.replay), or None
        when that request committed nothing (then it simply runs)."""
        row = self.store.one("SELECT * FROM tickets WHERE request_key = ?", (request_key,))
        if row is None:
            return None
        view = self.core.ticket_view(row)
        view["waiting_ahead"] = self.core.waiting_ahead(row)
        view["qr"] = self.qr_text(row)
        return view

    async def reprint(self, ticket: Any, kiosk: str | None, desk: str | None = None) -> dict:
        """Print a ticket again, at a kiosk or at a guide desk (where a citizen whose ticket did
        not print is sent: only a ticket still waiting or called is reprinted there)."""
        at_desk = desks.desk_or_error(self.core, desk) if desk else None
        row = self.core.ticket_lookup(ticket)
        if at_desk is not None and row["state"] not in ("waiting", "called"):
            raise HwdError(f"{row['number']}号已不在等候中，不能补打", errors.BAD_STATE, {"state": row["state"]})
        view = self.core.ticket_view(row)
        view["waiting_ahead"] = self.core.waiting_ahead(row)
        count = self.store.one("SELECT COUNT(*) AS n FROM actions WHERE ticket = ? AND action = 'reprint'",
                               (row["id"],))["n"] + 1
        with self.store.tx():
            self.store.log(self.clock.time(), "reprint", row["id"], detail=desk or kiosk)
        if at_desk is not None:
            return await self._print(view, None, reprint=count, desk=at_desk)
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
            data = {k2: out[k2] for k2 in ("matter", "department", "materials", "conditions", "time_limit", "fees")}
            data["hall_name"] = self.cfg.name
            job = f"notice-{svc.id}-{self.clock.time():.6f}"
            printed, error = await self.outputs.print(k.printer, "notice", data, job, self.cfg.print_wait_ms)
            out["printed"] = printed
            if error:
                out["print_error"] = error
        return out

    async def _card(self, token: str, kiosk: str | None) -> dict:
        """The card behind a token read at this kiosk's own reader and not used yet."""
        k = self.cfg.kiosks.get(kiosk) if kiosk else None
        tokens = self.manager.extras.get("card_tokens")
        if k is None or not k.idcard:
            if tokens is None or tokens.resolve(token) is None:
                raise HwdError("身份证信息已失效，请重新刷卡", errors.CARD_TOKEN_EXPIRED)
            raise HwdError("请在取号机上刷身份证", errors.CARD_TOKEN_WRONG_KIOSK, {"kiosk": kiosk})
        if self._token_used(token):
            raise HwdError("这张身份证已经取过号了，请重新刷卡", errors.CARD_TOKEN_USED)
        card = tokens.resolve(token, device=k.idcard) if tokens is not None else None
        if card is None and tokens is not None and tokens.resolve(token) is not None:
            log.warning("a card token of reader %s was offered at kiosk %s: refused", tokens.device_of(token), kiosk)
            raise HwdError("请在本机重新刷身份证", errors.CARD_TOKEN_WRONG_KIOSK, {"kiosk": kiosk})
        if card is None and k.idcard in self.manager.remote:
            # the reader sits on another PC: its hwd serves idcard.resolve to this PC only if this
            # PC's certificate name is in that node's [daemon] card_data_clients (docs/security.md)
            try:
                card = await self.methods.call("idcard.resolve", {"device": k.idcard, "token": token})
            except HwdError as exc:
                if exc.code == errors.NOT_AUTHORISED:
                    node = self.manager.remote[k.idcard].node
                    log.error("node %s refuses card data to this hall PC (reader %s, kiosk %s): add this PC's "
                              "certificate name to that node's [daemon] card_data_clients", node, k.idcard, kiosk)
                    raise HwdError("暂时无法读取身份证信息，请直接取号或到导办台办理", errors.NOT_AUTHORISED,
                                   {"kiosk": kiosk}) from None
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


