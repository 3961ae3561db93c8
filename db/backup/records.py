"""What the database remembers of backups: one ``backup_run`` row each, the daily slot
claimed once across processes, and the *Backup failed* system alarm. Sync units of work."""

from __future__ import annotations

import datetime as dt
from typing import Any

import peewee

from db.schema.models import BackupRun, utcnow
from db.system.alarms import AlarmChange, clear_alarms, log_event, raise_alarm

__all__ = [
    "BACKUP_FAILED",
    "abandon_run",
    "claim_run",
    "finish_run",
    "get_run",
    "last_run",
    "recent_runs",
]

#: The system alarm a failed backup raises (no station: charge box id "", no site, so
#: only administrators see it); the next good backup clears it.
BACKUP_FAILED = "Backup failed"
#: A daily run still "running" after this long was left by a process that died.
STALE_AFTER = dt.timedelta(hours=2)


def claim_run(kind: str, slot: str | None = None, now: dt.datetime | None = None) -> int | None:
    """Start a run; with a ``slot`` (``daily:2026-12-03``) only once: None when another
    process already took it (or did it), unless that one died while running."""
    now = now or utcnow()
    if slot is not None:
        taken = BackupRun.get_or_none(BackupRun.slot == slot)
        if taken is not None:
            if taken.result != "running" or now - taken.started_at < STALE_AFTER:
                return None
            BackupRun.update(
                slot=None, result="failed", message="interrupted", finished_at=now
            ).where(BackupRun.id == taken.id).execute()
    try:
        with BackupRun._meta.database.atomic():
            run = BackupRun.create(slot=slot, kind=kind, started_at=now, result="running")
    except peewee.IntegrityError:  # another process claimed the slot a moment ago
        return None
    return int(run.id)


def finish_run(
    run_id: int,
    *,
    ok: bool,
    path: str = "",
    size_bytes: int = 0,
    sha256: str = "",
    message: str = "",
    now: dt.datetime | None = None,
) -> list[AlarmChange]:
    """Record the outcome; a failure raises the system alarm, a success clears it."""
    now = now or utcnow()
    BackupRun.update(
        finished_at=now,
        result="ok" if ok else "failed",
        path=path,
        size_bytes=size_bytes,
        sha256=sha256,
        message=message,
    ).where(BackupRun.id == run_id).execute()
    if ok:
        log_event("backup.done", message=f"{path} ({size_bytes} bytes)", now=now)
        return clear_alarms("", [BACKUP_FAILED], now=now)
    log_event("backup.failed", severity="error", message=message, now=now)
    return [raise_alarm(BACKUP_FAILED, "", message=message, now=now)]


def abandon_run(run_id: int, now: dt.datetime | None = None) -> None:
    """The server stopped during the run: recorded as interrupted (no alarm), and its
    day's slot freed so the next start may take it."""
    BackupRun.update(
        slot=None,
        result="failed",
        message="interrupted: the server stopped",
        finished_at=now or utcnow(),
    ).where(BackupRun.id == run_id).execute()


def _row(run: BackupRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "kind": run.kind,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "result": run.result,
        "path": run.path,
        "name": run.path.rsplit("/", 1)[-1] if run.path else "",
        "size_bytes": run.size_bytes,
        "sha256": run.sha256,
        "message": run.message,
    }


def last_run() -> dict[str, Any] | None:
    """The latest finished run (ok or failed), else the one running."""
    run = (
        BackupRun.select()
        .order_by(BackupRun.finished_at.is_null(), BackupRun.started_at.desc(), BackupRun.id.desc())
        .first()
    )
    return _row(run) if run is not None else None


def recent_runs(limit: int = 10) -> list[dict[str, Any]]:
    query = BackupRun.select().order_by(BackupRun.started_at.desc(), BackupRun.id.desc())
    return [_row(r) for r in query.limit(limit)]


def get_run(run_id: int) -> dict[str, Any] | None:
    run = BackupRun.get_or_none(BackupRun.id == run_id)
    return _row(run) if run is not None else None
