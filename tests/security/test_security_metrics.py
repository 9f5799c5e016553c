"""``GET /metrics`` says which devices are down and how long people wait: only this PC, the
Prometheus servers of ``[ui] metrics_addresses`` and a logged-in admin read it. Other machines of
the hall LAN (other loopback addresses here), a configured kiosk among them, get 403 — also with
a forged ``X-Forwarded-For``, and an IPv4-mapped form of a listed address counts as that address."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from security_helpers import Browser, UiProcess, hall, http

KIOSK = '[[hall.kiosk]]\nid = "k1"\naddresses = ["127.0.0.4"]\n'


@pytest.fixture
def ui(hwd_daemon):
    secret = generate_password_hash("admin-pass-1", method="pbkdf2:sha256:1000")
    d = hwd_daemon(hall(kiosks=KIOSK) + f'\n[ui]\nmetrics_addresses = ["127.0.0.5", "127.0.6.0/24"]\n'
                   f'admin_password_hash = "{secret}"\n')
    server = UiProcess(d.config_path)
    yield server
    server.stop()


def test_strangers_and_kiosks_get_403(ui):
    for source in ("127.0.0.2", "127.0.0.4", "127.0.5.1"):
        status, _, body = http(ui.port, "GET", "/metrics", source=source,
                               headers={"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.5"})
        assert status == 403, source
        assert b"hwd_" not in body


def test_this_pc_and_the_listed_prometheus_servers_read_it(ui):
    for source in ("127.0.0.1", "127.0.0.5", "127.0.6.77"):
        status, _, body = http(ui.port, "GET", "/metrics", source=source)
        assert status == 200 and b"hwd_up 1.0" in body, source


def test_a_logged_in_admin_reads_it_from_anywhere(ui):
    admin = Browser(ui, "127.0.0.2")
    assert admin.get("/metrics")[0] == 403
    assert admin.post_form("/admin/login", {"password": "admin-pass-1"})[0] == 302
    status, _, body = admin.get("/metrics")
    assert status == 200 and b"hwd_hall_queue_length" in body
    admin.request("POST", "/admin/logout", form={"csrf_token": admin.csrf()})
    assert admin.get("/metrics")[0] == 403
