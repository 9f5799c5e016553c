"""``hwctl doctor``: check a hall PC and say, one line per check, what to fix.

Each check is a function that returns ``Result`` rows (level OK, WARN or FAIL, a message, and a
fix hint), so tests can run them one by one against temporary configs and device nodes; only
``report`` writes, to the stream it is given. The exit status is 0 when nothing FAILs.

The checks mirror the install layout of scripts/install.sh and systemd/hwd.service: user
``hwd`` with the device groups, the device classes hwd.service's DeviceAllow= lets through,
/etc/hwd/hwd.toml, the ipc sockets in /run/hwd.
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, TextIO

OK, WARN, FAIL = "OK", "WARN", "FAIL"
DEFAULT_CONFIG = Path("/etc/hwd/hwd.toml")
USER = "hwd"
DEVICE_GROUPS = ("dialout", "lp", "input", "audio")
# hwd.service: DevicePolicy=closed + these DeviceAllow= classes (names from /proc/devices).
# tests/deploy checks that this list and the unit agree.
ALLOWED_CLASSES = ("ttyS", "ttyUSB", "ttyACM", "usb_device", "usbmisc", "input", "alsa", "pts")
SIM_SCHEMES = ("sim", "null")

Runner = Callable[[list[str]], "tuple[int, str] | None"]


@dataclass
class Result:
    level: str
    name: str
    message: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.level:<4}  {self.name:<24} {self.message}"
        return text + (f"  -> {self.fix}" if self.fix and self.level != OK else "")


def run(cmd: list[str], timeout: float = 10.0) -> tuple[int, str] | None:
    """Run a command; (status, stdout+stderr), or None when it is not installed."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, errors="replace")
    except FileNotFoundError:
        return None
    except subprocess.TimeoutExpired:
        return 124, f"{cmd[0]} did not finish within {timeout:.0f} s"
    return done.returncode, done.stdout + done.stderr


# --- config ---------------------------------------------------------------------------------------
def check_config(path: str | Path | None) -> tuple[list[Result], Any]:
    """Load the config like ``hwd --check`` does; return the rows and the config (or None)."""
    from hwd import config as configuration
    from hwd.errors import ConfigError

    path = Path(path) if path else DEFAULT_CONFIG
    if not path.exists():
        return [Result(FAIL, "config", f"{path} does not exist",
                       "make install creates /etc/hwd/hwd.toml; or: hwctl --config FILE doctor")], None
    try:
        cfg = configuration.load(path)
    except ConfigError as exc:
        rows = [Result(FAIL, "config", line, "fix the line, then: hwd --config FILE --check")
                for line in exc.problems]
        return rows, None
    hall = f", hall {cfg.hall.name!r}" if cfg.hall is not None else ""
    return [Result(OK, "config", f"{path}: valid, {len(cfg.devices)} devices{hall}")], cfg


