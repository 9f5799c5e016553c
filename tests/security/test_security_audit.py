"""等保 安全审计: login and admin-action lines are kept at least 180 days, rotated, never lost.
hwd.audit.DailyFiles is driven with records of chosen days (no waiting for midnight, no today's
date): one file per day, the newest ``keep`` kept, a clock stepping back or jumping ahead never
deletes the file being written nor more than one old file per new day."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

import pytest

from hwd import audit
from hwd.errors import ConfigError

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


def record(when: dt.datetime, message: str) -> logging.LogRecord:
    rec = logging.LogRecord("hwd.audit", logging.WARNING, __file__, 1, message, None, None)
    rec.created = when.timestamp()
    return rec


def days(directory, name="hwd-ui") -> list[str]:
    return sorted(p.name[len(name) + 1:-4] for p in directory.glob(f"{name}-*.log"))


def test_one_file_per_day_and_the_newest_180_are_kept(tmp_path):
    handler = audit.DailyFiles(tmp_path / "audit", "hwd-ui", keep=180, tz=TZ)
    try:
        for n in range(200):
            day = MONDAY + dt.timedelta(days=n)
            handler.emit(record(day, f"wrong admin password from 10.0.0.{n % 250}"))
            handler.emit(record(day + dt.timedelta(hours=14, minutes=59), f"logout: admin from 10.0.0.{n % 250}"))
    finally:
        handler.close()
    kept = days(tmp_path / "audit")
    assert len(kept) == 180
    assert kept[0] == (MONDAY + dt.timedelta(days=20)).strftime("%Y-%m-%d")
    assert kept[-1] == (MONDAY + dt.timedelta(days=199)).strftime("%Y-%m-%d")
    last = (tmp_path / "audit" / f"hwd-ui-{kept[-1]}.log").read_text(encoding="utf-8").splitlines()
    assert len(last) == 2 and last[0].endswith("hwd-ui WARNING wrong admin password from 10.0.0.199")
    assert last[1].startswith(f"{kept[-1]}T23:59:00+08:00"), "the day and time are the hall's"
    for f in (tmp_path / "audit").iterdir():
        assert f.stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "audit").stat().st_mode & 0o777 == 0o750


def test_a_clock_stepping_back_or_jumping_ahead_loses_no_more_than_one_old_day(tmp_path):
    handler = audit.DailyFiles(tmp_path, "hwd", keep=180, tz=TZ)
    try:
        for n in range(180):
            handler.emit(record(MONDAY + dt.timedelta(days=n), "login of staff s01 at window 1 from 10.0.0.5"))
        handler.emit(record(MONDAY - dt.timedelta(days=3000), "a PC booted with a dead CMOS battery"))
        assert (tmp_path / f"hwd-{(MONDAY - dt.timedelta(days=3000)):%Y-%m-%d}.log").exists(), \
            "the day being written is never deleted"
        kept = days(tmp_path, "hwd")
        assert len(kept) == 180 and kept[1] == f"{MONDAY + dt.timedelta(days=1):%Y-%m-%d}", "one old day went"
        handler.emit(record(MONDAY + dt.timedelta(days=365 * 70), "a clock decades ahead"))
    finally:
        handler.close()
    kept = days(tmp_path, "hwd")
    assert len(kept) == 180 and kept[-1] == f"{MONDAY + dt.timedelta(days=365 * 70):%Y-%m-%d}"
    assert kept[0] == f"{MONDAY + dt.timedelta(days=1):%Y-%m-%d}", "again only the oldest file went"


def test_the_audit_logger_writes_through_to_file_and_keeps_info_lines(tmp_path):
    handler = audit.to_file(tmp_path / "a", "test-audit", 180, TZ)
    try:
        logging.getLogger().setLevel(logging.WARNING)  # hwd --log-level warning
        audit.AUDIT.info("admin action POST /admin/followup from %s: %s", "10.0.0.1", 302)
        again = audit.to_file(tmp_path / "b", "test-audit", 180, TZ)  # a second app in this process
        audit.AUDIT.info("logout: admin from %s", "10.0.0.1")
    finally:
        for h in (handler, again):
            logging.getLogger("hwd.audit").removeHandler(h)
            h.close()
        audit._files.pop("test-audit", None)
    first = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "a").iterdir())
    second = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "b").iterdir())
    assert "admin action POST /admin/followup from 10.0.0.1: 302" in first and "logout" not in first
    assert "logout: admin from 10.0.0.1" in second


def test_keeping_fewer_than_180_days_is_a_config_error(tmp_path):
    from hwd import config

    path = tmp_path / "hwd.toml"
    path.write_text("[daemon]\naudit_keep_days = 90\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert f"{path}:2 daemon.audit_keep_days: 90 is below the minimum 180" in info.value.problems, info.value.problems
    path.write_text("[daemon]\naudit_keep_days = 400\n", encoding="utf-8")
    assert config.load(path).daemon.audit_keep_days == 400


def test_hwd_central_keeps_at_least_180_days_too(tmp_path):
    from central import settings

    path = tmp_path / "central.toml"
    path.write_text('[central]\ndsn = "dbname=county"\naudit_keep_days = 30\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        settings.load(path)
    assert f"{path}:3 central.audit_keep_days: 30 is below the minimum 180" in info.value.problems, \
        info.value.problems
    path.write_text('[central]\ndsn = "dbname=county"\naudit_keep_days = 365\n', encoding="utf-8")
    assert settings.load(path).audit_keep_days == 365
