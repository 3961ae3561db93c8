"""Certificate signing requests (OCPP 1.6 security, SignCertificate): ``certificate_request``."""

from __future__ import annotations

import peewee

_COLUMNS = (
    '"station_id" INTEGER, "charge_box_id" VARCHAR(64) NOT NULL, "csr" TEXT NOT NULL,'
    ' "status" VARCHAR(16) NOT NULL, "detail" VARCHAR(255) NOT NULL,'
    ' "received_at" {time} NOT NULL, "updated_at" {time} NOT NULL,'
    ' FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE CASCADE'
)


def up(database: peewee.Database) -> None:
    sqlite = isinstance(database, peewee.SqliteDatabase)
    key = '"id" INTEGER NOT NULL PRIMARY KEY' if sqlite else '"id" SERIAL NOT NULL PRIMARY KEY'
    columns = _COLUMNS.format(time="DATETIME" if sqlite else "TIMESTAMP")
    database.execute_sql(f'CREATE TABLE IF NOT EXISTS "certificate_request" ({key}, {columns})')
    for column in ("station_id", "charge_box_id"):
        database.execute_sql(
            f'CREATE INDEX IF NOT EXISTS "certificate_request_{column}"'
            f' ON "certificate_request" ("{column}")'
        )


def down(database: peewee.Database) -> None:
    database.execute_sql('DROP TABLE IF EXISTS "certificate_request"')
