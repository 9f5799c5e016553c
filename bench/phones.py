"""Phones: ``hall.call_next`` → the citizen's phone page updated, hwd-ui's CPU
and memory, with 3,000 phones and 200 displays/kiosks connected to one hwd-ui on this 2-core
machine — today's design and the phone server side by side in one run.

- **Today's design:** every phone holds an SSE stream of ``/live?topic=hall.`` on hwd-ui's
  waitress server (one thread per stream). Run once with the default ``[ui] max_streams`` (400:
  most phones get 503, counted) and once with ``max_streams`` raised to hold every client. A
  phone's page counts as updated when its stream delivers the call's ``hall.ticket.called``
  (generous: the old page would still have to fetch its position).
- **The phone server:** every phone holds ``GET /t/<token>/events`` on ``[ui] phone_port`` (the
  asyncio server inside hwd-ui), after loading ``/t/<token>`` once; its page counts as updated
  when a ``ticket`` event arrives whose ``ahead`` or ``state`` differs from what the phone had
  before the call.

The clients live in separate processes (``LoadGen``: a few workers, each one epoll loop over raw
non-blocking sockets, HTTP/1.1 with chunked decoding and an incremental SSE parser). Every phone
connects from its own loopback address (127.1.x.y) so hwd-ui's per-address limits treat it as
one phone on the hall LAN; the displays come from 127.2.0.x, declared ``[ui] display_addresses``
(configured machines, the reserved pool). Latency is CLOCK_MONOTONIC (``time.monotonic()`` is
one clock for every process on Linux) from just before ``hall.call_next`` is sent to the recv()
that completed the event in the client process. CPU is utime+stime from /proc/<pid>/stat over
the window of calls, as a fraction of one core; memory is VmRSS/VmHWM from /proc/<pid>/status.

Run: ``python -m bench --only phones`` (about 10 minutes). Never part of ``make test``.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import resource
import selectors
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from bench.common import Daemon, Result, percentiles

# -- pure parts (tests/bench/test_phones_harness.py) ---------------------------------------------


class SseEvent(NamedTuple):
    event: str
    data: str
    id: str | None


class SseParser:
    """Incremental text/event-stream parser after the WHATWG HTML standard, "Interpreting an
    event stream" (§9.2.6): lines end in LF or CRLF (a lone CR is not supported; no server here
    sends one), ``:`` starts a comment, a blank line dispatches the event if it has data, the
    type defaults to ``message`` and the last event id carries over to later events."""

    def __init__(self) -> None:
        self.buf = b""
        self.event = ""
        self.data: list[str] = []
        self.last_id: str | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        self.buf += chunk
        if b"\n" not in chunk:
            return []
        *lines, self.buf = self.buf.split(b"\n")
        out = []
        for raw in lines:
            line = raw[:-1] if raw.endswith(b"\r") else raw
            if not line:
                if self.data:
                    out.append(SseEvent(self.event or "message", "\n".join(self.data), self.last_id))
                self.event, self.data = "", []
                continue
            if line.startswith(b":"):
                continue
            name, _, value = line.partition(b":")
            if value.startswith(b" "):
                value = value[1:]
            text = value.decode("utf-8", "replace")
            if name == b"event":
                self.event = text
            elif name == b"data":
                self.data.append(text)
            elif name == b"id" and "\0" not in text:
                self.last_id = text
        return out


class Dechunker:
    """HTTP/1.1 chunked transfer coding (RFC 9112 §7.1), fed in arbitrary pieces."""

    def __init__(self) -> None:
        self.buf = b""
        self.left = 0
        self.stage = "size"

    @property
    def done(self) -> bool:
        return self.stage == "done"

    def feed(self, data: bytes) -> bytes:
        self.buf += data
        out = []
        while True:
            if self.stage == "size":
                end = self.buf.find(b"\r\n")
                if end < 0:
                    break
                size = int(self.buf[:end].split(b";")[0].strip() or b"0", 16)
                self.buf = self.buf[end + 2:]
                self.stage, self.left = ("done", 0) if size == 0 else ("data", size)
            elif self.stage == "data":
                if not self.buf:
                    break
                piece = self.buf[:self.left]
                out.append(piece)
                self.buf = self.buf[len(piece):]
                self.left -= len(piece)
                if not self.left:
                    self.stage = "crlf"
            elif self.stage == "crlf":
                if len(self.buf) < 2:
                    break
                self.buf = self.buf[2:]
                self.stage = "size"
            else:
                break
        return b"".join(out)


def parse_head(buf: bytes) -> tuple[int, dict[str, str], bytes] | None:
    """(status, lower-cased headers, the bytes after the head) once the response head is complete."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = buf[:end].decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, buf[end + 4:]


def event_latencies(records: list[tuple], calls: list[tuple[float, str]], clients: set) -> tuple[list[float], int]:
    """Today's design: ``records`` are (client, t, called number) as the streams delivered them,
    ``calls`` (t0, number), ``clients`` the streams that were open. Each client's first receipt of
    each call's number − t0, in ms, and how many (client, call) pairs never arrived."""
    first: dict[tuple, float] = {}
    for cid, t, number in records:
        key = (cid, number)
        if key not in first or t < first[key]:
            first[key] = t
    out, missing = [], 0
    for t0, number in calls:
        for cid in clients:
            t = first.get((cid, number))
            if t is None:
                missing += 1
            else:
                out.append((t - t0) * 1000)
    return out, missing


@dataclass
class ViewLatencies:
    all_ms: list[float]
    called_ms: list[float]
    changed_per_call: list[int]
    called_missing: int
    per_call: list[list[float]] | None = None  # each call's latencies (ms), for the first/last spread


