"""The daily alarm e-mail's durable record (issue 16, SPEC §7): ``alarm_digest``, one row per
user and local day, claimed atomically so that the e-mail goes out once."""

from __future__ import annotations

import peewee

_COLUMNS = (
    '"user_id" INTEGER NOT NULL, "day" VARCHAR(10) NOT NULL, "status" VARCHAR(8) NOT NULL,'
    ' "attempts" INTEGER NOT NULL, "next_attempt_at" {time} NOT NULL, "lease_until" {time},'
    ' "claimed_by" VARCHAR(64) NOT NULL, "covered_until" {time}, "detail" TEXT NOT NULL,'
    ' "created_at" {time} NOT NULL, "updated_at" {time} NOT NULL,'
    ' FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE'
)


def up(database: peewee.Database) -> None:
    sqlite = isinstance(database, peewee.SqliteDatabase)
    key = '"id" INTEGER NOT NULL PRIMARY KEY' if sqlite else '"id" SERIAL NOT NULL PRIMARY KEY'
    columns = _COLUMNS.format(time="DATETIME" if sqlite else "TIMESTAMP")
    database.execute_sql(f'CREATE TABLE IF NOT EXISTS "alarm_digest" ({key}, {columns})')
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "alarm_digest_status" ON "alarm_digest" ("status")'
    )
    database.execute_sql(
        'CREATE UNIQUE INDEX IF NOT EXISTS "alarm_digest_user_id_day"'
        ' ON "alarm_digest" ("user_id", "day")'
    )


def down(database: peewee.Database) -> None:
    database.execute_sql('DROP TABLE IF EXISTS "alarm_digest"')
