"""Hall PCs on one machine, for the standby tests: each PC is a set of real processes (etcd, hwd,
hwd-ui where needed) bound to its own loopback address, and a network that can be cut.

How a PC is made real enough to partition: its processes run in their own cgroup (v2), and an
nftables table of the test's own marks every packet they send and rewrites its source address
to the PC's (a connection from 127.0.0.11's etcd to 127.0.0.12 would otherwise come from
127.0.0.1, and a rule on addresses could not tell which PC sent it). A partition is a rule in
the same table that drops packets between two PCs' addresses, before conntrack and NAT see
them; healing flushes it. ``kill()`` is ``kill -9`` of every process of the PC at once
(``cgroup.kill``). The table and the cgroups are always removed, and everything is skipped with
the reason when this machine cannot do it (not root, no nft, no cgroup v2, no etcd).

Each run takes the first free block of addresses: 127.0.0.11-13, else 127.0.1.11-13 …, so two
runs on one machine never cut each other's traffic.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

from hwd.client import Endpoint, Engines, FailoverClient, RpcError, Unreachable
from hwd.keys import keygen
from support.devices import led
from support.ports import free_port

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ADMIN_PASSWORD = "standby-admin"
ADMIN_HASH = "pbkdf2:sha256:1000$standbytest$" + __import__("hashlib").pbkdf2_hmac(
    "sha256", ADMIN_PASSWORD.encode(), b"standbytest", 1000).hex()
NFT = shutil.which("nft") or "/usr/sbin/nft"
MARK_BASE = 0x48570000


def unusable() -> str | None:
    """Why this machine cannot run the standby tests, or None."""
    if os.geteuid() != 0:
        return "needs root (cgroups and nftables)"
    if not Path(ETCD).exists():
        return "etcd is not installed (scripts/sysdeps.sh installs etcd-server)"
    if not Path(NFT).exists():
        return "nft is not installed (scripts/sysdeps.sh installs nftables)"
    if cgroup_root() is None:
        return "no writable cgroup v2 hierarchy"
    probe = subprocess.run([NFT, "-c", "-f", "-"], input="table inet hwdprobe { chain c { type filter hook output "
                           "priority 0; }; }", capture_output=True, text=True)
    if probe.returncode != 0:
        return f"nftables unusable: {probe.stderr.strip()[:200]}"
    return None


def cgroup_root() -> tuple[Path, str] | None:
    """(the cgroup v2 mount, its path as nft names it relative to /sys/fs/cgroup)."""
    for root, rel in ((Path("/sys/fs/cgroup"), ""), (Path("/sys/fs/cgroup/unified"), "unified")):
        if (root / "cgroup.procs").exists() and os.access(root, os.W_OK):
            return root, rel
    return None


class Block:
    """A block of loopback addresses held for this run (a lock file per block)."""

    def __init__(self) -> None:
        for n in range(0, 200):
            path = Path(f"/tmp/hwd-standby-net-{n}.lock")
            fh = open(path, "w")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                continue
            self.fh, self.n = fh, n
            return
        raise RuntimeError("no free loopback block")

    def ip(self, host: int) -> str:
        return f"127.0.{self.n}.{host}"

    def close(self) -> None:
        self.fh.close()


class Net:
    """The test's own nftables table: source addresses per PC, and cuts between PCs."""

    def __init__(self, tag: str, mark_base: int):
        self.table = f"hwdsb{tag}"
        self.mark_base = mark_base
        self.pcs: list[Pc] = []
        self.cuts: list[tuple[str, str]] = []
        self._nft(f"add table ip {self.table}\n"
                  f"add chain ip {self.table} tag {{ type filter hook output priority -150; policy accept; }}\n"
                  f"add chain ip {self.table} src {{ type nat hook postrouting priority srcnat; policy accept; }}\n"
                  f"add chain ip {self.table} cut {{ type filter hook prerouting priority -300; policy accept; }}\n")

    def _nft(self, script: str) -> None:
        out = subprocess.run([NFT, "-f", "-"], input=script, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"nft failed: {out.stderr.strip()}\n{script}")

    def add(self, pc: "Pc") -> None:
        mark = self.mark_base + len(self.pcs) + 1
        self.pcs.append(pc)
        path = f"{pc.cgroup_rel}"
        self._nft(f'add rule ip {self.table} tag socket cgroupv2 level 1 "{path}" meta mark set {mark:#x}\n'
                  f"add rule ip {self.table} src meta mark {mark:#x} ip saddr != {pc.ip} snat to {pc.ip}\n")

    def cut(self, a: str, b: str) -> None:
        """Drop every packet between addresses ``a`` and ``b`` (both ways)."""
        self.cuts.append((a, b))
        self._nft(f"add rule ip {self.table} cut ip saddr {a} ip daddr {b} drop\n"
                  f"add rule ip {self.table} cut ip saddr {b} ip daddr {a} drop\n")

    def isolate(self, pc: "Pc") -> None:
        for other in self.pcs:
            if other is not pc:
                self.cut(pc.ip, other.ip)

    def heal(self) -> None:
        self.cuts.clear()
        self._nft(f"flush chain ip {self.table} cut\n")

    def close(self) -> None:
        subprocess.run([NFT, "delete", "table", "ip", self.table], capture_output=True)