def view_latencies(records: list[tuple], calls: list[tuple[float, float, Any]]) -> ViewLatencies:
    """The phone server: ``records`` are (phone, t, ahead, state) for every ``ticket`` event,
    ``calls`` (t0, t_end, the called ticket's phone). For each call and phone, the phone's view
    before t0 is the last one it received before t0; its page was updated by the call at the
    first event in [t0, t_end) whose (ahead, state) differs from that."""
    by_phone: dict[Any, list[tuple[float, tuple]]] = {}
    for cid, t, ahead, state in records:
        by_phone.setdefault(cid, []).append((t, (ahead, state)))
    all_ms: list[float] = []
    called_ms: list[float] = []
    changed = [0] * len(calls)
    per_call: list[list[float]] = [[] for _ in calls]
    called_missing = 0
    for cid, seen in by_phone.items():
        seen.sort(key=lambda item: item[0])
        i, before = 0, None
        for k, (t0, t_end, called) in enumerate(calls):
            while i < len(seen) and seen[i][0] < t0:
                before = seen[i][1]
                i += 1
            j = i
            hit = None
            while j < len(seen) and seen[j][0] < t_end:
                if seen[j][1] != before:
                    hit = seen[j][0]
                    break
                j += 1
            if hit is not None and before is not None:
                ms = (hit - t0) * 1000
                all_ms.append(ms)
                per_call[k].append(ms)
                changed[k] += 1
                if cid == called:
                    called_ms.append(ms)
            elif cid == called:
                called_missing += 1
    return ViewLatencies(all_ms, called_ms, changed, called_missing, per_call)


