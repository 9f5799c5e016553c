"""Shared fixtures: a real hwd daemon process (support/daemon.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support.daemon import DaemonProcess  # noqa: E402

import hwd.clock  # noqa: E402,F401  - computes HWD_FAKE_NOW's shift once and exports it to every daemon

from hypothesis import settings  # noqa: E402

# `make test` (and CI) runs the property tests derandomized: the same examples on every run and in
# both workers, so a red build is reproducible and never a coin toss; each test keeps its own
# max_examples. A plain `pytest` run keeps exploring new examples (hypothesis' default profile,
# with its example database in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)


def pytest_report_header(config):
    if hwd.clock.SHIFT_S:
        return f"HWD_FAKE_NOW: hwd's real wall time is shifted by {hwd.clock.SHIFT_S:+.0f} s"
    return None


def pytest_configure(config):
    """Compile the repository's packages once before the tests start their hundreds of ``hwd``,
    ``hwd-ui`` and ``hwctl`` processes: where PYTHONDONTWRITEBYTECODE is set (CI's shells set it)
    nothing writes a ``.pyc``, and every process compiled the same sources again, 0.1-0.2 s of CPU
    each (docs/benchmarks.md)."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller did it
        return
    import compileall

    root = Path(__file__).resolve().parents[1]
    for package in ("hwd", "drivers", "kiosk_ui", "central"):
        compileall.compile_dir(str(root / package), quiet=1)


def pytest_addoption(parser):
    parser.addoption("--run-faults", action="store_true", help="run the whole fault suite")


# What a test costs, roughly, by the costliest fixture it uses (seconds of wall time in `make test`:
# a standby cluster's tests take 8-20 s, a browser's 3-15 s, a daemon's 0.5-3 s)
COST_S = {"make_cluster": 12.0, "browser": 5.0, "hwd_daemon": 1.5, "module_daemon": 1.5}


def _cost(item) -> float:
    if item.get_closest_marker("skip") is not None:
        return 0.0
    return max((COST_S.get(name, 0.0) for name in item.fixturenames), default=0.0) or 0.1


def _file(item) -> str:
    return item.nodeid.split("::")[0]


def pytest_collection_modifyitems(config, items):
    """Skip the long fault tests unless ``--run-faults``; then put the costliest test files first.
    ``make test`` hands whole files to its workers in this order (``--dist loadfile
    --no-loadscope-reorder``), so the run does not end with one worker alone on a long browser or
    standby file while the others are idle."""
    if not config.getoption("--run-faults"):
        skip = pytest.mark.skip(reason="long fault test: run with make faults")
        for item in items:
            if "faults" in item.keywords and "fast" not in item.keywords:
                item.add_marker(skip)
    cost: dict[str, float] = {}
    for item in items:
        cost[_file(item)] = cost.get(_file(item), 0.0) + _cost(item)
    items.sort(key=lambda item: -cost[_file(item)])


@pytest.fixture
def hwd_daemon(tmp_path):
    """Factory: ``hwd_daemon(config_text, name="hwd", start=True, clock_start=None)`` → a running
    DaemonProcess; ``clock_start`` (local ISO time) runs its test clock from then, before the hall
    opens, for tests that need a date."""
    started: list[DaemonProcess] = []

    def make(config_text: str = "", name: str = "hwd", start: bool = True, env: dict | None = None,
             clock_start: str | None = None) -> DaemonProcess:
        proc = DaemonProcess(tmp_path, config_text, name, env, clock_start)
        started.append(proc)
        return proc.start() if start else proc

    yield make
    for proc in started:
        proc.stop()


@pytest.fixture(scope="module")
def module_daemon(tmp_path_factory, request):
    """Factory like ``hwd_daemon``, but the daemon serves every test of the module that asks for
    the same config (started once, stopped after the module): for tests that do not need the
    process to themselves. Such tests must not read state another test left (absolute counts,
    ticket numbers): they use devices, services or windows of their own, or relative checks."""
    started: dict[tuple, DaemonProcess] = {}

    def make(config_text: str = "", name: str = "hwd", clock_start: str | None = None) -> DaemonProcess:
        key = (config_text, name, clock_start)
        if key not in started:
            workdir = tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2])
            started[key] = DaemonProcess(workdir, config_text, name, None, clock_start).start()
        return started[key]

    yield make
    for proc in started.values():
        proc.stop()


@pytest.fixture(scope="module")
def _chromium():
    """The module's one chromium (support/browser.py), started by its first test that needs it.
    Not one per session: Playwright's sync API leaves its event loop set as running while it is
    started, and the in-process hall tests' asyncio.run() would refuse to run."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    from support.browser import CHROMIUM, FLAGS

    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def browser(_chromium):
    """The module's chromium; every context this test opened (``new_context``, or ``new_page``'s
    own) is closed after it."""
    before = set(_chromium.contexts)
    yield _chromium
    for context in _chromium.contexts:
        if context not in before:
            context.close()