class Pc:
    """One hall PC: a loopback address, a cgroup, its processes."""

    def __init__(self, name: str, ip: str, workdir: Path, tag: str):
        self.name, self.ip = name, ip
        self.dir = workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        root, rel = cgroup_root()
        self.cgroup = root / f"hwdsb{tag}-{name}"
        self.cgroup.mkdir(exist_ok=True)
        self.cgroup_rel = f"{rel}/{self.cgroup.name}".lstrip("/")
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def spawn(self, what: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        log_path = self.dir / f"{what}.log"
        self.logs[what] = log_path
        procs_file = self.cgroup / "cgroup.procs"

        def enter() -> None:
            with open(procs_file, "w") as fh:
                fh.write(str(os.getpid()))
        with open(log_path, "ab") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, preexec_fn=enter,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        self.procs[what] = proc
        return proc

    def log(self, what: str) -> str:
        path = self.logs.get(what)
        return path.read_text(errors="replace") if path and path.exists() else ""

    def alive(self, what: str) -> bool:
        proc = self.procs.get(what)
        return proc is not None and proc.poll() is None

    def kill(self) -> None:
        """``kill -9`` of every process of this PC at once."""
        kill_file = self.cgroup / "cgroup.kill"
        if kill_file.exists():
            kill_file.write_text("1")
        else:
            for proc in self.procs.values():
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGKILL)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)

    def stop(self, what: str, timeout: float = 10) -> None:
        proc = self.procs.get(what)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        self.kill()
        for _ in range(50):
            try:
                self.cgroup.rmdir()
                return
            except OSError:
                time.sleep(0.1)


HALL = '''
[hall]
name = "双机热备测试政务服务中心"
rating_timeout_s = 600
sync = "normal"
{hall_extra}
[hall.hours]
always_open = true
[[hall.service]]
id = "s0"
name = "不动产登记"
prefix = "A"
[[hall.service]]
id = "s1"
name = "社保"
prefix = "B"
{windows}
[[hall.kiosk]]
id = "k1"
{kiosk_extra}
'''


