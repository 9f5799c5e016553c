"""The one way to write a test hall's TOML.

    hall = (Hall("某某县政务服务中心", rating_timeout_s=30)
            .service("bdc", "不动产登记", "B", materials=["身份证"])
            .window("5", "5号窗口", ["bdc"], display="win5-led")
            .kiosk("k1", printer="k1-printer"))
    d = hwd_daemon(devices.printer("k1-printer") + hall.toml())

``Hall`` writes ``[hall]`` with its keys, ``[hall.hours]`` (always open unless told), any other
``[hall.<section>]`` (``section``), then the services, windows, kiosks, staff and any other
``[[hall.<list>]]`` (``add``); ``then(text)`` appends TOML after it (``[ui]``, a device). The
halls most tests share are below: ``basic_hall`` (services bdc and sb, windows 5 and 6) and the
fault and attack halls.
"""

from __future__ import annotations

from typing import Any, Callable

from support.toml import item, keys, table


class Hall:
    def __init__(self, name: str = "测试政务服务中心", hours: dict[str, Any] | None = None, lines: str = "",
                 **values: Any):
        """``values``: the keys of ``[hall]``; ``lines``: more of them as TOML text."""
        self.values = {"name": name, **values}
        self.lines = lines if not lines or lines.endswith("\n") else lines + "\n"
        self.sections: list[str] = [table("hall.hours", **(hours if hours is not None else {"always_open": True}))]
        self.items: list[str] = []
        self.after: list[str] = []

    def section(self, name: str, /, **values: Any) -> "Hall":
        """``[hall.<name>]`` (hall.central, hall.upstream, hall.ratings, …)."""
        self.sections.append(table(f"hall.{name}", **values))
        return self

    def add(self, kind: str, /, **values: Any) -> "Hall":
        """One ``[[hall.<kind>]]`` entry."""
        self.items.append(item(f"hall.{kind}", **values))
        return self

    def service(self, service_id: str, name: str, prefix: str, **values: Any) -> "Hall":
        return self.add("service", id=service_id, name=name, prefix=prefix, **values)

    def window(self, window_id: str, name: str, services: list[str], **values: Any) -> "Hall":
        return self.add("window", id=window_id, name=name, services=services, **values)

    def kiosk(self, kiosk_id: str, **values: Any) -> "Hall":
        return self.add("kiosk", id=kiosk_id, **values)

    def staff(self, staff_id: str, name: str, **values: Any) -> "Hall":
        return self.add("staff", id=staff_id, name=name, **values)

    def then(self, text: str) -> "Hall":
        """TOML after the hall (another top-level table)."""
        self.after.append(text if not text or text.endswith("\n") else text + "\n")
        return self

    def toml(self) -> str:
        return ("\n[hall]\n" + keys(self.values) + self.lines + "".join(self.sections) + "".join(self.items)
                + "".join(self.after))

    __str__ = toml


def basic_hall(name: str = "测试政务服务中心", **values: Any) -> Hall:
    """The hall most hall tests use: 不动产登记 (B) and 社保 (A, quota 3) at window 5, 社保 at 6."""
    return (Hall(name, **values)
            .service("bdc", "不动产登记", "B")
            .service("sb", "社保", "A", quota=3, materials=["身份证", "户口簿"])
            .window("5", "不动产登记 5号窗口", ["bdc", "sb"])
            .window("6", "社保 6号窗口", ["sb"]))


def numbered_hall(name: str, services: int = 1, windows: int | list[str] = 2, kiosks: int = 0,
                  window_values: Callable[[int], dict] = lambda i: {},
                  kiosk_values: Callable[[int], dict] = lambda i: {}, **values: Any) -> Hall:
    """Services s0.. (业务0.., prefixes A..), windows w1.. (or these ids) serving every service,
    kiosks k1..; ``window_values(i)`` / ``kiosk_values(i)``: more keys of the i-th (from 1)."""
    hall = Hall(name, **values)
    ids = [f"s{i}" for i in range(services)]
    for i, sid in enumerate(ids):
        hall.service(sid, f"业务{i}", chr(ord("A") + i % 26) + (chr(ord("A") + i // 26) if i >= 26 else ""))
    for i, wid in enumerate(windows if isinstance(windows, list) else [f"w{i}" for i in range(1, windows + 1)], 1):
        hall.window(wid, f"{wid.lstrip('w')}号窗口", ids, **window_values(i))
    for i in range(1, kiosks + 1):
        hall.kiosk(f"k{i}", **kiosk_values(i))
    return hall


# the page tests' hall (tests/ui): its clock runs from a fixed Monday morning, never today's date
CLOCK_START = "2026-11-23T09:00:00"
ADMIN_PASSWORD = "hall-admin-1"
KIOSK_PIN = "2468"
STAFF_PIN = "1357"


def fast_hash(secret: str) -> str:
    """A password hash of few iterations (tests only), as [ui] takes it."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(secret, method="pbkdf2:sha256:1000")


def page_hall(ui_extra: str = "", devices: bool = True) -> str:
    """Config text (without [daemon]) of the page tests' hall: kiosk k1 with an emulated printer,
    card reader and scanner, window 5 with a web screen, window 6 with an LED on a bus, staff s01,
    and [ui] (the admin's password, the kiosk's exit PIN; ``ui_extra``: more of it as text)."""
    from hwd.hall.pin import hash_pin
    from support import devices as dev

    text = ""
    if devices:
        text = (dev.printer("k1-printer", status_interval=0.2) + dev.idcard("k1-idcard") + dev.scanner("k1-scanner")
                + dev.web_screen("win5-screen")
                + dev.device("win6-led", "display", "frame", "sim://bus1", address=1, lines=2, encoding="gb2312",
                             frame=["A5", "{addr}", "01", "{len}", "{text}", "{crc16_modbus}", "5A"],
                             escape=dev.ONBON_ESCAPE, ack="06{addr}"))
    screens = ({"display": "win5-screen"}, {"display": "win6-led"}) if devices else ({}, {})
    hall = (Hall("测试县政务服务中心", rating_timeout_s=60)
            .service("bdc", "不动产登记", "B", department="自然资源局", materials=["身份证", "不动产权证书"],
                     time_limit="5个工作日", fees="免费")
            .service("sb", "社保业务", "A")
            .window("5", "5号窗口", ["bdc", "sb"], **screens[0])
            .window("6", "6号窗口", ["sb"], **screens[1])
            .kiosk("k1", **({"printer": "k1-printer", "idcard": "k1-idcard", "scanner": "k1-scanner"} if devices else {}))
            .staff("s01", "王小明", pin_hash=hash_pin(STAFF_PIN, iterations=1000))
            .then(table("ui", notice="欢迎来到测试大厅", admin_password_hash=fast_hash(ADMIN_PASSWORD),
                        kiosk_pin_hash=fast_hash(KIOSK_PIN), rpc_timeout_s=3.0, demo=True) + ui_extra))
    return text + hall.toml()
