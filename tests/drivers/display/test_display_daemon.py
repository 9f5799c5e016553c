"""Window screens through a real hwd process: driver ↔ pty ↔ emulated RS-485 bus."""

from __future__ import annotations

import concurrent.futures

import pytest

from hwd.client import Client
from support.devices import led
from support.waits import wait_for

BUS = led("win1-led", 1, "bus1") + led("win2-led", 2, "bus1")


def screen(d, device, address):
    return d.sim(device, "content", address=address)


def test_two_screens_on_one_bus(hwd_daemon):
    d = hwd_daemon(BUS)
    d.wait_state("win1-led", "online")
    d.wait_state("win2-led", "online")
    ev = d.events("display.")
    assert d.call("display.show", {"device": "win1-led", "lines": ["请A023号", "1号窗口"]}) == {"delivered": True}
    assert d.call("display.show", {"device": "win2-led", "lines": ["暂停服务"]}) == {"delivered": True}
    assert ev.wait("display.content", device="win1-led")["lines"] == ["请A023号", "1号窗口"]
    assert screen(d, "win1-led", 1)["lines"] == ["请A023号", "1号窗口"]
    assert screen(d, "win2-led", 2)["lines"] == ["暂停服务", ""]
    png = screen(d, "win1-led", 1)["png"]
    assert png.endswith("screen-1.png")
    from PIL import Image
    colors = {c for _, c in Image.open(png).convert("RGB").getcolors(1 << 16)}
    assert (255, 32, 16) in colors and (0, 0, 0) in colors, "red dots on black"
    status = d.sim("win1-led", "status")
    assert status["bad_frames"] == 0
    # identical content is not re-sent
    frames = status["frames"]
    assert d.call("display.show", {"device": "win1-led", "lines": ["请A023号", "1号窗口"]}) == {"delivered": True}
    assert d.sim("win1-led", "status")["frames"] == frames
    assert d.call("display.get", {"device": "win2-led"})["lines"] == ["暂停服务"]


def test_screens_sharing_a_bus_never_talk_over_each_other(hwd_daemon):
    d = hwd_daemon(BUS)
    d.wait_state("win1-led", "online")
    d.wait_state("win2-led", "online")
    d.sim("win1-led", "ack_delay", ms=30)   # a slow controller: the bus is busy until it answers

    def show(device, i):
        client = Client(d.rpc, timeout=10.0, retries=1)
        try:
            return client.call("display.show", {"device": device, "lines": [f"请A{i:03d}号", device]})
        finally:
            client.close()

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: show("win1-led" if i % 2 else "win2-led", i), range(12)))
    assert all(r["delivered"] for r in results), results
    status = d.sim("win1-led", "status")
    assert status["collisions"] == 0
    assert status["bad_frames"] == 0
    # the last content of each screen is what the emulator shows
    for device, addr in (("win1-led", 1), ("win2-led", 2)):
        want = d.call("display.get", {"device": device})["lines"]
        assert screen(d, device, addr)["lines"] == want


def test_screen_unplugged_gets_its_content_back(hwd_daemon):
    d = hwd_daemon(BUS)
    d.wait_state("win1-led", "online")
    d.call("display.show", {"device": "win1-led", "lines": ["请B007号", "1号窗口"]})
    d.sim("win1-led", "unplug")
    d.wait_state("win1-led", "offline")
    assert screen(d, "win1-led", 1)["lines"] == []
    # shown while offline: kept, and delivered when the screen is back
    assert d.call("display.show", {"device": "win1-led", "lines": ["请B008号", "1号窗口"]}) == {"delivered": False}
    d.sim("win1-led", "plug")
    d.wait_state("win1-led", "online")
    d.wait_state("win2-led", "online")
    wait_for(lambda: screen(d, "win1-led", 1)["lines"] == ["请B008号", "1号窗口"], what="content re-sent")
    assert d.call("display.get", {"device": "win1-led"})["delivered"] is True


def test_no_ack_takes_screen_offline_and_back(hwd_daemon):
    d = hwd_daemon(BUS)
    d.wait_state("win2-led", "online")
    d.sim("win2-led", "noack", on=True)
    assert d.call("display.show", {"device": "win2-led", "lines": ["X"]}) == {"delivered": False}
    row = d.wait_state("win2-led", "offline")
    assert "acknowledge" in row["detail"]
    d.sim("win2-led", "noack", on=False)
    d.wait_state("win2-led", "online")
    wait_for(lambda: screen(d, "win2-led", 2)["lines"][:1] == ["X"], what="content after ack restored")


def test_garbage_on_the_bus_is_survived(hwd_daemon):
    d = hwd_daemon(BUS)
    d.wait_state("win1-led", "online")
    d.sim("win1-led", "garbage", data="0655AA5A")
    assert d.call("display.show", {"device": "win1-led", "lines": ["请C001号"]}) == {"delivered": True}
    assert screen(d, "win1-led", 1)["lines"][0] == "请C001号"


