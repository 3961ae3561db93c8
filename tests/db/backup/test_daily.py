"""The daily backup: when it runs, once a day across processes, and a failure is an alarm."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import trio

from db import Store
from db.backup.daily import BackupPolicy, DailyBackup, next_run_utc
from db.backup.files import list_backups
from db.backup.records import BACKUP_FAILED, claim_run
from db.schema.models import Alarm, BackupRun
from db.system.alarms import active_alarms


def test_the_next_run_is_the_wall_clock_time_of_the_system_zone() -> None:
    at = dt.time(2, 30)
    now = dt.datetime(2026, 12, 3, 12, 0)  # UTC
    assert next_run_utc(now, at, "UTC") == dt.datetime(2026, 12, 4, 2, 30)
    # Stockholm is UTC+1 in winter: 02:30 there is 01:30 UTC
    assert next_run_utc(now, at, "Europe/Stockholm") == dt.datetime(2026, 12, 4, 1, 30)
    assert next_run_utc(dt.datetime(2026, 12, 4, 1, 0), at, "Europe/Stockholm") == dt.datetime(
        2026, 12, 4, 1, 30
    )
    # summer time: UTC+2
    assert next_run_utc(dt.datetime(2026, 7, 1), at, "Europe/Stockholm") == dt.datetime(
        2026, 7, 1, 0, 30
    )


async def test_a_backup_is_recorded_and_its_day_is_taken_once(store: Store, tmp_path: Path) -> None:
    backups = DailyBackup(store, BackupPolicy(folder=tmp_path / "bk"))
    due = dt.datetime(2026, 12, 3, 2, 30)
    first = await backups.daily(due)
    assert first is not None
    assert first["result"] == "ok"
    assert await trio.Path(first["path"]).is_file()
    assert first["size_bytes"] > 0
    # another process (or this one after a restart) finds the day done
    assert await backups.daily(due) is None
    assert await store.read(lambda: claim_run("daily", "daily:2026-12-03")) is None
    assert len(list_backups(tmp_path / "bk")) == 1


async def test_a_failed_backup_raises_the_system_alarm_and_a_good_one_clears_it(
    store: Store, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    failing = DailyBackup(store, BackupPolicy(folder=blocker / "bk"))
    run = await failing.backup_now()
    assert run is not None
    assert run["result"] == "failed"
    assert "cannot create the backup folder" in run["message"]
    alarms = await store.read(active_alarms)
    assert [(a.kind, a.station_id, a.site_id) for a in alarms] == [(BACKUP_FAILED, None, None)]
    assert "cannot create the backup folder" in alarms[0].message

    working = DailyBackup(store, BackupPolicy(folder=tmp_path / "bk"))
    assert (await working.backup_now())["result"] == "ok"
    assert await store.read(active_alarms) == []
    assert await store.read(lambda: Alarm.select().where(Alarm.kind == BACKUP_FAILED).count()) == 1


async def test_the_server_catches_up_a_missed_day_at_start(store: Store, tmp_path: Path) -> None:
    backups = DailyBackup(store, BackupPolicy(folder=tmp_path / "bk", catch_up=True))
    with trio.move_on_after(30):
        async with trio.open_nursery() as nursery:
            await nursery.start(backups.run)
            while not await store.read(  # noqa: ASYNC110 (the database is polled, no event)
                lambda: BackupRun.select().where(BackupRun.result == "ok").exists()
            ):
                await trio.sleep(0.05)
            nursery.cancel_scope.cancel()
    runs = await store.read(lambda: list(BackupRun.select().dicts()))
    assert [(r["kind"], r["result"]) for r in runs] == [("daily", "ok")]
    assert len(list_backups(tmp_path / "bk")) == 1
