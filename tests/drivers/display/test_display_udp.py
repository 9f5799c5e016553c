"""``udp://HOST:PORT``: a window screen with an IP address takes the same frames as on RS-485, one
datagram per frame, as uvbs/HospitalQueueSystem sends them (``NurseStation/com/SLZCWndScreen.cpp``
``SendDataToThroughScreen``: ``MySocketUDP::SendTo`` when the screen has an IP). Tested with a
real UDP socket on loopback standing for the screen, and with the emulator on a UDP port."""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import threading

import pytest

from support.waits import wait_for
from drivers.display.presets import PRESETS
from drivers.display.protocol import Frame, FrameSpec
from hwd import url as urls
from test_display_strip_colour import uv_init_screen


def screen_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def datagram(sock: socket.socket, timeout: float = 10.0) -> tuple[bytes, tuple]:
    ready, _, _ = select.select([sock], [], [], timeout)
    assert ready, "no datagram"
    return sock.recvfrom(65535)


def test_a_strip_screen_over_udp_gets_one_datagram_per_frame(hwd_daemon):
    sock = screen_socket()
    port = sock.getsockname()[1]
    d = hwd_daemon(f'''
[[device]]
id = "hall-strip"
kind = "display"
driver = "frame"
url = "udp://127.0.0.1:{port}"
protocol = "zhongyi"
address = 7
''')
    codec = PRESETS["zhongyi"].build({})
    # on connecting: InitScreen, then the (blank) content, each its own datagram
    assert datagram(sock)[0] == uv_init_screen(7)
    assert datagram(sock)[0] == codec.update([b""], 7, "static")[0]
    d.wait_state("hall-strip", "online")
    for text in ("请A023号 7号窗口", "请A024号 7号窗口"):
        d.call("display.show", {"device": "hall-strip", "lines": [text]})
        data, _ = datagram(sock)
        assert data == codec.update([text.encode("gbk")], 7, "static")[0]
        [frame] = codec.decoder().feed(data)          # one whole frame, nothing else
        assert isinstance(frame, Frame) and frame.size == len(data)
    sock.close()


def test_acks_come_back_over_udp(hwd_daemon):
    """A screen that acknowledges each frame: its datagrams reach the port's reader."""
    sock = screen_socket()
    port = sock.getsockname()[1]
    got: list[bytes] = []
    stop = threading.Event()

    def screen() -> None:                  # acknowledges every frame, as the controller does
        while not stop.is_set():
            ready, _, _ = select.select([sock], [], [], 0.05)
            if ready:
                data, peer = sock.recvfrom(65535)
                got.append(data)
                sock.sendto(b"\x06\x03", peer)

    thread = threading.Thread(target=screen, daemon=True)
    thread.start()
    try:
        d = hwd_daemon(f'''
[[device]]
id = "net-led"
kind = "display"
driver = "frame"
url = "udp://127.0.0.1:{port}"
address = 3
frame = ["A5", "{{addr}}", "01", "{{len}}", "{{text}}", "{{CRC-16/ARC}}", "5A"]
ack = "06{{addr}}"
ack_timeout_ms = 2000
retries = 0
''')
        d.wait_state("net-led", "online")
        assert d.call("display.show", {"device": "net-led", "lines": ["请B007号"]})["delivered"] is True
        spec = FrameSpec.parse(["A5", "{addr}", "01", "{len}", "{text}", "{CRC-16/ARC}", "5A"])
        assert got == [spec.encode(b"", addr=3), spec.encode("请B007号".encode("gb2312"), addr=3)]
        assert d.device("net-led")["counters"].get("ack_timeouts", 0) == 0
    finally:
        stop.set()
        thread.join(1)
        sock.close()


def test_the_emulator_on_a_udp_port(hwd_daemon):
    d = hwd_daemon('''
[[device]]
id = "hall-strip"
kind = "display"
driver = "frame"
url = "sim://strip?transport=udp"
protocol = "zhongyi"
address = 7
''')
    d.wait_state("hall-strip", "online")
    d.call("display.show", {"device": "hall-strip", "lines": [{"text": "请A001号", "color": 2}]})
    screen = wait_for(lambda: (lambda c: c if c["lines"] == ["请A001号"] else None)(
        d.sim("hall-strip", "content", address=7)), what="the call on the emulated UDP screen")
    assert screen["colors"] == [2] * 6
    status = d.sim("hall-strip", "status")
    assert status["url"].startswith("udp://127.0.0.1:")
    assert status["datagrams"] == status["frames"] == 3 and status["connect_frames"] == 1


def test_udp_urls():
    assert urls.parse("udp://192.168.1.60:5005").host == "192.168.1.60"
    assert urls.parse("udp://192.168.1.60:5005").port == 5005
    for bad, needle in (("udp://192.168.1.60", "needs host and port"), ("udp://h:5005/x", "host and port only")):
        with pytest.raises(urls.UrlError, match=needle):
            urls.parse(bad)


def test_udp_is_for_frame_screens(tmp_path):
    config = tmp_path / "hwd.toml"
    config.write_text('''
[[device]]
id = "k"
kind = "keypad"
driver = "bus"
url = "udp://127.0.0.1:5005"
keys = { "0c" = "call_next" }
''', encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "hwd", "--config", str(config), "--check"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "udp://" in out.stderr, out.stderr