class Cluster:
    """Three PCs: ``a`` and ``b`` run the hall engine (one active), ``c`` is the voter and the
    kiosk/window PC. ``start()`` starts etcd everywhere and hwd on a and b."""

    def __init__(self, workdir: Path, *, windows: int = 3, lease_s: float = 3.0, c_devices: str = "",
                 hall_extra: str = "", kiosk_extra: str = "", node_c: bool = False, engine_screens: bool = False):
        self.workdir = workdir
        self.block = Block()
        self.tag = f"{os.getpid()}x{self.block.n}"
        # every table's src chain sees every packet: marks of their own, or one cluster's PCs would
        # be given another's addresses (two test processes, or two helpers, at once)
        self.net = Net(self.tag, MARK_BASE + 16 * self.block.n)
        self.pcs = {name: Pc(name, self.block.ip(11 + i), workdir, self.tag) for i, name in enumerate("abc")}
        for pc in self.pcs.values():
            self.net.add(pc)
        self.keys = workdir / "keys"
        self.clients = workdir / "keys" / "clients"
        self.clients.mkdir(parents=True, exist_ok=True)
        for name in ("a", "b", "c", "tester", "ui"):
            public, _ = keygen(self.keys, name)
            shutil.copy(public, self.clients / public.name)
        self.lease_s = lease_s
        self.windows = windows
        self.c_devices = c_devices
        self.hall_extra = hall_extra
        self.kiosk_extra = kiosk_extra
        self.node_c = node_c
        self.engine_screens = engine_screens
        self.ports: dict[str, dict[str, int]] = {}
        for name, pc in self.pcs.items():
            self.ports[name] = {k: free_port(pc.ip) for k in ("client", "peer", "rpc", "events")}
        # a fixed wall time for every process (their hall day must agree across restarts): Monday 10:00
        shift = 1795399200.0 - time.time()  # 2026-11-23T10:00:00+08:00
        self.env = {"HWD_CLOCK_SHIFT_S": repr(shift)}

    # -- etcd ------------------------------------------------------------------------------------------
    def etcd_url(self, name: str) -> str:
        return f"http://{self.pcs[name].ip}:{self.ports[name]['client']}"

    def start_etcd(self, name: str, state: str = "new") -> None:
        pc, ports = self.pcs[name], self.ports[name]
        cluster = ",".join(f"{n}=http://{p.ip}:{self.ports[n]['peer']}" for n, p in self.pcs.items())
        pc.spawn("etcd", [ETCD, "--name", name, "--data-dir", str(pc.dir / "etcd"),
                          "--listen-client-urls", self.etcd_url(name), "--advertise-client-urls", self.etcd_url(name),
                          "--listen-peer-urls", f"http://{pc.ip}:{ports['peer']}",
                          "--initial-advertise-peer-urls", f"http://{pc.ip}:{ports['peer']}",
                          "--initial-cluster", cluster, "--initial-cluster-state", state,
                          "--initial-cluster-token", f"hwd-{self.tag}",
                          "--auto-compaction-mode", "revision", "--auto-compaction-retention", "20000",
                          "--pre-vote", "--max-request-bytes", "10485760",
                          "--logger", "zap", "--log-level", "warn"])

    def wait_etcd(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                req = urllib.request.Request(self.etcd_url("c") + "/v3/kv/put", data=json.dumps(
                    {"key": "cHJvYmU=", "value": "MQ=="}).encode(), method="POST")
                with urllib.request.urlopen(req, timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("etcd cluster not ready:\n" + "\n".join(p.log("etcd")[-2000:] for p in self.pcs.values()))

    # -- hwd ---------------------------------------------------------------------------------------------
    def endpoint(self, name: str, kind: str) -> str:
        return f"tcp://{self.pcs[name].ip}:{self.ports[name][kind]}"

    def config(self, name: str) -> str:
        pc = self.pcs[name]
        windows = "".join(f'[[hall.window]]\nid = "w{i}"\nname = "{i}号窗口"\nservices = ["s0", "s1"]\n'
                          for i in range(1, self.windows + 1))
        engines = "".join(f'''
[[hall.standby.engine]]
id = "{e}"
rpc = "{self.endpoint(e, 'rpc')}"
events = "{self.endpoint(e, 'events')}"
server_key = "{self.keys / (e + '.key')}"
''' for e in ("a", "b"))
        this = name if name in ("a", "b") else ""
        etcd = ", ".join(f'"{self.etcd_url(n)}"' for n in self.pcs)
        nodes = ""
        if self.node_c and name != "c":
            nodes += f'''
[[node]]
id = "pc-c"
rpc = "{self.endpoint('c', 'rpc')}"
events = "{self.endpoint('c', 'events')}"
server_key = "{self.keys / 'c.key'}"
client_key = "{self.keys / (name + '.key_secret')}"
'''
        devices = self.c_devices if name == "c" else ""
        if self.engine_screens and name != "c":  # a screen on each engine PC, the other's through its hwd
            other = "b" if name == "a" else "a"
            devices += led(f"led-{name}", 1, bus=f"bus-{name}") + f'\n[[device]]\nid = "led-{other}"\nkind = "display"\nnode = "pc-{other}"\n'
            nodes += f'''
[[node]]
id = "pc-{other}"
rpc = "{self.endpoint(other, 'rpc')}"
events = "{self.endpoint(other, 'events')}"
server_key = "{self.keys / (other + '.key')}"
client_key = "{self.keys / (name + '.key_secret')}"
'''
        text = f'''
[daemon]
rpc = "{self.endpoint(name, 'rpc')}"
events = "{self.endpoint(name, 'events')}"
state_dir = "{pc.dir / 'state'}"
server_key = "{self.keys / (name + '.key_secret')}"
client_key = "{self.keys / (name + '.key_secret')}"
clients_dir = "{self.clients}"
heartbeat_s = 0.5
{nodes}
{devices}
''' + HALL.format(hall_extra=self.hall_extra, windows=windows, kiosk_extra=self.kiosk_extra) + f'''
[ui]
admin_password_hash = "{ADMIN_HASH}"

[hall.standby]
this = "{this}"
etcd = [{etcd}]
insecure = true
lease_s = {self.lease_s}
holdoff_s = 5
{engines}'''
        return textwrap.dedent(text)

    def config_path(self, name: str) -> Path:
        path = self.pcs[name].dir / "hwd.toml"
        path.write_text(self.config(name), encoding="utf-8")
        return path

    def start_hwd(self, name: str) -> None:
        self.pcs[name].spawn("hwd", [sys.executable, "-m", "hwd", "--config", str(self.config_path(name)),
                                     "--log-level", "info"], env=self.env)

    def start_ui(self, name: str) -> str:
        port = free_port(self.pcs[name].ip)
        self.pcs[name].spawn("ui", [sys.executable, "-m", "kiosk_ui.cli", "--config", str(self.config_path(name)),
                                    "--host", self.pcs[name].ip, "--port", str(port)], env=self.env)
        return f"http://{self.pcs[name].ip}:{port}"

    def start(self) -> "Cluster":
        for name in self.pcs:
            self.start_etcd(name)
        self.wait_etcd()
        for name in ("a", "b"):
            self.start_hwd(name)
        return self

    # -- clients ------------------------------------------------------------------------------------------
    def engines(self) -> Engines:
        return Engines([Endpoint(e, self.endpoint(e, "rpc"), self.endpoint(e, "events"), self.keys / f"{e}.key",
                                 self.keys / "tester.key_secret") for e in ("a", "b")])

    def client(self, timeout: float = 2.0, engines: Engines | None = None) -> FailoverClient:
        return FailoverClient(engines or self.engines(), timeout=timeout)

    def status(self, name: str, timeout: float = 1.0) -> dict | None:
        """An engine's own standby.status (None when it does not answer)."""
        e = Endpoint(name, self.endpoint(name, "rpc"), "", self.keys / f"{name}.key", self.keys / "tester.key_secret")
        c = FailoverClient(Engines([e]), timeout=timeout)
        try:
            return c.call("standby.status")
        except (Unreachable, RpcError):
            return None
        finally:
            c.close()

    def active(self) -> str | None:
        for name in ("a", "b"):
            st = self.status(name)
            if st and st["role"] == "active":
                return name
        return None

    def wait_active(self, timeout: float = 30, not_: str | None = None) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in ("a", "b"):
                if name == not_ or not self.pcs[name].alive("hwd"):
                    continue
                st = self.status(name, timeout=0.5)
                if st and st["role"] == "active":
                    return name
            time.sleep(0.1)
        raise AssertionError("no active engine within %.0f s:\n%s" % (timeout, self.tail()))

    def wait_in_sync(self, name: str, timeout: float = 30, exact: bool = False) -> dict:
        """Until the active engine reports ``name`` up and in sync (``exact``: no entry behind,
        for a hall with no load)."""
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            active = self.active()
            st = self.status(active) if active else None
            if st:
                row = next((e for e in st["engines"] if e["id"] == name), None)
                if row and row["up"] and row["in_sync"] and (row["lag"] == 0 or not exact):
                    return st
            time.sleep(0.2)
        raise AssertionError(f"{name} not in sync within {timeout} s: {st}\n{self.tail()}")

    def tail(self, n: int = 3000) -> str:
        def lines(pc: Pc, what: str) -> str:
            text = "\n".join(line for line in pc.log(what).splitlines() if "zmq.auth" not in line)
            return text[-n:]
        return "\n".join(f"--- {pc.name} {what}:\n{lines(pc, what)}" for pc in self.pcs.values() for what in pc.procs)

    def close(self) -> None:
        for pc in self.pcs.values():
            pc.close()
        self.net.close()
        self.block.close()
