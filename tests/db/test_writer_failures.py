"""A database that cannot commit: the real error, told once per kind and interval, then recovery."""

from __future__ import annotations

import logging

import peewee
import pytest
import trio

from db import Store
from db.engine.failures import FailureLog
from db.schema.models import Event
from db.system.alarms import log_event


def fill_disk(store: Store) -> None:
    """The writer's connection may not grow the file any more (SQLITE_FULL, a real disk full)."""
    pages = store.database.execute_sql("PRAGMA page_count").fetchone()[0]
    store.database.execute_sql(f"PRAGMA max_page_count = {pages}")


def free_disk(store: Store) -> None:
    store.database.execute_sql("PRAGMA max_page_count = 1073741823")


async def test_a_full_disk_fails_each_write_with_the_real_error_logged_once(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await store.write(fill_disk, store)
    errors: list[BaseException] = []

    async def write(n: int) -> None:
        try:
            await store.write(lambda: log_event("big", f"CP{n}", message="x" * 3000))
        except peewee.DatabaseError as exc:
            errors.append(exc)

    with trio.fail_after(10):
        for _ in range(3):  # several group commits, each of many jobs
            async with trio.open_nursery() as writers:
                for n in range(30):
                    writers.start_soon(write, n)
    assert len(errors) == 90
    assert {str(exc) for exc in errors} == {"database or disk is full"}
    lines = [
        r for r in caplog.records if r.name == "db.engine.writer" and r.levelno >= logging.WARNING
    ]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert "database or disk is full" in lines[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    # space again: writing works without a restart
    await store.write(free_disk, store)
    await store.write(log_event, "after", "CP1")
    assert await store.read(lambda: [e.kind for e in Event.select()]) == ["after"]


def test_the_failure_log_counts_repeats_and_tells_them_after_the_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    failures = FailureLog(logging.getLogger("test.failures"), interval=60.0, clock=lambda: now[0])
    disk = peewee.OperationalError("database or disk is full")
    for _ in range(5):
        failures.report("database write failed", disk)
    failures.report("database write failed", peewee.IntegrityError("NOT NULL constraint failed"))
    now[0] += 61
    failures.report("database write failed", disk)
    messages = [r.getMessage() for r in caplog.records if r.name == "test.failures"]
    assert len(messages) == 3, messages
    assert "database or disk is full" in messages[0]
    assert "NOT NULL" in messages[1]
    assert "4 more" in messages[2], messages[2]
