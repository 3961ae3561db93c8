"""Backups on PostgreSQL: pg_dump while the store writes, restore with the old one kept,
refused while a server holds the database; a clear message without pg_dump."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from db import open_store
from db.backup.inuse import DatabaseInUseError, held_by_server
from db.backup.restore import restore_backup
from db.backup.take import BackupError, take_backup
from db.engine.connection import make_database
from db.schema.migrate import available_migrations, current_version
from db.system.settings import get_setting, update_settings

pytestmark = pytest.mark.postgres


def name_in(url: str) -> str:
    database = make_database(url)
    database.connect()
    try:
        row = database.execute_sql("SELECT value FROM setting WHERE key = 'system.name'").fetchone()
        return str(row[0])
    finally:
        database.close()


async def test_a_pg_dump_backup_restores_and_keeps_the_replaced_database(
    db_url: str, tmp_path: Path
) -> None:
    async with open_store(db_url) as store:
        await store.write(update_settings, {"system.name": "Backed up"})
        result = await trio.to_thread.run_sync(
            lambda: take_backup(store.database, folder=tmp_path / "bk")
        )
        assert result.path.name.endswith(".pgdump")
        assert result.size_bytes > 0
        await store.write(update_settings, {"system.name": "Changed later"})
        assert await store.read(get_setting, "system.name") == "Changed later"
        with held_by_server(store.database), pytest.raises(DatabaseInUseError):
            await trio.to_thread.run_sync(restore_backup, make_database(db_url), result.path)
    restored = await trio.to_thread.run_sync(restore_backup, make_database(db_url), result.path)
    assert restored.version == available_migrations()[-1][0]
    assert name_in(db_url) == "Backed up"
    assert restored.kept is not None
    assert restored.kept.is_file()
    database = make_database(db_url)
    database.connect()
    assert current_version(database) == restored.version
    database.close()


async def test_without_pg_dump_the_message_says_what_applies(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no client tools
    database = make_database(db_url)
    with pytest.raises(BackupError, match="the database server's own backup applies"):
        take_backup(database, folder=tmp_path / "bk")