# --- users ------------------------------------------------------------------------------------------
def user_groups(name: str) -> set[str] | None:
    """The groups a user is in (primary and supplementary), or None when there is no such user."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    names = set()
    for gid in os.getgrouplist(name, entry.pw_gid):
        try:
            names.add(grp.getgrgid(gid).gr_name)
        except KeyError:
            continue
    return names


def check_user(name: str = USER, groups: Iterable[str] = DEVICE_GROUPS) -> list[Result]:
    have = user_groups(name)
    if have is None:
        return [Result(FAIL, "user", f"no user {name!r}", "make install (or: systemd-sysusers /etc/sysusers.d/hwd.conf)")]
    rows = [Result(OK, "user", f"{name} exists, groups: {', '.join(sorted(have))}")]
    missing = [g for g in groups if g not in have]
    if missing:
        rows.append(Result(WARN, "user groups", f"{name} is not in {', '.join(missing)} (hwd.service adds them, "
                           "a manual run does not)", f"usermod -a -G {','.join(missing)} {name}"))
    ui = user_groups("hwd-ui")
    if ui is not None and name not in ui:
        rows.append(Result(FAIL, "user groups", f"hwd-ui is not in group {name}: the pages cannot reach hwd",
                           f"usermod -a -G {name} hwd-ui && systemctl restart hwd-ui"))
    return rows


# --- device nodes -------------------------------------------------------------------------------------
def proc_devices(text: str | None = None) -> dict[int, str]:
    """Character device majors by number → name, from /proc/devices."""
    if text is None:
        try:
            text = Path("/proc/devices").read_text()
        except OSError:
            return {}
    majors: dict[int, str] = {}
    section = ""
    for line in text.splitlines():
        if line.endswith(":"):
            section = line
            continue
        parts = line.split()
        if section.startswith("Character") and len(parts) == 2 and parts[0].isdigit():
            majors.setdefault(int(parts[0]), parts[1])
    return majors


def can_access(st: os.stat_result, user: str | None, write: bool = True) -> bool:
    """Whether ``user`` (None: this process) may read (and write) a node with this stat."""
    if user is None:
        uid, gids = os.geteuid(), set(os.getgroups()) | {os.getegid()}
    else:
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            return False
        uid = entry.pw_uid
        gids = set(os.getgrouplist(user, entry.pw_gid))
        if user == USER:  # hwd.service's SupplementaryGroups=
            for name in DEVICE_GROUPS:
                try:
                    gids.add(grp.getgrnam(name).gr_gid)
                except KeyError:
                    continue
    if uid == 0:
        return True
    need = (stat.S_IRUSR | stat.S_IWUSR) if write else stat.S_IRUSR
    mode = st.st_mode
    if st.st_uid == uid:
        return mode & need == need
    if st.st_gid in gids:
        return (mode << 3) & need == need
    return (mode << 6) & need == need


def check_node(device_id: str, path: str, user: str | None, majors: dict[int, str] | None = None,
               fix_group: str = "dialout") -> list[Result]:
    """A device node from the config: present, a character device, allowed and accessible."""
    name = f"device {device_id}"
    node = Path(path)
    try:
        st = node.stat()
    except FileNotFoundError:
        return [Result(FAIL, name, f"{path} does not exist",
                       "plug it in / check the cable; list ports: ls -l /dev/serial/by-id /dev/hwd")]
    except OSError as exc:
        return [Result(FAIL, name, f"{path}: {exc.strerror}", "check the path")]
    if not stat.S_ISCHR(st.st_mode):
        return [Result(FAIL, name, f"{path} is not a character device", "point the url at the /dev node")]
    real = os.path.realpath(path)
    rows = []
    major = os.major(st.st_rdev)
    majors = proc_devices() if majors is None else majors
    cls = majors.get(major)
    if cls is not None and cls not in ALLOWED_CLASSES:
        rows.append(Result(FAIL, name, f"{real} is a {cls} device (major {major}), which hwd.service's "
                           "DeviceAllow= does not let through",
                           f"systemctl edit hwd: [Service] DeviceAllow=char-{cls} rw"))
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    perms = f"{stat.filemode(st.st_mode)} {group}"
    who = user or "this user"
    if can_access(st, user):
        rows.append(Result(OK, name, f"{path} -> {real} ({perms}), {who} can open it"))
    else:
        rows.append(Result(FAIL, name, f"{real} ({perms}): {who} cannot open it",
                           f"udev rule GROUP=\"{fix_group}\", MODE=\"0660\" (60-hwd.rules), then "
                           "udevadm control --reload && udevadm trigger"))
    return rows


def serial_by_id(directory: str | Path = "/dev/serial/by-id") -> dict[str, str]:
    """Stable names of serial ports: real path → by-id path."""
    out: dict[str, str] = {}
    base = Path(directory)
    if base.is_dir():
        for link in sorted(base.iterdir()):
            out.setdefault(os.path.realpath(link), str(link))
    return out


def usb_device_node(vid: int, pid: int, sysfs: str | Path = "/sys/bus/usb/devices") -> str | None:
    """The /dev/bus/usb node of the first USB device with these ids, or None."""
    base = Path(sysfs)
    if not base.is_dir():
        return None
    for dev in sorted(base.iterdir()):
        try:
            if (int((dev / "idVendor").read_text(), 16), int((dev / "idProduct").read_text(), 16)) == (vid, pid):
                bus, num = int((dev / "busnum").read_text()), int((dev / "devnum").read_text())
                return f"/dev/bus/usb/{bus:03d}/{num:03d}"
        except (OSError, ValueError):
            continue
    return None


def check_devices(cfg: Any, user: str | None = USER, by_id: dict[str, str] | None = None,
                  majors: dict[int, str] | None = None, tcp_timeout: float = 1.0) -> list[Result]:
    """Every device of the config: its node, its stable name, or its network address."""
    rows: list[Result] = []
    by_id = serial_by_id() if by_id is None else by_id
    if user is not None and user_groups(user) is None:
        user = None  # not installed yet: check what this user can do
    for dev in cfg.devices:
        name = f"device {dev.id}"
        url = dev.url
        if not dev.enabled:
            rows.append(Result(OK, name, "disabled in the config"))
        elif dev.node is not None:
            rows.append(Result(OK, name, f"on node {dev.node} (checked by the doctor there)"))
        elif url.scheme in SIM_SCHEMES:
            rows.append(Result(OK, name, f"emulated ({url.raw})", ""))
        elif url.scheme in ("serial", "file", "evdev"):
            group = {"serial": "dialout", "file": "lp", "evdev": "input"}[url.scheme]
            if url.scheme == "file" and not url.target.startswith("/dev/"):
                rows.append(Result(OK, name, f"writes to the file {url.target}"))
                continue
            rows += check_node(dev.id, url.target, user, majors, group)
            real = os.path.realpath(url.target)
            if url.scheme == "serial" and not url.target.startswith(("/dev/serial/", "/dev/hwd/")):
                stable = by_id.get(real)
                rows.append(Result(WARN, name, f"{url.target} may change after a reboot or re-plug",
                                   f"use serial://{stable}" if stable else
                                   "use a /dev/serial/by-id/ or /dev/hwd/ name (udev rules)"))
            if url.scheme == "evdev" and not url.target.startswith(("/dev/input/by-id/", "/dev/input/by-path/", "/dev/hwd/")):
                rows.append(Result(WARN, name, f"{url.target} may change after a re-plug",
                                   "use /dev/input/by-id/...-event-kbd"))
        elif url.scheme == "usb":
            vid, pid = url.usb_ids()
            node = usb_device_node(vid, pid)
            if node is None:
                rows.append(Result(FAIL, name, f"no USB device {url.target} plugged in",
                                   "plug it in; lsusb shows the ids"))
            else:
                rows += check_node(dev.id, node, user, majors, "lp")
        elif url.scheme == "tcp":
            rows.append(check_tcp(dev.id, url.host, url.port, tcp_timeout))
        elif url.scheme == "alsa":
            rows.append(Result(OK, name, f"sound output {url.target} (see the sound check)"))
        else:
            rows.append(Result(OK, name, f"{url.raw} (not checked)"))
    return rows


def check_tcp(device_id: str, host: str, port: int, timeout: float = 1.0) -> Result:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        return Result(FAIL, f"device {device_id}", f"tcp://{host}:{port} does not answer: {exc}",
                      "power and network cable; ping the device; its IP address")
    return Result(OK, f"device {device_id}", f"tcp://{host}:{port} accepts connections")


def check_serial_ports(by_id: dict[str, str] | None = None) -> list[Result]:
    """What is plugged in: every serial port with its stable name (for writing the config)."""
    by_id = serial_by_id() if by_id is None else by_id
    if not by_id:
        return [Result(OK, "serial ports", "no USB serial ports plugged in")]
    return [Result(OK, "serial port", f"{stable} -> {real}") for real, stable in sorted(by_id.items())]


def check_interference(runner: Runner = run) -> list[Result]:
    """Services known to grab or probe the serial adapters halls use."""
    rows = []
    if shutil.which("brltty") or Path("/usr/bin/brltty").exists():
        rows.append(Result(WARN, "brltty", "brltty is installed: it claims CH340/CP210x adapters as braille "
                           "displays", "apt purge brltty"))
    if Path("/run/systemd/system").is_dir():
        out = runner(["systemctl", "is-active", "ModemManager.service"])
        if out is not None and out[1].strip() == "active":
            rows.append(Result(WARN, "ModemManager", "ModemManager probes new serial ports with AT commands",
                               "systemctl disable --now ModemManager (60-hwd.rules also tells it to keep off)"))
    return rows


# --- system tools -------------------------------------------------------------------------------------
def _wants(cfg: Any, *kinds: str) -> bool:
    return cfg is not None and any(d.kind in kinds and d.enabled for d in cfg.devices)


def check_sound(cfg: Any = None, runner: Runner = run) -> list[Result]:
    needed = cfg is not None and any(d.url.scheme == "alsa" and d.enabled for d in cfg.devices)
    level = FAIL if needed else WARN
    out = runner(["aplay", "-l"])
    if out is None:
        return [Result(level, "sound", "aplay not found, cannot list sound outputs", "apt install alsa-utils")]
    cards = [line for line in out[1].splitlines() if line.startswith("card ")]
    if not cards:
        return [Result(level, "sound", "no sound output found (aplay -l)",
                       "plug in the speakers / enable the onboard audio in the BIOS")]
    return [Result(OK, "sound", f"{len(cards)} output(s): {cards[0]}" + (" ..." if len(cards) > 1 else ""))]


def check_fonts(cfg: Any = None, runner: Runner = run) -> list[Result]:
    needed = cfg is not None and (cfg.hall is not None or cfg.ui is not None or _wants(cfg, "printer", "display"))
    level = FAIL if needed else WARN
    out = runner(["fc-list", ":lang=zh", "family"])
    if out is None:
        return [Result(level, "CJK fonts", "fc-list not found", "apt install fontconfig fonts-wqy-microhei")]
    families = sorted({line.split(",")[0].strip() for line in out[1].splitlines() if line.strip()})
    if out[0] != 0 or not families:
        return [Result(level, "CJK fonts", "no Chinese font (tickets, screens and pages need one)",
                       "apt install fonts-noto-cjk fonts-wqy-microhei")]
    return [Result(OK, "CJK fonts", f"{len(families)} families, e.g. {families[0]}")]


def check_espeak(cfg: Any = None, runner: Runner = run) -> list[Result]:
    level = FAIL if _wants(cfg, "speaker") else WARN
    out = runner(["espeak-ng", "--version"])
    if out is None or out[0] != 0:
        return [Result(level, "espeak-ng", "espeak-ng not found (the hall broadcast speaks with it)",
                       "apt install espeak-ng")]
    first = out[1].strip().splitlines()[0] if out[1].strip() else "installed"
    return [Result(OK, "espeak-ng", first.split("  Data at")[0].strip())]


WANTS = Path("/etc/systemd/system/graphical.target.wants")


def check_chromium(runner: Runner = run, wants: Path = WANTS) -> list[Result]:
    """The kiosk browser: chromium, and cage + Xwayland (or Xorg) when its unit is enabled."""
    cage = os.path.lexists(wants / "hwd-kiosk.service")  # enabled = the symlink is there
    x11 = os.path.lexists(wants / "hwd-kiosk-x11.service")
    kiosk = cage or x11
    rows = []
    if cage:
        for tool, package in (("cage", "cage"), ("Xwayland", "xwayland")):
            if not shutil.which(tool):
                rows.append(Result(FAIL, "kiosk", f"hwd-kiosk.service is enabled but {tool} is missing",
                                   f"apt install {package}"))
    if x11:
        for tool, package in (("xinit", "xinit"), ("Xorg", "xserver-xorg")):
            if not shutil.which(tool):
                rows.append(Result(FAIL, "kiosk", f"hwd-kiosk-x11.service is enabled but {tool} is missing",
                                   f"apt install {package} matchbox-window-manager"))
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            out = runner([name, "--version"])
            version = out[1].strip().splitlines()[0] if out and out[1].strip() else name
            return rows + [Result(OK, "chromium", version)]
    why = "the kiosk browser is enabled but" if kiosk else "needed on kiosk and display PCs:"
    return rows + [Result(FAIL if kiosk else WARN, "chromium", f"{why} no chromium found", "apt install chromium")]


def check_service(runner: Runner = run) -> list[Result]:
    if not Path("/run/systemd/system").is_dir():
        return [Result(WARN, "hwd.service", "systemd is not running here; start hwd by hand or reboot")]
    out = runner(["systemctl", "is-active", "hwd.service"])
    enabled = runner(["systemctl", "is-enabled", "hwd.service"])
    state = out[1].strip() if out else "unknown"
    rows = []
    if state != "active":
        rows.append(Result(FAIL, "hwd.service", f"hwd.service is {state}",
                           "systemctl start hwd; journalctl -u hwd -b"))
    else:
        rows.append(Result(OK, "hwd.service", "active"))
    if enabled is not None and enabled[1].strip() != "enabled":
        rows.append(Result(WARN, "hwd.service", f"hwd.service is {enabled[1].strip()} at boot",
                           "systemctl enable hwd"))
    return rows


# --- endpoints and keys ---------------------------------------------------------------------------
def check_endpoint(client: Any, endpoint: str = "") -> list[Result]:
    """The daemon answers ``daemon.status``; its devices' states."""
    from hwd.client import Unreachable
    from hwd.errors import HwdError

    where = endpoint or getattr(client, "endpoint", "")
    if client is None:
        return [Result(FAIL, "daemon", "no client for the daemon", "hwctl --config /etc/hwd/hwd.toml doctor")]
    try:
        status = client.call("daemon.status")
    except Unreachable:
        return [Result(FAIL, "daemon", f"hwd does not answer at {where}",
                       "systemctl status hwd; journalctl -u hwd -b; are you in group hwd?")]
    except HwdError as exc:
        return [Result(FAIL, "daemon", f"{where}: {exc}", "journalctl -u hwd -b")]
    rows = [Result(OK, "daemon", f"hwd {status.get('version')} answers at {where}, up "
                   f"{status.get('uptime_s', 0):.0f} s, devices {status.get('devices')}")]
    try:
        devices = client.call("devices.list")
    except HwdError:
        return rows
    for row in devices:
        if row.get("state") in ("offline", "fault"):
            rows.append(Result(WARN, f"device {row.get('id')}", f"{row.get('state')}: {row.get('detail') or ''}".strip(),
                               "hwctl devices; journalctl -u hwd | grep " + str(row.get("id"))))
    return rows