def spread(per_call: list[list[float]]) -> tuple[float, float] | None:
    """Medians over the calls of (the first phone's latency, last − first): how long until the
    server starts pushing, and how long the push to every changed phone takes."""
    calls = [sorted(ms) for ms in per_call if ms]
    if not calls:
        return None
    firsts = sorted(ms[0] for ms in calls)
    widths = sorted(ms[-1] - ms[0] for ms in calls)
    return firsts[len(firsts) // 2], widths[len(widths) // 2]


def cores(cpu_seconds: float, wall_seconds: float) -> float:
    return cpu_seconds / wall_seconds if wall_seconds > 0 else float("nan")


# -- the load generator (worker processes) -------------------------------------------------------

MAX_INFLIGHT = 40  # connections per worker that are connecting or waiting for their status line
UA = "Mozilla/5.0 (Linux; Android 10; bench) hwd-phones"


def raise_nofile(want: int = 20000) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else want
    target = max(soft, min(target, want) if hard == resource.RLIM_INFINITY else target)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class _Conn:
    __slots__ = ("cid", "kind", "src", "port", "path", "sock", "stage", "head", "status", "chunk", "sse",
                 "length", "body")

    def __init__(self, cid, kind, src, port, path):
        self.cid, self.kind, self.src, self.port, self.path = cid, kind, src, port, path
        self.sock = None
        self.stage = "connecting"
        self.head = b""
        self.status = None
        self.chunk: Dechunker | None = None
        self.sse = SseParser()
        self.length = -1
        self.body = b""


class _Worker:
    """One epoll loop over this worker's clients; commands come over a multiprocessing pipe."""

    def __init__(self, pipe):
        self.pipe = pipe
        self.sel = selectors.EpollSelector()
        self.sel.register(pipe, selectors.EVENT_READ, None)
        self.queue: deque = deque()
        self.inflight = 0
        self.conns: set[_Conn] = set()
        self.status: dict[Any, Any] = {}
        self.gets: dict[Any, tuple] = {}
        self.records: list[tuple] = []
        self.last_record = 0.0
        self.lost: list[tuple] = []
        self.pending: tuple | None = None  # (command, outstanding cids, deadline)

    def run(self) -> None:
        while True:
            while self.queue and self.inflight < MAX_INFLIGHT:
                self._connect(self.queue.popleft())
            for key, _ in self.sel.select(0.05):
                if key.data is None:
                    if not self._command(self.pipe.recv()):
                        return
                else:
                    self._ready(key.data)
            self._maybe_reply()

    # -- commands ---------------------------------------------------------------------------
    def _command(self, msg: tuple) -> bool:
        cmd = msg[0]
        if cmd in ("open", "get"):
            specs, timeout = msg[1], msg[2]
            for spec in specs:  # a client's earlier answer is not this one
                self.status.pop(spec[0], None)
                self.gets.pop(spec[0], None)
            self.queue.extend(specs)
            self.pending = (cmd, {s[0] for s in specs}, time.monotonic() + timeout)
        elif cmd == "count":
            self.pipe.send((len(self.records), self.last_record))
        elif cmd == "take":
            self.pipe.send(self.records)
            self.records = []
        elif cmd == "info":
            ru = resource.getrusage(resource.RUSAGE_SELF)
            streams = sum(1 for c in self.conns if c.stage == "body" and c.kind != "get")
            self.pipe.send({"streams": streams, "lost": list(self.lost), "cpu_s": ru.ru_utime + ru.ru_stime})
        elif cmd in ("reset", "stop"):
            for c in list(self.conns):
                self._close(c)
            self.queue.clear()
            self.inflight, self.status, self.gets, self.records, self.lost = 0, {}, {}, [], []
            self.pending = None
            self.pipe.send("ok")
            return cmd != "stop"
        return True

    def _maybe_reply(self) -> None:
        if self.pending is None:
            return
        cmd, outstanding, deadline = self.pending
        done = self.status if cmd == "open" else self.gets
        left = [cid for cid in outstanding if cid not in done]
        if left and time.monotonic() < deadline:
            return
        for c in list(self.conns):
            if c.cid in left:
                self._close(c)
        self.queue = deque(s for s in self.queue if s[0] not in outstanding)
        for cid in left:
            done[cid] = "timeout" if cmd == "open" else ("timeout", b"")
        self.pipe.send({cid: done[cid] for cid in outstanding})
        self.pending = None

    # -- sockets ----------------------------------------------------------------------------
    def _connect(self, spec: tuple) -> None:
        c = _Conn(*spec)
        self.inflight += 1
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.bind((c.src, 0))
            err = sock.connect_ex(("127.0.0.1", c.port))
        except OSError as exc:
            sock.close()
            self._settle(c, f"connect: {exc}")
            return
        if err not in (0, 115):  # EINPROGRESS
            sock.close()
            self._settle(c, f"connect: {os.strerror(err)}")
            return
        c.sock = sock
        self.conns.add(c)
        self.sel.register(sock, selectors.EVENT_WRITE, c)

    def _settle(self, c: _Conn, status: Any) -> None:
        """A connection that never got a socket."""
        if c.kind == "get":
            self.gets[c.cid] = (status, b"")
        else:
            self.status[c.cid] = status
        self.inflight -= 1

    def _close(self, c: _Conn) -> None:
        if c.sock is not None:
            try:
                self.sel.unregister(c.sock)
            except (KeyError, ValueError):
                pass
            c.sock.close()
            c.sock = None
        if c.stage in ("connecting", "head"):
            self.inflight -= 1
        c.stage = "closed"
        self.conns.discard(c)

    def _ready(self, c: _Conn) -> None:
        if c.stage == "connecting":
            err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._fail(c, f"connect: {os.strerror(err)}")
                return
            accept = "text/event-stream" if c.kind != "get" else "text/html,application/json"
            c.sock.send(f"GET {c.path} HTTP/1.1\r\nHost: 127.0.0.1:{c.port}\r\nAccept: {accept}\r\n"
                        f"Cache-Control: no-cache\r\nUser-Agent: {UA}\r\n\r\n".encode())
            c.stage = "head"
            self.sel.modify(c.sock, selectors.EVENT_READ, c)
            return
        try:
            data = c.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        now = time.monotonic()
        if not data:
            self._eof(c, now)
            return
        if c.stage == "head":
            c.head += data
            parsed = parse_head(c.head)
            if parsed is None:
                return
            c.status, headers, data = parsed
            c.head = b""
            self.inflight -= 1
            c.stage = "body"
            if "chunked" in headers.get("transfer-encoding", "").lower():
                c.chunk = Dechunker()
            if c.kind == "get":
                c.length = int(headers.get("content-length", "-1"))
            else:
                self.status[c.cid] = c.status
                if c.status != 200:
                    self._close(c)
                    return
        if c.chunk is not None:
            data = c.chunk.feed(data)
        if c.kind == "get":
            c.body += data
            if (c.length >= 0 and len(c.body) >= c.length) or (c.chunk is not None and c.chunk.done):
                self.gets[c.cid] = (c.status, c.body)
                self._close(c)
            return
        for ev in c.sse.feed(data):
            self._record(c, ev, now)

    def _record(self, c: _Conn, ev: SseEvent, now: float) -> None:
        if c.kind == "live":
            if ev.event == "hall.ticket.called":
                self.records.append((c.cid, now, json.loads(ev.data).get("number")))
                self.last_record = now
        elif ev.event == "ticket":
            view = json.loads(ev.data)
            self.records.append((c.cid, now, view.get("ahead"), view.get("state")))
            self.last_record = now

    def _fail(self, c: _Conn, why: str) -> None:
        if c.kind == "get":
            self.gets[c.cid] = (why, b"")
        else:
            self.status[c.cid] = why
        self._close(c)

    def _eof(self, c: _Conn, now: float) -> None:
        if c.stage in ("connecting", "head"):
            self._fail(c, "closed before the status line")
        elif c.kind == "get":
            self.gets[c.cid] = (c.status, c.body)
            self._close(c)
        else:
            self.lost.append((c.cid, now))
            self._close(c)


def _worker_main(pipe) -> None:
    raise_nofile()
    _Worker(pipe).run()


class LoadGen:
    """``workers`` client processes; a client's ``cid`` decides its worker."""

    def __init__(self, workers: int = 4):
        ctx = multiprocessing.get_context("spawn")
        self.pipes, self.procs = [], []
        for _ in range(workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(child,), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def _each(self, msgs: list) -> list:
        for pipe, msg in zip(self.pipes, msgs):
            pipe.send(msg)
        return [pipe.recv() for pipe in self.pipes]

    def _split(self, cmd: str, specs: list[tuple], timeout: float) -> dict:
        parts: list[list] = [[] for _ in self.pipes]
        for i, spec in enumerate(specs):
            parts[i % len(parts)].append(spec)
        out: dict = {}
        for reply in self._each([(cmd, part, timeout) for part in parts]):
            out.update(reply)
        return out

    def open(self, specs: list[tuple], timeout: float = 180) -> dict:
        """Connect every (cid, kind, src, port, path); {cid: status or why not} once all answered."""
        return self._split("open", specs, timeout)

    def get(self, specs: list[tuple], timeout: float = 180) -> dict:
        """One GET each; {cid: (status, body)}."""
        return self._split("get", specs, timeout)

    def count(self) -> tuple[int, float]:
        replies = self._each([("count",)] * len(self.pipes))
        return sum(r[0] for r in replies), max(r[1] for r in replies)

    def take(self) -> list[tuple]:
        return [rec for reply in self._each([("take",)] * len(self.pipes)) for rec in reply]

    def info(self) -> dict:
        replies = self._each([("info",)] * len(self.pipes))
        return {"streams": sum(r["streams"] for r in replies), "lost": [x for r in replies for x in r["lost"]],
                "cpu_s": sum(r["cpu_s"] for r in replies)}

    def reset(self) -> None:
        self._each([("reset",)] * len(self.pipes))

    def stop(self) -> None:
        try:
            self._each([("stop",)] * len(self.pipes))
        except (OSError, EOFError):
            pass
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()


# -- the hall, hwd-ui, /proc ---------------------------------------------------------------------

CLOCK_START = "2026-11-23T09:30:00"  # a Monday, inside the default hours 09:00-12:00
SERVICES = [("a", "综合业务", "A"), ("b", "不动产登记", "B"), ("c", "社保医保", "C"), ("d", "公积金", "D"),
            ("e", "户籍出入境", "E"), ("f", "税务", "F")]
WINDOWS = 12
TODAY_DRAIN_S = 120.0  # today's design: how long stragglers are waited for after the last call
GAP = 2.0  # seconds between calls: a big hall's peak (60 windows, one call each every 2 minutes)


def _sleep_until(when: float) -> None:
    delay = when - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def hall_body() -> str:
    lines = [f'test_clock = true\ntest_clock_start = "{CLOCK_START}"\n', "[hall]", 'name = "基准测试大厅"',
]
    for sid, name, prefix in SERVICES:
        lines += ["[[hall.service]]", f'id = "{sid}"', f'name = "{name}"', f'prefix = "{prefix}"', "quota = 0"]
    for i in range(WINDOWS):
        services = [SERVICES[i % len(SERVICES)][0], SERVICES[(i + 1) % len(SERVICES)][0]]
        lines += ["[[hall.window]]", f'id = "{i + 1}"', f'name = "{i + 1}号窗口"',
                  "services = [" + ", ".join(f'"{s}"' for s in services) + "]"]
    return "\n".join(lines) + "\n"


def phone_server_available() -> bool:
    from kiosk_ui.settings import UI_FIELDS

    return any(f.name == "phone_port" for f in UI_FIELDS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "Threads"):
            out[key] = int(value.split()[0])
    return out


class Ui:
    """hwd-ui as the hall PC runs it, with this run's ``[ui]`` section."""

    def __init__(self, daemon: Daemon, name: str, ui: dict):
        self.port = free_port()
        self.phone_port = ui.get("phone_port")
        section = "\n[ui]\n" + "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in ui.items())
        self.config = daemon.tmp / f"ui-{name}.toml"
        self.config.write_text(daemon.config.read_text(encoding="utf-8") + section, encoding="utf-8")
        self.log_path = daemon.tmp / f"ui-{name}.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "kiosk_ui.cli", "--config", str(self.config),
                                      "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hwd-ui exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200 and self._phone_port_open():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("hwd-ui did not become ready")

    def _phone_port_open(self) -> bool:
        if not self.phone_port:
            return True
        try:
            socket.create_connection(("127.0.0.1", self.phone_port), timeout=1).close()
            return True
        except OSError:
            return False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def phone_src(i: int) -> str:
    return f"127.1.{i // 250}.{i % 250 + 1}"


def display_src(i: int) -> str:
    return f"127.2.{i // 250}.{i % 250 + 1}"


# -- one design's run ----------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    max_streams: int
    threads: int
    phones_accepted: int = 0
    phones_refused: int = 0
    phones_other: dict | None = None
    displays_accepted: int = 0
    displays_refused: int = 0
    pages_ok: int | None = None
    connect_s: float = 0.0
    calls: int = 0
    phone_ms: list | None = None
    called_ms: list | None = None
    display_ms: list | None = None
    missing: int = 0
    called_missing: int = 0
    changed_per_call: list | None = None
    consistent: tuple | None = None
    lost: int = 0
    ui_cores: float = float("nan")
    ui_idle_cores: float = float("nan")
    hwd_cores: float = float("nan")
    gen_cores: float = float("nan")
    rss_mb: float = 0.0
    hwm_mb: float = 0.0
    threads_seen: int = 0
    fell_over: str = ""
    drain_s: float = 0.0
    spread: tuple | None = None
    board_ms: dict | None = None


class Bench:
    def __init__(self, phones: int, displays: int, workers: int):
        self.n_phones, self.n_displays = phones, displays
        self.daemon = Daemon(hall_body(), "phones").start()
        from hwd.client import Client

        self.client = Client(self.daemon.rpc, timeout=30, retries=1)
        self.gen = LoadGen(workers)
        self.window = 0
        self.waiting: dict[int, str] = {}  # ticket id -> number, still waiting

    def issue(self, n: int) -> None:
        for i in range(n):
            view = self.client.call("hall.issue_ticket", {"service": SERVICES[i % len(SERVICES)][0]})
            self.waiting[view["id"]] = view["number"]

    def stop(self) -> None:
        self.gen.stop()
        self.daemon.stop()

    def _displays(self, port: int) -> list[tuple]:
        return [(("d", i), "live", display_src(i), port, "/live?topic=hall.") for i in range(self.n_displays)]

    def _call(self) -> tuple[float, dict | None]:
        """``hall.call_next`` at the next window (in turn) that has someone to call."""
        for _ in range(WINDOWS):
            self.window = self.window % WINDOWS + 1
            t0 = time.monotonic()
            view = self.client.call("hall.call_next", {"window": str(self.window)})
            if view is not None:
                self.waiting.pop(view["id"], None)
                return t0, view
        return time.monotonic(), None

    def _finish(self, window: str) -> None:
        self.client.call("hall.start", {"window": window})
        self.client.call("hall.finish", {"window": window})

    def _wait(self, t0: float, expected: int | None, cap: float, quiet: float) -> float:
        """Until the clients hold ``expected`` records (today's design: one per stream per call),
        or, without a count, nothing new came for ``quiet`` s; at most ``cap`` s after ``t0``."""
        while True:
            n, last = self.gen.count()
            now = time.monotonic()
            if expected is not None and n >= expected:
                return now
            if expected is None and now - max(last, t0) >= quiet:
                return now
            if now - t0 >= cap:
                return now
            time.sleep(0.1)

    def _measure(self, run: Run, ui: Ui, calls: int, per_call: int | None, drain_cap: float) -> tuple[list, list]:
        """One warm-up call (waited out), then ``calls`` calls every ``GAP`` s whatever the
        clients got (a hall does not wait for phones), each window's start + finish half-way
        to the next call; CPU over those calls; then wait for the stragglers (at most
        ``drain_cap`` s). Returns ([(t0, t_end, view)], records)."""
        time.sleep(3)
        idle0, idle_t0 = proc_cpu_s(ui.pid), time.monotonic()
        time.sleep(5)
        run.ui_idle_cores = cores(proc_cpu_s(ui.pid) - idle0, time.monotonic() - idle_t0)
        t0, view = self._call()
        if view is None:
            raise RuntimeError("no ticket to call")
        self._wait(t0, per_call, 60, 1.0)
        self._finish(view["window"])
        time.sleep(1)
        cpu_ui, cpu_hwd, gen0 = proc_cpu_s(ui.pid), proc_cpu_s(self.daemon.proc.pid), self.gen.info()["cpu_s"]
        t_start = time.monotonic()
        marks: list = []
        for i in range(calls):
            _sleep_until(t_start + i * GAP)
            t0, view = self._call()
            if view is None:
                run.fell_over += " the queue ran empty;"
                break
            marks.append((t0, view))
            _sleep_until(t0 + GAP / 2)
            self._finish(view["window"])
            if not ui.alive():
                run.fell_over += f" hwd-ui exited (code {ui.proc.returncode});"
                break
        _sleep_until(t_start + calls * GAP)
        wall = time.monotonic() - t_start
        if ui.alive():
            run.ui_cores = cores(proc_cpu_s(ui.pid) - cpu_ui, wall)
            st = proc_status(ui.pid)
            run.rss_mb, run.hwm_mb, run.threads_seen = st["VmRSS"] / 1024, st["VmHWM"] / 1024, st["Threads"]
        run.hwd_cores = cores(proc_cpu_s(self.daemon.proc.pid) - cpu_hwd, wall)
        info = self.gen.info()
        run.gen_cores = cores(info["cpu_s"] - gen0, wall)
        load_end = time.monotonic()
        done = self._wait(marks[-1][0] if marks else load_end, per_call * (len(marks) + 1) if per_call else None,
                          drain_cap, 2.0)
        run.drain_s = max(0.0, done - load_end)
        if ui.alive():
            run.hwm_mb = max(run.hwm_mb, proc_status(ui.pid)["VmHWM"] / 1024)
        run.lost = len(self.gen.info()["lost"])
        run.calls = len(marks)
        ends = [m[0] for m in marks[1:]] + [done]
        return [(t0, t_end, view) for (t0, view), t_end in zip(marks, ends)], self.gen.take()

    def today(self, name: str, max_streams: int | None, calls: int, drain_cap: float = TODAY_DRAIN_S) -> Run:
        """Every phone on ``/live?topic=hall.`` (waitress, one thread per stream)."""
        ui_cfg: dict = {"host": "127.0.0.1", "display_addresses": ["127.2.0.0/16"]}
        if max_streams is not None:
            ui_cfg.update(max_streams=max_streams, max_connections=max_streams + 800)
        if phone_server_available():
            ui_cfg["phone_port"] = free_port()  # the phone server idles beside (unused in this design)
        from kiosk_ui.settings import UiSettings

        settings = UiSettings(**{k: v for k, v in ui_cfg.items() if k in ("max_streams",)})
        run = Run(name, settings.max_streams, settings.server_threads)
        ui = Ui(self.daemon, f"today-{run.max_streams}", ui_cfg)
        try:
            t = time.monotonic()
            disp = self.gen.open(self._displays(ui.port))
            phones = [(("p", i), "live", phone_src(i), ui.port, "/live?topic=hall.") for i in range(self.n_phones)]
            got = self.gen.open(phones)
            run.connect_s = time.monotonic() - t
            accepted = self._count(run, disp, got)
            marks, records = self._measure(run, ui, calls, run.phones_accepted + run.displays_accepted, drain_cap)
            calls_by_number = [(t0, view["number"]) for t0, _, view in marks]
            phone_ms, missing = event_latencies([r for r in records if r[0][0] == "p"], calls_by_number,
                                                {c for c in accepted if c[0] == "p"})
            display_ms, dmissing = event_latencies([r for r in records if r[0][0] == "d"], calls_by_number,
                                                   {c for c in accepted if c[0] == "d"})
            run.phone_ms, run.display_ms, run.missing = phone_ms, display_ms, missing + dmissing
            if run.missing:
                expected = len(accepted) * run.calls
                run.fell_over += (f" {run.missing:,} of {expected:,} call events had not reached their stream "
                                  f"{run.drain_s:.0f} s after the last call's slot;")
            if run.lost:
                run.fell_over += f" {run.lost:,} streams closed by hwd-ui;"
        finally:
            ui.stop()
            self.gen.reset()
        return run

    def _count(self, run: Run, disp: dict, got: dict) -> set:
        """Fill in who got in; the clients whose stream is open."""
        run.displays_accepted = sum(1 for s in disp.values() if s == 200)
        run.displays_refused = sum(1 for s in disp.values() if s == 503)
        run.phones_accepted = sum(1 for s in got.values() if s == 200)
        run.phones_refused = sum(1 for s in got.values() if s == 503)
        other: dict = {}
        for s in list(got.values()) + list(disp.values()):
            if s not in (200, 503):
                other[str(s)] = other.get(str(s), 0) + 1
        run.phones_other = other
        return {cid for cid, s in list(got.items()) + list(disp.items()) if s == 200}

    def phone_server(self, calls: int, label: str = "phone server") -> Run:
        """Every phone loads ``/t/<token>`` once and holds ``/t/<token>/events`` on the phone port."""
        from kiosk_ui.settings import UiSettings

        ui_cfg = {"host": "127.0.0.1", "display_addresses": ["127.2.0.0/16"], "phone_port": free_port()}
        settings = UiSettings()
        run = Run(label, settings.max_streams, settings.server_threads)
        tickets = sorted(self.waiting)[: self.n_phones]
        if len(tickets) < self.n_phones:
            raise RuntimeError(f"only {len(tickets)} tickets are waiting")
        tokens = {tid: self.client.call("hall.ticket_token", {"ticket": tid})["token"] for tid in tickets}
        phone_of = {tid: ("p", i) for i, tid in enumerate(tickets)}
        ui = Ui(self.daemon, "phone", ui_cfg)
        try:
            port = ui.phone_port
            t = time.monotonic()
            disp = self.gen.open(self._displays(ui.port))
            pages = self.gen.get([(("p", i), "get", phone_src(i), port, f"/t/{tokens[tid]}")
                                  for i, tid in enumerate(tickets)])
            run.pages_ok = sum(1 for status, _ in pages.values() if status == 200)
            got = self.gen.open([(("p", i), "phone", phone_src(i), port, f"/t/{tokens[tid]}/events")
                                 for i, tid in enumerate(tickets)])
            run.connect_s = time.monotonic() - t
            accepted = self._count(run, disp, got)
            deadline = time.monotonic() + 60
            while self.gen.count()[0] < run.phones_accepted and time.monotonic() < deadline:
                time.sleep(0.2)  # every phone has its first view
            marks, records = self._measure(run, ui, calls, None, 30)
            view_records = [r for r in records if r[0][0] == "p" and len(r) == 4]
            call_marks = [(t0, t_end, phone_of.get(view["id"])) for t0, t_end, view in marks]
            v = view_latencies(view_records, call_marks)
            run.phone_ms, run.called_ms, run.changed_per_call = v.all_ms, v.called_ms, v.changed_per_call
            run.called_missing = v.called_missing
            run.spread = spread(v.per_call)
            run.board_ms = self._board_round_trips()
            display_ms, run.missing = event_latencies([r for r in records if r[0][0] == "d"],
                                                      [(t0, view["number"]) for t0, _, view in marks],
                                                      {c for c in accepted if c[0] == "d"})
            run.display_ms = display_ms
            run.consistent = self._consistency(view_records, tickets, tokens, port)
        finally:
            ui.stop()
            self.gen.reset()
        return run

    def _board_round_trips(self, n: int = 10) -> dict | None:
        """``hall.phone_board`` (what hwd-ui fetches after each change) timed from here, calls over."""
        times = []
        for _ in range(n):
            t = time.monotonic()
            try:
                board = self.client.call("hall.phone_board")
            except Exception:  # another shape of the RPC: leave the breakdown out
                return None
            times.append((time.monotonic() - t) * 1000)
        return {**percentiles(times), "tickets": len(board.get("tickets", {})) if isinstance(board, dict) else 0}

    def _consistency(self, records: list, tickets: list, tokens: dict, port: int) -> tuple[int, int]:
        """After the calls: how many phones' last SSE view equals ``/t/<token>/state`` (no update lost)."""
        last: dict = {}
        for cid, t, ahead, state in records:
            if cid not in last or t >= last[cid][0]:
                last[cid] = (t, (ahead, state))
        time.sleep(2)
        states = self.gen.get([(("p", i), "get", phone_src(i), port, f"/t/{tokens[tid]}/state")
                               for i, tid in enumerate(tickets)])
        same = 0
        for cid, (status, body) in states.items():
            if status != 200:
                continue
            view = json.loads(body)
            if cid in last and last[cid][1] == (view.get("ahead"), view.get("state")):
                same += 1
        return same, len(tickets)


# -- the figures ---------------------------------------------------------------------------------


def _p(ms: list | None) -> dict | None:
    return percentiles(ms) if ms else None


def _lat(p: dict | None) -> str:
    return f"p50 {p['p50']:.0f} ms · p99 {p['p99']:.0f} ms" if p else "—"


def table(runs: list[Run], n_phones: int, n_displays: int) -> list[str]:
    head = "| | " + " | ".join(r.name for r in runs) + " |"
    rows = [head, "| --- |" + " --- |" * len(runs)]

    def row(label: str, cells: list[str]) -> None:
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    row("`max_streams` / waitress threads", [f"{r.max_streams} / {r.threads}" for r in runs])
    row(f"phones connected (of {n_phones})", [f"{r.phones_accepted:,}" for r in runs])
    row("phones refused (503)", [f"{r.phones_refused:,}" for r in runs])
    row("other outcomes", [", ".join(f"{k}: {v}" for k, v in (r.phones_other or {}).items()) or "—" for r in runs])
    row(f"displays/kiosks connected (of {n_displays})", [f"{r.displays_accepted}" for r in runs])
    row("`/t/<token>` page loads 200", ["—" if r.pages_ok is None else f"{r.pages_ok:,}" for r in runs])
    row("time to connect everyone", [f"{r.connect_s:.0f} s" for r in runs])
    row("calls measured", [str(r.calls) for r in runs])
    row("call → phone page updated", [_lat(_p(r.phone_ms)) + (f" (n={len(r.phone_ms):,})" if r.phone_ms else "")
                                      for r in runs])
    row("… max", [f"{max(r.phone_ms):.0f} ms" if r.phone_ms else "—" for r in runs])
    row("… the called ticket's phone", [_lat(_p(r.called_ms)) if r.called_ms is not None else "= all (same event)"
                                        for r in runs])
    row("… first phone updated / first → last phone (medians per call)",
        [f"{r.spread[0]:.0f} ms / {r.spread[1]:.0f} ms" if r.spread else "—" for r in runs])
    row("`hall.phone_board` round trip from the bench, after the calls",
        [f"p50 {r.board_ms['p50']:.0f} ms · max {r.board_ms['max']:.0f} ms ({r.board_ms['tickets']:,} tickets)"
         if r.board_ms else "—" for r in runs])
    row("phones updated per call (median)",
        [f"{sorted(r.changed_per_call)[len(r.changed_per_call) // 2]:,}" if r.changed_per_call
         else f"{r.phones_accepted:,} (every stream gets every call)" for r in runs])
    row("updates that never arrived", [f"{r.missing}" + (f"; called phone {r.called_missing}" if r.called_ms is not None
                                                          else "") for r in runs])
    row("last SSE view = `/state` after the run", [f"{r.consistent[0]:,} of {r.consistent[1]:,}" if r.consistent
                                                   else "—" for r in runs])
    row("call → display/kiosk `/live` event", [_lat(_p(r.display_ms)) for r in runs])
    row("streams lost during the calls", [str(r.lost) for r in runs])
    row("stragglers: time after the last call's slot", [f"{r.drain_s:.0f} s" for r in runs])
    row("hwd-ui CPU during the calls", [f"{r.ui_cores:.2f} core" for r in runs])
    row("hwd-ui CPU, connected and idle", [f"{r.ui_idle_cores:.2f} core" for r in runs])
    row("hwd (daemon) CPU during the calls", [f"{r.hwd_cores:.2f} core" for r in runs])
    row("load generator CPU (same machine)", [f"{r.gen_cores:.2f} core" for r in runs])
    row("hwd-ui RSS after the calls / peak (VmHWM)", [f"{r.rss_mb:.0f} / {r.hwm_mb:.0f} MB" for r in runs])
    row("hwd-ui threads", [str(r.threads_seen) for r in runs])
    row("hwd-ui exited, streams dropped, calls never delivered", [r.fell_over.strip() or "none" for r in runs])
    return rows


def call_to_phones(phones: int = 3000, displays: int = 200, calls: int = 45, today_calls: int = 10,
                   workers: int = 4, repeats: int = 2) -> list[Result]:
    nofile = raise_nofile()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    bench = Bench(phones, displays, workers)
    runs: list[Run] = []
    news: list[Run] = []
    try:
        issued = phones + 2 * (today_calls + 1) + repeats * (calls + 1) + 4
        bench.issue(issued)
        runs.append(bench.today("today's design, default max_streams", None, today_calls))
        raised = phones + displays + 100
        runs.append(bench.today(f"today's design, max_streams {raised:,}", raised, today_calls))
        if phone_server_available():
            for k in range(repeats):  # twice: the machine is shared, one run alone says little of the spread
                news.append(bench.phone_server(calls, f"phone server, run {k + 1}"))
                runs.append(news[-1])
    finally:
        bench.stop()
    load = f"{' '.join(load_before)} before, {' '.join(Path('/proc/loadavg').read_text().split()[:3])} after"
    return results(runs, news, phones, displays, issued, workers, nofile, load, calls, today_calls, TODAY_DRAIN_S)


def verdict(new: Run | None, old: Run, default: Run, phones: int, repeats: int = 1) -> str:
    """What the figures mean against p99 ≤ 1 s at 3,000 phones and hwd-ui under one core
    (``new``: the phone server's worse run)."""
    parts = []
    if new and new.phone_ms:
        p = percentiles(new.phone_ms)
        parts.append(f"phone server ({'the worse of ' + str(repeats) + ' runs' if repeats > 1 else 'one run'}): p99 {p['p99']:.0f} ms {'≤' if p['p99'] <= 1000 else '>'} 1 s and hwd-ui "
                     f"{new.ui_cores:.2f} core {'<' if new.ui_cores < 1 else '≥'} 1 core with {new.phones_accepted:,} "
                     f"phones connected: {'both met' if p['p99'] <= 1000 and new.ui_cores < 1 else 'not met'}")
    else:
        parts.append("phone server: not measured")
    parts.append(f"today's design at the default cap: {default.phones_refused:,} of {phones:,} phones refused")
    if old.phone_ms:
        p = percentiles(old.phone_ms)
        parts.append(f"with the cap raised to {old.max_streams:,}: {old.phones_accepted:,} phones connected, p99 "
                     f"{p['p99'] / 1000:.1f} s, hwd-ui {old.ui_cores:.2f} core: "
                     f"{'met' if p['p99'] <= 1000 and old.ui_cores < 1 else 'not met'}")
    return "; ".join(parts)


def results(runs: list[Run], news: list[Run], phones: int, displays: int, issued: int, workers: int,
            nofile: int, load: str, calls: int, today_calls: int, today_drain: float) -> list[Result]:
    old = runs[1]
    default = runs[0]
    measured = [r for r in news if r.phone_ms]
    new = max(measured, key=lambda r: percentiles(r.phone_ms)["p99"]) if measured else None  # the worse run
    po, pn = _p(old.phone_ms), _p(new.phone_ms) if new else None
    where = f"{phones:,} phones + {displays} displays/kiosks"
    new_lat = ("; ".join(f"run {i + 1} {_lat(_p(r.phone_ms))}" for i, r in enumerate(news)) if new
               else "not measured (no phone server on this branch)")
    method = (
        f"{where} connected to one hwd-ui; hwd, hwd-ui and the clients share this 2-core machine (with other "
        f"engineers' work). {issued:,} tickets issued over {len(SERVICES)} services ({WINDOWS} windows, 2 services "
        f"each; `[daemon] test_clock` from {CLOCK_START}). Each design gets a fresh hwd-ui: the clients connect "
        f"(displays first, as they are there all day), 8 s idle, one warm-up call waited out, then calls at a fixed "
        f"{GAP:.0f}-s cadence whatever the clients got (a hall does not wait for phones; {today_calls} calls per "
        f"run of today's design, {calls} in each of {len(news)} runs of the phone server, each with a fresh hwd-ui), rotating over the windows, each window's "
        f"start + finish half-way to the next call; then up to {today_drain:.0f} s (today's) / 30 s (phone server) "
        f"for stragglers. **Today's design:** each phone streams `/live?topic=hall.` from waitress; updated = the "
        f"call's `hall.ticket.called` reached it — generous, the old page would then still have to fetch its "
        f"position. **Phone server:** each phone GETs `/t/<token>` once (token from `hall.ticket_token`), then holds "
        f"`/t/<token>/events` on `[ui] phone_port`, one phone per ticket still waiting; updated = the first "
        f"`ticket` event after the call whose `ahead` or `state` differs from the phone's view before it (only the "
        f"phones whose view changed count; the called ticket's phone also separately); after the run every phone's "
        f"last SSE view is checked against `/t/<token>/state`. The 200 displays/kiosks stay on `/live` (waitress) in "
        f"both. Clients: {workers} load-generator processes (bench/phones.py), each one epoll loop over raw "
        f"non-blocking sockets (HTTP/1.1, chunked, an SSE parser), each phone from its own 127.1.x.y address, the "
        f"displays from 127.2.0.x (`[ui] display_addresses`); RLIMIT_NOFILE {nofile}. Latency: CLOCK_MONOTONIC "
        f"(one clock for all processes) from just before `hall.call_next` is sent to the recv() that completed "
        f"the event in the client, so it includes the clients' own scheduling on the shared cores. CPU: "
        f"utime+stime from /proc/<pid>/stat over the calls' slots ÷ wall time (a fraction of one core). Memory: "
        f"VmRSS after the calls and VmHWM (peak) from /proc/<pid>/status.")
    detail = {"today's default (`max_streams` 400)": f"{default.phones_refused:,} of {phones:,} phones refused (503), "
              f"{default.phones_accepted:,} connected; {_lat(_p(default.phone_ms))} for those",
              f"today's, `max_streams` {old.max_streams:,}": f"{_lat(po)}; hwd-ui {old.ui_cores:.2f} core, "
              f"{old.hwm_mb:.0f} MB peak; "
              f"{old.fell_over.strip() or 'every stream stayed open and got every call, ' + format(old.drain_s, '.0f') + ' s after the last call at worst'}"}
    detail["against the targets"] = verdict(new, old, default, phones, len(news))
    detail["machine load (1/5/15-min load average; the machine is shared)"] = load
    for r in news:
        detail[r.name] = (f"{_lat(_p(r.phone_ms))}; called phone {_lat(_p(r.called_ms))}; hwd-ui {r.ui_cores:.2f} core, "
                          f"{r.hwm_mb:.0f} MB peak")
    lat = Result(f"call → phone page updated, {where}", "p99 ≤ 1 s",
                 f"phone server: {new_lat}; today's ({old.max_streams:,} streams): {_lat(po)}; "
                 f"today's default: {default.phones_refused:,} of {phones:,} phones refused",
                 all(percentiles(r.phone_ms)["p99"] <= 1000 for r in measured) if measured else None, method, len(new.phone_ms) if new and new.phone_ms else 0, detail)
    lat.table = table(runs, phones, displays)
    cpu = Result(f"hwd-ui CPU during the calls, {where}", "< 1 core",
                 (f"phone server: {' / '.join(f'{r.ui_cores:.2f}' for r in news)} core; " if new
                  else "phone server: not measured; ")
                 + f"today's ({old.max_streams:,} streams): {old.ui_cores:.2f} core",
                 all(r.ui_cores < 1.0 for r in measured) if measured else None,
                 f"utime+stime of the hwd-ui process from /proc/<pid>/stat over the measured calls' slots (one call "
                 f"every {GAP:.0f} s), divided by the wall time: a fraction of one core; the same run as the latency "
                 f"figure (see its table)")
    mem = Result(f"hwd-ui memory, {where}", "report",
                 (f"phone server: {' / '.join(f'{r.hwm_mb:.0f}' for r in news)} MB peak; " if new
                  else "phone server: not measured; ")
                 + f"today's ({old.max_streams:,} streams): {old.hwm_mb:.0f} MB peak",
                 None, "VmHWM (peak resident set) of the hwd-ui process from /proc/<pid>/status at the end of each "
                       "design's run; the same run as the latency figure (see its table)")
    return [lat, cpu, mem]


BENCHES = [call_to_phones]
