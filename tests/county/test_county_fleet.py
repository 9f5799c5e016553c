"""The county sees its fleet: hwd-central's all-halls page shows each hall's hwd version, the age
of its last report and its offline devices. Two halls (real hwd daemons, each with its own role
from ``hwd-central county add-hall``) feed a real PostgreSQL with the default heartbeat; a
printer unplugged in one of them shows on the page, read as a supervisor reads it (logged in,
over HTTP), within 60 s — the time it took is printed."""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.parse
import urllib.request

import hwd
from daemon_fixture import DaemonProcess, wait_for
from county_helpers import hall_config

PRINTER = '''
[[device]]
id = "{id}"
kind = "printer"
driver = "escpos"
url = "sim://{id}"
status_interval = 0.2
timeout_s = 1.0
'''


class Supervisor:
    """A browser logged in to hwd-central."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = self.get("/login")
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        data = urllib.parse.urlencode({"password": "s3cret-pw", "csrf_token": token}).encode()
        with self.opener.open(self.base + "/login", data, timeout=10) as resp:
            assert resp.status == 200 and "全部大厅" in resp.read().decode()

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as resp:
            return resp.read().decode()

    def halls(self) -> dict[str, dict]:
        """Per hall row of the all-halls page: offline count, report age, version, the row's text."""
        out = {}
        for hall, row in re.findall(r'<tr data-hall="([^"]+)"[^>]*>(.*?)</tr>', self.get("/"), re.S):
            age = re.search(r'data-report-age="([^"]*)"', row).group(1)
            out[hall] = {"offline": int(re.search(r'data-offline="(\d+)"', row).group(1)),
                         "report_age_s": float(age) if age else None,
                         "version": re.search(r'data-version="([^"]*)"', row).group(1), "row": row}
        return out


def test_a_device_offline_in_one_of_two_halls_shows_within_60_s(tmp_path, county, central):
    halls = {}
    for hid, name in (("h1", "县政务服务中心"), ("h2", "城关镇便民服务中心")):
        d = DaemonProcess(tmp_path, "", hid)
        text = hall_config(d, county.add_hall(hid), hid, name)
        text = text.replace("heartbeat_s = 0.3\n", "")  # [hall.central]: the default, 30 s
        d.config_path.write_text(text.replace("[hall]\n", PRINTER.format(id=f"{hid}-printer") + "\n[hall]\n", 1),
                                 encoding="utf-8")
        halls[hid] = d.start()
    try:
        for hid, d in halls.items():
            d.wait_state(f"{hid}-printer", "online")
        supervisor = Supervisor(central)
        seen = wait_for(lambda: (lambda h: h if set(h) == {"h1", "h2"} and all(
            r["version"] == hwd.__version__ and r["report_age_s"] is not None for r in h.values()) else None)(
            supervisor.halls()), 60, "both halls reporting their version")
        assert seen["h1"]["offline"] == 0 and seen["h2"]["offline"] == 0
        assert all(0 <= r["report_age_s"] < 60 for r in seen.values())

        started = time.monotonic()
        halls["h2"].sim("h2-printer", "unplug")
        seen = wait_for(lambda: (lambda h: h if h["h2"]["offline"] == 1 else None)(supervisor.halls()), 60,
                        "h2's printer offline on the all-halls page", interval=0.5)
        print(f"h2's unplugged printer on the all-halls page after {time.monotonic() - started:.1f} s")
        assert "h2-printer" in seen["h2"]["row"] and seen["h1"]["offline"] == 0

        halls["h2"].sim("h2-printer", "plug")
        wait_for(lambda: supervisor.halls()["h2"]["offline"] == 0, 60, "h2's printer back", interval=0.5)
    finally:
        for d in halls.values():
            d.stop()


def test_what_a_compromised_hall_writes_as_its_version_and_devices_is_shown_short_and_clean(county, central):
    """A hall's role may write anything in its own halls and devices rows: a version of a megabyte
    with a bidi override and a terminal escape, thousands of offline devices with odd ids. The
    page and /api/halls show the version cut and cleaned, name ten devices and count them all."""
    import psycopg

    from central import queries
    from county_helpers import get

    dsn = county.add_hall("evil")
    county.add_hall("good")
    huge = "\u202e" + "版" * 300_000 + "<script>alert(1)</script>\x1b[2J"
    with psycopg.connect(dsn, autocommit=True) as conn:  # as the hall's own login
        conn.execute("UPDATE halls SET hwd_version = %s, received_at = now() WHERE hall_id = 'evil'", (huge,))
        for i in range(2000):
            conn.execute("INSERT INTO devices (hall_id, device, state, rec_id) VALUES ('evil', %s, 'offline', 1)",
                         (f"{i:04d}\u202e" + "x\u0300" * 40,))
    api = {h["hall_id"]: h for h in get(central, "/api/halls")}
    evil = api["evil"]
    assert evil["devices_offline"] == 2000 and len(evil["devices_offline_ids"]) == queries.OFFLINE_NAMES
    for text in [evil["hwd_version"], *evil["devices_offline_ids"]]:
        assert len(text) <= queries.TEXT_MAX and "\u202e" not in text and "\x1b" not in text, text[:80]
    page = Supervisor(central).get("/")
    assert len(page) < 100_000 and "\u202e" not in page and "<script>alert" not in page
    assert 'data-offline="2000"' in page
