"""Login state out of process memory (issue 16): ``auth_failure`` (the throttles' failed
passwords) and ``revoked_session`` (logged-out cookies), shared by every process."""

from __future__ import annotations

import peewee


def up(database: peewee.Database) -> None:
    sqlite = isinstance(database, peewee.SqliteDatabase)
    key = '"id" INTEGER NOT NULL PRIMARY KEY' if sqlite else '"id" BIGSERIAL NOT NULL PRIMARY KEY'
    time = "DATETIME" if sqlite else "TIMESTAMP"
    database.execute_sql(
        f'CREATE TABLE IF NOT EXISTS "auth_failure" ({key}, "scope" VARCHAR(16) NOT NULL,'
        f' "key" VARCHAR(320) NOT NULL, "at" {time} NOT NULL)'
    )
    database.execute_sql('CREATE INDEX IF NOT EXISTS "auth_failure_at" ON "auth_failure" ("at")')
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "auth_failure_scope_key_at"'
        ' ON "auth_failure" ("scope", "key", "at")'
    )
    database.execute_sql(
        'CREATE TABLE IF NOT EXISTS "revoked_session" ("digest" VARCHAR(64) NOT NULL PRIMARY KEY,'
        f' "expires_at" {time} NOT NULL)'
    )
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "revoked_session_expires_at"'
        ' ON "revoked_session" ("expires_at")'
    )


def down(database: peewee.Database) -> None:
    database.execute_sql('DROP TABLE IF EXISTS "revoked_session"')
    database.execute_sql('DROP TABLE IF EXISTS "auth_failure"')
