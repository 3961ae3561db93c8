"""Installed certificates as a station last listed them (GetInstalledCertificateIds):
``installed_certificates``, one row per station and certificate use."""

from __future__ import annotations

import peewee


def up(database: peewee.Database) -> None:
    sqlite = isinstance(database, peewee.SqliteDatabase)
    key = '"id" INTEGER NOT NULL PRIMARY KEY' if sqlite else '"id" SERIAL NOT NULL PRIMARY KEY'
    time = "DATETIME" if sqlite else "TIMESTAMP"
    database.execute_sql(
        f'CREATE TABLE IF NOT EXISTS "installed_certificates" ({key},'
        ' "station_id" INTEGER NOT NULL, "certificate_type" VARCHAR(48) NOT NULL,'
        f' "hash_data" TEXT NOT NULL, "read_at" {time} NOT NULL, "installed_since" {time},'
        ' FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE CASCADE)'
    )
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "installed_certificates_station_id"'
        ' ON "installed_certificates" ("station_id")'
    )
    database.execute_sql(
        'CREATE UNIQUE INDEX IF NOT EXISTS "installed_certificates_station_id_certificate_type"'
        ' ON "installed_certificates" ("station_id", "certificate_type")'
    )


def down(database: peewee.Database) -> None:
    database.execute_sql('DROP TABLE IF EXISTS "installed_certificates"')
