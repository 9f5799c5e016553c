"""The web kit both apps share (hwd.web) and the login policy (hwd.lockout.LoginThrottle), attacked
piece by piece with a fake clock: redirects that leave the site, forwarding headers from a
stranger, sessions that outlive their idle time or lifetime, a stranger locking the real user
out, the session key file's mode, and hwd-central importing hwd-ui."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hwd.lockout import BACKSTOP_KEY, LoginThrottle
from hwd.web import proxies, secret
from hwd.web.redirects import safe_target
from hwd.web.sessions import Registry

ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("target", ["/\t/evil.example/login", "/\n/evil.example", "//evil.example",
                                    "\\\\evil.example", "/\\evil.example", "https:evil.example",
                                    "https://evil.example/", "javascript:alert(1)", " /x", "/\u3000/evil", "",
                                    None, "/" + "a" * 3000])
def test_a_redirect_target_that_can_leave_the_site_is_refused(target):
    assert safe_target(target, "/home") == "/home"


@pytest.mark.parametrize("target,prefix", [("/", "/"), ("/table?group=hall&period=day", "/"),
                                           ("/admin", "/admin"), ("/admin/hall", "/admin")])
def test_a_local_path_is_kept(target, prefix):
    assert safe_target(target, "/home", prefix) == target


def test_a_path_outside_the_prefix_is_refused():
    assert safe_target("/adminx", "/admin", "/admin") == "/admin"
    assert safe_target("/kiosk/k1", "/admin", "/admin") == "/admin"


def test_forwarded_for_is_believed_only_from_a_trusted_proxy():
    trusted = proxies.networks(["127.0.0.2", "10.9.0.0/16"])
    assert proxies.client("127.0.0.9", "10.1.1.1", trusted) == "127.0.0.9", "a stranger's header is ignored"
    assert proxies.client("127.0.0.2", "10.1.1.1", trusted) == "10.1.1.1"
    # the client wrote the left part itself: the rightmost address that is not a proxy counts
    assert proxies.client("127.0.0.2", "1.2.3.4, 10.1.1.1", trusted) == "10.1.1.1"
    assert proxies.client("127.0.0.2", "1.2.3.4, 10.1.1.1, 10.9.0.5", trusted) == "10.1.1.1"
    assert proxies.client("127.0.0.2", "10.1.1.1, garbage", trusted) == "127.0.0.2"
    assert proxies.client("127.0.0.2", None, trusted) == "127.0.0.2"
    assert proxies.client("127.0.0.2", "10.1.1.1", []) == "127.0.0.2", "no proxy configured: nothing believed"


def test_a_session_ends_when_idle_and_at_its_lifetime_and_background_reads_do_not_count():
    clock = FakeClock()
    reg = Registry(idle_s=600, lifetime_s=3600, clock=clock)
    sid = reg.add("admin", "10.0.0.1")
    clock.now += 590
    assert reg.valid(sid, "admin")              # a use: the idle time starts again
    clock.now += 590
    assert reg.valid(sid, "admin", touch=False)  # a page's own read: no use
    clock.now += 20
    assert not reg.valid(sid, "admin"), "610 s since the last use"
    assert not reg.valid(sid, "admin"), "gone for good"
    sid = reg.add("admin")
    for _ in range(7):                          # used every 9 minutes, but only for its lifetime
        clock.now += 540
        ok = reg.valid(sid, "admin")
    assert not ok
    sid = reg.add("counter:5")
    assert not reg.valid(sid, "admin"), "a session is for its own account only"
    assert reg.remove(sid) and not reg.valid(sid, "counter:5")


def test_expired_sessions_are_swept_and_the_table_is_bounded():
    clock = FakeClock()
    reg = Registry(idle_s=10, lifetime_s=100, clock=clock, max_sessions=50)
    for _ in range(200):
        reg.add("admin")
    assert len(reg) == 50
    clock.now += 11
    reg.add("admin")
    assert len(reg) == 1


def test_five_failures_lock_the_pair_for_five_minutes_and_nobody_else():
    clock = FakeClock()
    t = LoginThrottle(failures=5, lock_s=300, clock=clock)
    for _ in range(5):
        keys, wait = t.begin("admin", "10.0.0.9", backstop=True)
        assert wait == 0
        t.failed(keys)
    keys, wait = t.begin("admin", "10.0.0.9", backstop=True)
    assert 299 < wait <= 300, "the sixth attempt is refused for 5 minutes"
    keys, wait = t.begin("admin", "10.0.0.5", backstop=True)
    assert wait == 0, "the real admin at another machine is not locked out"
    t.succeeded(keys)
    keys, wait = t.begin("s02", "10.0.0.9", backstop=True)
    assert wait == 0, "another account from the stranger's machine: its own pair"
    t.failed(keys)
    clock.now += 301
    keys, wait = t.begin("admin", "10.0.0.9", backstop=True)
    assert wait == 0
    t.failed(keys)
    assert 299 < t.begin("admin", "10.0.0.9", backstop=True)[1] <= 300, "each further failure: 5 min again"


def test_concurrent_attempts_get_at_most_the_free_checks():
    t = LoginThrottle(failures=5, lock_s=300, clock=FakeClock())
    allowed = [t.begin("admin", "10.0.0.9", backstop=True)[1] == 0 for _ in range(30)]
    assert allowed.count(True) == 5


def test_a_source_trying_many_accounts_is_stopped_by_its_own_limit():
    clock = FakeClock()
    t = LoginThrottle(failures=5, lock_s=300, clock=clock)
    checks = 0
    for staff in range(40):
        keys, wait = t.begin(f"s{staff:02d}", "10.0.0.9", backstop=True)
        if wait == 0:
            checks += 1
            t.failed(keys)
    assert checks == 20, "4 × failures over all accounts from one address"
    keys, wait = t.begin("s01", "10.0.0.5", backstop=True)
    assert wait == 0


def test_a_spray_from_many_addresses_hits_the_backstop_but_configured_machines_do_not():
    clock = FakeClock()
    t = LoginThrottle(failures=5, lock_s=300, clock=clock)
    checks = 0
    for i in range(90):
        keys, wait = t.begin("admin", f"10.0.{i}.1", backstop=True)
        if wait == 0:
            checks += 1
            t.failed(keys)
    assert checks == 50 and t.lockout.waiting(BACKSTOP_KEY) > 0
    keys, wait = t.begin("admin", "127.0.0.1", backstop=False)
    assert wait == 0, "this PC and the hall's configured machines are not behind the backstop"
    t.succeeded(keys)
    clock.now += 1
    keys, wait = t.begin("admin", "10.0.99.1", backstop=True)
    assert wait == 0
    t.succeeded(keys)
    assert t.begin("admin", "10.0.99.2", backstop=True)[1] == 0, "a success does not hold the backstop"


def test_the_session_key_file_is_0600_and_a_readable_one_is_narrowed(tmp_path):
    path = tmp_path / "state" / "ui-secret"
    key = secret.load(path)
    assert len(key) == 32 and path.stat().st_mode & 0o777 == 0o600
    assert secret.load(path) == key, "the same key after a restart"
    os.chmod(path, 0o644)
    assert secret.load(path) == key and path.stat().st_mode & 0o777 == 0o600


def test_hwd_central_imports_nothing_of_hwd_ui():
    code = ("import sys, central.app, central.auth, central.api, central.pages, central.settings, central.cli\n"
            "bad = sorted(m for m in sys.modules if m == 'kiosk_ui' or m.startswith('kiosk_ui.'))\n"
            "assert not bad, bad\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
