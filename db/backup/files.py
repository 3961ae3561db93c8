"""Backup files: UTC-stamped names, the ``.sha256`` beside each, retention of daily/weekly."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BackupFile",
    "backup_name",
    "checksum_path",
    "fsync_directory",
    "list_backups",
    "prune",
    "read_checksum",
    "sha256_of",
    "to_keep",
    "write_checksum",
]

PREFIX = "chargeportal-"
_NAME = re.compile(r"^chargeportal-(\d{8}T\d{6}Z)\.(sqlite3|pgdump)$")


@dataclass(frozen=True)
class BackupFile:
    path: Path
    taken_at: dt.datetime  # naive UTC, from the name


def backup_name(taken_at: dt.datetime, suffix: str) -> str:
    """``chargeportal-20261203T020000Z.sqlite3``: sortable, and the time is UTC."""
    return f"{PREFIX}{taken_at.strftime('%Y%m%dT%H%M%SZ')}.{suffix}"


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def sha256_of(path: Path, chunk: int = 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while data := handle.read(chunk):
            digest.update(data)
    return digest.hexdigest()


def write_checksum(path: Path, digest: str) -> Path:
    """``<file>.sha256`` in ``sha256sum`` format (``sha256sum -c`` checks it)."""
    target = checksum_path(path)
    temporary = target.with_name(f".{target.name}.partial")
    temporary.write_text(f"{digest}  {path.name}\n", encoding="utf-8")
    os.replace(temporary, target)
    return target


def read_checksum(path: Path) -> str | None:
    """The digest recorded beside ``path``, None when there is no checksum file."""
    target = checksum_path(path)
    if not target.is_file():
        return None
    text = target.read_text(encoding="utf-8").strip()
    digest = text.split()[0].lower() if text else ""
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"{target} is not a sha256 checksum file")
    return digest


def fsync_directory(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def list_backups(folder: Path) -> list[BackupFile]:
    """The finished backups in ``folder`` (named by ``backup_name``), newest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match and path.is_file():
            taken = dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ")
            found.append(BackupFile(path, taken))
    return sorted(found, key=lambda b: b.taken_at, reverse=True)


def to_keep(backups: list[BackupFile], *, daily: int, weekly: int) -> set[Path]:
    """The newest backup of each of the ``daily`` most recent days that have one, and the
    newest of each of the ``weekly`` most recent ISO weeks (UTC); the rest may go."""
    keep: set[Path] = set()
    days: set[dt.date] = set()
    weeks: set[tuple[int, int]] = set()
    for backup in sorted(backups, key=lambda b: b.taken_at, reverse=True):
        day = backup.taken_at.date()
        week = tuple(day.isocalendar())[:2]
        if day not in days and len(days) < daily:
            days.add(day)
            keep.add(backup.path)
        if week not in weeks and len(weeks) < weekly:
            weeks.add(week)  # type: ignore[arg-type]
            keep.add(backup.path)
    return keep


def prune(folder: Path, *, daily: int, weekly: int) -> list[Path]:
    """Delete the backups (and their checksum files) retention does not keep."""
    backups = list_backups(folder)
    keep = to_keep(backups, daily=daily, weekly=weekly)
    removed = []
    for backup in backups:
        if backup.path not in keep:
            backup.path.unlink(missing_ok=True)
            checksum_path(backup.path).unlink(missing_ok=True)
            removed.append(backup.path)
    return removed
