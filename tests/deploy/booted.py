"""A hall PC for the install tests: a Debian 12 root (debootstrapped once by scripts/testroot.sh,
cached outside the tree) booted with systemd under ``systemd-nspawn --private-network``.

The cached root stays read-only: each boot writes to an overlay in a throw-away directory, so a
test starts from a freshly installed OS and the writes survive the container's own reboots.
Commands run inside with ``nsenter`` into the namespaces of the container's systemd and a clean
environment (``env -i``): nothing of this machine's shell (``PIP_FIND_LINKS`` hid the broken
offline install once) reaches them. The container has no network but its loopback, as a hall PC
without internet.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Unavailable(Exception):
    """This machine cannot boot the hall PC; the message says why (the tests skip with it)."""


def cached_root(kind: str = "boot") -> Path:
    """The cached Debian root (made on first use), or Unavailable with the reason."""
    if os.geteuid() != 0:
        raise Unavailable("not root: booting a container needs root")
    for tool in ("systemd-nspawn", "nsenter"):
        if shutil.which(tool) is None:
            raise Unavailable(f"{tool} is not installed (make sysdeps installs systemd-container)")
    done = subprocess.run(["sh", str(REPO / "scripts" / "testroot.sh"), kind], capture_output=True, text=True,
                          timeout=1800)
    if done.returncode != 0:
        raise Unavailable(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "testroot.sh failed")
    return Path(done.stdout.strip().splitlines()[-1])


class HallPC:
    """One booted container over an overlay of the cached root."""

    def __init__(self, lower: Path, log: Path | None = None):
        self.lower = lower
        self.work = Path(tempfile.mkdtemp(prefix="hwd-hallpc-", dir="/var/tmp"))
        self.root = self.work / "root"
        for d in ("upper", "work", "root"):
            (self.work / d).mkdir()
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        f"lowerdir={lower},upperdir={self.work / 'upper'},workdir={self.work / 'work'}",
                        str(self.root)], check=True, capture_output=True, timeout=30)
        self.console = log or self.work / "console.log"
        self.nspawn: subprocess.Popen | None = None
        self._pid: int | None = None

    # -- life --------------------------------------------------------------------------------
    def boot(self, timeout: float = 60) -> None:
        with open(self.console, "ab") as out:
            self.nspawn = subprocess.Popen(
                ["systemd-nspawn", "--boot", "--register=no", "--keep-unit", "--private-network",
                 "--console=passive", "--machine=hallpc", "-D", str(self.root)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.wait_running(timeout)

    def init_pid(self) -> int | None:
        """The host pid of the container's systemd (PID 1 inside), a child of systemd-nspawn."""
        if self.nspawn is None:
            return None
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            if fields.get("PPid", "").strip() == str(self.nspawn.pid) and fields.get("NSpid", "").split()[-1:] == ["1"]:
                return int(entry.name)
        return None

    def wait_running(self, timeout: float = 60) -> None:
        """Wait until the container's systemd has finished booting."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.nspawn is not None and self.nspawn.poll() is not None:
                raise AssertionError(f"the container stopped (status {self.nspawn.returncode}); see {self.console}")
            pid = self.init_pid()
            if pid is not None:
                self._pid = pid
                state = self.run("systemctl is-system-running --wait", check=False, timeout=deadline - time.monotonic())
                if state.stdout.strip() in ("running", "degraded"):
                    return
            time.sleep(0.2)
        raise AssertionError(f"the container did not finish booting within {timeout} s; see {self.console}")

    def reboot(self, timeout: float = 90) -> None:
        """``systemctl reboot`` inside. systemd-nspawn ends with status 133 for a reboot (its
        systemd-nspawn@.service restarts it on that status); here we start it again."""
        self.run("systemctl reboot", check=False, timeout=30)
        status = self.nspawn.wait(timeout)
        if status != 133:
            raise AssertionError(f"systemctl reboot ended the container with status {status}, not 133; "
                                 f"see {self.console}")
        self._pid = None
        self.boot(timeout)

    def close(self) -> None:
        if self.nspawn is not None and self.nspawn.poll() is None:
            self.run("systemctl poweroff", check=False, timeout=30)
            try:
                self.nspawn.wait(60)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()  # our own systemd-nspawn, by its pid
                self.nspawn.wait(10)
        subprocess.run(["umount", str(self.root)], capture_output=True, timeout=30)
        shutil.rmtree(self.work, ignore_errors=True)

    # -- inside ------------------------------------------------------------------------------
    def run(self, command: str, check: bool = True, timeout: float = 120, env: dict | None = None
            ) -> subprocess.CompletedProcess:
        """``sh -c command`` as root inside, in a clean environment (plus ``env``)."""
        if self._pid is None:
            raise AssertionError("the container is not running")
        extra = [f"{k}={v}" for k, v in (env or {}).items()]
        done = subprocess.run(["nsenter", "-t", str(self._pid), "-m", "-u", "-i", "-n", "-p", "--",
                               "env", "-i", f"PATH={PATH}", "HOME=/root", "LANG=C.UTF-8", *extra,
                               "sh", "-c", command],
                              capture_output=True, text=True, timeout=max(timeout, 1))
        if check and done.returncode != 0:
            raise AssertionError(f"in the container: {command}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}")
        return done

    def path(self, inside: str) -> Path:
        """A path inside the container, seen from here (for copying files in and reading them)."""
        return self.root / inside.lstrip("/")

    def copy_in(self, source: Path, inside: str) -> None:
        dest = self.path(inside)
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(source, dest, symlinks=True)


# -- what the field engineer brings on the USB stick ---------------------------------------------
def export_tree(dest: Path, ref: str | None = None) -> Path:
    """The source tree as a field engineer copies it: ``ref``'s files (``git archive``), or this
    checkout's files as git sees them (tracked and new, not ignored: a clean clone's committed
    tree). No .git, no .venv, no dist."""
    dest.mkdir(parents=True)
    if ref is not None:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref], capture_output=True,
                                 check=True, timeout=120).stdout
        subprocess.run(["tar", "xf", "-", "-C", str(dest)], input=archive, check=True, timeout=120)
        return dest
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z"],
                            capture_output=True, check=True, timeout=60).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file() or source.is_symlink():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
    return dest


def commit_of(ref: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), "rev-parse", f"{ref}^{{commit}}"], capture_output=True,
                          text=True, check=True, timeout=30).stdout.strip()


def make_wheelhouse(tree: Path, cache: str | None = None) -> Path:
    """``make wheelhouse`` in ``tree``, on this (connected) machine: dist/wheelhouse. With
    ``cache`` (a name for what never changes, e.g. a commit's), the result is kept in the test
    cache and reused."""
    out = tree / "dist" / "wheelhouse"
    kept = Path(os.environ.get("HWD_TEST_CACHE", "/var/cache/hwd-test")) / cache if cache else None
    if kept is not None and kept.is_dir():
        shutil.copytree(kept, out)
        return out
    done = subprocess.run(["make", "-C", str(tree), "wheelhouse"], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise AssertionError(f"make wheelhouse in {tree} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    if kept is not None:
        shutil.copytree(out, kept.with_suffix(".partial"), dirs_exist_ok=True)
        os.replace(kept.with_suffix(".partial"), kept)
    return out
