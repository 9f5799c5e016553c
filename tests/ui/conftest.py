"""Fixtures for the page tests: a real hwd with a small hall (always open), emulated printer,
card reader and scanner, a web window screen, and the Flask app or the real hwd-ui server."""

from __future__ import annotations


import pytest

from hwd.hall.pin import hash_pin
from support.ui import UiProcess

ADMIN_PASSWORD = "hall-admin-1"
KIOSK_PIN = "2468"
STAFF_PIN = "1357"
_FAST = "pbkdf2:sha256:1000$"  # few iterations: tests only
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]


def _fast_hash(secret: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(secret, method="pbkdf2:sha256:1000")


# the test hall's clock runs from a fixed Monday morning, never today's date (make test-dates)
CLOCK_START = "2026-11-23T09:00:00"


def hall_config(ui_extra: str = "", devices: bool = True) -> str:
    """Config text (without [daemon]) of the test hall."""
    dev = '''
[[device]]
id = "k1-printer"
kind = "printer"
driver = "escpos"
url = "sim://k1-printer"

[[device]]
id = "k1-idcard"
kind = "idcard"
driver = "sam"
url = "sim://k1-idcard"

[[device]]
id = "k1-scanner"
kind = "scanner"
driver = "serial"
url = "sim://k1-scanner"

[[device]]
id = "win5-screen"
kind = "display"
driver = "web"
url = "null://"

[[device]]
id = "win6-led"
kind = "display"
driver = "frame"
url = "sim://bus1"
address = 1
lines = 2
encoding = "gb2312"
frame = ["A5", "{addr}", "01", "{len}", "{text}", "{crc16_modbus}", "5A"]
escape = { A5 = "A602", A6 = "A601", 5A = "5B02", 5B = "5B01" }
ack = "06{addr}"
''' if devices else ""
    kiosk_devices = ('printer = "k1-printer"\nidcard = "k1-idcard"\nscanner = "k1-scanner"\n'
                     if devices else "")
    return dev + f'''
[hall]
name = "测试县政务服务中心"
rating_timeout_s = 60

[hall.hours]
always_open = true

[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
department = "自然资源局"
materials = ["身份证", "不动产权证书"]
time_limit = "5个工作日"
fees = "免费"

[[hall.service]]
id = "sb"
name = "社保业务"
prefix = "A"

[[hall.window]]
id = "5"
name = "5号窗口"
services = ["bdc", "sb"]
{'display = "win5-screen"' if devices else ""}

[[hall.window]]
id = "6"
name = "6号窗口"
services = ["sb"]
{'display = "win6-led"' if devices else ""}

[[hall.kiosk]]
id = "k1"
{kiosk_devices}
[[hall.staff]]
id = "s01"
name = "王小明"
pin_hash = "{hash_pin(STAFF_PIN, iterations=1000)}"

[ui]
notice = "欢迎来到测试大厅"
admin_password_hash = "{_fast_hash(ADMIN_PASSWORD)}"
kiosk_pin_hash = "{_fast_hash(KIOSK_PIN)}"
rpc_timeout_s = 3.0
demo = true
{ui_extra}
'''


@pytest.fixture
def hall(hwd_daemon):
    """A running hwd with the test hall."""
    return hwd_daemon(hall_config(), clock_start=CLOCK_START)


@pytest.fixture
def app(hall):
    from kiosk_ui import create_app

    return create_app(str(hall.config_path), {"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def csrf(client, path: str = "/healthz") -> str:
    """The session's CSRF token (rendered into every page's meta tag)."""
    html = client.get("/admin/login").get_data(as_text=True)
    start = html.index('name="csrf" content="') + len('name="csrf" content="')
    return html[start:html.index('"', start)]


@pytest.fixture
def ui_server(hall):
    server = UiProcess(hall.config_path)
    yield server
    server.stop()


@pytest.fixture
def browser():
    """Headless Debian chromium through Playwright (executable_path: no downloaded browser)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def enrol_rate_page(page, hall, window: str = "5") -> None:
    """The admin enrolled this browser as the window's rating page (hall.pad.enroll, the pad
    cookie ``/rate/<window>/enroll`` sets): only an enrolled page may rate (issue 13)."""
    pad = hall.call("hall.pad.enroll", {"window": window})
    page.context.add_cookies([{"name": "hwd_pad", "value": f"{pad['secret']}.{pad['pad']}",
                               "domain": "127.0.0.1", "path": f"/rate/{window}"}])
