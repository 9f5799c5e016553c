"""The config file as the admin page and ``hwctl config`` change it: checked, written atomically,
and every applied version kept, so each change says who, when, from where and what, and any
earlier version can come back (docs/hall.md "Changing the hall's config").

The file stays the single source of truth. Every version applied is kept as
STATE_DIR/config/NNNN.toml with a row in STATE_DIR/config/history.sqlite3 (both 0600): version,
at (the hall's clock), by, source, note, digest, the changed keys, the diff. A change carries the
digest its editor saw (``base``); a file whose digest differs was edited by hand meanwhile: that
hand edit is recorded as its own version and the change is refused (CONFIG_CHANGED), never
written over it.

What applies live and what waits for a restart is decided here (``restart_key``); the daemon
hands the running parts the new config (``Applier``).
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import logging
import os
import sqlite3
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from hwd import config as configuration, configedit, errors
from hwd.errors import ConfigError, HwdError

log = logging.getLogger("hwd.configstore")

# keys that need hwd restarted: the daemon, devices and nodes, and what the hall opens at start
# (its database, keys, replication, the links its outbox was built with)
RESTART_SECTIONS = ("daemon", "device", "node")
RESTART_HALL_KEYS = ("database", "keys_dir", "sync", "standby", "central", "upstream", "notify", "pickup")
# [ui] is hwd-ui's: it re-reads these when the file changes (what the hall manager sets: admin
# accounts, the display's notice, the pages' texts and timings); the rest of [ui] (listen
# addresses, TLS, secrets, limits) at its restart
LIVE_UI_KEYS = ("admin", "notice", "title", "help_desk", "idle_s", "ticket_screen_s")
SUMMARY_KEYS = 6

Applier = Callable[[configuration.Config, list[str]], None]  # (new config, the live keys changed)


@dataclass
class Version:
    version: int
    at: str
    by: str
    source: str
    note: str
    digest: str
    summary: str
    restart: list
    live: list
    diff: str

    def public(self) -> dict:
        return {"version": self.version, "at": self.at, "by": self.by, "source": self.source, "note": self.note,
                "digest": self.digest, "summary": self.summary, "restart": self.restart, "live": self.live}


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def restart_key(key: str) -> bool:
    """Does a change of this dotted key need hwd (or hwd-ui) restarted?"""
    head = key.split(".", 1)[0].split("[", 1)[0]
    if head in RESTART_SECTIONS:
        return True
    rest = key[len(head) + 1:]
    sub = rest.split(".", 1)[0].split("[", 1)[0]
    if head == "hall":
        return sub in RESTART_HALL_KEYS
    if head == "ui":
        return sub not in LIVE_UI_KEYS
    return True


def problems_of(exc: ConfigError) -> list[dict]:
    """A ConfigError's problems as ``[{line, key, reason}]`` (a page shows each beside its field)."""
    if exc.items:
        return [{"line": line, "key": key, "reason": reason} for line, key, reason in exc.items]
    return [{"line": 1, "key": "-", "reason": p} for p in exc.problems]


