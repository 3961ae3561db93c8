"""Taking a backup and restoring it: checked, migrated forward, the old database kept,
and refused while a server uses the database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import peewee
import pytest

from db import migrate
from db.backup.files import list_backups
from db.backup.inuse import DatabaseInUseError, held_by_server, held_exclusive
from db.backup.restore import RestoreError, restore_backup
from db.backup.take import BackupCancelledError, BackupError, take_backup
from db.engine.connection import make_database
from db.schema.migrate import available_migrations, current_version

NEWEST = available_migrations()[-1][0]


def database_with(path: Path, name: str, *, version: int | None = None) -> peewee.Database:
    database = make_database(f"sqlite:///{path}")
    database.connect()
    migrate(database, target=version)
    database.execute_sql(
        'INSERT INTO "setting" ("key", "value") VALUES (\'system.name\', ?)', (name,)
    )
    return database


def system_name(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        row = connection.execute("SELECT value FROM setting WHERE key = 'system.name'").fetchone()
    return str(row[0])


def test_a_backup_is_complete_checked_and_has_its_checksum(tmp_path: Path) -> None:
    database = database_with(tmp_path / "live.sqlite3", "Live")
    result = take_backup(database, folder=tmp_path / "backups")
    assert [b.path for b in list_backups(tmp_path / "backups")] == [result.path]
    assert result.path.stat().st_size == result.size_bytes
    assert (
        (result.path.parent / (result.path.name + ".sha256")).read_text().startswith(result.sha256)
    )
    assert not list((tmp_path / "backups").glob(".*partial"))
    assert system_name(result.path) == "Live"
    with sqlite3.connect(result.path) as copy:  # one self-contained file, not WAL
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_stopped_backup_leaves_no_file(tmp_path: Path) -> None:
    database = database_with(tmp_path / "live.sqlite3", "Live")
    with pytest.raises(BackupCancelledError):
        take_backup(database, folder=tmp_path / "backups", pages=1, cancelled=lambda: True)
    assert list((tmp_path / "backups").iterdir()) == []


def test_an_in_memory_database_cannot_be_backed_up(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="in-memory"):
        take_backup(make_database("sqlite:///:memory:"), folder=tmp_path)


def test_a_backup_restored_into_a_new_file_is_the_database(tmp_path: Path) -> None:
    backup = take_backup(database_with(tmp_path / "live.sqlite3", "Live"), to=tmp_path / "b.db")
    target = make_database(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    result = restore_backup(target, backup.path)
    assert (result.backup_version, result.version, result.kept) == (NEWEST, NEWEST, None)
    assert system_name(tmp_path / "new.sqlite3") == "Live"


def test_restore_keeps_the_database_it_replaces(tmp_path: Path) -> None:
    backup = take_backup(
        database_with(tmp_path / "old.sqlite3", "From backup"), to=tmp_path / "b.db"
    )
    live = database_with(tmp_path / "live.sqlite3", "Was live")
    live.close()
    result = restore_backup(make_database(f"sqlite:///{tmp_path / 'live.sqlite3'}"), backup.path)
    assert system_name(tmp_path / "live.sqlite3") == "From backup"
    assert result.kept is not None
    assert result.kept.parent == tmp_path
    assert result.kept.name.startswith("live.before-restore-")
    assert system_name(result.kept) == "Was live"


def test_an_older_backup_is_migrated_forward(tmp_path: Path) -> None:
    old = database_with(tmp_path / "old.sqlite3", "Old", version=7)
    assert current_version(old) == 7
    backup = take_backup(old, to=tmp_path / "old-backup.sqlite3")
    target = make_database(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    result = restore_backup(target, backup.path)
    assert (result.backup_version, result.version) == (7, NEWEST)
    target.connect()
    assert current_version(target) == NEWEST
    assert target.table_exists("backup_run")  # a table of a later migration


def test_restore_refuses_while_a_server_uses_the_database(tmp_path: Path) -> None:
    backup = take_backup(
        database_with(tmp_path / "old.sqlite3", "From backup"), to=tmp_path / "b.db"
    )
    live = database_with(tmp_path / "live.sqlite3", "Live")
    with held_by_server(live), pytest.raises(DatabaseInUseError, match="stop every server"):
        restore_backup(make_database(f"sqlite:///{tmp_path / 'live.sqlite3'}"), backup.path)
    assert system_name(tmp_path / "live.sqlite3") == "Live"
    assert not list(tmp_path.glob("live.before-restore-*"))


def test_no_server_starts_while_a_restore_runs(tmp_path: Path) -> None:
    live = database_with(tmp_path / "live.sqlite3", "Live")
    with (
        held_exclusive(live),
        pytest.raises(DatabaseInUseError, match="restore"),
        held_by_server(live),
    ):
        pass
    with held_by_server(live), held_by_server(live):  # several servers share it
        pass


def test_a_damaged_backup_is_refused_by_its_checksum(tmp_path: Path) -> None:
    backup = take_backup(database_with(tmp_path / "old.sqlite3", "Old"), folder=tmp_path / "bk")
    data = bytearray(backup.path.read_bytes())
    data[-100] ^= 0xFF
    backup.path.write_bytes(bytes(data))
    with pytest.raises(RestoreError, match="checksum"):
        restore_backup(make_database(f"sqlite:///{tmp_path / 'new.sqlite3'}"), backup.path)
    assert not (tmp_path / "new.sqlite3").exists()


def test_a_file_that_is_no_charge_portal_backup_is_refused(tmp_path: Path) -> None:
    (tmp_path / "text.db").write_text("not a database at all " * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    target = make_database(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    with pytest.raises(RestoreError, match="not a SQLite database"):
        restore_backup(target, tmp_path / "text.db")
    with pytest.raises(RestoreError, match="not a Charge Portal database"):
        restore_backup(target, other)
    with pytest.raises(RestoreError, match="no such file"):
        restore_backup(target, tmp_path / "missing.db")


def test_a_backup_of_a_newer_version_is_refused(tmp_path: Path) -> None:
    newer = database_with(tmp_path / "newer.sqlite3", "Newer")
    newer.execute_sql(
        'INSERT INTO "schema_version" ("version", "name", "applied_at")'
        " VALUES (?, 'm9999', '2030-01-01')",
        (NEWEST + 1,),
    )
    backup = take_backup(newer, to=tmp_path / "b.db")
    live = database_with(tmp_path / "live.sqlite3", "Live")
    live.close()
    with pytest.raises(RestoreError, match="newer Charge Portal"):
        restore_backup(make_database(f"sqlite:///{tmp_path / 'live.sqlite3'}"), backup.path)
    assert system_name(tmp_path / "live.sqlite3") == "Live"
