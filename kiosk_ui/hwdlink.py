"""The pages' link to hwd: RPC through a per-thread client, the event hub, and the parts of the
hall config the pages need (kiosk readers, window screens, services).

The pages hold no queue state: everything they show comes from hwd over ZeroMQ. Errors from
hwd are turned into short Chinese messages for citizens and clerks (``message_for``).

With ``[hall.standby]`` the pages talk to whichever engine PC is active (hwd.client's
FailoverPool and FollowingSubscriber over the engines' endpoints), not to ``[daemon] rpc``: a
failover is a short "hwd down" for the pages, shown and recovered from as one.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from pathlib import Path
from typing import Any

from hwd import errors
from hwd.clock import wall
from hwd.client import ClientPool, FailoverPool, FollowingSubscriber, RpcError, Subscriber, Unreachable, engines_of

from kiosk_ui.live import EventHub
from kiosk_ui.settings import UiSettings

log = logging.getLogger("kiosk_ui.hwd")

MESSAGES = {
    errors.OUTSIDE_HOURS: "现在不在取号时间",
    errors.QUOTA_REACHED: "该事项今日号源已满，请改日再来或咨询服务台",
    errors.UNKNOWN_SERVICE: "没有这个办理事项",
    errors.UNKNOWN_WINDOW: "没有这个窗口",
    errors.UNKNOWN_KIOSK: "本机未登记为取号机，请联系管理员",
    errors.WINDOW_PAUSED: "窗口已暂停服务",
    errors.WINDOW_CLOSED: "窗口未开放，请先登录",
    errors.NO_CURRENT_TICKET: "当前没有正在办理的号",
    errors.BAD_STATE: "当前状态下不能这样操作",
    errors.NOT_LOGGED_IN: "请先登录",
    errors.LOGIN_FAILED: "工号或密码不正确",
    errors.LOGIN_LOCKED: "密码错误次数过多，请稍后再试",
    errors.UNKNOWN_PAD: "本评价器未登记，请联系管理员",
    errors.RATING_CHANNEL_REFUSED: "只能评价本窗口刚办结的业务",
    errors.CARD_TOKEN_USED: "这张身份证已经取过号了，请重新刷卡",
    errors.CARD_TOKEN_WRONG_KIOSK: "请在本机重新刷身份证",
    errors.ALREADY_RATED: "本次服务已经评价过了，谢谢",
    errors.UNKNOWN_TICKET: "没有找到这个号",
    errors.CARD_TOKEN_EXPIRED: "身份证信息已过期，请重新刷卡",
    errors.UNKNOWN_APPOINTMENT: "没有找到这个预约，请核对预约码或咨询服务台",
    errors.APPOINTMENT_USED: "这个预约已经签到并办理过了，如需办理请直接取号",
    errors.HALL_DISABLED: "本机未开启排队叫号",
    errors.METHOD_NOT_FOUND: "系统暂不支持这个功能",
    errors.INVALID_PARAMS: "输入有误，请重试",
    errors.DEVICE_OFFLINE: "设备未连接",
    errors.DEVICE_FAULT: "设备故障",
    errors.NOT_ACTIVE: "系统正在切换主机，请稍候再试",
    errors.NOT_REPLICATED: "系统正在切换主机，请稍候再试",
}
UNREACHABLE_MESSAGE = "系统连接中断，请稍候再试或到服务台咨询"


def message_for(exc: Exception) -> str:
    """A short Chinese message for an error from hwd."""
    if isinstance(exc, Unreachable):
        return UNREACHABLE_MESSAGE
    text = str(exc)
    if any("\u4e00" <= ch <= "\u9fff" for ch in text) and len(text) <= 80:
        return text  # the hall engine's own message is written for citizens and clerks
    code = getattr(exc, "code", None)
    return MESSAGES.get(code, "操作没有成功，请重试或到服务台咨询")


class HallLink:
    """One per app: RPC, the event hub and the config lookups."""

    def __init__(self, config: Any, settings: UiSettings):
        self.config = config
        self.settings = settings
        daemon = config.daemon
        keys: dict[str, Any] = {}
        if daemon.rpc.startswith("tcp://") and daemon.server_key:
            keys = {"server_key": daemon.server_key, "client_key": daemon.client_key}
        self._keys = keys
        standby = getattr(config.hall, "standby", None) if getattr(config, "hall", None) is not None else None
        self.engines = engines_of(standby, daemon.client_key) if standby is not None else None
        if self.engines is not None:  # two engine PCs: follow the active one
            self.pool: Any = FailoverPool(self.engines, timeout=settings.rpc_timeout_s, retries=1)
        else:
            self.pool = ClientPool(daemon.rpc, timeout=settings.rpc_timeout_s, retries=1, **keys)
        self.hub = EventHub(self._subscriber, ring=settings.ring, max_streams=settings.max_streams,
                            per_address=settings.streams_per_address, reserved=settings.reserved_streams)
        self._remembered: dict[str, Any] = {}

    def remember(self, key: str, value: Any) -> None:
        """Keep the last good answer of something a page must still show while hwd is down."""
        self._remembered[key] = value

    def remembered(self, key: str) -> Any:
        return self._remembered.get(key)

    def _subscriber(self) -> Subscriber | FollowingSubscriber:
        if self.engines is not None:
            return FollowingSubscriber(self.engines, ("",), silence_s=max(3 * self.config.daemon.heartbeat_s, 1.5))
        return Subscriber(self.config.daemon.events, ("",), **self._keys)

    def call(self, method: str, params: dict | None = None, timeout: float | None = None) -> Any:
        """One RPC; raises ``Unreachable`` or ``RpcError``."""
        kwargs = {"timeout": timeout} if timeout is not None else {}
        return self.pool.call(method, params, **kwargs)

    def try_call(self, method: str, params: dict | None = None, default: Any = None) -> Any:
        """An RPC whose failure the page can live with (shows ``default``)."""
        try:
            return self.call(method, params)
        except (RpcError, Unreachable) as exc:
            log.info("%s failed: %s", method, exc)
            return default

    def now(self, ask: bool = True) -> dt.datetime:
        """The hall's time by hwd's clock (a test or training clock too); the PC's own time, in
        the hall's time zone, while hwd does not answer (or ``ask`` is false: hwd is known down)."""
        now = self.try_call("clock.now", default=None) if ask else None
        if isinstance(now, dict) and now.get("now"):
            try:
                return dt.datetime.fromisoformat(now["now"])
            except ValueError:
                pass
        try:
            return dt.datetime.fromtimestamp(wall(), zoneinfo.ZoneInfo(self.config.daemon.timezone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return dt.datetime.fromtimestamp(wall()).astimezone()

    def today(self, ask: bool = True) -> dt.date:
        """The hall's date (see ``now``)."""
        return self.now(ask).date()

    def live(self) -> EventHub:
        return self.hub.start()

    def up(self) -> bool:
        """Does hwd answer? At once when its heartbeats are arriving; else one short
        ``daemon.status`` (a page for a hall with hwd down must not wait out every RPC)."""
        if self.live().alive(max(2.5 * self.config.daemon.heartbeat_s, 1.0)):
            return True
        try:
            self.call("daemon.status", timeout=min(1.0, self.settings.rpc_timeout_s))
        except Unreachable:
            return False
        except RpcError:
            pass
        return True

    # -- config lookups ------------------------------------------------------------------------
    @property
    def hall_raw(self) -> dict:
        raw = self.config.raw.get("hall")
        return raw if isinstance(raw, dict) else {}

    @property
    def title(self) -> str:
        return self.settings.title or str(self.hall_raw.get("name") or "政务服务中心")

    def _find(self, key: str, ident: str) -> dict | None:
        for item in self.hall_raw.get(key, []) or []:
            if isinstance(item, dict) and str(item.get("id")) == str(ident):
                return item
        return None

    def kiosk(self, kiosk_id: str) -> dict | None:
        return self._find("kiosk", kiosk_id)

    def window(self, window_id: str) -> dict | None:
        return self._find("window", window_id)

    def windows(self) -> list[dict]:
        return [w for w in self.hall_raw.get("window", []) or [] if isinstance(w, dict)]

    def config_services(self) -> list[dict]:
        return [s for s in self.hall_raw.get("service", []) or [] if isinstance(s, dict)]

    @property
    def state_dir(self) -> Path:
        return Path(self.config.daemon.state_dir)

    def emulated(self) -> bool:
        return any(getattr(d.url, "scheme", "") == "sim" for d in self.config.devices)


def current() -> HallLink:
    """The app's link to hwd (inside a request)."""
    from flask import current_app

    return current_app.extensions["hwd"]


def window_or_404(window_id: str) -> dict:
    from flask import abort

    window = current().window(window_id)
    if window is None:
        abort(404)
    return window


def kiosk_or_404(kiosk_id: str) -> dict:
    from flask import abort

    kiosk = current().kiosk(kiosk_id)
    if kiosk is None:
        abort(404)
    return kiosk