def check_clock(client: Any, runner: Runner = run) -> list[Result]:
    """The daemon's clock: a recent step back (daemon.clock), the official calendar's coverage of
    this year (and, from December, next year), and whether the system clock is NTP-synchronised."""
    from hwd.client import Unreachable
    from hwd.errors import HwdError

    if client is None:
        return []
    try:
        status = client.call("clock.status")
    except (Unreachable, HwdError):
        return []  # check_endpoint reports an unreachable daemon
    rows = []
    back = status.get("last_back")
    if back:
        rows.append(Result(WARN, "clock", f"the wall clock went back {back.get('when', '')}: from {back.get('from')} "
                           f"to {back.get('to')}; tickets of the later business day expired",
                           "timedatectl status; check NTP and the CMOS battery"))
    else:
        rows.append(Result(OK, "clock", f"{status.get('now')}" + (" (test clock)" if status.get("test") else "")
                           + f", no step back over {status.get('threshold_s', 300):.0f} s"))
    synced = runner(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
    if synced is not None and synced[0] == 0 and synced[1].strip() == "no":
        rows.append(Result(WARN, "clock", "the system clock is not synchronised (NTP)",
                           "timedatectl set-ntp true; point timesyncd or chrony at the hall's time server"))
    try:
        hours = client.call("hall.hours")
    except (Unreachable, HwdError):
        return rows  # no hall on this PC
    calendar = hours.get("calendar") or {}
    for warning in calendar.get("warnings") or []:
        rows.append(Result(WARN, "calendar", warning.get("message", ""),
                           "pip install -U chinese-calendar (docs/hall.md: the calendar)"))
    if not calendar.get("warnings") and calendar.get("source") == "chinese-calendar":
        years = calendar.get("years") or ["?", "?"]
        rows.append(Result(OK, "calendar", f"official holidays from chinese-calendar {calendar.get('package')} "
                           f"({years[0]}–{years[-1]})"))
    return rows


def check_ipc(endpoint: str) -> list[Result]:
    """An ipc:// socket: its directory and mode let group hwd in."""
    if not endpoint.startswith("ipc://"):
        return []
    path = Path(endpoint[len("ipc://"):])
    try:
        st = path.stat()
    except OSError:
        return [Result(FAIL, "socket", f"{path} does not exist (hwd not running?)", "systemctl start hwd")]
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o060 != 0o060:
        return [Result(WARN, "socket", f"{path} is {oct(mode)}: group hwd cannot connect",
                       "hwd makes it 0660; an old hwd? systemctl restart hwd")]
    if os.geteuid() != 0 and not can_access(st, None):
        return [Result(WARN, "socket", f"{path}: you ({pwd.getpwuid(os.geteuid()).pw_name}) cannot connect",
                       "usermod -a -G hwd $USER, then log in again")]
    return [Result(OK, "socket", f"{path} ({stat.filemode(st.st_mode)})")]


def check_keys(cfg: Any, user: str | None = USER) -> list[Result]:
    """CURVE keys of tcp:// endpoints: present, readable by hwd, secrets not world-readable."""
    d = cfg.daemon
    tcp = [ep for ep in (d.rpc, d.events) if ep.startswith("tcp://")]
    files: list[tuple[str, Path, bool]] = []
    if tcp and not d.insecure:
        if d.server_key:
            files.append(("server_key", d.server_key, True))
        if d.client_key:
            files.append(("client_key", d.client_key, True))
    for node in cfg.nodes:
        if node.server_key:
            files.append((f"node {node.id} server_key", node.server_key, False))
        if node.client_key:
            files.append((f"node {node.id} client_key", node.client_key, True))
    rows: list[Result] = []
    if tcp and d.insecure:
        rows.append(Result(WARN, "keys", f"{', '.join(tcp)} without encryption (insecure = true)",
                           "hwctl keygen; server_key and clients_dir in [daemon]"))
    if not files and not rows:
        return [Result(OK, "keys", "ipc endpoints only: no keys needed")]
    if user is not None and user_groups(user) is None:
        user = None  # not installed yet: check what this user can do
    for label, path, secret in files:
        try:
            st = path.stat()
        except OSError:
            rows.append(Result(FAIL, "keys", f"{label} {path} is missing", "hwctl keygen /etc/hwd/keys --name NAME"))
            continue
        if not can_access(st, user, write=False):
            rows.append(Result(FAIL, "keys", f"{label} {path} is not readable by {user or 'this user'}",
                               f"chown root:hwd {path} && chmod 0640 {path}"))
        elif secret and st.st_mode & 0o004:
            rows.append(Result(FAIL, "keys", f"{label} {path} is readable by everyone",
                               f"chmod 0640 {path} (root:hwd)"))
        else:
            rows.append(Result(OK, "keys", f"{label} {path}"))
    if tcp and not d.insecure and d.clients_dir is not None:
        clients = sorted(p.name for p in d.clients_dir.glob("*.key")) if d.clients_dir.is_dir() else []
        rows.append(Result(OK if clients else WARN, "keys", f"{len(clients)} allowed client(s) in {d.clients_dir}",
                           "copy each client PC's NAME.key (public) there"))
    return rows


def check_pages(cfg: Any, timeout: float = 3.0) -> list[Result]:
    """hwd-ui answers ``/readyz`` (it runs, and it reaches hwd) on this PC's [ui] port."""
    import json
    import urllib.error
    import urllib.request

    if cfg is None or cfg.ui is None:
        return []
    host = cfg.ui.host if cfg.ui.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    url = f"http://{host}:{cfg.ui.port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return [Result(FAIL, "pages", f"{url}: HTTP {exc.code} (hwd-ui runs but does not reach hwd)",
                       "journalctl -u hwd-ui -b; is hwd-ui in group hwd?")]
    except (OSError, ValueError) as exc:
        return [Result(FAIL, "pages", f"{url}: {getattr(exc, 'reason', exc)}",
                       "systemctl status hwd-ui; journalctl -u hwd-ui -b")]
    return [Result(OK, "pages", f"hwd-ui answers at {url}" + (" and reaches hwd" if body.get("ok") else ""))]


