"""Backup files: names in UTC, checksum files sha256sum reads, retention of days and weeks."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from pathlib import Path

from db.backup.files import backup_name, list_backups, prune, to_keep, write_checksum


def make(folder: Path, when: dt.datetime) -> Path:
    path = folder / backup_name(when, "sqlite3")
    path.write_bytes(when.isoformat().encode())
    write_checksum(path, hashlib.sha256(path.read_bytes()).hexdigest())
    return path


def test_a_backup_is_named_by_its_utc_time() -> None:
    name = backup_name(dt.datetime(2026, 12, 3, 2, 30, 5), "sqlite3")
    assert name == "chargeportal-20261203T023005Z.sqlite3"


def test_the_checksum_file_is_what_sha256sum_checks(tmp_path: Path) -> None:
    path = make(tmp_path, dt.datetime(2026, 12, 3, 2, 30))
    done = subprocess.run(
        ["sha256sum", "-c", path.name + ".sha256"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    path.write_bytes(b"changed")
    done = subprocess.run(
        ["sha256sum", "-c", path.name + ".sha256"], cwd=tmp_path, capture_output=True
    )
    assert done.returncode != 0


def test_retention_keeps_the_newest_of_n_days_and_of_m_weeks(tmp_path: Path) -> None:
    start = dt.datetime(2026, 10, 1, 2, 30)  # a Thursday
    for day in range(60):
        make(tmp_path, start + dt.timedelta(days=day))
    make(tmp_path, start + dt.timedelta(days=59, hours=3))  # a second one on the last day
    removed = prune(tmp_path, daily=7, weekly=4)
    kept = [b.taken_at for b in list_backups(tmp_path)]
    last = start + dt.timedelta(days=59, hours=3)
    # the 7 newest days: the last day's newest only, then one per day
    assert kept[:7] == [last] + [start + dt.timedelta(days=d) for d in range(58, 52, -1)]
    # beyond them, the newest of each of the 4 newest ISO weeks (some already kept)
    weeks = {tuple(k.isocalendar())[:2] for k in kept}
    assert len(weeks) == 4
    assert len(kept) + len(removed) == 61
    for path in removed:
        assert not path.exists()
        assert not path.with_name(path.name + ".sha256").exists()
    for backup in list_backups(tmp_path):
        assert backup.path.with_name(backup.path.name + ".sha256").exists()


def test_retention_leaves_other_files_and_unfinished_backups_alone(tmp_path: Path) -> None:
    make(tmp_path, dt.datetime(2026, 1, 1))
    make(tmp_path, dt.datetime(2026, 1, 2))
    other = tmp_path / "notes.txt"
    other.write_text("mine")
    partial = tmp_path / ".chargeportal-20260103T000000Z.sqlite3.partial"
    partial.write_text("half")
    prune(tmp_path, daily=1, weekly=0)
    assert [b.taken_at.day for b in list_backups(tmp_path)] == [2]
    assert other.exists()
    assert partial.exists()


def test_to_keep_with_nothing_kept_keeps_nothing(tmp_path: Path) -> None:
    make(tmp_path, dt.datetime(2026, 1, 1))
    assert to_keep(list_backups(tmp_path), daily=0, weekly=0) == set()
