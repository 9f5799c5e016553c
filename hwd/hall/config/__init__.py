"""The ``[hall]`` section: services, windows, kiosks, staff, hours and the queue rules, checked
into typed objects. hwd.config calls ``load(raw, ctx)`` and lists every problem with its line.

Every key is documented in docs/hall.md.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwd.config import ID_RE, LoadContext, device_ref
from hwd.hall.config.central import Central, load_central
from hwd.hall.config import ratings as rating_config
from hwd.hall.config.alerts import SERVICE_TIDAL_FIELDS, Tidal, load_tidal
from hwd.hall.config.notify import Notify, load_notify
from hwd.hall.config.pickup import PickupConfig, load_pickup
from hwd.hall.config.ratings import RatingRules, Upstream, check_province, load_ratings, load_upstream
from hwd.hall.config.standby import Standby, load_standby
from hwd.schema import Field, check_table

WINDOW_KINDS = ("综合", "专业", "老年人", "军人优先", "帮办代办", "办不成事")
KIOSK_AREAS = ("hall", "24h")
PRIORITY_CLASSES = ("elderly", "disabled", "pregnant", "military", "appointment")
STAFF_ROLES = {"counter": "窗口受理", "desk": "导办"}  # [[hall.staff]] roles: where a clerk may log in
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOURS = ["09:00-12:00", "13:00-17:00"]
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _id(value: str) -> str | None:
    return None if ID_RE.match(value) else "ids are 1-64 letters, digits, '_', '.' or '-'"


def _addresses(value: list) -> str | None:
    import ipaddress

    for item in value:
        try:
            ipaddress.ip_network(str(item), strict=False)
        except ValueError:
            return f"{item!r} is not an IP address or network (e.g. 192.168.1.21 or 192.168.1.0/24)"
    return None


def _hhmm(value: str) -> str | None:
    return None if _HHMM.match(value) else "expected HH:MM (24-hour), e.g. \"23:30\""


def _alphabet(value: str) -> str | None:
    if len(set(value)) < 2 or not value.isascii() or not value.isalnum() or value != value.upper():
        return "two or more different digits or capital letters, e.g. \"0123456789\""
    return None


QR_FIELDS = ("id", "number", "day", "service", "token", "url")
DEFAULT_QR = "HWD-TICKET:{day}:{number}:{id}"


def _qr_template(value: str) -> str | None:
    import string

    try:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as exc:
        return f"not a valid template: {exc}"
    unknown = names - set(QR_FIELDS)
    if unknown:
        return f"unknown placeholder {{{sorted(unknown)[0]}}}; use {', '.join('{' + f + '}' for f in QR_FIELDS)}"
    return None if names & {"id", "number", "token", "url"} else "the QR must contain {id}, {number}, {token} or {url}"


def _ranges(value: list) -> str | None:
    for item in value:
        m = _RANGE.match(item)
        if not m:
            return f"{item!r}: expected \"HH:MM-HH:MM\", e.g. \"09:00-12:00\""
        if (int(m[1]), int(m[2])) >= (int(m[3]), int(m[4])):
            return f"{item!r}: the range ends before it starts"
    return None


def _date(value: str) -> str | None:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return "expected a date YYYY-MM-DD"
    return None


def _pin_hash(value: str) -> str | None:
    from hwd.hall.pin import check_format
    return check_format(value)


HALL_FIELDS = (
    Field("name", str, "政务服务中心", doc="printed on tickets"),
    Field("region_code", str, "", check=lambda v: rating_config.region_code(v), doc="区划 code of the hall (12 digits) sent with every rating"),
    Field("database", str, None, doc="SQLite file; default STATE_DIR/hall.sqlite3"),
    Field("keys_dir", str, None, doc="the hall's key files (0600, docs/security.md); default STATE_DIR/keys"),
    Field("sync", str, "full", choices=("full", "normal"), doc="SQLite synchronous mode"),
    Field("expire_at", str, "23:30", check=_hhmm, doc="unserved tickets expire at this time each day"),
    Field("rating_timeout_s", float, 30.0, min=1, max=3600,
          doc="how long the window's keypad and rating pad invite a rating after finish"),
    Field("phone_rating_timeout_s", float, 86400.0, min=0, max=30 * 86400,
          doc="how long after finish the citizen may still rate on the phone page (its own window, "
              "after the pad's is over); 0 = only while the pad's is open"),
    Field("followup_days", int, 5, min=1, max=60, doc="working days to follow up a bad rating"),
    Field("announce_repeat", int, 2, min=1, max=5),
    Field("print_wait_ms", int, 3000, min=0, max=30000),
    Field("ticket_footer", list, ["请留意大厅显示屏和广播叫号"], items=str,
          doc="lines at the foot of the ticket; the no-show rule ([hall.no_show] notice) follows them"),
    Field("ticket_qr", str, DEFAULT_QR, check=_qr_template,
          doc="text of the ticket's QR; {url} is the phone page [ui] public_url/t/{token}, the default's "
              "stand-in once public_url is set"),
    Field("displays", list, [], items=str, doc="hall displays that show every call"),
    Field("recent_calls", int, 10, min=1, max=100),
    Field("service", list, []),
    Field("window", list, []),
    Field("kiosk", list, []),
    Field("desk", list, [], doc="guide desks (导办台): staff issue priority and 帮办代办 tickets at /desk/<id>"),
    Field("assisted_service", str, None,
          doc="service of 帮办代办 (assisted) tickets; default: the first service of a 帮办代办 window"),
    Field("staff", list, []),
    Field("hours", dict, {}),
    Field("priority", dict, {}),
    Field("no_show", dict, {}),
    Field("appointments", dict, {}),
    Field("ratings", dict, {}, doc="差评 reasons and work-order deadlines, see [hall.ratings]"),
    Field("upstream", dict, {}, doc="the provincial 好差评 link, see [hall.upstream]"),
    Field("central", dict, None, doc="stream this hall's records to the county database, see [hall.central]"),
    Field("tidal", dict, {}, doc="tidal-window alerts (潮汐窗口): wait and queue thresholds, see [hall.tidal]"),
    Field("notify", dict, {}, doc="phone notices (即将叫号, the call …) to a WeChat/SMS gateway, see [hall.notify]"),
    Field("pickup", dict, {}, doc="results picked up from a locker (智能取件柜) in the 24-hour area, see [hall.pickup]"),
    Field("standby", dict, None, doc="two engine PCs, one active, the other a synchronous standby that takes over "
                                     "(双机热备), see [hall.standby] and docs/standby.md"),
)
SERVICE_FIELDS = (
    Field("id", str, check=_id), Field("name", str), Field("prefix", str),
    Field("quota", int, 0, min=0, doc="tickets per day; 0 = no limit"),
    Field("department", str, ""),
    Field("materials", list, [], items=str), Field("conditions", str, ""),
    Field("time_limit", str, ""), Field("fees", str, ""),
    Field("matter_code", str, "", doc="事项编码 of the matter in the provincial catalogue"),
    Field("impl_code", str, "", doc="实施编码 (implementation code) of the matter at this hall"),
    Field("matter_version", str, "", doc="version of the matter's catalogue entry"),
    Field("province", dict, {}, doc="the province's 好差评 data for this service (deptCode, proDepartCode, "
                                    "promiseTime …), over [hall.upstream] province"),
    Field("code", int, None, min=1, max=999999,
          doc="the service's number on caller keypads (队列编号): digits + the transfer key send the current "
              "ticket to it; unique"),
    Field("matter", list, [], doc="the matters (事项) the service covers, see [[hall.service.matter]]; "
                                  "none: the service is its one matter, from its own keys"),
) + SERVICE_TIDAL_FIELDS
MATTER_FIELDS = (
    Field("id", str, check=_id, doc="unique within its service; the clerk picks the matter by it"),
    Field("name", str, doc="the matter's name, e.g. 不动产首次登记"),
    Field("matter_code", str, "", doc="事项编码 in the provincial catalogue (sent with every rating)"),
    Field("impl_code", str, "", doc="实施编码 of the matter at this hall"),
    Field("matter_version", str, "", doc="version of the catalogue entry"),
    Field("department", str, None, doc="default: the service's"),
    Field("materials", list, None, items=str, doc="documents to bring (guide, 一次性告知单); default: the service's"),
    Field("conditions", str, None), Field("time_limit", str, None), Field("fees", str, None),
    Field("region", str, "", check=lambda v: rating_config.region_code(v),
          doc="好差评 区划 code of the matter; default: [hall] region_code"),
    Field("province", dict, {}, doc="the province's 好差评 data for this matter, over its service's province"),
)
WINDOW_FIELDS = (
    Field("id", str, check=_id), Field("name", str), Field("kind", str, "综合", choices=WINDOW_KINDS),
    Field("services", list, items=str), Field("display", str, None),
    Field("keypad", str, None, doc="the window's keypad: a caller (呼叫器), or the evaluator when it has no caller"),
    Field("evaluator", str, None,
          doc="the window's evaluator (评价器) when it is another device than its keypad: started on finish, "
              "shows the stars, its keys rate the window"),
    Field("speaker", str, None), Field("spoken", str, None, doc="how the speaker names the window"),
    Field("addresses", list, [], items=str, check=_addresses,
          doc="addresses (or networks) of this window's PCs: their live streams are reserved"),
    Field("partner", str, None, doc="AB岗: the window paired with this one (its clerks stand in for each other)"),
)
KIOSK_FIELDS = (
    Field("id", str, check=_id), Field("printer", str, None), Field("idcard", str, None),
    Field("scanner", str, None),
    Field("speaker", str, None,
          doc="the kiosk's own speaker (a speaker device id, not a window's): each screen's spoken prompt"),
    Field("voice", bool, True, doc="speak the screens' prompts on the kiosk's speaker (false: silent, the 语音 "
                                   "button hidden)"),
    Field("addresses", list, [], items=str, check=_addresses,
          doc="addresses of the kiosk PC; only they get its card events, a scanned ticket's screen and its "
              "voice; default loopback only"),
    Field("services", list, [], items=str, doc="the kiosk's layout: the services it offers, in this order; "
                                               "empty = all, in the config's order"),
    Field("area", str, "hall", choices=KIOSK_AREAS,
          doc="hall, or 24h: the kiosk stands in the 24-hour self-service area and serves after hours "
              "(guide, hours, booking, pickup; never a queue ticket while the hall is closed)"),
)
DESK_FIELDS = (
    Field("id", str, check=_id), Field("name", str),
    Field("printer", str, None, doc="the desk's ticket printer; without one the page shows the ticket's QR"),
    Field("services", list, [], items=str, doc="services the desk issues; empty = all"),
)
STAFF_FIELDS = (
    Field("id", str, check=_id), Field("name", str), Field("pin_hash", str, None, check=_pin_hash),
    Field("windows", list, [], items=str, doc="windows this clerk may log in to; empty = all"),
    Field("desks", list, [], items=str, doc="guide desks this clerk may log in to; empty = all"),
    Field("disabled", bool, False, doc="true: the clerk cannot log in (kept for the records)"),
    Field("roles", list, list(STAFF_ROLES), items=str,
          doc="what the clerk does: counter (窗口受理: logs in at windows), desk (导办: logs in at guide desks)"),
)
HOURS_FIELDS = tuple(Field(d, list, DEFAULT_HOURS if d in DAYS[:5] else [], items=str, check=_ranges)
                     for d in DAYS) + (
    Field("always_open", bool, False), Field("early_minutes", int, 15, min=0, max=120),
    Field("exception", list, [], doc="dates with their own hours (empty: closed); they win over the official calendar"),
    Field("official_calendar", bool, True,
          doc="public holidays closed and 调休 weekends open, from the chinese-calendar package"),
    Field("makeup_hours", list, None, items=str, check=_ranges,
          doc="hours of an official 调休 working weekend; default: Monday's hours"),
)
EXCEPTION_FIELDS = (Field("date", str, check=_date), Field("hours", list, [], items=str, check=_ranges),
                    Field("note", str, ""))
PRIORITY_FIELDS = (Field("age", int, 60, min=1, max=150),
                   Field("classes", list, list(PRIORITY_CLASSES), items=str),
                   Field("fairness", int, 3, min=1, max=100,
                         doc="after this many priority calls in a row a waiting normal ticket goes first"))
NO_SHOW_FIELDS = (Field("min_recalls", int, 0, min=0, max=10),
                  Field("requeue_after", int, 0, min=0, max=1000,
                        doc="a first no-show goes back behind this many tickets; 0 = never"),
                  Field("notice", str, None,
                        doc="the no-show rule as citizens read it (receipt, display); default: said from "
                            "requeue_after"))
APPOINTMENT_FIELDS = (Field("early_minutes", int, 30, min=0, max=600),
                      Field("late_minutes", int, 15, min=0, max=600),
                      Field("slot_minutes", int, 30, min=5, max=600),
                      Field("code_alphabet", str, "0123456789", check=_alphabet,
                            doc="characters of generated appointment codes (the kiosk keypad shows these)"),
                      Field("code_length", int, 8, min=4, max=32, doc="length of generated appointment codes"),
                      Field("per_slot", int, 4, min=0, max=1000,
                            doc="appointments a 24-hour kiosk books per slot and service; 0 = no limit"),
                      Field("book_days", int, 5, min=1, max=30,
                            doc="working days ahead a 24-hour kiosk offers slots for"))


def no_show_rule(requeue_after: int) -> str:
    """The no-show rule in words, as the engine applies it (HallCore.no_show)."""
    if requeue_after > 0:
        return f"过号后顺延{requeue_after}位重新排队（限一次），再次过号请重新取号"
    return "过号请重新取号"


@dataclass
class Matter:
    """A matter (事项) a service covers: what the guide shows and a rating carries upstream."""

    id: str
    name: str
    matter_code: str = ""
    impl_code: str = ""
    matter_version: str = ""
    department: str = ""
    materials: list = field(default_factory=list)
    conditions: str = ""
    time_limit: str = ""
    fees: str = ""
    region: str = ""
    province: dict = field(default_factory=dict)


@dataclass
class Service:
    id: str
    name: str
    prefix: str
    quota: int = 0
    department: str = ""
    materials: list = field(default_factory=list)
    conditions: str = ""
    time_limit: str = ""
    fees: str = ""
    matter_code: str = ""
    impl_code: str = ""
    matter_version: str = ""
    province: dict = field(default_factory=dict)
    tidal_wait_min: int | None = None
    tidal_queue: int | None = None
    code: int | None = None
    matters: list = field(default_factory=list)  # of Matter; empty: the service is its one matter
    retiring: bool = False  # removed from the file while tickets of it wait: none issued, the queue served

    def matter(self, matter_id: str | None = None) -> Matter:
        """The matter ``matter_id`` (None, or one the service no longer has: its first), or the
        service itself as its one matter."""
        chosen = next((m for m in self.matters if m.id == matter_id), None) if matter_id else None
        if chosen is not None or self.matters:
            return chosen or self.matters[0]
        return Matter(self.id, self.name, self.matter_code, self.impl_code, self.matter_version, self.department,
                      list(self.materials), self.conditions, self.time_limit, self.fees, "", {})

    def has_matter(self, matter_id: str) -> bool:
        return any(m.id == matter_id for m in self.matters) or (not self.matters and matter_id == self.id)


@dataclass
class Window:
    id: str
    name: str
    services: list
    kind: str = "综合"
    display: str | None = None
    keypad: str | None = None
    evaluator: str | None = None
    speaker: str | None = None
    spoken: str | None = None
    addresses: list = field(default_factory=list)
    partner: str | None = None
    retiring: bool = False  # removed from the file while serving: it finishes its ticket, calls none

    @property
    def rating_device(self) -> str | None:
        """The device a citizen rates on: the evaluator, else the keypad."""
        return self.evaluator or self.keypad


@dataclass
class Kiosk:
    id: str
    printer: str | None = None
    idcard: str | None = None
    scanner: str | None = None
    speaker: str | None = None
    voice: bool = True
    addresses: list = field(default_factory=list)
    services: list = field(default_factory=list)
    area: str = "hall"

    @property
    def after_hours(self) -> bool:
        """Does this kiosk stand in the 24-hour self-service area (``area = "24h"``)?"""
        return self.area == "24h"


@dataclass
class Desk:
    id: str
    name: str
    printer: str | None = None
    services: list = field(default_factory=list)


@dataclass
class Staff:
    id: str
    name: str
    pin_hash: str | None = None
    windows: list = field(default_factory=list)
    desks: list = field(default_factory=list)
    disabled: bool = False
    roles: list = field(default_factory=lambda: list(STAFF_ROLES))


@dataclass
class Hours:
    week: dict = field(default_factory=lambda: {d: (list(DEFAULT_HOURS) if d in DAYS[:5] else []) for d in DAYS})
    always_open: bool = False
    early_minutes: int = 15
    exceptions: dict = field(default_factory=dict)  # date -> list of ranges
    official_calendar: bool = True
    makeup_hours: list | None = None


@dataclass
class HallConfig:
    name: str = "政务服务中心"
    region_code: str = ""
    database: Path | None = None
    keys_dir: Path | None = None
    sync: str = "full"
    expire_at: str = "23:30"
    rating_timeout_s: float = 30.0
    phone_rating_timeout_s: float = 86400.0
    followup_days: int = 5
    announce_repeat: int = 2
    print_wait_ms: int = 3000
    ticket_footer: list = field(default_factory=list)
    ticket_qr: str = DEFAULT_QR
    displays: list = field(default_factory=list)
    recent_calls: int = 10
    services: dict = field(default_factory=dict)
    windows: dict = field(default_factory=dict)
    kiosks: dict = field(default_factory=dict)
    desks: dict = field(default_factory=dict)
    assisted_service: str | None = None
    staff: dict = field(default_factory=dict)
    hours: Hours = field(default_factory=Hours)
    priority_age: int = 60
    priority_classes: list = field(default_factory=lambda: list(PRIORITY_CLASSES))
    fairness: int = 3
    min_recalls: int = 0
    requeue_after: int = 0
    no_show_notice: str = ""
    appt_early_minutes: int = 30
    appt_late_minutes: int = 15
    appt_slot_minutes: int = 30
    ratings: RatingRules = field(default_factory=RatingRules)
    upstream: Upstream = field(default_factory=Upstream)
    appt_code_alphabet: str = "0123456789"
    appt_code_length: int = 8
    appt_per_slot: int = 4
    appt_book_days: int = 5
    tidal: Tidal = field(default_factory=Tidal)
    notify: Notify = field(default_factory=Notify)
    pickup: PickupConfig = field(default_factory=PickupConfig)

    @property
    def no_show_text(self) -> str:
        """The no-show rule citizens read: ``[hall.no_show] notice``, else said from the rule."""
        return self.no_show_notice or no_show_rule(self.requeue_after)
    central: Central | None = None
    standby: Standby | None = None


def _tables(items: list, fields: tuple, path: tuple, ctx: LoadContext, what: str) -> list[tuple[tuple, dict]]:
    out, seen = [], set()
    for i, table in enumerate(items):
        p = path + (i,)
        v = check_table(table, fields, p, ctx.problems)
        if "id" not in v or v.get("id") is None:
            continue
        if v["id"] in seen:
            ctx.problems.add(p + ("id",), f"duplicate {what} id {v['id']!r}")
            continue
        seen.add(v["id"])
        out.append((p, v))
    return out


def load(raw: Any, ctx: LoadContext) -> HallConfig:
    """Check ``[hall]`` and return a HallConfig (problems go to ``ctx.problems``)."""
    base = ("hall",)
    v = check_table(raw, HALL_FIELDS, base, ctx.problems)
    cfg = HallConfig(name=v["name"], database=ctx.resolve(v["database"]), keys_dir=ctx.resolve(v["keys_dir"]),
                     sync=v["sync"],
                     expire_at=v["expire_at"], rating_timeout_s=float(v["rating_timeout_s"]),
                     phone_rating_timeout_s=float(v["phone_rating_timeout_s"]),
                     followup_days=v["followup_days"], announce_repeat=v["announce_repeat"],
                     print_wait_ms=v["print_wait_ms"], ticket_footer=v["ticket_footer"], ticket_qr=v["ticket_qr"],
                     recent_calls=v["recent_calls"], region_code=v["region_code"])
    cfg.ratings = load_ratings(v["ratings"], base + ("ratings",), ctx.problems)
    cfg.upstream = load_upstream(v["upstream"], base + ("upstream",), ctx.problems)
    cfg.central = load_central(v["central"], base + ("central",), ctx.problems)
    cfg.tidal = load_tidal(v["tidal"], base + ("tidal",), ctx.problems)
    cfg.notify = load_notify(v["notify"], base + ("notify",), ctx.problems)
    cfg.pickup = load_pickup(v["pickup"], base + ("pickup",), ctx)
    cfg.standby = load_standby(v["standby"], base + ("standby",), ctx)
    for i, dev in enumerate(v["displays"]):
        if device_ref(ctx, base + ("displays", i), dev, "display"):
            cfg.displays.append(dev)
    prefixes: dict[str, str] = {}
    codes: dict[int, str] = {}
    for p, s in _tables(v["service"], SERVICE_FIELDS, base + ("service",), ctx, "service"):
        if "name" not in s or "prefix" not in s:
            continue
        if not re.match(r"^[A-Z]{1,2}$", s["prefix"]):
            ctx.problems.add(p + ("prefix",), "a ticket prefix is one or two capital letters, e.g. \"A\"")
        elif s["prefix"] in prefixes:
            ctx.problems.add(p + ("prefix",), f"prefix {s['prefix']!r} is already used by service {prefixes[s['prefix']]!r}")
        prefixes.setdefault(s["prefix"], s["id"])
        if s["code"] is not None and s["code"] in codes:
            ctx.problems.add(p + ("code",), f"code {s['code']} is already used by service {codes[s['code']]!r}")
        elif s["code"] is not None:
            codes[s["code"]] = s["id"]
        s["province"] = check_province(s["province"], p + ("province",), ctx.problems)
        matters = _matters(s.pop("matter"), s, p + ("matter",), ctx)
        cfg.services[s["id"]] = Service(**s, matters=matters)
    if not cfg.services and isinstance(raw, dict):
        ctx.problems.add(base, "a hall needs at least one [[hall.service]]")
    keypads: dict[str, str] = {}  # keypad or evaluator device -> the window it belongs to
    partners: list[tuple[tuple, Window]] = []  # AB岗 pairs, checked once every window is known
    for p, w in _tables(v["window"], WINDOW_FIELDS, base + ("window",), ctx, "window"):
        if "name" not in w or "services" not in w:
            continue
        for j, sid in enumerate(w["services"]):
            if sid not in cfg.services:
                ctx.problems.add(p + ("services", j), f"unknown service {sid!r}; known: {', '.join(cfg.services)}")
        if not w["services"]:
            ctx.problems.add(p + ("services",), "a window serves at least one service")
        for key in ("display", "keypad", "speaker"):
            device_ref(ctx, p + (key,), w[key], key)
        _keypads(ctx, p, w, keypads)
        cfg.windows[w["id"]] = Window(**w)
        if w["partner"] is not None:
            partners.append((p, cfg.windows[w["id"]]))
    for p, w in partners:
        if w.partner not in cfg.windows:
            ctx.problems.add(p + ("partner",), f"unknown window {w.partner!r}")
        elif w.partner == w.id:
            ctx.problems.add(p + ("partner",), "a window is not its own partner")
    for p, k in _tables(v["kiosk"], KIOSK_FIELDS, base + ("kiosk",), ctx, "kiosk"):
        for key in ("printer", "idcard", "scanner", "speaker"):
            device_ref(ctx, p + (key,), k[key], key)
        if k["speaker"] and any(w.speaker == k["speaker"] for w in cfg.windows.values()):
            ctx.problems.add(p + ("speaker",), f"{k['speaker']!r} announces the windows' calls; the kiosk needs a "
                                               "speaker of its own (its prompts would cut the calls)")
        for j, sid in enumerate(k["services"]):
            if sid not in cfg.services:
                ctx.problems.add(p + ("services", j), f"unknown service {sid!r}; known: {', '.join(cfg.services)}")
        cfg.kiosks[k["id"]] = Kiosk(**k)
    for p, d in _tables(v["desk"], DESK_FIELDS, base + ("desk",), ctx, "desk"):
        if "name" not in d:
            continue
        device_ref(ctx, p + ("printer",), d["printer"], "printer")
        for j, sid in enumerate(d["services"]):
            if sid not in cfg.services:
                ctx.problems.add(p + ("services", j), f"unknown service {sid!r}; known: {', '.join(cfg.services)}")
        cfg.desks[d["id"]] = Desk(**d)
    if v["assisted_service"] is not None:
        if v["assisted_service"] in cfg.services:
            cfg.assisted_service = v["assisted_service"]
        else:
            ctx.problems.add(base + ("assisted_service",), f"unknown service {v['assisted_service']!r}; "
                             f"known: {', '.join(cfg.services)}")
    else:
        cfg.assisted_service = next((w.services[0] for w in cfg.windows.values() if w.kind == "帮办代办"), None)
    for p, s in _tables(v["staff"], STAFF_FIELDS, base + ("staff",), ctx, "staff"):
        if "name" not in s:
            continue
        for j, wid in enumerate(s["windows"]):
            if wid not in cfg.windows:
                ctx.problems.add(p + ("windows", j), f"unknown window {wid!r}")
        for j, did in enumerate(s["desks"]):
            if did not in cfg.desks:
                ctx.problems.add(p + ("desks", j), f"unknown desk {did!r}")
        for j, role in enumerate(s["roles"]):
            if role not in STAFF_ROLES:
                ctx.problems.add(p + ("roles", j), f"unknown role {role!r}; known: {', '.join(STAFF_ROLES)}")
        if not s["roles"]:
            ctx.problems.add(p + ("roles",), "give at least one role (counter, desk), or disable the clerk")
        cfg.staff[s["id"]] = Staff(**s)
    cfg.hours = _load_hours(v["hours"], base + ("hours",), ctx)
    pr = check_table(v["priority"], PRIORITY_FIELDS, base + ("priority",), ctx.problems)
    for j, name in enumerate(pr["classes"]):
        if name not in PRIORITY_CLASSES:
            ctx.problems.add(base + ("priority", "classes", j), f"unknown class {name!r}; known: {', '.join(PRIORITY_CLASSES)}")
    cfg.priority_age, cfg.priority_classes, cfg.fairness = pr["age"], pr["classes"], pr["fairness"]
    ns = check_table(v["no_show"], NO_SHOW_FIELDS, base + ("no_show",), ctx.problems)
    cfg.min_recalls, cfg.requeue_after = ns["min_recalls"], ns["requeue_after"]
    cfg.no_show_notice = ns["notice"] or ""
    ap = check_table(v["appointments"], APPOINTMENT_FIELDS, base + ("appointments",), ctx.problems)
    cfg.appt_early_minutes, cfg.appt_late_minutes = ap["early_minutes"], ap["late_minutes"]
    cfg.appt_slot_minutes = ap["slot_minutes"]
    cfg.appt_code_alphabet, cfg.appt_code_length = ap["code_alphabet"], ap["code_length"]
    cfg.appt_per_slot, cfg.appt_book_days = ap["per_slot"], ap["book_days"]
    return cfg


def _matters(items: list, service: dict, path: tuple, ctx: LoadContext) -> list[Matter]:
    """A service's ``[[hall.service.matter]]`` tables; the service's own keys fill what a matter leaves out."""
    out = []
    for p, m in _tables(items, MATTER_FIELDS, path, ctx, "matter"):
        if "name" not in m:
            continue
        m["province"] = check_province(m["province"], p + ("province",), ctx.problems)
        for key in ("department", "materials", "conditions", "time_limit", "fees"):
            if m[key] is None:
                m[key] = list(service[key]) if key == "materials" else service[key]
        out.append(Matter(**m))
    return out


def _keypads(ctx: LoadContext, p: tuple, w: dict, owners: dict[str, str]) -> None:
    """A window's evaluator is a keypad other than its own keypad, and a keypad or evaluator
    belongs to one window: its keys act on (and rate) that window only."""
    if w["evaluator"] is not None and device_ref(ctx, p + ("evaluator",), w["evaluator"], "keypad"):
        if w["evaluator"] == w["keypad"]:
            ctx.problems.add(p + ("evaluator",), f"{w['evaluator']!r} is the window's keypad already; "
                             "evaluator names another device (leave it out when the keypad rates)")
    for key in ("keypad", "evaluator"):
        device = w[key]
        if device is None or (key == "evaluator" and device == w["keypad"]):
            continue
        if device in owners:
            ctx.problems.add(p + (key,), f"device {device!r} already belongs to window {owners[device]!r} "
                             "(its keypad or evaluator); a keypad acts on one window")
        else:
            owners[device] = w["id"]


def _load_hours(table: dict, path: tuple, ctx: LoadContext) -> Hours:
    h = check_table(table, HOURS_FIELDS, path, ctx.problems)
    hours = Hours(week={d: h[d] for d in DAYS}, always_open=h["always_open"], early_minutes=h["early_minutes"],
                  official_calendar=h["official_calendar"], makeup_hours=h.get("makeup_hours"))
    for p, e in _tables_by_date(h["exception"], path + ("exception",), ctx):
        hours.exceptions[e["date"]] = e["hours"]
    return hours


def _tables_by_date(items: list, path: tuple, ctx: LoadContext) -> list[tuple[tuple, dict]]:
    out, seen = [], set()
    for i, table in enumerate(items):
        v = check_table(table, EXCEPTION_FIELDS, path + (i,), ctx.problems)
        if "date" not in v or _date(v["date"]):
            continue
        if v["date"] in seen:
            ctx.problems.add(path + (i, "date"), f"date {v['date']} is listed twice")
        seen.add(v["date"])
        out.append((path + (i,), v))
    return out
