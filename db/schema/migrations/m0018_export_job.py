"""Export jobs out of process memory (issue 16): ``export_job``, the state, progress and
file of each export, seen by every portal process and after a restart."""

from __future__ import annotations

import peewee


def up(database: peewee.Database) -> None:
    sqlite = isinstance(database, peewee.SqliteDatabase)
    time = "DATETIME" if sqlite else "TIMESTAMP"
    big = "INTEGER" if sqlite else "BIGINT"
    boolean = "INTEGER" if sqlite else "BOOLEAN"
    database.execute_sql(
        'CREATE TABLE IF NOT EXISTS "export_job" ("id" VARCHAR(32) NOT NULL PRIMARY KEY,'
        ' "owner" VARCHAR(320) NOT NULL, "fmt" VARCHAR(8) NOT NULL,'
        ' "filename" VARCHAR(128) NOT NULL, "state" VARCHAR(16) NOT NULL,'
        f' "total" {big}, "done" {big} NOT NULL, "error" TEXT NOT NULL, "path" TEXT NOT NULL,'
        f' "cancel_requested" {boolean} NOT NULL, "created_at" {time} NOT NULL,'
        f' "updated_at" {time} NOT NULL, "finished_at" {time})'
    )
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "export_job_updated_at" ON "export_job" ("updated_at")'
    )
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "export_job_owner_state" ON "export_job" ("owner", "state")'
    )


def down(database: peewee.Database) -> None:
    database.execute_sql('DROP TABLE IF EXISTS "export_job"')
