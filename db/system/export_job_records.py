"""Export jobs' records (``export_job``): state, progress, the finished file's path, and a
cancel request any process may set. Sync units of work for ``portal.export_jobs``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from db.schema.models import ExportJobRecord, utcnow

__all__ = [
    "expired_jobs",
    "forget_job",
    "load_job",
    "request_cancel",
    "running_jobs_of",
    "save_job",
    "save_progress",
]

_FINISHED = ("done", "failed", "cancelled")


def save_job(fields: dict[str, Any], now: dt.datetime | None = None) -> None:
    """Insert or update a job's record from ``fields`` (the columns by name)."""
    now = now or utcnow()
    values = {**fields, "updated_at": now}
    if fields.get("state") in _FINISHED:
        values.setdefault("finished_at", now)
    updates = {
        getattr(ExportJobRecord, k): v for k, v in values.items() if k not in ("id", "created_at")
    }
    ExportJobRecord.insert(created_at=now, **values).on_conflict(
        conflict_target=[ExportJobRecord.id], update=updates
    ).execute()


def save_progress(
    job_id: str, state: str, total: int | None, done: int, now: dt.datetime | None = None
) -> bool:
    """Record the rows written so far (a heartbeat too); True when a cancel was asked."""
    ExportJobRecord.update(state=state, total=total, done=done, updated_at=now or utcnow()).where(
        ExportJobRecord.id == job_id
    ).execute()
    row = ExportJobRecord.get_or_none(ExportJobRecord.id == job_id)
    return bool(row is not None and row.cancel_requested)


def request_cancel(job_id: str) -> None:
    ExportJobRecord.update(cancel_requested=True).where(ExportJobRecord.id == job_id).execute()


def load_job(job_id: str, owner: str) -> dict[str, Any] | None:
    """The job's record, only for the person who started it."""
    row = ExportJobRecord.get_or_none(
        (ExportJobRecord.id == job_id) & (ExportJobRecord.owner == owner)
    )
    return dict(row.__data__) if row is not None else None


def running_jobs_of(owner: str, fresh_since: dt.datetime) -> int:
    """This person's jobs still counting or running (with a heartbeat since ``fresh_since``)."""
    return int(
        ExportJobRecord.select()
        .where(
            (ExportJobRecord.owner == owner)
            & ExportJobRecord.state.in_(("counting", "running"))
            & (ExportJobRecord.updated_at >= fresh_since)
        )
        .count()
    )


def expired_jobs(before: dt.datetime) -> list[str]:
    """Delete the records of jobs finished before ``before``, and of jobs whose process
    died (no heartbeat since then); returns their files' paths."""
    query = ExportJobRecord.select(ExportJobRecord.id, ExportJobRecord.path).where(
        (ExportJobRecord.finished_at.is_null(False) & (ExportJobRecord.finished_at < before))
        | (ExportJobRecord.finished_at.is_null() & (ExportJobRecord.updated_at < before))
    )
    rows = list(query.tuples())
    if rows:
        ExportJobRecord.delete().where(ExportJobRecord.id.in_([r[0] for r in rows])).execute()
    return [r[1] for r in rows if r[1]]


def forget_job(job_id: str) -> None:
    ExportJobRecord.delete().where(ExportJobRecord.id == job_id).execute()
