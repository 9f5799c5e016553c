"""Tidal-window alerts (潮汐窗口): the hall manager is told when a service's queue has grown past
its threshold, and which windows could take it on.

A "tidal window" is opened, resumed or switched to the busy service at the peak and given back
when the queue has gone, as a tidal lane follows the traffic. The hall rules ask for it
(宁政服发〔2018〕35号 自查自纠对照清单 items 5, 7, 8; 周政办字〔2022〕24号 第九条; hwd.hall.config.alerts).

For every service the monitor measures the longest current wait (the oldest waiting ticket, on
the hall's clock) and the queue length. An alert is *raised* when either reaches its threshold
and *cleared* only when every measure is below ``clear_percent`` of its threshold, so a queue
moving around the threshold does not flap. ``hall.alert`` is published when an alert is raised,
when what it says changes materially (the windows it names, a further measure over, or a measure
reaching another multiple of its threshold: 60 minutes of a 30-minute threshold), and when it
clears. Waits grow without any event, so the engine runs ``check`` on every operation and on
its timer (each second, and at every jump of the test clock).

The alert names the windows that can serve the service: open and idle ones configured for it,
paused and closed ones configured for it (they can be resumed or opened) and, with
``other_windows``, idle windows of other services whose queues are empty (they could be switched).
Nothing here changes the queue: the alert is advice; the manager decides.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Any, Callable

from hwd.clock import Clock
from hwd.hall import views
from hwd.hall.config import HallConfig
from hwd.hall.store import Store

log = logging.getLogger("hwd.hall.queue.alerts")

TOPIC = "hall.alert"
KIND = "tidal"
MEASURES = ("wait", "queue")
# why a window is named, in the order the alert lists them
WHY = {"idle": "空闲", "paused": "暂停", "closed": "未开放", "other_idle": "空闲，可改办"}


@dataclass(frozen=True)
class Limits:
    """A service's thresholds; 0 switches a measure off."""

    wait_s: float = 0.0
    queue: int = 0
    clear_percent: int = 80

    @property
    def enabled(self) -> bool:
        return self.wait_s > 0 or self.queue > 0

    def over(self, wait_s: float, queue: int) -> list[str]:
        """The measures at or past their threshold ("wait", "queue")."""
        out = []
        if self.wait_s > 0 and wait_s >= self.wait_s:
            out.append("wait")
        if self.queue > 0 and queue >= self.queue:
            out.append("queue")
        return out

    def level(self, wait_s: float, queue: int) -> int:
        """How many times over its threshold the worse measure is (1 at the threshold, 2 at double)."""
        return max(int(wait_s // self.wait_s) if self.wait_s > 0 else 0,
                   queue // self.queue if self.queue > 0 else 0)

    def below(self, wait_s: float, queue: int) -> bool:
        """Every measure below ``clear_percent`` of its threshold: a raised alert clears."""
        ratio = self.clear_percent / 100.0
        return ((self.wait_s <= 0 or wait_s < self.wait_s * ratio)
                and (self.queue <= 0 or queue < self.queue * ratio))


def next_state(raised: bool, limits: Limits, wait_s: float, queue: int) -> bool:
    """Whether the alert is raised after this measurement (the hysteresis rule)."""
    if not limits.enabled:
        return False
    if raised:
        return not limits.below(wait_s, queue)
    return bool(limits.over(wait_s, queue))


def limits_for(cfg: HallConfig, service: str) -> Limits:
    svc = cfg.services[service]
    wait_min = cfg.tidal.wait_min if svc.tidal_wait_min is None else svc.tidal_wait_min
    queue = cfg.tidal.queue if svc.tidal_queue is None else svc.tidal_queue
    return Limits(wait_s=wait_min * 60.0, queue=queue, clear_percent=cfg.tidal.clear_percent)


def windows_for(cfg: HallConfig, service: str, rows: dict[str, dict], waiting: dict[str, int]) -> list[dict]:
    """The windows that could serve ``service`` now, each with why it is named (WHY)."""
    out: list[tuple[int, dict]] = []
    order = list(WHY)
    for wid, window in cfg.windows.items():
        row = rows.get(wid)
        if row is None:
            continue
        if service in window.services:
            if row["state"] == "open" and not row["current"]:
                why = "idle"
            elif row["state"] in ("paused", "closed"):
                why = row["state"]
            else:
                continue  # serving someone: already working on the queues it has
        elif (cfg.tidal.other_windows and row["state"] == "open" and not row["current"]
              and not any(waiting.get(s, 0) for s in window.services)):
            why = "other_idle"
        else:
            continue
        text = WHY[why] + (cfg.services[service].name if why == "other_idle" else "")
        if why == "paused" and row.get("reason"):
            text += f"：{row['reason']}"
        out.append((order.index(why), {"id": wid, "name": window.name, "state": row["state"], "why": why,
                                       "why_text": text, "services": list(window.services)}))
    return [w for _, w in sorted(out, key=lambda item: item[0])]


def alert_text(name: str, raised: bool, wait_s: float, queue: int, windows: list[dict]) -> str:
    """The hall manager's words, e.g. 社保 最长等候 35 分钟（12 人），可调配：3 号窗口（空闲）."""
    minutes = int(wait_s // 60)
    if not raised:
        return f"{name} 排队已缓解：最长等候 {minutes} 分钟（{queue} 人）"
    if windows:
        where = "，可调配：" + "，".join(f"{w['name']}（{w['why_text']}）" for w in windows)
    else:
        where = "，暂无可调配窗口，可增设临时窗口"
    return f"{name} 最长等候 {minutes} 分钟（{queue} 人）{where}"


class TidalAlerts:
    """The alerts of one hall, kept in memory (they are recomputed from the queue after a restart)."""

    def __init__(self, cfg: HallConfig, store: Store, clock: Clock, publish: Callable[[str, dict], Any]):
        self.cfg = cfg
        self.store = store
        self.clock = clock
        self.publish = publish
        self.alerts: dict[str, dict] = {}  # service -> the raised alert (refreshed by every check)
        self._said: dict[str, tuple] = {}  # service -> what its last hall.alert said (triggers, level, windows)

    def measure(self) -> dict[str, tuple[float, int]]:
        """service -> (longest wait in seconds, tickets waiting), on the hall's clock."""
        now = self.clock.time()
        rows = self.store.all("SELECT service, COUNT(*) AS n, MIN(issued_ts) AS oldest FROM tickets "
                              "WHERE state = 'waiting' GROUP BY service")
        return {r["service"]: (max(0.0, now - r["oldest"]), r["n"]) for r in rows}

    def check(self) -> list[dict]:
        """Measure every service, raise and clear; returns the hall.alert events it published."""
        try:
            measured = self.measure()
            windows = {wid: self.store.window(wid) for wid in self.cfg.windows}
        except sqlite3.Error:
            log.exception("cannot measure the queues for tidal-window alerts")
            return []
        waiting = {s: n for s, (_, n) in measured.items()}
        published = []
        for sid in self.cfg.services:
            limits = limits_for(self.cfg, sid)
            wait_s, queue = measured.get(sid, (0.0, 0))
            was = sid in self.alerts
            now_raised = next_state(was, limits, wait_s, queue)
            if not was and not now_raised:
                continue
            # since the alert was raised: the measures that passed their threshold (one falling
            # back into the band is no news, one newly passing is) and the highest multiple of a
            # threshold reached (a wait twice the threshold is news)
            triggers = set(self.alerts[sid]["triggers"]) if was else set()
            triggers.update(limits.over(wait_s, queue))
            level = max(self.alerts[sid]["level"] if was else 1, limits.level(wait_s, queue))
            alert = self._alert(sid, limits, now_raised, wait_s, queue, [t for t in MEASURES if t in triggers],
                                windows_for(self.cfg, sid, windows, waiting) if now_raised else [])
            alert["level"] = level
            if now_raised:
                alert["since"] = self.alerts[sid]["since"] if was else alert["at"]
                self.alerts[sid] = alert
                said = (tuple(alert["triggers"]), level, tuple((w["id"], w["why"]) for w in alert["windows"]))
                if said != self._said.get(sid):
                    self._said[sid] = said
                    published.append(dict(alert, update=was))
            else:
                alert["since"] = self.alerts.pop(sid)["since"]
                self._said.pop(sid, None)
                published.append(dict(alert, update=False))
        for event in published:
            log.log(logging.WARNING if event["state"] == "raised" else logging.INFO, "tidal alert %s: %s",
                    event["state"], event["text"])
            self.publish(TOPIC, event)
        return published

    def _alert(self, sid: str, limits: Limits, raised: bool, wait_s: float, queue: int, triggers: list[str],
               windows: list[dict]) -> dict:
        name = self.cfg.services[sid].name
        return {"kind": KIND, "state": "raised" if raised else "cleared", "service": sid, "service_name": name,
                "wait_s": int(wait_s), "wait_min": int(wait_s // 60), "queue": queue,
                "threshold": {"wait_min": int(limits.wait_s // 60), "queue": limits.queue,
                              "clear_percent": limits.clear_percent},
                "triggers": triggers, "windows": windows,
                "text": alert_text(name, raised, wait_s, queue, windows),
                "at": views.iso(self.clock.time(), self.clock.tz)}

    def current(self) -> list[dict]:
        """The raised alerts as of the last check (``hall.alerts``), in service order."""
        return [dict(self.alerts[s]) for s in self.cfg.services if s in self.alerts]
