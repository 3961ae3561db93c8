"""System → General, Backups: the last backup, its download (administrators), Back up now."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from db import Store
from db.backup.daily import BackupPolicy, DailyBackup
from db.backup.records import BACKUP_FAILED
from db.system.alarms import active_alarms
from gateway import Gateway
from portal import create_app
from tests.portal.conftest import World, login, post


def backup_app(store: Store, gateway: Gateway, folder: Path) -> Any:
    backups = DailyBackup(store, BackupPolicy(folder=folder, keep_daily=3, keep_weekly=2))
    config = {"SECRET_KEY": "test-secret", "TESTING": True, "BACKUPS": backups}
    return create_app(store, gateway, config=config)


async def test_an_administrator_backs_up_sees_it_and_downloads_it(
    store: Store, gateway: Gateway, world: World, tmp_path: Path
) -> None:
    app = backup_app(store, gateway, tmp_path / "bk")
    async with app.test_app() as test_app:
        client = test_app.test_client()
        await login(client, world.emails["admin"])
        page = await (await client.get("/configuration/general")).get_data(as_text=True)
        assert "No backup has been taken yet." in page
        assert "Daily at 02:30" in page
        assert "3 days and 2 weeks" in page
        answer = await post(client, "/configuration/system/backups")
        assert answer.status_code == 302
        page = await (await client.get("/configuration/general")).get_data(as_text=True)
        assert "Backup chargeportal-" in page  # the flash message
        made = next((tmp_path / "bk").glob("chargeportal-*Z.sqlite3"))
        assert made.name in page
        assert f"{made.stat().st_size:,} bytes" in page
        link = page.split('data-testid="backup-download"')[0].rsplit('href="', 1)[1].split('"')[0]
        download = await client.get(link)
        assert download.status_code == 200
        body = await download.get_data()
        assert (
            hashlib.sha256(body).hexdigest()
            == (made.parent / (made.name + ".sha256")).read_text().split()[0]
        )


async def test_support_sees_the_last_backup_but_cannot_download_it(
    store: Store, gateway: Gateway, world: World, tmp_path: Path
) -> None:
    app = backup_app(store, gateway, tmp_path / "bk")
    run = await app.config["BACKUPS"].backup_now()
    async with app.test_app() as test_app:
        client = test_app.test_client()
        await login(client, world.emails["support"])
        page = await (await client.get("/configuration/general")).get_data(as_text=True)
        assert run["name"] in page
        assert 'data-testid="backup-download"' not in page
        refused = await client.get(f"/configuration/system/backups/{run['id']}/download")
        assert refused.status_code == 403


async def test_a_failed_backup_shows_why_and_is_an_alarm_for_administrators(
    store: Store, gateway: Gateway, world: World, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    app = backup_app(store, gateway, blocker / "bk")
    async with app.test_app() as test_app:
        client = test_app.test_client()
        await login(client, world.emails["admin"])
        await post(client, "/configuration/system/backups")
        page = await (await client.get("/configuration/general")).get_data(as_text=True)
        assert "The backup failed: cannot create the backup folder" in page
        assert "failed: cannot create the backup folder" in page
        assert [a.kind for a in await store.read(active_alarms)] == [BACKUP_FAILED]
        alarms = await (await client.get("/alarms/")).get_data(as_text=True)
        assert BACKUP_FAILED in alarms
    async with app.test_app() as test_app:
        client = test_app.test_client()
        await login(client, world.emails["site-admin"])
        alarms = await (await client.get("/alarms/")).get_data(as_text=True)
        assert BACKUP_FAILED not in alarms  # a system alarm: not of his site
