"""The hall display of a real hall (issue 24 item 5), in headless chromium against the real hwd
and hwd-ui: a hall of 10 windows and 12 services shows every window and every service over the
pages of its panels (at 1080p and 4K, text still ≥ 66 px and unwrapped, no row cut); a burst of
4 calls within 0.7 s gives each call the banner in turn, for as long as its announcement plays
(a real speaker driver, ``command``, rendering a WAV per announcement; ``/live`` gives the pages
each announcement without the file the hall PC wrote); and the outage notice
never covers the latest call."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import urllib.request

import pytest

from support.browser import CHROMIUM
from support.halls import STAFF_PIN, fast_hash
from support.ui import UiProcess
from hwd.hall.pin import hash_pin
from page_checks import CONTRAST, READABLE

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} missing (apt-get install chromium)")]

FHD = {"width": 1920, "height": 1080}
UHD = {"width": 3840, "height": 2160}
SERVICES = [("gs", "工商登记", "A"), ("sw", "税务办理", "B"), ("sb", "社会保障", "C"), ("yb", "医疗保障", "D"),
            ("gjj", "住房公积金", "E"), ("bdc", "不动产登记", "F"), ("hj", "户籍办理", "G"), ("cj", "车驾管业务", "H"),
            ("crj", "出入境", "J"), ("mz", "民政婚姻", "K"), ("rs", "人才服务", "L"), ("zx", "综合咨询", "M")]
WINDOWS = [(str(n), f"{name} {n}号窗口", [sid, SERVICES[(n + 5) % 12][0]])
           for n, (sid, name, _) in zip(range(1, 11), SERVICES)]

# the announcement of each call, as a real speech program would make it: a WAV, 0.12 s per character
TTS = textwrap.dedent('''
    import struct, sys, wave
    text, out = sys.argv[1], sys.argv[2]
    with wave.open(out, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
        w.writeframes(struct.pack("<h", 800) * int(8000 * 0.12 * len(text)))
''')


def big_hall(tts: str, out: str, page_s: float = 2.0) -> str:
    services = "".join(f'\n[[hall.service]]\nid = "{sid}"\nname = "{name}"\nprefix = "{prefix}"\n'
                       for sid, name, prefix in SERVICES)
    windows = "".join(f'\n[[hall.window]]\nid = "{wid}"\nname = "{name}"\nservices = {list(svcs)!r}\n'
                      f'speaker = "hall-speaker"\n'.replace("'", '"') for wid, name, svcs in WINDOWS)
    return f'''
[[device]]
id = "hall-speaker"
kind = "speaker"
driver = "command"
url = "file://{out}/"
command = ["{sys.executable}", "{tts}", "{{text}}", "{{out}}"]

[hall]
name = "某某县政务服务中心"
announce_repeat = 1

[hall.hours]
always_open = true
{services}{windows}
[[hall.staff]]
id = "s01"
name = "王小明"
pin_hash = "{hash_pin(STAFF_PIN, iterations=1000)}"

[ui]
admin_password_hash = "{fast_hash("x")}"
display_page_s = {page_s}
notice = "欢迎来到某某县政务服务中心"
'''


@pytest.fixture
def hall(hwd_daemon, tmp_path):
    tts = tmp_path / "tts.py"
    tts.write_text(TTS, encoding="utf-8")
    d = hwd_daemon(big_hall(str(tts), str(tmp_path / "announced")))
    d.wait_state("hall-speaker", "online")
    return d


@pytest.fixture
def ui(hall):
    server = UiProcess(hall.config_path)
    yield server
    server.stop()


# what a person sees of each row now: shown, inside its panel and the screen, not cut, one line
ROWS = """() => {
  const view = {w: innerWidth, h: innerHeight};
  return Array.from(document.querySelectorAll("#windows tr, #queues tr")).map(tr => {
    const r = tr.getBoundingClientRect(), p = tr.closest(".panel").getBoundingClientRect();
    const cells = Array.from(tr.cells).map(c => ({size: parseFloat(getComputedStyle(c).fontSize),
                                                  h: c.getBoundingClientRect().height}));
    return {id: tr.dataset.window || tr.dataset.service, panel: tr.closest("tbody").id, text: tr.innerText,
            visible: r.height > 0 && r.width > 0 && getComputedStyle(tr).display !== "none",
            inside: r.top >= p.top - 0.5 && r.bottom <= p.bottom + 0.5 && r.left >= p.left - 0.5 &&
                    r.right <= p.right + 0.5 && r.bottom <= view.h + 0.5 && r.right <= view.w + 0.5,
            minSize: Math.min(...cells.map(c => c.size)), lines: Math.max(...cells.map(c => Math.round(c.h / (c.size * 1.2))))};
  });
}"""


SEEN = ("#lc-number, #lc-window, .lc-label, #windows th, #windows td, #queues th, #queues td, .page-no, "
        ".panel h2, #calls li b, #calls li span, #notice")
# the contrast of every element a selector finds, with its text
CONTRAST_OF = f"""sel => {{ const contrast = {CONTRAST};
  return Array.from(document.querySelectorAll(sel)).map(e => [e.innerText, contrast(e)]); }}"""


def _every_row_over_the_pages(page, min_px: float) -> dict:
    """Watch the panels page through: every window and service is seen whole on some page."""
    want = {"windows": {w[0] for w in WINDOWS}, "queues": {s[0] for s in SERVICES}}
    seen: dict[str, set] = {"windows": set(), "queues": set()}
    labels: set[str] = set()
    for _ in range(80):
        for row in page.evaluate(ROWS):
            if not row["visible"]:
                continue
            assert row["inside"], f"{row['text']!r} is cut by its panel or the screen"
            assert row["minSize"] >= min_px, f"{row['text']!r} is {row['minSize']} px, below {min_px} px"
            assert row["lines"] <= 1, f"{row['text']!r} wraps"
            seen[row["panel"]].add(row["id"])
        labels.update(page.locator(".page-no").all_inner_texts())
        if seen == want:
            break
        page.wait_for_timeout(250)
    assert seen == want, f"never shown: {({k: sorted(want[k] - seen[k]) for k in want})}"
    return {"labels": labels}


def test_a_hall_of_10_windows_and_12_services_shows_every_one_over_its_pages(browser, hall, ui, tmp_path):
    from playwright.sync_api import expect

    for wid, _, _ in WINDOWS[:6]:
        hall.call("hall.login", {"window": wid, "staff": "s01", "pin": STAFF_PIN})
    for sid, _, _ in SERVICES:
        hall.call("hall.issue_ticket", {"service": sid})
    hall.call("hall.call_next", {"window": "1"})
    hall.call("hall.pause", {"window": "2", "reason": "午休"})

    page = browser.new_context(viewport=FHD, locale="zh-CN").new_page()
    page.goto(f"{ui.url}/display")
    expect(page.locator("#latest-call #lc-number")).to_have_text("A001")
    seen = _every_row_over_the_pages(page, 66)
    # the heading says which page is up, and how many there are
    assert {"1/3", "2/3", "3/3"} <= seen["labels"], seen["labels"]
    expect(page.locator('#windows tr[data-window="2"]')).to_contain_text("暂停服务")
    page.screenshot(path=str(tmp_path / "display-10-windows.png"))
    # every row in every state, the page numbers and the latest call are readable on the dark screen
    faint = [(text, round(c, 2)) for text, c in page.evaluate(CONTRAST_OF, SEEN) if c < READABLE]
    assert not faint, faint

    uhd = browser.new_context(viewport=UHD, locale="zh-CN").new_page()
    uhd.goto(f"{ui.url}/display")
    _every_row_over_the_pages(uhd, 132)


def _events(stream, topic: str, count: int) -> list[dict]:
    """The data of the next ``count`` ``topic`` events of an SSE response."""
    out: list[dict] = []
    event = None
    while len(out) < count:
        line = stream.readline().decode()
        assert line, "the stream closed"
        if line.startswith("event: "):
            event = line[7:].strip()
        elif line.startswith("data: ") and event == topic:
            out.append(json.loads(line[6:]))
    return out


BANNER_LOG = """() => {
  window.bannerLog = [];
  const el = document.getElementById("latest-call");
  new MutationObserver(() => {
    const n = el.dataset.number;
    if (n && (!bannerLog.length || bannerLog[bannerLog.length - 1].n !== n))
      bannerLog.push({n: n, t: performance.now(), text: el.innerText.replace(/\\s+/g, "")});
  }).observe(el, {childList: true, subtree: true, attributes: true, attributeFilter: ["data-number"]});
}"""


def test_a_burst_of_4_calls_gets_the_banner_in_turn_in_step_with_the_announcements(browser, hall, ui):
    for wid, _, _ in WINDOWS[:4]:
        hall.call("hall.login", {"window": wid, "staff": "s01", "pin": STAFF_PIN})
    for sid in ("gs", "sw", "sb", "yb"):
        hall.call("hall.issue_ticket", {"service": sid})
    page = browser.new_context(viewport=FHD, locale="zh-CN").new_page()
    page.goto(f"{ui.url}/display")
    page.wait_for_function("() => document.getElementById('latest-call').dataset.number === ''")
    page.evaluate(BANNER_LOG)
    spoken = hall.events("speaker.announced")

    public = urllib.request.urlopen(f"{ui.url}/live?topic=speaker.", timeout=30)  # what any page on the LAN gets

    numbers = [hall.call("hall.call_next", {"window": wid})["number"] for wid in ("1", "2", "3", "4")]
    assert numbers == ["A001", "B001", "C001", "D001"]
    said = [spoken.wait("speaker.announced", timeout=20) for _ in numbers]
    assert all(a["played"] and a["file"].endswith(".wav") for a in said)
    # the pages get each announcement, its text and length, never where the hall PC keeps its audio
    heard = _events(public, "speaker.announced", 4)
    public.close()
    assert [e["text"] for e in heard] == [a["text"] for a in said]
    assert all("file" not in e and e["duration_ms"] == a["duration_ms"] for e, a in zip(heard, said)), heard
    page.wait_for_function("() => bannerLog.length >= 4 && bannerLog[3].n === 'D001'", timeout=30000)
    log = page.evaluate("bannerLog")

    # each call reached the banner, once, in the order called, with its own window
    assert [e["n"] for e in log] == numbers, log
    for entry, (_, name, _) in zip(log, WINDOWS):
        assert entry["text"] == f"请{entry['n']}号到{name}办理".replace(" ", ""), entry
    # and stayed there while its announcement played (the speaker plays them one after the other);
    # the times are when the page's observer ran, which a busy machine may delay by a frame or
    # more: a banner cut short by its successor (the burst's next call) would have held ~0 ms
    for k in range(3):
        held = log[k + 1]["t"] - log[k]["t"]
        assert held >= said[k]["duration_ms"] * 0.9, (k, held, said[k]["duration_ms"])
    # the recent calls list has the earlier three, newest first, each with its window
    rows = page.locator("#calls li")
    assert [r.split()[0] for r in rows.all_inner_texts()] == ["C001", "B001", "A001"]


def test_the_outage_notice_never_covers_the_latest_call(browser, hall, ui):
    from playwright.sync_api import expect

    hall.call("hall.login", {"window": "5", "staff": "s01", "pin": STAFF_PIN})
    number = hall.call("hall.issue_ticket", {"service": "gjj"})["number"]
    hall.call("hall.call_next", {"window": "5"})
    for viewport in (FHD, UHD):
        page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
        page.goto(f"{ui.url}/display")
        expect(page.locator("#latest-call #lc-number")).to_have_text(number)
        if viewport is FHD:
            hall.stop()
        expect(page.locator("#offline")).to_be_visible(timeout=10000)
        expect(page.locator("#offline")).to_have_text("系统连接中断")
        banner = page.locator("#offline").bounding_box()
        latest = page.locator("#latest-call").bounding_box()
        overlap = not (banner["y"] >= latest["y"] + latest["height"] or banner["y"] + banner["height"] <= latest["y"]
                       or banner["x"] >= latest["x"] + latest["width"] or banner["x"] + banner["width"] <= latest["x"])
        assert not overlap, (banner, latest)
        # what is on top at the number and the window is the banner itself
        for part in ("#lc-number", "#lc-window"):
            box = page.locator(f"#latest-call {part}").bounding_box()
            on_top = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('#latest-call') !== null",
                                   [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
            assert on_top, part
        expect(page.locator("#latest-call")).to_contain_text(number)
        # and the notice is as readable as the rest: ≥ 66 px at 1080p, in contrast, inside the screen
        assert page.locator("#offline").evaluate(CONTRAST) >= READABLE
        size = page.evaluate("parseFloat(getComputedStyle(document.getElementById('offline')).fontSize)")
        assert size >= 66 * viewport["height"] / 1080 - 0.5
        assert banner["y"] + banner["height"] <= viewport["height"] + 0.5
