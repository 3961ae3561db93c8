"""The daily backup: at a configured local time of the system zone, in a worker thread,
once per day across processes (the day's slot is claimed in the database), then retention."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import trio

from db.backup.files import prune
from db.backup.records import abandon_run, claim_run, finish_run, last_run
from db.backup.take import BackupError, take_backup
from db.engine.store import Store
from db.schema.models import BackupRun, utcnow
from db.system.settings import get_setting
from db.system.timezones import local_to_utc, utc_to_local

__all__ = ["BackupPolicy", "DailyBackup", "next_run_utc", "parse_time_of_day"]

log = logging.getLogger(__name__)


def parse_time_of_day(text: str) -> dt.time:
    """``"02:30"`` -> 02:30; ``ValueError`` with a readable message otherwise."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
        return dt.time(hours, minutes)
    except ValueError:
        raise ValueError(f"not a time of day HH:MM: {text!r}") from None


@dataclass(frozen=True)
class BackupPolicy:
    folder: Path
    at: dt.time = dt.time(2, 30)  # wall-clock time in the system zone
    keep_daily: int = 7
    keep_weekly: int = 4
    catch_up: bool = True  # at start: back up now when the last good one is > a day old

    def describe(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "at": self.at.strftime("%H:%M"),
            "keep_daily": self.keep_daily,
            "keep_weekly": self.keep_weekly,
        }


def next_run_utc(now_utc: dt.datetime, at: dt.time, zone_name: str | None) -> dt.datetime:
    """The next ``at`` on the wall clock of ``zone_name`` after ``now_utc`` (naive UTC)."""
    local_now = utc_to_local(now_utc, zone_name)
    day = local_now.date()
    for offset in range(3):
        candidate = local_to_utc(
            dt.datetime.combine(day + dt.timedelta(days=offset), at), zone_name
        )
        if candidate > now_utc:
            return candidate
    raise AssertionError("unreachable: a time of day recurs within three days")


def _system_zone() -> str:
    return get_setting("system.time_zone")


def _last_good_at() -> dt.datetime | None:
    run = (
        BackupRun.select()
        .where(BackupRun.result == "ok")
        .order_by(BackupRun.started_at.desc())
        .first()
    )
    return run.started_at if run is not None else None


class DailyBackup:
    """Runs in the server's nursery; ``backup_now`` also serves a person's button."""

    def __init__(self, store: Store, policy: BackupPolicy) -> None:
        self.store = store
        self.policy = policy
        self._lock = trio.Lock()  # one backup at a time in this process

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        if self.policy.catch_up:
            last = await self.store.read(_last_good_at)
            if last is None or utcnow() - last > dt.timedelta(hours=24):
                await self.daily(utcnow())
        while True:
            now = utcnow()
            zone_name = await self.store.read(_system_zone)
            due = next_run_utc(now, self.policy.at, zone_name)
            wait = (due - now).total_seconds()
            if wait > 3600:  # look again later: the zone or the clock may change
                await trio.sleep(3600)
                continue
            await trio.sleep(max(wait, 0.0))
            await self.daily(due)

    async def daily(self, due: dt.datetime) -> dict[str, Any] | None:
        """The day's backup, unless another process (or an earlier run) took its slot."""
        slot = f"daily:{due.date().isoformat()}"
        return await self.backup_now(kind="daily", slot=slot)

    async def backup_now(
        self, *, kind: str = "manual", slot: str | None = None
    ) -> dict[str, Any] | None:
        """Take one backup into the policy's folder; the finished run's record (None when
        the slot was taken elsewhere). Never raises for a failed backup: it is recorded
        and raises the *Backup failed* alarm."""
        async with self._lock:
            run_id = await self.store.write(claim_run, kind, slot)
            if run_id is None:
                return None
            stop = threading.Event()
            work = partial(
                take_backup, self.store.database, folder=self.policy.folder, cancelled=stop.is_set
            )
            try:
                result = await trio.to_thread.run_sync(work, abandon_on_cancel=True)
            except trio.Cancelled:  # the server stops: an interruption, not a failure
                with trio.move_on_after(5, shield=True):
                    await self.store.write(abandon_run, run_id)
                raise
            except BackupError as exc:
                log.error("backup failed: %s", exc)
                await self.store.write(partial(finish_run, run_id, ok=False, message=str(exc)))
                return await self.store.read(last_run)
            except Exception as exc:  # anything else: recorded, the server keeps running
                log.exception("backup failed")
                message = f"{type(exc).__name__}: {exc}"
                await self.store.write(partial(finish_run, run_id, ok=False, message=message))
                return await self.store.read(last_run)
            finally:
                stop.set()  # cancelled: the abandoned copy stops at its next step
            await self.store.write(
                partial(
                    finish_run,
                    run_id,
                    ok=True,
                    path=str(result.path),
                    size_bytes=result.size_bytes,
                    sha256=result.sha256,
                    message=f"{result.seconds:.1f} s",
                )
            )
            log.info("backup %s (%d bytes, %.1f s)", result.path, result.size_bytes, result.seconds)
            removed = await trio.to_thread.run_sync(
                partial(
                    prune,
                    self.policy.folder,
                    daily=self.policy.keep_daily,
                    weekly=self.policy.keep_weekly,
                )
            )
            for path in removed:
                log.info("backup %s removed (retention)", path)
            return await self.store.read(last_run)
