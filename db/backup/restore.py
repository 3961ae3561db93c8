"""Restoring a backup: checked (checksum, integrity, schema version), migrated forward,
and the database it replaces kept beside it. Refused while a server uses the database."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import peewee

from db.backup.files import read_checksum, sha256_of
from db.backup.inuse import held_exclusive
from db.backup.take import BackupError, copy_sqlite, dump_postgres, postgres_environment
from db.backup.take import sqlite_path as _sqlite_path
from db.engine.connection import make_database
from db.schema.migrate import available_migrations, current_version, migrate

__all__ = ["RestoreError", "RestoreResult", "check_backup", "restore_backup"]


class RestoreError(Exception):
    """The backup cannot be restored; the message says why, for a person."""


@dataclass(frozen=True)
class RestoreResult:
    backup_version: int  # the schema version the backup was made at
    version: int  # the schema version after migrating forward
    kept: Path | None  # the database that was replaced, kept here


def _newest() -> int:
    steps = available_migrations()
    return steps[-1][0] if steps else 0


def _check_checksum(path: Path) -> None:
    try:
        expected = read_checksum(path)
    except ValueError as exc:
        raise RestoreError(str(exc)) from None
    if expected is not None and sha256_of(path) != expected:
        raise RestoreError(
            f"{path.name} does not match its checksum file: the backup is damaged or incomplete"
        )


def _check_version(version: int, path: Path) -> int:
    if version <= 0:
        raise RestoreError(f"{path.name} is not a Charge Portal database (no schema version)")
    if version > _newest():
        raise RestoreError(
            f"{path.name} was made by a newer Charge Portal (schema version {version}; "
            f"this one knows up to {_newest()}): restore it with that version"
        )
    return version


def _sqlite_backup_version(path: Path) -> int:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise RestoreError(f"cannot open {path}: {exc}") from None
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
        if [r[0] for r in rows] != ["ok"]:
            detail = "; ".join(str(r[0]) for r in rows[:3])
            raise RestoreError(f"{path.name} fails SQLite's integrity check: {detail}")
        has_versions = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        if not has_versions:
            return 0
        return int(
            connection.execute('SELECT MAX("version") FROM "schema_version"').fetchone()[0] or 0
        )
    except sqlite3.DatabaseError as exc:  # "file is not a database"
        raise RestoreError(f"{path.name} is not a SQLite database: {exc}") from None
    finally:
        connection.close()


def _pg_tool(name: str) -> str:
    program = shutil.which(name)
    if program is None:
        raise RestoreError(f"{name} is not on the PATH: install the PostgreSQL client tools")
    return program


def _pgdump_version(path: Path) -> int:
    """The highest schema version inside a ``pg_dump --format=custom`` archive."""
    listing = subprocess.run(
        [_pg_tool("pg_restore"), "--data-only", "--table=schema_version", "--file=-", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if listing.returncode != 0:
        raise RestoreError(
            f"{path.name} is not a readable PostgreSQL backup: {listing.stderr.strip()}"
        )
    versions, inside = [], False
    for line in listing.stdout.splitlines():
        if line.startswith("COPY ") and "schema_version" in line:
            inside = True
        elif inside and line == "\\.":
            inside = False
        elif inside and line.strip():
            versions.append(int(line.split("\t", 1)[0]))
    return max(versions, default=0)


def check_backup(path: Path, *, postgres: bool = False) -> int:
    """Checksum, integrity and schema version of a backup file; returns its version."""
    if not path.is_file():
        raise RestoreError(f"no such file: {path}")
    _check_checksum(path)
    version = _pgdump_version(path) if postgres else _sqlite_backup_version(path)
    return _check_version(version, path)


def _stamp(now: dt.datetime | None) -> str:
    return (now or dt.datetime.now(dt.UTC).replace(tzinfo=None)).strftime("%Y%m%dT%H%M%SZ")


def _restore_sqlite(
    database: peewee.Database, target: Path, path: Path, now: dt.datetime | None
) -> RestoreResult:
    backup_version = check_backup(path)
    work = target.with_name(f".{target.name}.restoring")
    for leftover in (work, work.with_name(work.name + "-wal"), work.with_name(work.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(path, work)
    try:
        upgraded = make_database(f"sqlite:///{work}")
        upgraded.connect()
        try:
            migrate(upgraded)
            version = current_version(upgraded)
        finally:
            upgraded.close()
        kept = None
        if target.exists():
            kept = target.with_name(f"{target.stem}.before-restore-{_stamp(now)}{target.suffix}")
            copy_sqlite(target, kept)  # with what its WAL held
        # through SQLite's backup API: the target's own WAL and locks are respected
        source = sqlite3.connect(str(work))
        into = sqlite3.connect(str(target))
        try:
            source.backup(into)
        finally:
            source.close()
            into.close()
    except (sqlite3.Error, peewee.DatabaseError, BackupError) as exc:
        raise RestoreError(f"the restore failed, the database was not replaced: {exc}") from exc
    finally:
        work.unlink(missing_ok=True)
    return RestoreResult(backup_version, version, kept)


def _restore_postgres(
    database: peewee.Database, path: Path, keep_dir: Path, now: dt.datetime | None
) -> RestoreResult:
    backup_version = check_backup(path, postgres=True)
    program = _pg_tool("pg_restore")
    kept = keep_dir / f"chargeportal-before-restore-{_stamp(now)}.pgdump"
    try:
        dump_postgres(database, kept)
    except BackupError as exc:
        raise RestoreError(f"cannot keep the current database, nothing restored: {exc}") from None
    database.connect(reuse_if_open=True)
    database.execute_sql("DROP SCHEMA public CASCADE")
    database.execute_sql("CREATE SCHEMA public")
    database.close()
    args, env = postgres_environment(database)
    done = subprocess.run(
        [program, "--no-owner", "--single-transaction", "--exit-on-error", *args, str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RestoreError(
            f"pg_restore failed: {done.stderr.strip()}; the replaced database is kept in {kept}"
        )
    database.connect(reuse_if_open=True)
    try:
        migrate(database)
        version = current_version(database)
    finally:
        database.close()
    return RestoreResult(backup_version, version, kept)


def restore_backup(
    database: peewee.Database, path: Path, *, now: dt.datetime | None = None
) -> RestoreResult:
    """Replace ``database`` by the backup at ``path`` (blocking). Raises
    ``DatabaseInUseError`` while a server runs, ``RestoreError`` for a bad backup."""
    path = path.resolve()
    target = _sqlite_path(database)
    with held_exclusive(database):
        if target is not None:
            if path == target.resolve():
                raise RestoreError("that file is the database itself")
            return _restore_sqlite(database, target, path, now)
        if isinstance(database, peewee.PostgresqlDatabase):
            return _restore_postgres(database, path, path.parent, now)
    raise RestoreError("only a SQLite file or a PostgreSQL database can be restored into")