# --- all together -----------------------------------------------------------------------------------
def run_checks(args: argparse.Namespace, client: Any, runner: Runner = run) -> list[Result]:
    config_path = getattr(args, "config", None) or DEFAULT_CONFIG
    rows, cfg = check_config(config_path)
    rows += check_user()
    if cfg is not None:
        rows += check_devices(cfg)
    rows += check_serial_ports()
    rows += check_interference(runner)
    rows += check_sound(cfg, runner)
    rows += check_fonts(cfg, runner)
    rows += check_espeak(cfg, runner)
    rows += check_chromium(runner)
    rows += check_service(runner)
    if cfg is not None:
        if not getattr(args, "config", None) and not getattr(args, "rpc", None):
            from hwd.client import for_config  # hwctl's client used its defaults, not this config

            client = for_config(cfg, timeout=2.0, retries=1)
        rows += check_ipc(cfg.daemon.rpc)
        rows += check_keys(cfg)
    rows += check_endpoint(client)
    rows += check_clock(client, runner)
    rows += check_pages(cfg)
    return rows


def report(rows: list[Result], stream: TextIO) -> int:
    """Write one line per check and a summary; return the exit status (1 if anything FAILs)."""
    for row in rows:
        stream.write(row.line() + "\n")
    fails = sum(r.level == FAIL for r in rows)
    warns = sum(r.level == WARN for r in rows)
    stream.write(f"\n{fails} to fix (FAIL), {warns} to look at (WARN), {len(rows) - fails - warns} OK\n")
    stream.flush()
    return 1 if fails else 0


def command(args: argparse.Namespace, client: Any) -> int:
    """Entry point of ``hwctl doctor``."""
    return report(run_checks(args, client), sys.stdout)
