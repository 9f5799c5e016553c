"""One engine PC of a hall with ``[hall.standby]``: it follows the replicated log as the standby,
campaigns for the hall's leader key when nobody holds it, and runs the hall engine while it does.

The daemon starts this instead of a HallEngine. Three threads of work:

- the **session** (a thread, every ``lease_s / 3``): keeps this PC's etcd lease alive, reads the
  hall's keys (leader, members, handover) in one request, publishes this PC's member key, and
  decides: campaign when the leader key is free, step down on a handover or a lost lease. A
  keep-alive that fails for longer than the lease stops the engine even before etcd says so;
- the **follower** (a thread, while standby): applies the log to this PC's database in order;
- the **engine** (on the event loop, while active): a HallEngine whose database connections are
  replicated (hwd.standby.replica), opened only after every entry up to the current revision is
  applied, closed at once when leadership ends. Its ``hall.*`` methods, bus subscriptions and
  node callbacks are removed with it, so the next promotion starts clean.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from hwd import __version__, errors
from hwd.errors import HwdError
from hwd.wording import Refusal
from hwd.schema import Field
from hwd.standby import etcd as E
from hwd.hall.config.standby import Standby
from hwd.standby.log import Keys
from hwd.standby.follower import Follower, empty, meta
from hwd.standby.hosting import Hosted, SchemaOnly
from hwd.standby.replica import LogError, Replicator, apply_entries, local_seq, read_log

log = logging.getLogger("hwd.standby")

SYNC_SLACK = 2  # entries a standby may be behind and still be "in sync" (appends in flight)
SYNC_AGE_S = 2.0  # ... or: it had applied the whole log this recently (a busy hall appends all the time)
TRIM_EVERY_S = 30.0


class View:
    """What the session last read from etcd."""

    def __init__(self) -> None:
        self.revision = 0
        self.leader: dict | None = None
        self.leader_rev = 0
        self.handover: dict | None = None
        self.genesis: dict | None = None
        self.members: dict[str, dict] = {}
        self.applied: dict[str, int] = {}
        self.read_at = 0.0  # monotonic


def _json(kv: Any) -> dict:
    try:
        return json.loads(kv.value)
    except ValueError:
        return {}


class StandbyNode:
    def __init__(self, config: Any, manager: Any, bus: Any, methods: Any, clock: Any):
        self.config = config
        self.cfg: Standby = config.hall.standby
        self.me = self.cfg.me
        self.manager, self.bus, self.methods, self.clock = manager, bus, methods, clock
        self.keys = Keys(self.cfg.prefix)
        self.period = self.cfg.lease_s / 3
        self.etcd = E.Etcd(self._endpoints(), ca=self.cfg.etcd_ca, cert=self.cfg.etcd_cert, key=self.cfg.etcd_key,
                           timeout=max(0.3, self.period))
        self.replicator = Replicator(self.etcd, self.keys, self.me.id, self.cfg.lease_s)
        self.replicator.on_lost = self.lost
        self.db_path = Path(config.hall.database or Path(config.daemon.state_dir) / "hall.sqlite3")
        raw_hall = {k: v for k, v in (config.raw.get("hall") or {}).items() if k != "standby"}
        self.config_hash = hashlib.sha256(json.dumps(raw_hall, sort_keys=True, default=str).encode()).hexdigest()[:16]
        self.role = "starting"  # following | promoting | active | demoting | stopped
        self.hosted: Hosted | None = None  # the hall engine, while this PC is the active one
        self.follower = Follower(self.etcd, self.keys, self.db_path, self.period, self.me.id, self._say)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.view = View()
        self.lease = 0
        self.lease_until = 0.0  # monotonic: the lease may be gone after this
        self.etcd_error: str | None = None
        self.holdoff_until = 0.0
        self.active_since: float | None = None
        self.term = 0
        self.failovers = 0
        self._stop = threading.Event()
        self._session_thread: threading.Thread | None = None
        self._task: asyncio.Task | None = None
        self._transition: asyncio.Lock | None = None
        self._last_trim = 0.0
        self._sync_seen: tuple | None = None
        self._last_log: dict[str, float] = {}
        if hasattr(methods, "node"):
            methods.node = self
        self._register()

    def _endpoints(self) -> list[str]:
        """This PC's own etcd member first (same host as its engine endpoint), then the others."""
        host = self.me.rpc.split("://", 1)[-1].rsplit(":", 1)[0]
        return sorted(self.cfg.etcd, key=lambda url: 0 if f"//{host}:" in url else 1)

    def _say(self, key: str, level: int, message: str, *args: Any, every: float = 10.0) -> None:
        now = time.monotonic()
        if now - self._last_log.get(key, -every) >= every:
            self._last_log[key] = now
            log.log(level, "standby %s: " + message, self.me.id, *args)

    @property
    def applied(self) -> int:
        """The last log entry this PC's database holds."""
        return self.replicator.last_seq if self.role == "active" else self.follower.applied

    @property
    def problem(self) -> str | None:
        return self.follower.problem

    # -- the guard's view ---------------------------------------------------------------------------
    @property
    def serving(self) -> bool:
        return self.role == "active" and self.replicator.active

    def active_engine(self) -> dict | None:
        leader = self.view.leader
        if not leader:
            return None
        return {k: leader.get(k) for k in ("engine", "rpc", "events")}

    def not_active(self) -> HwdError:
        active = self.active_engine()
        return Refusal(errors.NOT_ACTIVE, "", {"this": self.me.id, "role": self.role, "active": active})

    def replication_failed(self) -> bool:
        return self.replicator.last_error is not None

    def heartbeat_info(self) -> dict:
        """Added to daemon.heartbeat: lets a subscriber on the wrong PC find the active one."""
        return {"standby": {"this": self.me.id, "role": self.role, "active": self.active_engine()}}

    # -- lifecycle ------------------------------------------------------------------------------------
    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._transition = asyncio.Lock()
        await asyncio.to_thread(self._prepare_db)
        self.role = "following"
        self.follower.start()
        self._session_thread = threading.Thread(target=self._session, name="hwd-standby", daemon=True)
        self._session_thread.start()
        log.info("standby %s: following the hall log in etcd %s (prefix %s, lease %.1f s)", self.me.id,
                 ", ".join(self.cfg.etcd), self.cfg.prefix, self.cfg.lease_s)

    def _prepare_db(self) -> None:
        store = SchemaOnly(self.db_path, self.config.hall.sync)
        try:
            self.follower.applied = local_seq(store.db)
        finally:
            store.close()

    async def stop(self) -> None:
        """A clean stop hands over at once: the lease is revoked, so the standby need not wait for it."""
        self._stop.set()
        was_active = self.role in ("active", "promoting")
        self.replicator.fence("hwd is stopping")
        self.role = "stopped"
        if self.hosted is not None:
            await self._close_engine()
        await asyncio.to_thread(self.follower.stop)
        if self._session_thread is not None:
            await asyncio.to_thread(self._session_thread.join, self.cfg.lease_s + 2)
        if self.lease:
            try:
                await asyncio.to_thread(self.etcd.revoke, self.lease, 1.0)
                if was_active:
                    log.info("standby %s: stopped; leadership released", self.me.id)
            except E.EtcdError:
                pass

    # -- the session thread ---------------------------------------------------------------------------
    def _session(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                if self._keep_lease(started):
                    self._read_view()
                    self._decide()
                    self._publish_member()
                    if self.role == "active" and started - self._last_trim > TRIM_EVERY_S:
                        self._last_trim = started
                        self._trim()
                self.etcd_error = None
            except E.EtcdError as exc:
                self.etcd_error = str(exc)
                self._say("etcd", logging.WARNING, "etcd: %s", exc)
            except Exception:
                log.exception("standby %s: session step failed", self.me.id)
            if self.role in ("active", "promoting") and time.monotonic() > self.lease_until:
                self.lost("the lease keep-alive failed for longer than the lease")
            left = self.period - (time.monotonic() - started)
            if left <= 0 or self._stop.is_set():
                continue
            if self.role == "following" and self.view.leader is not None:
                for _event in self.etcd.watch(self.keys.leader, None, self.view.revision + 1, left):
                    break  # the leader key changed (deleted: campaign now)
            else:
                self._stop.wait(left)

    def _deadline(self, sent: float) -> float:
        """How long a session call may take: a period, and never past the lease while active
        (then the lease's end is checked, not a call waited out)."""
        end = sent + self.period * 1.5
        return min(end, self.lease_until) if self.role in ("active", "promoting") else end

    def _keep_lease(self, sent: float) -> bool:
        """Keep (or get) this PC's lease; False when etcd did not answer in time."""
        if self.lease:
            try:
                ttl = self.etcd.keepalive(self.lease, timeout=self.period, deadline=self._deadline(sent))
            except E.Unavailable as exc:
                self.etcd_error = str(exc)
                self._say("keepalive", logging.WARNING, "lease keep-alive failed: %s", exc, every=5.0)
                return False
            if ttl > 0:
                self.lease_until = sent + ttl
                self.replicator.lease_ok_until = self.lease_until
                return True
            self._say("lease", logging.WARNING, "lease %x is gone", self.lease, every=0)
            self.lease = 0
            if self.role in ("active", "promoting"):
                self.lost("the lease expired")
        lease, ttl = self.etcd.grant(self.cfg.lease_s, timeout=self.period)
        self.lease, self.lease_until = lease, sent + ttl
        return True

    def _read_view(self) -> None:
        k = self.keys
        ok, revision, responses = self.etcd.txn([], [
            E.op_range(k.leader), E.op_range(k.handover), E.op_range(k.genesis),
            E.op_range(k.member_prefix, E.prefix_end(k.member_prefix)),
            E.op_range(k.applied_prefix, E.prefix_end(k.applied_prefix))], timeout=self.period,
            deadline=self._deadline(time.monotonic()))
        ranges = [E.kvs_of(r.get("response_range") or {}) for r in responses]
        view = View()
        view.revision = revision
        if ranges[0]:
            view.leader, view.leader_rev = _json(ranges[0][0]), ranges[0][0].create_revision
        view.handover = _json(ranges[1][0]) if ranges[1] else None
        view.genesis = _json(ranges[2][0]) if ranges[2] else None
        view.members = {kv.key[len(k.member_prefix):].decode(): _json(kv) for kv in ranges[3]}
        view.applied = {kv.key[len(k.applied_prefix):].decode(): int(kv.value or b"0") for kv in ranges[4]}
        view.read_at = time.monotonic()
        self.view = view

    def _decide(self) -> None:
        view = self.view
        if self.role in ("active", "promoting"):
            if view.leader_rev != self.term:
                self.lost("the leader key is gone or another engine's")
            elif self.role == "active" and view.handover and view.handover.get("to") != self.me.id:
                target = view.handover.get("to")
                if self._in_sync(target):
                    self.step_down(f"handover to {target} (hwctl standby promote)")
            return
        if self.role == "following" and view.leader is not None and view.leader.get("engine") == self.me.id:
            self._release(view.leader_rev, "a leader key of this PC's that it no longer acts on")
            return
        if self.role != "following" or view.leader is not None:
            return
        if self._stop.is_set() or not self.lease or self.problem or not self.follower.checked:
            return
        if view.handover and view.handover.get("to") not in (None, self.me.id) \
                and view.handover.get("to") in view.members:
            return  # another engine asked for the hall
        asked = bool(view.handover) and view.handover.get("to") == self.me.id
        if time.monotonic() < self.holdoff_until and not asked:
            return
        self._campaign()

    def _campaign(self) -> None:
        value = json.dumps({"engine": self.me.id, "rpc": self.me.rpc, "events": self.me.events, "since": time.time(),
                            "version": __version__, "config": self.config_hash}).encode()
        won, revision, _ = self.etcd.txn([E.cmp_create(self.keys.leader, 0)],
                                         [E.op_put(self.keys.leader, value, self.lease)], timeout=self.period)
        if not won:
            return
        self.term = revision
        self.role = "promoting"
        self.view.leader, self.view.leader_rev = json.loads(value), revision
        log.warning("standby %s: won the hall's leadership (term %d); taking over", self.me.id, revision)
        self.loop.call_soon_threadsafe(self._start_promote, revision)

    def _publish_member(self) -> None:
        if not self.lease:
            return
        applied = self.applied
        behind = 0.0 if self.role == "active" else round(time.monotonic() - self.follower.caught_up_at, 2)
        body = {"engine": self.me.id, "role": self.role, "applied": applied, "behind_s": behind, "rpc": self.me.rpc,
                "events": self.me.events, "version": __version__, "config": self.config_hash,
                "problem": self.problem, "ts": time.time()}
        ops = [E.op_put(self.keys.member(self.me.id), json.dumps(body).encode(), self.lease)]
        if self.view.applied.get(self.me.id) != applied:
            ops.append(E.op_put(self.keys.applied(self.me.id), str(applied).encode()))
        self.etcd.txn([], ops, timeout=self.period, deadline=self._deadline(time.monotonic()))
        self.view.applied[self.me.id] = applied
        self.view.members[self.me.id] = body
        if self.role == "active":
            self._watch_sync()

    def _trim(self) -> None:
        """Delete log entries every engine has applied (or beyond ``log_keep``)."""
        applied = [self.view.applied.get(e.id, 0) for e in self.cfg.engines]
        floor = max(min(applied), self.applied - self.cfg.log_keep)
        if floor <= 0:
            return
        deleted = self.etcd.delete(self.keys.log_prefix, self.keys.log(floor + 1), timeout=self.period)
        if deleted:
            log.info("standby %s: trimmed %d log entries up to %d", self.me.id, deleted, floor)

    # -- in sync ------------------------------------------------------------------------------------
    def _in_sync(self, engine_id: str | None) -> bool:
        member = self.view.members.get(engine_id or "")
        if member is None or member.get("problem"):
            return False
        if float(member.get("behind_s", 1e9)) <= SYNC_AGE_S + self.period:
            return True  # it had the whole log less than a couple of seconds ago
        head = self.applied if self.role == "active" else self.view.applied.get(self._leader_id() or "", 0)
        return head - int(member.get("applied") or 0) <= SYNC_SLACK

    def _leader_id(self) -> str | None:
        return (self.view.leader or {}).get("engine")

    def _watch_sync(self) -> None:
        other = next((e for e in self.engines() if e["id"] != self.me.id), None)
        now = (other or {}).get("up"), (other or {}).get("in_sync"), (other or {}).get("problem")
        if now != self._sync_seen:
            self._sync_seen = now
            self.loop.call_soon_threadsafe(self._record_sync)

    def engines(self) -> list[dict]:
        out = []
        head = self.applied if self.role == "active" else self.view.applied.get(self._leader_id() or "", 0)
        for e in self.cfg.engines:
            member = self.view.members.get(e.id)
            applied = self.view.applied.get(e.id, 0) if member is None else int(member.get("applied") or 0)
            out.append({"id": e.id, "rpc": e.rpc, "events": e.events, "up": member is not None,
                        "role": (member or {}).get("role", "down"), "applied": applied, "lag": max(0, head - applied),
                        "in_sync": self._in_sync(e.id) if e.id != self._leader_id() else member is not None,
                        "problem": (member or {}).get("problem"), "version": (member or {}).get("version"),
                        "config_matches": member is None or member.get("config") == self.config_hash})
        return out

    # -- taking over and giving up (on the event loop) ------------------------------------------------
    def _start_promote(self, term: int) -> None:
        self._task = asyncio.ensure_future(self._promote(term))

    async def _promote(self, term: int) -> None:
        async with self._transition:
            await self._promote_locked(term)

    async def _promote_locked(self, term: int) -> None:
        started = time.monotonic()
        await asyncio.to_thread(self.follower.stop)
        try:
            seq = await asyncio.to_thread(self._catch_up, term)
        except (LogError, E.EtcdError, sqlite3.Error) as exc:
            log.error("standby %s: cannot take over: %s", self.me.id, exc)
            await self._give_up(term, str(exc))
            return
        if self.role != "promoting" or self.term != term:
            await self._demote_locked("leadership lost while catching up")
            return
        self.replicator.term = term
        self.replicator.lease_ok_until = self.lease_until
        self.replicator.needs_catchup = False
        self.replicator.last_error = None
        self.replicator.last_seq = seq
        self.hosted = Hosted(self.config, self.manager, self.bus, self.methods, self.clock, self.replicator,
                             self.me.id)
        try:
            await self.hosted.open()
        except Exception as exc:  # a StartupError, or the lease ran out during the start
            log.error("standby %s: the hall engine did not start: %s", self.me.id, exc)
            await self._close_engine()
            await self._give_up(term, str(exc))
            return
        if self.role != "promoting" or self.term != term:
            await self._demote_locked("leadership lost while opening the hall")
            return
        self.role = "active"
        self.active_since = time.time()
        self.failovers += 1
        self.replicator.last_seq = max(seq, local_seq(self.hosted.store.db))
        log.warning("standby %s: ACTIVE (term %d) after %.2f s, from log entry %d", self.me.id, term,
                    time.monotonic() - started, seq)
        self.bus.publish("standby.role", {"this": self.me.id, "role": "active", "term": term})
        if (self.view.handover or {}).get("to") == self.me.id:  # asked for: the request is done
            asyncio.get_running_loop().run_in_executor(None, self._release_handover)
        self.hosted.mark_hall((self.view.genesis or {}).get("hall"))
        self.hosted.record(self.engines(), first=True)

    def _catch_up(self, term: int) -> int:
        """Apply every entry up to the etcd revision at which this engine won, then name the
        database the log starts from (the first leader of a hall)."""
        db = sqlite3.connect(self.db_path, isolation_level=None, timeout=30)
        try:
            while True:
                _, entries, more = read_log(self.etcd, self.keys, local_seq(db), limit=500, timeout=self.period * 2)
                if entries:
                    apply_entries(db, entries)
                if not more:
                    break
            seq = local_seq(db)
            self.follower.applied = seq
            if self.view.genesis is None:
                genesis = {"hall": secrets.token_hex(8), "db_id": meta(db, "db_id"), "seq": seq,
                           "fresh": seq == 0 and empty(db), "by": self.me.id, "ts": time.time()}
                done, _, _ = self.etcd.txn([E.cmp_create(self.keys.genesis, 0), E.cmp_create(self.keys.leader, term)],
                                           [E.op_put(self.keys.genesis, json.dumps(genesis).encode())],
                                           timeout=self.period * 2)
                if done:
                    self.view.genesis = genesis
            return seq
        finally:
            db.close()

    async def _give_up(self, term: int, reason: str) -> None:
        """Release a leadership this engine cannot use, and let the other one try."""
        self.replicator.fence(reason)
        try:
            await asyncio.to_thread(self.etcd.txn, [E.cmp_create(self.keys.leader, term)],
                                    [E.op_delete(self.keys.leader)], None, self.period)
        except E.EtcdError:
            pass
        self.holdoff_until = time.monotonic() + max(5.0, self.cfg.lease_s)
        self.term = 0
        self.role = "following"
        self.follower.start()

    def _release(self, term: int, why: str) -> None:
        """Delete this PC's leader key (if it is still the one of ``term``), so the other engine
        need not wait for the lease to run out."""
        try:
            released, _, _ = self.etcd.txn([E.cmp_create(self.keys.leader, term)], [E.op_delete(self.keys.leader)],
                                           None, timeout=self.period)
        except E.EtcdError:
            return  # it goes with the lease
        if released:
            log.info("standby %s: released the leader key (%s)", self.me.id, why)

    def _release_handover(self) -> None:
        try:
            self.etcd.delete(self.keys.handover, None, self.period)
        except E.EtcdError:
            pass  # it goes with the requester's lease

    def lost(self, reason: str) -> None:
        """Leadership ended (any thread): refuse writes and hall calls now, close the engine soon."""
        if self.role not in ("active", "promoting"):
            return
        self.replicator.fence(reason)
        self.role = "demoting"
        log.warning("standby %s: leadership lost: %s; stopping the hall engine", self.me.id, reason)
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._demote(reason)))

    def step_down(self, reason: str) -> None:
        """Give the hall up on purpose (demote, handover): delete the leader key, hold off."""
        term = self.term
        self.holdoff_until = time.monotonic() + self.cfg.holdoff_s
        self.lost(reason)
        self._release(term, reason)

    async def _demote(self, reason: str) -> None:
        async with self._transition:
            await self._demote_locked(reason)

    async def _demote_locked(self, reason: str) -> None:
        if self.hosted is not None:
            await self._close_engine()
        if self.term and not self._stop.is_set():
            await asyncio.to_thread(self._release, self.term, reason)
        self.term = 0
        if self.role in ("demoting", "promoting"):
            self.role = "following"
            self.bus.publish("standby.role", {"this": self.me.id, "role": "standby", "reason": reason})
            self.follower.start()

    async def _close_engine(self) -> None:
        hosted, self.hosted = self.hosted, None
        if hosted is not None:
            await hosted.close()

    def _record_sync(self) -> None:
        if self.hosted is not None and self.role == "active":
            self.hosted.record(self.engines(), first=False)

    # -- status and the engineer's commands -----------------------------------------------------------
    def status(self) -> dict:
        view = self.view
        left = self.lease_until - time.monotonic() if self.lease else 0.0
        return {"this": self.me.id, "role": self.role, "active": self.active_engine(), "term": self.term or None,
                "applied": self.applied, "engines": self.engines(), "problem": self.problem,
                "etcd": {"endpoints": self.etcd_endpoints_status(), "error": self.etcd_error,
                         "read_age_s": round(time.monotonic() - view.read_at, 2) if view.read_at else None},
                "lease": {"ttl_s": self.cfg.lease_s, "left_s": round(max(0.0, left), 2)},
                "handover": view.handover, "genesis": view.genesis, "active_since": self.active_since,
                "holdoff_s": round(max(0.0, self.holdoff_until - time.monotonic()), 1),
                "appended": self.replicator.appended, "last_error": self.replicator.last_error}

    def etcd_endpoints_status(self) -> list[dict]:
        return [{"url": url} for url in self.cfg.etcd]

    def members_status(self) -> list[dict]:
        """Each etcd member as it answers now (slow: one request per member)."""
        out = []
        for i, url in enumerate(self.etcd.endpoints):
            try:
                st = self.etcd.status(i, timeout=0.5)
                out.append({"url": url.geturl(), "ok": True, "version": st.get("version"),
                            "leader": st.get("leader") == st.get("header", {}).get("member_id"),
                            "db_size": int(st.get("dbSize") or 0)})
            except (OSError, E.EtcdError, Exception) as exc:  # noqa: BLE001 - any failure is "not answering"
                out.append({"url": url.geturl(), "ok": False, "error": str(exc)[:200]})
        return out

    async def promote(self, force: bool = False) -> dict:
        if self.role == "active":
            return {"role": "active", "changed": False}
        if self.problem:
            raise HwdError(f"this PC cannot take over: {self.problem}", errors.STANDBY_REFUSED)
        leader = self._leader_id()
        if leader and not force and not self._caught_up():
            raise HwdError(f"this PC is not in sync with {leader} yet (lag {self._lag()}); try again, or force",
                           errors.STANDBY_REFUSED)
        body = json.dumps({"to": self.me.id, "at": time.time()}).encode()
        await asyncio.to_thread(self.etcd.put, self.keys.handover, body, self.lease, self.period * 2)
        self.holdoff_until = 0.0
        deadline = time.monotonic() + 4 * self.cfg.lease_s + 5
        while time.monotonic() < deadline and self.role != "active":
            await asyncio.sleep(0.1)
        try:
            await asyncio.to_thread(self.etcd.delete, self.keys.handover, None, self.period * 2)
        except E.EtcdError:
            pass
        if self.role != "active":
            raise HwdError(f"this PC did not become active (now {self.role}); see hwctl standby status",
                           errors.STANDBY_REFUSED)
        return {"role": "active", "changed": True, "from": leader}

    async def demote(self, force: bool = False) -> dict:
        if self.role != "active":
            return {"role": self.role, "changed": False}
        other = next((e.id for e in self.cfg.engines if e.id != self.me.id), None)
        if not force and not self._in_sync(other):
            raise HwdError(f"the other engine ({other}) is not up and in sync: demoting would stop the hall "
                           "(give force to do it anyway)", errors.STANDBY_REFUSED)
        body = json.dumps({"to": other, "by": self.me.id, "at": time.time()}).encode()
        try:  # the other engine may take over at once, even inside its own hold-off
            await asyncio.to_thread(self.etcd.put, self.keys.handover, body, self.lease, self.period * 2)
        except E.EtcdError as exc:
            log.warning("standby %s: cannot ask %s to take over: %s", self.me.id, other, exc)
        await asyncio.to_thread(self.step_down, "hwctl standby demote")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.role != "following":
            await asyncio.sleep(0.05)
        return {"role": self.role, "changed": True, "holdoff_s": self.cfg.holdoff_s}

    def _caught_up(self) -> bool:
        return time.monotonic() - self.follower.caught_up_at <= SYNC_AGE_S or self._lag() <= SYNC_SLACK

    def _lag(self) -> int:
        return max(0, self.view.applied.get(self._leader_id() or "", 0) - self.applied)

    def _register(self) -> None:
        m = self.methods
        m.add("standby.status", lambda p: self.status(), (), "this engine PC's role, the active one, "
              "each engine's applied log entry and whether it is in sync", replay=False)
        m.add("standby.members", lambda p: asyncio.to_thread(self.members_status), (),
              "each etcd member as it answers now", replay=False)
        m.add("standby.promote", lambda p: self.promote(p["force"]), (Field("force", bool, False),),
              "make this PC the active engine (the active one hands over once this one is in sync)")
        m.add("standby.demote", lambda p: self.demote(p["force"]), (Field("force", bool, False),),
              "hand the hall to the other engine (refused unless it is up and in sync, or force)")
