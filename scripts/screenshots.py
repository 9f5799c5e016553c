"""Refresh docs/screenshots/*.png from the demo hall: run ``python -m hwd.demo`` (hwd with every
device emulated, and the pages) on a copy of config/demo.toml in a temporary directory, play a
short day of the hall (a card on the reader, tickets, calls at four windows, a finished ticket
asking for a rating), and photograph each page in headless Debian chromium (Playwright with
``executable_path``). The PNGs are stored at half size with 64 colours to keep the repository small.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--keep]
"""

from __future__ import annotations

import argparse
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwd.client import Client, Unreachable  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]
PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
ADMIN_PASSWORD = "demo"  # config/demo.toml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_config(tmp: Path) -> Path:
    """config/demo.toml with its state and sockets in ``tmp`` (a running `make demo` is left alone)."""
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    text = re.sub(r'^state_dir = .*$', f'state_dir = "{tmp}/state"', text, count=1, flags=re.M)
    text = re.sub(r'^rpc = .*$', f'rpc = "ipc://{tmp}/rpc"', text, count=1, flags=re.M)
    text = re.sub(r'^events = .*$', f'events = "ipc://{tmp}/events"', text, count=1, flags=re.M)
    path = tmp / "demo.toml"
    path.write_text(text, encoding="utf-8")
    return path


def wait_url(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"screenshots: {url} did not answer")


def save(page, out: Path, name: str, full: bool = False) -> None:
    from PIL import Image

    raw = out.parent / f".{name}.full.png"
    page.screenshot(path=str(raw), full_page=full)
    with Image.open(raw) as img:
        small = img.convert("RGB").resize((img.width // 2, img.height // 2), Image.LANCZOS)
        small.quantize(colors=64).save(out / f"{name}.png", optimize=True)
    raw.unlink()
    print(f"  {out / (name + '.png')}")


def play(base: str, hwd: Client, out: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)

        def page_for(viewport: dict, touch: bool = False):
            return browser.new_context(viewport=viewport, has_touch=touch, locale="zh-CN").new_page()

        kiosk = page_for(PORTRAIT, touch=True)
        kiosk.goto(f"{base}/kiosk/k1")
        kiosk.wait_for_timeout(500)
        for service in ("zh", "zh", "sb", "bdc", "sb", "zh"):
            hwd.call("hall.issue_ticket", {"service": service, "kiosk": "k1"})
        hwd.call("hall.issue_ticket", {"service": "bdc"})
        sim(hwd, "kiosk1-reader", "place", card="longterm")  # an elderly citizen's card
        expect(kiosk.locator("#greet")).to_be_visible(timeout=15000)
        kiosk.wait_for_timeout(300)
        save(kiosk, out, "kiosk")
        kiosk.locator('button.svc[data-service="bdc"]').tap()
        expect(kiosk.locator("#screen-ticket")).to_be_visible(timeout=15000)
        kiosk.wait_for_timeout(300)
        save(kiosk, out, "kiosk-ticket")

        display = page_for(LANDSCAPE)
        display.goto(f"{base}/display")
        screen = page_for({"width": 960, "height": 320})
        screen.goto(f"{base}/display/window/5")
        rate = page_for(PORTRAIT, touch=True)
        pad = hwd.call("hall.pad.enroll", {"window": "5"})  # the window's enrolled rating pad (as /rate/5/enroll does)
        rate.context.add_cookies([{"name": "hwd_pad", "value": f"{pad['secret']}.{pad['pad']}",
                                   "domain": "127.0.0.1", "path": "/rate/5"}])
        rate.goto(f"{base}/rate/5")
        counter = page_for(LANDSCAPE)
        counter.goto(f"{base}/counter/5")
        counter.fill("#staff", "demo")
        counter.fill("#pin", "0000")
        counter.locator("#login-form button[type=submit]").click()
        expect(counter.locator("#buttons")).to_be_visible()
        display.wait_for_timeout(500)
        for window in ("1", "2", "3"):
            hwd.call("hall.call_next", {"window": window})
        hwd.call("hall.start", {"window": "1"})
        counter.locator('button[data-action="call_next"]').click()
        expect(counter.locator("#cur-number")).not_to_have_text("—")
        # the four calls take the banner in turn, each while the speaker announces it (twice, in the demo)
        expect(display.locator("#latest-call")).to_contain_text("5号窗口", timeout=90000)
        display.wait_for_timeout(3500)  # the flash is over
        save(display, out, "display")
        expect(screen.locator("#lines")).not_to_be_empty(timeout=5000)
        save(screen, out, "window-screen")
        save(counter, out, "counter")
        counter.keyboard.press("s")
        counter.locator('button[data-action="finish"]').click()
        expect(rate.locator("#rate-ask")).to_be_visible(timeout=10000)
        save(rate, out, "rate")
        rate.locator('button[data-score="5"]').tap()

        admin = page_for(LANDSCAPE)
        admin.goto(f"{base}/admin")
        admin.fill("#password", ADMIN_PASSWORD)
        admin.locator("#admin-login button[type=submit]").click()
        expect(admin.locator("#stats-window")).to_be_visible()
        save(admin, out, "admin")
        hwd.call("hall.finish", {"window": "1"})
        hwd.call("hall.rate", {"window": "1", "score": 2})  # a 差评: its work order on the 好差评 desk
        admin.goto(f"{base}/admin/haocp")
        expect(admin.locator("#workorders tbody tr").first).to_be_visible()
        save(admin, out, "admin-haocp")
        admin.goto(f"{base}/admin/stats")
        expect(admin.locator("#chart-arrivals svg")).to_be_visible()
        save(admin, out, "admin-stats")
        admin.goto(f"{base}/admin/hall")
        expect(admin.locator("#vh-calls li").first).to_be_visible()
        admin.wait_for_timeout(1500)  # the receipts and screen pictures of the last calls
        save(admin, out, "virtual-hall")
        browser.close()


def sim(hwd: Client, device: str, action: str, **params) -> None:
    """What ``hwctl sim DEVICE ACTION`` does: act on an emulated device."""
    hwd.call("sim.control", {"device": device, "action": action, "params": params})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--keep", action="store_true", help="keep the demo's temporary directory")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="hwd-screenshots-"))
    config = demo_config(tmp)
    port = free_port()
    demo = subprocess.Popen([sys.executable, "-m", "hwd.demo", "--config", str(config), "--port", str(port)],
                            cwd=ROOT, stdout=open(tmp / "demo.log", "wb"), stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_url(base + "/readyz")
        hwd = Client(f"ipc://{tmp}/rpc", timeout=10, retries=1)
        try:
            hwd.call("daemon.status")
        except Unreachable:
            raise SystemExit("screenshots: the demo's hwd does not answer") from None
        args.out.mkdir(parents=True, exist_ok=True)
        play(base, hwd, args.out)
    finally:
        demo.send_signal(signal.SIGTERM)
        try:
            demo.wait(15)
        except subprocess.TimeoutExpired:
            demo.kill()
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"demo files kept in {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
