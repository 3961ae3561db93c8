"""Database backups (issue 16): ``backup_run``, one row per backup with its result and file."""

from __future__ import annotations

import peewee

_COLUMNS = (
    '"slot" VARCHAR(40), "kind" VARCHAR(16) NOT NULL, "started_at" {time} NOT NULL,'
    ' "finished_at" {time}, "result" VARCHAR(16) NOT NULL, "path" TEXT NOT NULL,'
    ' "size_bytes" {big} NOT NULL, "sha256" VARCHAR(64) NOT NULL, "message" TEXT NOT NULL'
)


def up(database: peewee.Database) -> None:
    sqlite = isinstance(database, peewee.SqliteDatabase)
    key = '"id" INTEGER NOT NULL PRIMARY KEY' if sqlite else '"id" SERIAL NOT NULL PRIMARY KEY'
    columns = _COLUMNS.format(
        time="DATETIME" if sqlite else "TIMESTAMP", big="INTEGER" if sqlite else "BIGINT"
    )
    database.execute_sql(f'CREATE TABLE IF NOT EXISTS "backup_run" ({key}, {columns})')
    database.execute_sql(
        'CREATE UNIQUE INDEX IF NOT EXISTS "backup_run_slot" ON "backup_run" ("slot")'
    )
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "backup_run_started_at" ON "backup_run" ("started_at")'
    )


def down(database: peewee.Database) -> None:
    database.execute_sql('DROP TABLE IF EXISTS "backup_run"')