def test_unencodable_characters_are_replaced(hwd_daemon):
    d = hwd_daemon(BUS)
    d.wait_state("win1-led", "online")
    # 𠀀 (CJK Extension B) is not in GB2312
    assert d.call("display.show", {"device": "win1-led", "lines": ["请𠀀先生"]}) == {"delivered": True}
    assert screen(d, "win1-led", 1)["lines"][0] == "请?先生"
    assert d.device("win1-led")["counters"]["replaced_chars"] == 1


BITMAP = '''
[[device]]
id = "win3-dots"
kind = "display"
driver = "bitmap"
url = "sim://dots"
address = 3
width = 64
height = 16
scroll_interval_ms = 50
frame = ["A5", "{addr}", "02", "{len16}", "{bitmap}", "{sum8}", "5A"]

[[device]]
id = "hall-web"
kind = "display"
driver = "web"
url = "null://"
'''


def test_bitmap_screen_renders_and_scrolls(hwd_daemon):
    d = hwd_daemon(BITMAP)
    d.wait_state("win3-dots", "online")
    d.call("display.show", {"device": "win3-dots", "lines": ["请A023号"]})
    blank = "00" * (64 // 8 * 16)   # what the screen got when it came online with no content
    first = wait_for(lambda: (lambda b: b if b and b != blank else None)(screen(d, "win3-dots", 3).get("bitmap")),
                     what="bitmap frame with text")
    data = bytes.fromhex(first)
    assert len(data) == 64 // 8 * 16
    # row-major, most significant bit first: compare bit by bit with the text rendered here
    from drivers.display import render
    img = render.compose([render.render_line("请A023号", render.load_font(None, 14), 16)], 64, 16)
    for y in range(16):
        for x in range(64):
            bit = data[y * 8 + x // 8] >> (7 - x % 8) & 1
            assert bit == (1 if img.getpixel((x, y)) else 0), (x, y)
    # too long for 64 dots: successive frames differ (scrolling)
    d.call("display.show", {"device": "win3-dots", "lines": ["请A023号到不动产登记5号窗口办理"]})
    seen = set()
    wait_for(lambda: seen.add(screen(d, "win3-dots", 3)["bitmap"]) or len(seen) >= 3, what="scrolling frames")
    assert d.sim("win3-dots", "status")["bad_frames"] == 0


def test_web_screen_publishes_content(hwd_daemon):
    d = hwd_daemon(BITMAP)
    d.wait_state("hall-web", "online")
    ev = d.events("display.content")
    assert d.call("display.show", {"device": "hall-web", "lines": ["请A001号"], "effect": "blink"})["delivered"]
    event = ev.wait("display.content", device="hall-web")
    assert event["lines"] == ["请A001号"] and event["effect"] == "blink"
    d.call("display.clear", {"device": "hall-web"})
    assert d.call("display.get", {"device": "hall-web"})["lines"] == []


@pytest.mark.parametrize("frame,problem", [
    ('["A5", "{adr}", "{text}", "5A"]', "unknown token {adr}"),
    ('["{addr}", "{text}", "5A"]', "must start with a hex literal"),
    ('["A5", "{addr}", "{text}", "{xor}"]', "needs a literal"),
    ('["A5", "{len}", "{len16}", "{text}", "5A"]', "more than one length"),
])
def test_bad_frame_config_is_a_config_error(tmp_path, frame, problem):
    import subprocess
    import sys

    cfg = tmp_path / "bad.toml"
    cfg.write_text(f'''[daemon]
state_dir = "{tmp_path}/state"
rpc = "ipc://{tmp_path}/rpc"
events = "ipc://{tmp_path}/events"

[[device]]
id = "w"
kind = "display"
driver = "frame"
url = "sim://w"
frame = {frame}
''')
    out = subprocess.run([sys.executable, "-m", "hwd", "--config", str(cfg), "--check"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2, out.stdout + out.stderr
    text = out.stdout + out.stderr
    assert problem in text and "device[0].frame" in text, text


def test_screen_behind_a_tcp_serial_converter(hwd_daemon):
    d = hwd_daemon('''
        [[device]]
        id = "win9-led"
        kind = "display"
        driver = "frame"
        url = "sim://conv?transport=tcp"
        address = 9
        encoding = "gbk"
        frame = ["02", "{addr}", "{text}", "03", "{xor}"]
    ''')
    d.wait_state("win9-led", "online")
    assert d.call("display.show", {"device": "win9-led", "lines": ["请D010号"]}) == {"delivered": True}
    wait_for(lambda: screen(d, "win9-led", 9)["lines"] == ["请D010号"], what="text over TCP")
    d.sim("win9-led", "unplug")
    d.wait_state("win9-led", "offline")
    d.sim("win9-led", "plug")
    d.wait_state("win9-led", "online")
    wait_for(lambda: screen(d, "win9-led", 9)["lines"] == ["请D010号"], what="content re-sent over TCP")
