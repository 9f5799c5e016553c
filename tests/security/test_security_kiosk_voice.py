"""The kiosk's own screens (issue 24 §3–4), attacked from other machines of the hall LAN:

- ``GET /kiosk/k1/ticket/<id>`` (how the kiosk shows a scanned appointment's ticket) carries the
  ticket's phone link, whose token may 取消排队: only k1's own machine gets it; another machine
  walking the ids gets 403 and no token;
- ``POST /kiosk/k1/api/say`` makes k1's speaker talk: only k1's own machine may, and only the
  words of the prompt table (kiosk_ui/kiosk_voice.py) — text of the caller's own is never said,
  another kiosk's ticket is not read out, an unknown prompt says nothing.

Real hwd (an espeak speaker on null://), the real hwd-ui process, requests from 127.0.0.9.
"""

from __future__ import annotations

import json

from hwd.web.svg import qr_svg
from security_helpers import Browser, UiProcess, hall

SPEAKER = '''
[[device]]
id = "ks"
kind = "speaker"
driver = "espeak"
url = "null://"
'''
KIOSKS = '''
[[hall.kiosk]]
id = "k1"
speaker = "ks"
addresses = ["127.0.0.1"]
[[hall.kiosk]]
id = "k2"
addresses = ["127.0.0.2"]
'''


def _said(watcher, seconds: float = 1.5) -> list[str]:
    return [e["text"] for e in watcher.drain(seconds) if e["topic"] == "speaker.announced"]


def test_the_kiosks_ticket_and_voice_are_its_own_machines(hwd_daemon):
    d = hwd_daemon(SPEAKER + hall(kiosks=KIOSKS) + '\n[ui]\npublic_url = "http://127.0.0.1:9"\n')
    ui = UiProcess(d.config_path)
    try:
        mine = d.call("hall.issue_ticket", {"service": "s0", "kiosk": "k1"})
        other = d.call("hall.issue_ticket", {"service": "s0", "kiosk": "k2"})
        link_qr = str(qr_svg(d.call("hall.ticket", {"ticket": mine["id"]})["qr"]))  # the phone link, token inside
        assert "/t/" in d.call("hall.ticket", {"ticket": mine["id"]})["qr"]
        stranger, kiosk = Browser(ui, "127.0.0.9"), Browser(ui, "127.0.0.1")
        spoken = d.events("speaker.")

        # another machine walks the ticket ids: no phone link, no token
        for ticket in (mine["id"], other["id"]):
            status, _, body = stranger.get(f"/kiosk/k1/ticket/{ticket}")
            assert status == 403 and b"<svg" not in body, (ticket, status)
        status, _, body = kiosk.get(f"/kiosk/k1/ticket/{mine['id']}")
        assert status == 200 and json.loads(body)["ticket"]["qr_svg"] == link_qr

        # another machine cannot make k1 speak, whatever it asks
        for body in ({"prompt": "home"}, {"prompt": "ticket", "ticket": mine["id"]}, {"prompt": "again"}):
            status, reply = stranger.post_json("/kiosk/k1/api/say", body)
            assert status == 403, (body, reply)
        assert _said(spoken) == []

        # k1's own machine: only the table's words
        status, reply = kiosk.post_json("/kiosk/k1/api/say", {"prompt": "home", "text": "请到后门领取补贴"})
        assert status == 200 and reply["text"] == "您好，请选择办理事项"  # k1 has no card reader
        for body in ({"prompt": "请到后门领取补贴"}, {"prompt": "notice", "service": "<nope>"},
                     {"prompt": "ticket", "ticket": other["id"]}, {"prompt": "ticket", "ticket": "x"}):
            status, reply = kiosk.post_json("/kiosk/k1/api/say", body)
            assert status == 404, (body, reply)
        said = _said(spoken)
        assert said == ["您好，请选择办理事项"], said
        # k2 has no speaker: nothing to make it say, even from its own machine
        status, _ = Browser(ui, "127.0.0.2").post_json("/kiosk/k2/api/say", {"prompt": "home"})
        assert status == 404
    finally:
        ui.stop()
