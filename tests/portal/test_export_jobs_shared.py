"""Export jobs are in the database and their files in the file store: an export started
before a restart is still visible and downloadable after it, from any portal process."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import trio

from db import Store, open_store
from db.schema.models import ExportJobRecord, utcnow
from gateway import Gateway
from portal import create_app
from tests.portal.conftest import login, password_hash, post, seed_world


def portal(store: Store, files: Path) -> Any:
    config = {"SECRET_KEY": "test-secret", "TESTING": True, "FILES_ROOT": str(files)}
    return create_app(store, Gateway(store), config=config)


async def finished(client: Any, job: dict[str, Any]) -> dict[str, Any]:
    with trio.fail_after(20):
        while job["state"] in ("counting", "running"):
            await trio.sleep(0.05)
            job = await (await client.get(job["progress_url"])).get_json()
    return job


async def test_an_export_made_before_a_restart_is_downloadable_after_it(
    db_url: str, tmp_path: Path
) -> None:
    files = tmp_path / "files"
    async with open_store(db_url) as store:
        world = await store.write(seed_world, password_hash())
        async with portal(store, files).test_app() as running:
            client = running.test_client()
            await login(client, world.emails["admin"])
            started = await post(client, "/statistics/exports?format=csv")
            job = await finished(client, await started.get_json())
            assert job["state"] == "done"
            before = await (await client.get(job["download_url"])).get_data()
    async with open_store(db_url) as store, portal(store, files).test_app() as restarted:
        client = restarted.test_client()
        await login(client, world.emails["admin"])
        again = await (await client.get(job["progress_url"])).get_json()
        assert again["state"] == "done"
        assert again["total"] == again["done"] == job["total"]
        download = await client.get(job["download_url"])
        assert download.status_code == 200
        assert await download.get_data() == before
        other = restarted.test_client()
        await login(other, world.emails["support"])
        assert (await other.get(job["progress_url"])).status_code == 404  # still his only


async def test_an_export_interrupted_by_a_restart_says_so(db_url: str, tmp_path: Path) -> None:
    async with open_store(db_url) as store:
        world = await store.write(seed_world, password_hash())
        old = utcnow() - dt.timedelta(minutes=5)
        await store.write(
            lambda: ExportJobRecord.create(
                id="interrupted1",
                owner=f"{world.users['admin']}:None:{world.emails['admin']}",  # as the portal
                fmt="xlsx",
                filename="sessions.xlsx",
                state="running",
                total=1000,
                done=400,
                created_at=old,
                updated_at=old,
            )
        )
        async with portal(store, tmp_path / "files").test_app() as restarted:
            client = restarted.test_client()
            await login(client, world.emails["admin"])
            job = await (await client.get("/statistics/exports/interrupted1")).get_json()
            assert job["state"] == "failed"
            assert "interrupted" in job["error"]
            assert (await client.get(job["download_url"])).status_code == 404
            # and it no longer counts against the person's running exports
            for _ in range(2):
                assert (await post(client, "/statistics/exports?format=csv")).status_code == 202


async def test_progress_and_cancel_reach_across_processes(db_url: str, tmp_path: Path) -> None:
    files = tmp_path / "files"
    async with open_store(db_url) as store:
        world = await store.write(seed_world, password_hash())
        one, two = portal(store, files), portal(store, files)
        async with one.test_app() as first, two.test_app() as second:
            a, b = first.test_client(), second.test_client()
            await login(a, world.emails["admin"])
            await login(b, world.emails["admin"])
            job = await finished(
                a, await (await post(a, "/statistics/exports?format=xlsx")).get_json()
            )
            seen = await (await b.get(job["progress_url"])).get_json()
            assert (seen["state"], seen["done"]) == ("done", job["done"])
            assert (await b.get(job["download_url"])).status_code == 200
            await post(b, job["cancel_url"])  # a finished job: forgotten, its file removed
            assert (await b.get(job["progress_url"])).status_code == 404
