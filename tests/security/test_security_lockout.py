"""hwd.lockout, the throttle behind clerk PINs, the admin password and the kiosk exit PIN:
counted before checking, backoff per key, bounded memory. A fake clock moves time."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from hwd.lockout import Lockout


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_concurrent_attempts_are_counted_before_the_check():
    lock = Lockout(free=5, base_s=2, clock=FakeClock())
    allowed = [lock.begin("source:a") == 0 for _ in range(200)]  # 200 at once, none finished
    assert allowed.count(True) == 5


def test_backoff_doubles_and_keys_are_independent():
    clock = FakeClock()
    lock = Lockout(free=2, base_s=2, max_s=5, clock=clock)
    for _ in range(2):
        assert lock.begin("source:a") == 0
        lock.failed("source:a")
    assert lock.begin("source:a") > 0
    assert lock.begin("source:b") == 0  # another address is not locked
    clock.now += 2.1
    assert lock.begin("source:a") == 0  # one more try after the wait
    lock.failed("source:a")
    assert 3.9 < lock.begin("source:a") <= 4.0  # then twice as long
    clock.now += 100
    for _ in range(10):
        assert lock.begin("source:a") == 0
        lock.failed("source:a")
        clock.now += 100
    assert lock.waiting("source:a") <= 5  # capped at max_s
    lock.succeeded("source:a")
    assert lock.begin("source:a") == 0


def test_the_table_is_bounded():
    clock = FakeClock()
    lock = Lockout(free=1, max_keys=100, clock=clock)
    for i in range(1000):
        lock.begin(f"source:{i}")
    assert len(lock._entries) == 100


def test_a_flood_of_fresh_keys_cannot_push_a_locked_key_out():
    """hall.login's ``source`` is the caller's word: 20,000 cheap attempts under fresh keys must
    not evict ``staff:<target>`` and give its guesses back."""
    clock = FakeClock()
    lock = Lockout(free=2, base_s=60, max_keys=100, clock=clock)
    for _ in range(3):
        if lock.begin("staff:s01") == 0:
            lock.failed("staff:s01")
    assert lock.begin("staff:s01") > 0
    for i in range(1000):
        lock.begin(f"source:{i}")
    assert len(lock._entries) <= 101
    assert lock.begin("staff:s01") > 0, "still locked"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["begin", "fail", "ok"]), st.sampled_from(["a", "b"])), max_size=80))
def test_checks_never_exceed_the_free_attempts_while_time_stands_still(ops):
    """However begins, failures and successes interleave, a key gets at most ``free`` checks
    between two of its successes unless time passes."""
    lock = Lockout(free=3, base_s=1, clock=FakeClock())
    checks = {"a": 0, "b": 0}
    for op, key in ops:
        if op == "begin":
            if lock.begin(key) == 0:
                checks[key] += 1
                assert checks[key] <= 3
        elif op == "fail":
            lock.failed(key)
        else:
            lock.succeeded(key)
            checks[key] = 0


def test_a_shared_backstop_key_has_its_own_limits_and_a_success_only_gives_its_attempt_back():
    clock = FakeClock()
    lock = Lockout(free=5, base_s=5, max_s=900, clock=clock, limits={"anywhere": dict(free=50, base_s=1, max_s=30)})
    for i in range(50):  # fifty addresses, one wrong guess each: within every limit
        keys = (f"source:10.0.0.{i}", "anywhere")
        assert lock.begin(*keys) == 0
        lock.failed(*keys)
    assert 0 < lock.begin("source:10.0.1.1", "anywhere") <= 1  # a fresh address, but fifty failed in all
    clock.now += 1
    assert lock.begin("source:10.0.1.1", "anywhere") == 0
    lock.failed("source:10.0.1.1", "anywhere")
    assert 1 < lock.begin("source:10.0.1.2", "anywhere") <= 2
    clock.now += 2
    for _ in range(10):  # the backoff doubles up to the shared key's cap, not the address's 900 s
        assert lock.begin("source:10.0.1.3", "anywhere") == 0
        lock.succeeded("source:10.0.1.3")  # as a real login does: its address cleared …
        lock.release("anywhere")            # … the backstop's count only given back this attempt
        lock.begin("source:10.0.2.1", "anywhere")
        lock.failed("source:10.0.2.1", "anywhere")
        clock.now += lock.waiting("anywhere")
    assert lock.backoff(70, "anywhere") == 30 and lock.backoff(70) == 900
    count = lock._entries["anywhere"].count
    assert lock.begin("source:10.0.3.1", "anywhere") == 0
    lock.release("anywhere")
    assert lock._entries["anywhere"].count == count, "a success does not count as a failure"