class ConfigStore:
    """The config file and its versions. Runs on the daemon's loop thread (one writer)."""

    def __init__(self, path: Path, state_dir: Path, now: Callable[[], Any], running: configuration.Config,
                 apply_live: Applier | None = None):
        self.path = Path(path)
        self.dir = Path(state_dir) / "config"
        self.now = now
        self.running = running  # the config the parts run with (restart-needed keys as at start)
        self.apply_live = apply_live
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        db = self.dir / "history.sqlite3"
        self.db = sqlite3.connect(db, isolation_level=None)
        os.chmod(db, 0o600)
        self.db.execute("CREATE TABLE IF NOT EXISTS versions (version INTEGER PRIMARY KEY, at TEXT NOT NULL, "
                        "by TEXT NOT NULL, source TEXT NOT NULL, note TEXT NOT NULL, digest TEXT NOT NULL, "
                        "summary TEXT NOT NULL, restart TEXT NOT NULL, live TEXT NOT NULL, diff TEXT NOT NULL)")
        self.pending_restart: list[str] = []
        self.running_digest = self.sync().digest  # the file hwd started with (just read by the daemon)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()

    # -- reading -----------------------------------------------------------------------------
    def read(self) -> str:
        return configuration.read(self.path)

    def latest(self) -> Version | None:
        row = self.db.execute("SELECT * FROM versions ORDER BY version DESC LIMIT 1").fetchone()
        return _version(row) if row else None

    def version(self, number: int) -> Version:
        row = self.db.execute("SELECT * FROM versions WHERE version = ?", (number,)).fetchone()
        if row is None:
            raise HwdError(f"no config version {number}", errors.UNKNOWN_VERSION, {"version": number})
        return _version(row)

    def text_of(self, number: int) -> str:
        self.version(number)
        return (self.dir / f"{number:04d}.toml").read_text(encoding="utf-8")

    def history(self, limit: int = 50) -> list[dict]:
        rows = self.db.execute("SELECT * FROM versions ORDER BY version DESC LIMIT ?", (limit,)).fetchall()
        return [_version(r).public() for r in rows]

    def sync(self) -> Version:
        """The latest version, after recording the file as it is when it differs (first start, or
        an engineer's hand edit)."""
        text = self.read()
        digest = digest_of(text)
        last = self.latest()
        if last is None:
            return self._record(text, "hwd", "start", "the file when hwd first kept versions", None)
        if last.digest != digest:
            log.warning("config %s: edited by hand since version %d; recorded as its own version",
                        self.path, last.version)
            return self._record(text, "hand edit", "file", "found changed on disk", last)
        return last

    def get(self) -> dict:
        current = self.sync()
        text = self.text_of(current.version)
        return {"version": current.version, "digest": current.digest, "text": text,
                "config": configedit.redacted(raw_of(text)), "secrets_set": configedit.secrets_set(raw_of(text)),
                "problems": self.check(text),
                "restart_pending": list(self.pending_restart)}

    def check(self, text: str) -> list[dict]:
        """Every problem of ``text`` as the file, by the checker ``hwd --check`` runs."""
        try:
            configuration.loads(text, self.path)
        except ConfigError as exc:
            return problems_of(exc)
        return []

    # -- changing ----------------------------------------------------------------------------
    def apply(self, text: str, base: str | None, by: str, source: str, note: str = "") -> dict:
        """Check, write and record ``text``, then hand it to the running parts. ``base`` is the
        digest the editor saw: a file changed since is refused (None: the caller read it just now)."""
        current = self.sync()
        if base is not None and base != current.digest:
            raise HwdError("the config file changed since you read it (edited by hand or by someone else); "
                           "read it again and redo your change", errors.CONFIG_CHANGED,
                           {"digest": current.digest, "version": current.version})
        try:
            new = configuration.loads(text, self.path)
        except ConfigError as exc:
            raise HwdError(f"the new config has {len(exc.problems)} problem(s); nothing was written",
                           errors.CONFIG_INVALID, {"problems": problems_of(exc)}) from None
        if digest_of(text) == self.running_digest == current.digest:
            return {"version": current.version, "diff": "", "live": [], "restart": [], "unchanged": True}
        if digest_of(text) == current.digest:  # the file as edited by hand, now applied
            return self._apply_hand_edit(new, current)
        self._write(text)
        version = self._record(text, by, source, note, current)
        self._go_live(new, version)
        return {"version": version.version, "diff": version.diff, "live": version.live, "restart": version.restart}

    def _apply_hand_edit(self, new: configuration.Config, current: Version) -> dict:
        keys = configedit.changed_keys(self.running.raw, new.raw)
        current.restart = [k for k in keys if restart_key(k)]
        current.live = [k for k in keys if not restart_key(k)]
        self.db.execute("UPDATE versions SET restart = ?, live = ? WHERE version = ?",
                        (json.dumps(current.restart), json.dumps(current.live), current.version))
        self._go_live(new, current)
        return {"version": current.version, "diff": current.diff, "live": current.live, "restart": current.restart}

    def edit(self, ops: list, base: str | None, by: str, source: str, note: str = "") -> dict:
        current = self.sync()
        if base is not None and base != current.digest:
            raise HwdError("the config file changed since you read it; read it again and redo your change",
                           errors.CONFIG_CHANGED, {"digest": current.digest, "version": current.version})
        text = configedit.apply_ops(self.text_of(current.version), ops)
        return self.apply(text, current.digest, by, source, note)

    def rollback(self, number: int | None, base: str | None, by: str, source: str, note: str = "") -> dict:
        """Back to version ``number`` (default: the one before the latest): a new version."""
        current = self.sync()
        if number is None:
            number = current.version - 1
            if number < 1:
                raise HwdError("there is no earlier version", errors.UNKNOWN_VERSION, {"version": number})
        text = self.text_of(number)
        return self.apply(text, current.digest if base is None else base, by, source,
                          note or f"rollback to version {number}")

    def preview(self, text: str) -> dict:
        """What applying ``text`` would do, without writing: its problems, the diff against the
        file and the keys that would go live or wait for a restart; ``base`` to apply it with."""
        current = self.sync()
        old = self.text_of(current.version)
        diff = "".join(difflib.unified_diff(old.splitlines(keepends=True), text.splitlines(keepends=True),
                                            f"version {current.version}", "preview"))
        keys = configedit.changed_keys(self.running.raw, raw_of(text))
        return {"base": current.digest, "version": current.version, "problems": self.check(text), "diff": diff,
                "live": [k for k in keys if not restart_key(k)], "restart": [k for k in keys if restart_key(k)]}

    def current_text(self) -> str:
        return self.text_of(self.sync().version)

    def show(self, number: int) -> dict:
        v = self.version(number)
        return {**v.public(), "text": self.text_of(number), "diff": v.diff}

    def _go_live(self, new: configuration.Config, version: Version) -> None:
        self.pending_restart = sorted(set(self.pending_restart) | set(version.restart))
        if self.apply_live is None or not version.live:
            self.running, self.running_digest = new, version.digest
            return
        try:
            self.apply_live(new, version.live)
        except Exception:  # the file is written and recorded: say the change waits for a restart
            log.exception("config version %d written but not applied live; a restart applies it", version.version)
            self.pending_restart = sorted(set(self.pending_restart) | set(version.live))
            version.restart = sorted(set(version.restart) | set(version.live))
            version.live = []
            self.db.execute("UPDATE versions SET restart = ?, live = ? WHERE version = ?",
                            (json.dumps(version.restart), "[]", version.version))
            return
        self.running, self.running_digest = new, version.digest

    def _write(self, text: str) -> None:
        """Write the file atomically: a temporary file in the same directory with the same mode
        (and owner, when allowed), fsync, rename over, fsync the directory."""
        target = self.path.resolve()
        try:
            st = target.stat()
            mode, uid, gid = stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid
        except FileNotFoundError:
            mode, uid, gid = 0o640, -1, -1
        tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            tmp.unlink()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except OSError as exc:
            raise HwdError(f"cannot write {target}: {exc.strerror} (hwd needs write access to its directory "
                           f"{target.parent}: see docs/deploy.md)", errors.STORAGE_ERROR) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, mode)
            if uid >= 0:
                with contextlib.suppress(PermissionError):
                    os.chown(tmp, uid, gid)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _record(self, text: str, by: str, source: str, note: str, before: Version | None) -> Version:
        latest = self.latest()
        number = latest.version + 1 if latest else 1
        old_text = self.text_of(before.version) if before else ""
        diff = "".join(difflib.unified_diff(old_text.splitlines(keepends=True), text.splitlines(keepends=True),
                                            f"version {before.version}" if before else "(none)",
                                            f"version {number}"))
        live: list[str] = []
        restart: list[str] = []
        try:
            new_raw = tomllib.loads(text)
            keys = configedit.changed_keys(raw_of(old_text), new_raw) if before else []
            if before is not None and source != "file":
                # against what runs: a hand edit recorded before this change goes live with it
                running = configedit.changed_keys(self.running.raw, new_raw)
                restart = [k for k in running if restart_key(k)]
                live = [k for k in running if not restart_key(k)]
        except tomllib.TOMLDecodeError:  # a hand edit that is not TOML: kept, applied by nothing
            keys = ["(not valid TOML)"]
        summary = ", ".join(keys[:SUMMARY_KEYS]) + (f" … (+{len(keys) - SUMMARY_KEYS})"
                                                    if len(keys) > SUMMARY_KEYS else "")
        path = self.dir / f"{number:04d}.toml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        at = self.now().isoformat(timespec="seconds")
        self.db.execute("INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (number, at, by, source, note, digest_of(text), summary, json.dumps(restart),
                         json.dumps(live), diff))
        log.info("config version %d by %s from %s: %s", number, by, source, summary or "no key changed")
        return Version(number, at, by, source, note, digest_of(text), summary, restart, live, diff)


def raw_of(text: str) -> dict:
    """Parsed TOML of ``text``, or {} when it is not TOML (a broken hand edit)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _version(row: tuple) -> Version:
    number, at, by, source, note, digest, summary, restart, live, diff = row
    return Version(number, at, by, source, note, digest, summary, json.loads(restart), json.loads(live), diff)
