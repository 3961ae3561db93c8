"""Export jobs: a long export runs in a worker thread while the browser polls its progress.

``ExportJobs.start(...)`` counts the rows, then writes the file in a worker thread
(``store.read``: one thread, its own connection, keyset chunks), updating
``job.done``; the page polls ``job.as_dict()`` and downloads the finished file.
Files live in the file store (``FILES_ROOT/exports``; else a private temporary folder)
and expire after ``keep_seconds``. With a ``store``, each job also has a database record
(``db.system.export_job_records``): its state, its progress every second (a heartbeat)
and its file, so another portal process, or this one after a restart, finds it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import trio

from db.engine.store import Store
from db.schema.models import utcnow
from db.sessions.session_export_rows import export_chunks, raw_page
from db.sessions.session_filters import SessionFilter
from db.sessions.session_queries import count_sessions
from db.system.export_job_records import (
    expired_jobs,
    forget_job,
    load_job,
    request_cancel,
    running_jobs_of,
    save_job,
    save_progress,
)
from db.topology.scope import Node, Viewer
from portal.session_csv_file import write_csv_file
from portal.session_export import (
    EXCEL_MAX_DATA_ROWS,
    EXPORT_COLUMNS,
    ExportCancelledError,
    csv_from_raw_chunks,
    write_xlsx_chunks,
)

__all__ = ["ExportBusyError", "ExportJob", "ExportJobs", "stream_csv", "stream_file"]

MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


#: A running job writes its progress this often (also its heartbeat).
PROGRESS_SECONDS = 1.0
#: A job still "running" without a heartbeat this long was left by a stopped process.
STALE_SECONDS = 30.0


class ExportBusyError(Exception):
    """This person already runs as many exports as allowed (HTTP 429)."""


@dataclass(eq=False)
class ExportJob:
    id: str
    owner: str
    fmt: str
    filename: str
    state: str = "counting"  # counting | running | done | failed | cancelled
    total: int | None = None
    done: int = 0
    error: str = ""
    path: Path | None = None
    created: float = field(default_factory=time.monotonic)
    finished: float | None = None
    cancel_requested: bool = False

    def record(self) -> dict[str, Any]:
        """The columns of its ``export_job`` row."""
        return {
            "id": self.id,
            "owner": self.owner,
            "fmt": self.fmt,
            "filename": self.filename,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "error": self.error,
            "path": str(self.path) if self.path is not None else "",
            "cancel_requested": self.cancel_requested,
        }

    @classmethod
    def from_record(cls, row: dict[str, Any], now: dt.datetime) -> ExportJob:
        """A job another process (or this one before a restart) ran, as its record says."""
        job = cls(
            id=row["id"],
            owner=row["owner"],
            fmt=row["fmt"],
            filename=row["filename"],
            state=row["state"],
            total=row["total"],
            done=row["done"],
            error=row["error"],
            path=Path(row["path"]) if row["path"] else None,
            cancel_requested=bool(row["cancel_requested"]),
        )
        stale = (now - row["updated_at"]).total_seconds() > STALE_SECONDS
        if job.state in ("counting", "running") and stale:
            job.state, job.error = "failed", "interrupted: the server stopped while it ran"
        if job.state == "done" and (job.path is None or not job.path.is_file()):
            job.state, job.error = "failed", "the file is no longer there"
        job.finished = job.created  # already finished here: expires like one
        return job

    def as_dict(self) -> dict[str, Any]:
        percent = 100.0 if self.state == "done" else 0.0
        if self.total and self.state != "done":
            percent = min(99.9, 100.0 * self.done / self.total)
        return {
            "id": self.id,
            "state": self.state,
            "format": self.fmt,
            "total": self.total,
            "done": self.done,
            "percent": round(percent, 1),
            "filename": self.filename,
            "error": self.error,
        }


def export_filename(fmt: str, now: dt.datetime | None = None) -> str:
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return f"sessions-{stamp}.{fmt}"


class ExportJobs:
    """The export jobs of one portal process (at most ``per_owner`` running per person)."""

    def __init__(
        self,
        *,
        directory: Path | None = None,
        per_owner: int = 2,
        keep_seconds: float = 3600.0,
        sheet_rows: int = EXCEL_MAX_DATA_ROWS,
        store: Store | None = None,
    ) -> None:
        self.store = store  # None: jobs live in this process only (tests of the writers)
        self._own_directory = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix="chargeportal-exports-"))
        self.per_owner = per_owner
        self.keep_seconds = keep_seconds
        self.sheet_rows = sheet_rows
        self._jobs: dict[str, ExportJob] = {}

    async def open(self, owner: str, fmt: str) -> ExportJob:
        """``create``, also counting this person's jobs running in other processes, and
        recorded so that every process (and a restart) sees it."""
        if self.store is not None:
            now = utcnow()
            paths = await self.store.write(
                expired_jobs, now - dt.timedelta(seconds=self.keep_seconds)
            )
            for path in paths:
                await trio.Path(path).unlink(missing_ok=True)
            fresh = now - dt.timedelta(seconds=STALE_SECONDS)
            elsewhere = await self.store.read(running_jobs_of, owner, fresh)
            mine = sum(
                1
                for j in self._jobs.values()
                if j.owner == owner and j.state in ("counting", "running")
            )
            if max(elsewhere, mine) >= self.per_owner:
                raise ExportBusyError(
                    f"{max(elsewhere, mine)} exports already running; wait for one to finish"
                )
        job = self.create(owner, fmt)
        if self.store is not None:
            await self.store.write(save_job, job.record())
        return job

    async def find(self, job_id: str, owner: str) -> ExportJob | None:
        """``get``, else the job as its record says (run by another process or before a
        restart): a finished file stays downloadable, an interrupted run says so."""
        job = self.get(job_id, owner)
        if job is not None or self.store is None:
            return job
        row = await self.store.read(load_job, job_id, owner)
        return ExportJob.from_record(row, utcnow()) if row is not None else None

    async def request_cancel(self, job: ExportJob) -> None:
        """``cancel``, wherever the job runs (its process reads the request with its next
        progress write)."""
        running_here = job.id in self._jobs
        self.cancel(job)
        if self.store is None:
            return
        if job.state in ("done", "failed", "cancelled"):
            await self.store.write(forget_job, job.id)
            if job.path is not None and not running_here:
                await trio.Path(job.path).unlink(missing_ok=True)
        else:
            await self.store.write(request_cancel, job.id)

    def get(self, job_id: str, owner: str) -> ExportJob | None:
        """The job, only for the person who started it."""
        job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def statistics(self) -> dict[str, int]:
        states = [j.state for j in self._jobs.values()]
        return {s: states.count(s) for s in ("counting", "running", "done", "failed", "cancelled")}

    def create(self, owner: str, fmt: str) -> ExportJob:
        if fmt not in MEDIA_TYPES:
            raise ValueError(f"unknown export format {fmt!r}")
        self._expire()
        running = [
            j
            for j in self._jobs.values()
            if j.owner == owner and j.state in ("counting", "running")
        ]
        if len(running) >= self.per_owner:
            raise ExportBusyError(f"{len(running)} exports already running; wait for one to finish")
        job = ExportJob(
            id=secrets.token_urlsafe(12), owner=owner, fmt=fmt, filename=export_filename(fmt)
        )
        self._jobs[job.id] = job
        return job

    def cancel(self, job: ExportJob) -> None:
        job.cancel_requested = True
        if job.state in ("done", "failed", "cancelled"):
            self._drop(job)

    async def run(self, job: ExportJob, store: Store, *args: Any, **kwargs: Any) -> None:
        """``run_here``, its progress (and heartbeat) written every ``PROGRESS_SECONDS`` and
        its outcome recorded, when the jobs have a store; a cancel asked by another process
        is read back with each progress write."""
        if self.store is None:
            await self.run_here(job, store, *args, **kwargs)
            return
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._heartbeat, job)
            try:
                await self.run_here(job, store, *args, **kwargs)
            finally:
                nursery.cancel_scope.cancel()
        with trio.CancelScope(shield=True):
            await self.store.write(save_job, job.record())

    async def _heartbeat(self, job: ExportJob) -> None:
        assert self.store is not None
        while True:
            await trio.sleep(PROGRESS_SECONDS)
            asked = await self.store.write(save_progress, job.id, job.state, job.total, job.done)
            if asked:
                job.cancel_requested = True

    async def run_here(
        self,
        job: ExportJob,
        store: Store,
        flt: SessionFilter,
        viewer: Viewer,
        node: Node,
        columns: Sequence[str] = EXPORT_COLUMNS,
        *,
        zone: str | None = None,
    ) -> None:
        """Count, then write the file in a worker thread; never raises (state says why).
        Times are written on the wall clock of ``zone`` (None: UTC)."""
        flt = flt.without_cursor()
        try:
            job.total = await store.read(count_sessions, flt, viewer, node)
            job.state = "running"
            path = self.directory / f"{job.id}.{job.fmt}"

            def progress(done: int) -> None:
                job.done = done
                if job.cancel_requested:
                    raise ExportCancelledError

            def work() -> None:
                # keyset chunks, the next chunk read while this one is written
                if job.fmt == "xlsx":
                    write_xlsx_chunks(
                        export_chunks(flt, viewer, node, columns, zone=zone, prefetch=True),
                        path,
                        columns=columns,
                        sheet_rows=self.sheet_rows,
                        progress=progress,
                        zone=zone,
                    )
                    return
                # two processes each write half of a large export (portal.session_csv_file)
                write_csv_file(
                    path,
                    flt,
                    viewer,
                    node,
                    columns,
                    zone=zone,
                    total=job.total or 0,
                    progress=progress,
                )

            await store.read(work)
            job.path = path
            job.state = "done"
        except ExportCancelledError:
            job.state = "cancelled"
        except Exception as exc:  # the job reports it; the portal keeps running
            job.state = "failed"
            job.error = f"{type(exc).__name__}: {exc}"
        finally:
            job.finished = time.monotonic()
            if job.state != "done":
                (self.directory / f"{job.id}.{job.fmt}").unlink(missing_ok=True)

    def _expire(self) -> None:
        now = time.monotonic()
        for job in list(self._jobs.values()):
            if job.finished is not None and now - job.finished > self.keep_seconds:
                self._drop(job)

    def _drop(self, job: ExportJob) -> None:
        self._jobs.pop(job.id, None)
        if job.path is not None:
            job.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)


async def stream_file(
    path: Path, *, delete: bool = False, chunk: int = 256 * 1024
) -> AsyncIterator[bytes]:
    """The file's bytes in chunks (deleted afterwards when ``delete``)."""
    try:
        async with await trio.open_file(path, "rb") as handle:
            while data := await handle.read(chunk):
                yield data
    finally:
        if delete:
            await trio.Path(path).unlink(missing_ok=True)


async def stream_csv(
    store: Store,
    flt: SessionFilter,
    viewer: Viewer,
    node: Node,
    *,
    columns: Sequence[str] = EXPORT_COLUMNS,
    chunk: int = 20000,
    zone: str | None = None,
) -> AsyncIterator[bytes]:
    """CSV bytes as they are read: one keyset page per ``store.read``, no open cursor;
    times on the wall clock of ``zone`` (None: UTC, the API's default)."""
    current = replace(flt, after=None, limit=chunk)
    now = utcnow()  # one 'now' for every page: running sessions' durations agree
    header = True
    while True:
        rows, after = await store.read(partial(raw_page, current, viewer, node, now=now))
        for data in csv_from_raw_chunks([rows], columns=columns, header=header, zone=zone):
            yield data
        header = False
        if after is None:
            return
        current = replace(current, after=after)
