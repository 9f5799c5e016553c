"""Deposit and pickup, door by door (docs/hall.md, "The 24-hour self-service area").

**Deposit** (``hall.deposit``, the clerk at the counter or ``hwctl``): a free door — not holding
a result, not open, without a raised alarm — is reserved in one transaction (a unique index on
busy doors: two clerks never get the same door), then opened (``locker.open``). The reply gives
the door and the pickup code at once (the counter prints the slip), but the deposit is recorded
— and the code opens nothing — only when the door is shut on the result (``locker.door closed``).
A door that does not open is given up (an alarm) and the next free one is tried.

**Pickup** (``hall.pickup``, a kiosk of the area): the code, checked behind a throttle counted
before the check (hwd.lockout: per kiosk machine and per kiosk, as every other secret), or the ID
card on that kiosk's own reader (hwd.hall.identity: a token another reader read is refused),
finds the waiting deposits; their doors open; each is picked up when its door is shut.

**The doors**: ``locker.door`` events keep which doors are open since when; a door open longer
than ``[hall.pickup] open_alarm_s`` on the hall's clock raises ``left_open``; a forced door
raises ``forced``, a door that will not open ``jammed`` (hwd.hall.pickup.alarms). When a locker
comes online (and when the hall starts) its doors are read again (``locker.status``), so a door
shut while hwd was down still completes its deposit.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any, Callable

from hwd import errors
from hwd.errors import HwdError
from hwd.hall.pickup import records
from hwd.hall.pickup.alarms import Alarms
from hwd.hall.pickup.codes import Codes
from hwd.hall.ratings.rules import CASE_NO
from hwd.lockout import Lockout
from hwd.wording import Refusal

log = logging.getLogger("hwd.hall.pickup")

TRIES = 3          # doors tried for one deposit before giving up
FREE_CODES = 5     # wrong codes from one kiosk machine before it waits
KIOSK_LIMIT = dict(free=20, base_s=60.0, max_s=1800.0)   # wrong codes at one kiosk, from anywhere


class Pickup:
    def __init__(self, cfg: Any, core: Any, run: Callable[..., Any], call: Callable[[str, dict], Any],
                 cards: Any, codes: Codes, person_key: Callable[[str], str], door_counts: dict[str, int],
                 tell: Callable[[Any, dict, str], None] | None = None,
                 clock_s: Callable[[], float] | None = None):
        self.cfg, self.pcfg, self.core, self.run, self.call = cfg, cfg.pickup, core, run, call
        self.cards, self.codes, self.person_key, self.tell = cards, codes, person_key, tell
        self.store, self.clock = core.store, core.clock
        self.alarms = Alarms(self.store, self.clock, core.emit)
        kw = {"clock": clock_s} if clock_s is not None else {}
        self.throttle = Lockout(free=FREE_CODES, base_s=30.0, max_s=900.0, forget_s=3600.0,
                                limits={"kiosk:*": KIOSK_LIMIT}, **kw)
        self.door_counts = dict(door_counts)                 # locker → its doors (its config, then its status)
        self.open_doors: dict[tuple[str, int], float] = {}   # door → since when (hall clock) it is open
        self.states: dict[str, str] = {}                     # locker → its device state, as last heard
        self._tasks: set[asyncio.Task] = set()

    # -- configuration -----------------------------------------------------------------------
    def _on(self) -> None:
        if not self.pcfg.on:
            raise Refusal(errors.PICKUP_OFF)

    def doors(self) -> list[tuple[str, int]]:
        """Every door of the configured lockers, in order of use."""
        return [(device, d) for device in self.pcfg.lockers for d in range(1, self.door_counts.get(device, 0) + 1)]

    # -- deposit -----------------------------------------------------------------------------
    async def deposit(self, ticket: Any = None, case_no: str | None = None, staff: str | None = None,
                      window: str | None = None, id_number: str | None = None) -> dict:
        """``hall.deposit``: reserve and open a free door for a ticket's or a case's result."""
        self._on()
        if ticket is None and not case_no:
            raise HwdError("give ticket or case_no", errors.INVALID_PARAMS)
        row = self.core.ticket_lookup(ticket) if ticket is not None else None
        if case_no is not None:
            case_no = case_no.strip()
            if not CASE_NO.match(case_no):
                raise Refusal(errors.BAD_CASE_NO, "", {"case_no": case_no})
        elif row is not None:
            case_no = row.get("case_no")
        if window is not None and window not in self.cfg.windows:
            raise Refusal(errors.UNKNOWN_WINDOW, "window", {"window": window}, window=window)
        person = self.person_key(id_number) if id_number else self._booked_person(row)
        if window is None and row is not None:
            window = row.get("window")
        tried: set[tuple[str, int]] = set()
        offline: set[str] = set()
        last = ""
        for _ in range(TRIES):
            dep = self.run(self._reserve, row, case_no, person, staff, window, tried, offline)
            tried.add((dep["device"], dep["door"]))
            try:
                got = await self.call("locker.open", {"device": dep["device"], "door": dep["door"]})
            except HwdError as exc:
                last = str(exc)
                if exc.code in (errors.DEVICE_OFFLINE, errors.NODE_UNREACHABLE, errors.DEVICE_DISABLED,
                                errors.DEVICE_FAULT, errors.DEVICE_TIMEOUT):
                    offline.add(dep["device"])
                self.run(self._not_opened, dep, f"locker.open: {exc}", jammed=False)
                continue
            if not got.get("opened"):
                last = got.get("detail") or "jammed"
                self.run(self._not_opened, dep, last, jammed=True)
                continue
            self.run(self._loading, dep)
            code = self.codes.code_of(dep["nonce"])
            return {"deposit": dep["id"], "device": dep["device"], "door": dep["door"], "code": code,
                    "ticket": dep["ticket"], "number": dep["number"], "case_no": dep["case_no"],
                    "state": "loading", "by_card": person is not None}
        log.warning("no door opened for a deposit after %d tries: %s", len(tried), last)
        raise Refusal(errors.DOOR_NOT_OPENED, "deposit", {"detail": last})

    def _booked_person(self, row: dict | None) -> str | None:
        """The person an appointment of the ticket was booked for (by ID number), if any."""
        if row is None or not row.get("appointment"):
            return None
        found = self.store.one("SELECT person FROM appointments WHERE code = ?", (row["appointment"],))
        return found["person"] if found and str(found["person"] or "").startswith("h1:") else None

    def _reserve(self, row: dict | None, case_no: str | None, person: str | None, staff: str | None,
                 window: str | None, tried: set, offline: set) -> dict:
        """Reserve a free door (committed before it is opened: no other deposit takes it)."""
        busy = records.busy_doors(self.store)
        alarmed = {(a["device"], a["door"]) for a in self.alarms.raised()}
        free = [d for d in self.doors() if d not in busy and d not in alarmed and d not in tried
                and d not in self.open_doors and d[0] not in offline and self._usable(d[0])]
        if not free:
            raise Refusal(errors.NO_FREE_DOOR)
        device, door = free[0]
        ts = self.clock.time()
        with self.store.tx():
            nonce, code = self.codes.make()
            while records.code_taken(self.store, self.codes.digest(code)):  # unique among the doors in use
                nonce, code = self.codes.make()
            dep_id = records.insert(self.store.db, state="loading", device=device, door=door,
                                    ticket=row["id"] if row else None, number=row["number"] if row else None,
                                    case_no=case_no, nonce=nonce, code_hash=self.codes.digest(code), person=person,
                                    staff=staff, window=window, created_ts=ts)
            dep = records.one(self.store, dep_id)
            records.step(self.store, dep, "deposit_open", ts)
        return dep

    def _usable(self, device: str) -> bool:
        """Not known to be offline or faulted (a locker not heard of yet is tried)."""
        return self.states.get(device) in (None, "online")

    def _not_opened(self, dep: dict, detail: str, jammed: bool) -> None:
        ts = self.clock.time()
        with self.store.tx():
            records.update(self.store.db, dep["id"], state="failed", ended_ts=ts)
            records.step(self.store, dep, "deposit_failed", ts, detail=detail[:200])
            if jammed:
                self.alarms.raise_(dep["device"], dep["door"], "jammed", None, detail[:200])

    def _loading(self, dep: dict) -> None:
        ts = self.clock.time()
        with self.store.tx():
            records.update(self.store.db, dep["id"], opened_ts=ts)
        self.open_doors.setdefault((dep["device"], dep["door"]), ts)
        self.core.emit("hall.pickup.loading", {"deposit": dep["id"], "device": dep["device"], "door": dep["door"],
                                               "ticket": dep["ticket"], "number": dep["number"]})

    # -- pickup ------------------------------------------------------------------------------
    async def pickup(self, code: str | None = None, card_token: str | None = None, kiosk: str | None = None,
                     source: str | None = None) -> dict:
        """``hall.pickup``: open the doors of the waiting deposits a code or an ID card names."""
        self._on()
        if kiosk is None or kiosk not in self.cfg.kiosks:
            raise Refusal(errors.UNKNOWN_KIOSK, "kiosk", {"kiosk": kiosk}, kiosk=kiosk)
        if not code and not card_token:
            raise HwdError("give code or card_token", errors.INVALID_PARAMS)
        if card_token and not code:
            card = await self.cards.card(card_token, kiosk)
            id_number = card.get("id_number") or ""
            rows = records.by_person(self.store, self.person_key(id_number)) if id_number else []
            if not rows:
                self.run(self._refused, kiosk, "card")
                raise Refusal(errors.NO_DEPOSIT, "card")
            return await self._open_for(rows, kiosk, "card")
        keys = (f"code:{kiosk}@{source or 'rpc'}", f"kiosk:{kiosk}")
        wait = self.throttle.begin(*keys)
        if wait:
            raise Refusal(errors.LOGIN_LOCKED, "pickup", {"retry_after_s": math.ceil(wait)}, seconds=math.ceil(wait))
        clean = self.codes.clean(code or "")
        row = records.by_code(self.store, self.codes.digest(clean)) if clean else None
        if row is None:
            self.throttle.failed(*keys)
            self.run(self._refused, kiosk, "code")
            raise Refusal(errors.NO_DEPOSIT, "code")
        self.throttle.succeeded(keys[0])
        self.throttle.release(*keys[1:])
        return await self._open_for([row], kiosk, "code")

    def _refused(self, kiosk: str, via: str) -> None:
        with self.store.tx():
            self.store.log(self.clock.time(), "pickup_refused", None, None, None, f"{via} at kiosk {kiosk}")

    async def _open_for(self, rows: list[dict], kiosk: str, via: str) -> dict:
        opened, failed = [], []
        for row in rows:
            claimed = self.run(self._collecting, row["id"], kiosk, via)
            if claimed is None:
                continue                       # taken meanwhile (another kiosk, the same code twice)
            try:
                got = await self.call("locker.open", {"device": row["device"], "door": row["door"]})
                detail = "" if got.get("opened") else (got.get("detail") or "jammed")
            except HwdError as exc:
                detail = f"locker.open: {exc}"
            if detail:
                self.run(self._back_to_waiting, claimed, detail, "locker.open" not in detail)
                failed.append(row)
                continue
            self.run(self._collect_open, claimed, kiosk)
            opened.append({"deposit": row["id"], "device": row["device"], "door": row["door"],
                           "number": row["number"]})
        if not opened:
            if failed:
                raise Refusal(errors.DOOR_NOT_OPENED, "pickup", {"deposits": len(failed)}, help=self.pcfg.help)
            raise Refusal(errors.NO_DEPOSIT, via)
        first = opened[0]
        return {"kiosk": kiosk, "device": first["device"], "door": first["door"], "number": first["number"],
                "doors": opened, "not_opened": len(failed)}

    def _collecting(self, deposit: int, kiosk: str, via: str) -> dict | None:
        ts = self.clock.time()
        with self.store.tx():
            row = records.one(self.store, deposit)
            if row is None or row["state"] != "waiting":
                return None
            records.update(self.store.db, deposit, state="collecting", kiosk=kiosk, via=via)
            records.step(self.store, records.one(self.store, deposit), "pickup_open", ts, detail=f"{via} at {kiosk}")
            return records.one(self.store, deposit)

    def _back_to_waiting(self, row: dict, detail: str, jammed: bool) -> None:
        ts = self.clock.time()
        with self.store.tx():
            records.update(self.store.db, row["id"], state="waiting", kiosk=None, via=None)
            records.step(self.store, row, "pickup_failed", ts, detail=detail[:200])
            if jammed:
                self.alarms.raise_(row["device"], row["door"], "jammed", row["id"], detail[:200])

    def _collect_open(self, row: dict, kiosk: str) -> None:
        ts = self.clock.time()
        with self.store.tx():
            records.update(self.store.db, row["id"], opened_ts=ts)
        self.open_doors.setdefault((row["device"], row["door"]), ts)
        self.core.emit("hall.pickup.opened", {"deposit": row["id"], "kiosk": kiosk, "device": row["device"],
                                              "door": row["door"], "number": row["number"]})

    # -- staff -------------------------------------------------------------------------------
    async def cancel(self, deposit: int, staff: str | None = None) -> dict:
        """Staff take a result back: a door not shut yet is just forgotten (cancelled); a waiting
        one is opened for them (withdrawn)."""
        self._on()
        row = records.one(self.store, deposit)
        if row is None:
            raise Refusal(errors.UNKNOWN_DEPOSIT)
        if row["state"] == "loading":
            self.run(self._end, row, "cancelled", "deposit_cancelled", staff)
            return self.view(records.one(self.store, deposit))
        if row["state"] != "waiting":
            raise Refusal(errors.BAD_STATE, "deposit", {"state": row["state"]})
        got = await self.call("locker.open", {"device": row["device"], "door": row["door"]})
        if not got.get("opened"):
            self.run(self._not_opened_for_staff, row, got.get("detail") or "jammed")
            raise Refusal(errors.DOOR_NOT_OPENED, "pickup", {}, help=self.pcfg.help)
        self.run(self._end, row, "withdrawn", "deposit_withdrawn", staff)
        self.open_doors.setdefault((row["device"], row["door"]), self.clock.time())
        return self.view(records.one(self.store, deposit))

    def _not_opened_for_staff(self, row: dict, detail: str) -> None:
        with self.store.tx():
            self.alarms.raise_(row["device"], row["door"], "jammed", row["id"], detail[:200])

    def _end(self, row: dict, state: str, action: str, staff: str | None) -> None:
        ts = self.clock.time()
        with self.store.tx():
            records.update(self.store.db, row["id"], state=state, ended_ts=ts)
            records.step(self.store, row, action, ts, staff=staff)

    def clear_alarm(self, alarm: int, staff: str | None, note: str | None) -> dict:
        with self.store.tx():
            row = self.store.one("SELECT * FROM locker_alarms WHERE id = ?", (alarm,))
            if row is None:
                raise Refusal(errors.UNKNOWN_ALARM)
            if row["cleared_ts"] is None:
                row = self.alarms.clear(row, staff or "staff", note)
        return records.alarm_view(row, self.clock.tz)

    # -- the doors ---------------------------------------------------------------------------
    def on_door(self, event: dict) -> None:
        """``locker.door``: a door opened (on command), was forced, or shut (event-loop thread)."""
        device, door, state = event.get("device"), event.get("door"), event.get("state")
        if device not in self.pcfg.lockers or not isinstance(door, int):
            return
        key = (device, door)
        if state in ("opened", "forced"):
            self.open_doors.setdefault(key, self.clock.time())
            if state == "forced":
                self.run(self._forced, device, door, bool(event.get("initial")))
            else:
                self.run(self._opened, device, door)
        elif state == "closed":
            self.open_doors.pop(key, None)
            self.run(self._closed, device, door)

    def on_fault(self, event: dict) -> None:
        """``locker.fault``: a door told to open stayed shut."""
        device, door = event.get("device"), event.get("door")
        if device in self.pcfg.lockers and isinstance(door, int) and event.get("fault") == "jammed":
            row = records.on_door(self.store, device, door)
            self.run(self._jam, device, door, row["id"] if row else None, str(event.get("detail") or ""))

    def _jam(self, device: str, door: int, deposit: int | None, detail: str) -> None:
        with self.store.tx():
            self.alarms.raise_(device, door, "jammed", deposit, detail[:200])

    def _opened(self, device: str, door: int) -> None:
        with self.store.tx():
            self.alarms.clear_kind(device, door, "jammed")

    def _forced(self, device: str, door: int, initial: bool) -> None:
        row = records.on_door(self.store, device, door)
        if initial and (row is None or row["state"] in ("loading", "collecting")):
            return   # found open when the hall (or the board) started: an open door, watched as one
        if row is not None and row["state"] in ("loading", "collecting"):
            return   # a door opened for a deposit or a pickup, seen by a board that missed the command
        with self.store.tx():
            self.alarms.raise_(device, door, "forced", row["id"] if row else None,
                               "found open at start" if initial else None)

    def _closed(self, device: str, door: int) -> None:
        ts = self.clock.time()
        with self.store.tx():
            self.alarms.clear_kind(device, door, "left_open")
            row = records.on_door(self.store, device, door)
            if row is None or row["state"] == "waiting":
                return
            if row["state"] == "loading":
                records.update(self.store.db, row["id"], state="waiting", deposited_ts=ts)
                records.step(self.store, row, "deposited", ts)
                fresh = records.one(self.store, row["id"])
                if self.tell is not None and fresh["ticket"] is not None:
                    self.tell(self.store.db, fresh, self.codes.code_of(fresh["nonce"]))
                self.core.emit("hall.pickup.deposited", {"deposit": row["id"], "device": device, "door": door,
                                                         "ticket": row["ticket"], "number": row["number"]})
            elif row["state"] == "collecting":
                records.update(self.store.db, row["id"], state="picked", picked_ts=ts, ended_ts=ts)
                records.step(self.store, row, "picked_up", ts)
                self.core.emit("hall.pickup.picked", {"deposit": row["id"], "device": device, "door": door,
                                                      "kiosk": row["kiosk"], "number": row["number"]})

    def tick(self) -> None:
        """Doors left open past ``open_alarm_s`` (the engine's timer, every second)."""
        if not self.open_doors:
            return
        now = self.clock.time()
        late = [k for k, since in self.open_doors.items() if now - since >= self.pcfg.open_alarm_s
                and self.alarms.current(k[0], k[1], "left_open") is None]
        if late:
            self.run(self._left_open, late)

    def _left_open(self, doors: list[tuple[str, int]]) -> None:
        with self.store.tx():
            for device, door in doors:
                row = records.on_door(self.store, device, door)
                self.alarms.raise_(device, door, "left_open", row["id"] if row else None,
                                   f"open {round(self.clock.time() - self.open_doors.get((device, door), 0))} s")

    # -- the lockers' own state --------------------------------------------------------------
    def on_device(self, event: dict) -> None:
        """``device.state`` of a locker: remember it; when it comes online read its doors again."""
        device = event.get("device")
        if device not in self.pcfg.lockers:
            return
        before = self.states.get(device)
        self.states[device] = event.get("state")
        if event.get("state") == "online" and before != "online":
            self.spawn(self.reconcile(device))

    async def reconcile(self, device: str) -> None:
        """Read a locker's doors and settle what they say: open doors are watched, deposits whose
        doors are shut now complete (the hall missed the event while it or the locker was down)."""
        try:
            status = await self.call("locker.status", {"device": device})
        except HwdError as exc:
            log.info("locker %s: doors not read (%s)", device, exc)
            return
        if status.get("doors"):
            self.door_counts[device] = len(status["doors"])
        open_now = set(status.get("open") or [])
        for door in open_now:
            self.open_doors.setdefault((device, door), self.clock.time())
        for key in [k for k in self.open_doors if k[0] == device and k[1] not in open_now]:
            self.open_doors.pop(key, None)
        for row in self.store.all("SELECT * FROM deposits WHERE device = ? AND state IN ('loading', 'collecting')",
                                  (device,)):
            if row["door"] not in open_now and row["opened_ts"] is not None:
                self.run(self._closed, device, row["door"])
        for door in status.get("jammed") or []:
            self.run(self._jam, device, door, None, "the board reports the door jammed")

    def start(self) -> None:
        """Read every locker's doors once the hall runs."""
        for device in self.pcfg.lockers:
            self.spawn(self.reconcile(device))

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- what people see ---------------------------------------------------------------------
    def view(self, row: dict) -> dict:
        return records.view(row, self.clock.tz, self.clock.time(), self.pcfg.stale_days)

    def listing(self, state: str | None = None, limit: int = 200) -> list[dict]:
        """Deposits, the oldest uncollected first (``state`` None: every one still in a door)."""
        if state is None:
            rows = self.store.all("SELECT * FROM deposits WHERE state IN ('loading', 'waiting', 'collecting') "
                                  "ORDER BY COALESCE(deposited_ts, created_ts), id LIMIT ?", (limit,))
        else:
            rows = self.store.all("SELECT * FROM deposits WHERE state = ? ORDER BY COALESCE(deposited_ts, created_ts) "
                                  "DESC, id DESC LIMIT ?" if state in records.ENDED else
                                  "SELECT * FROM deposits WHERE state = ? ORDER BY COALESCE(deposited_ts, created_ts), "
                                  "id LIMIT ?", (state, limit))
        return [self.view(r) for r in rows]

    def summary(self) -> dict:
        """For the admin page: the lockers' doors in use and free, the alarms raised."""
        busy = records.busy_doors(self.store)
        doors = self.doors()
        return {"on": self.pcfg.on, "lockers": list(self.pcfg.lockers), "doors": len(doors),
                "busy": len([d for d in doors if d in busy]), "open": sorted([list(k) for k in self.open_doors]),
                "waiting": self.store.one("SELECT COUNT(*) AS n FROM deposits WHERE state = 'waiting'")["n"],
                "overdue": len([d for d in self.listing("waiting", 5000) if d["overdue"]]),
                "alarms": [records.alarm_view(a, self.clock.tz) for a in self.alarms.raised()]}

    def phone_views(self, tickets: list[int]) -> dict[int, dict]:
        """What a ticket's phone page shows of its results in the locker (the code while waiting)."""
        if not tickets:
            return {}
        marks = ", ".join("?" for _ in tickets)
        out: dict[int, dict] = {}
        for row in self.store.all(f"SELECT * FROM deposits WHERE ticket IN ({marks}) AND state IN "
                                  "('waiting', 'collecting', 'picked') ORDER BY id", tuple(tickets)):
            entry = {"state": "picked" if row["state"] == "picked" else "waiting", "door": row["door"]}
            if row["state"] == "waiting":
                entry["code"] = self.codes.code_of(row["nonce"])
            out[row["ticket"]] = entry
        return out
