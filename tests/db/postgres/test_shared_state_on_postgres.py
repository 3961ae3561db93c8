"""The state moved out of process memory, on PostgreSQL: failed passwords, logged-out
cookies and export job records."""

from __future__ import annotations

import datetime as dt

import pytest

from db import open_store
from db.accounts.auth_failures import (
    clear_failures,
    failure_ages,
    is_revoked,
    purge_expired,
    record_failure,
    revoke_session,
)
from db.schema.models import utcnow
from db.system.export_job_records import (
    expired_jobs,
    load_job,
    request_cancel,
    save_job,
    save_progress,
)

pytestmark = pytest.mark.postgres


async def test_failures_and_revoked_cookies_on_postgres(db_url: str) -> None:
    async with open_store(db_url) as store:
        now = utcnow()
        await store.write(record_failure, "portal", ["a:x@example.com", "ip:10.0.0.1"], now)
        await store.write(record_failure, "portal", ["a:x@example.com"], now)
        ages = await store.read(failure_ages, "portal", ["a:x@example.com"], 60.0)
        assert len(ages["a:x@example.com"]) == 2
        await store.write(clear_failures, "portal", "a:x@example.com")
        assert list(await store.read(failure_ages, "portal", None, 60.0)) == ["ip:10.0.0.1"]
        await store.write(revoke_session, "cookie", 60.0)
        await store.write(revoke_session, "cookie", 120.0)  # again: updated, not duplicated
        assert await store.read(is_revoked, "cookie")
        assert not await store.read(is_revoked, "other")
        assert await store.write(purge_expired, now + dt.timedelta(days=2)) == 2


async def test_export_job_records_on_postgres(db_url: str) -> None:
    async with open_store(db_url) as store:
        fields = {
            "id": "job1",
            "owner": "1:None:a@example.com",
            "fmt": "csv",
            "filename": "s.csv",
            "state": "counting",
            "total": None,
            "done": 0,
            "error": "",
            "path": "",
            "cancel_requested": False,
        }
        await store.write(save_job, fields)
        assert not await store.write(save_progress, "job1", "running", 10, 5)
        await store.write(request_cancel, "job1")
        assert await store.write(save_progress, "job1", "running", 10, 6)
        await store.write(save_job, {**fields, "state": "done", "done": 10, "path": "/tmp/x"})
        row = await store.read(load_job, "job1", "1:None:a@example.com")
        assert row is not None
        assert (row["state"], row["done"], row["finished_at"] is not None) == ("done", 10, True)
        assert await store.read(load_job, "job1", "someone else") is None
        later = utcnow() + dt.timedelta(hours=2)
        assert await store.write(expired_jobs, later) == ["/tmp/x"]
