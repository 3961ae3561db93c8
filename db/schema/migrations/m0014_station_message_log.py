"""The full station message log (issue 15): ``ocpp_frame`` (every OCPP-J frame, both ways)
and ``connection_event`` (a station's connections opened and closed, with why)."""

from __future__ import annotations

import peewee

_TABLES = {
    "ocpp_frame": (
        '"station_id" INTEGER NOT NULL, "charge_box_id" VARCHAR(64) NOT NULL,'
        ' "at" {time} NOT NULL, "direction" VARCHAR(4) NOT NULL,'
        ' "message_type" VARCHAR(10) NOT NULL, "unique_id" VARCHAR(64) NOT NULL,'
        ' "action" VARCHAR(48) NOT NULL, "payload" TEXT NOT NULL'
    ),
    "connection_event": (
        '"station_id" INTEGER NOT NULL, "charge_box_id" VARCHAR(64) NOT NULL,'
        ' "at" {time} NOT NULL, "kind" VARCHAR(12) NOT NULL,'
        ' "reason" VARCHAR(255) NOT NULL, "remote" VARCHAR(64) NOT NULL'
    ),
}
_INDEXES = {
    "ocpp_frame": (("at",), ("station_id", "id")),
    "connection_event": (("at",), ("station_id", "at")),
}


def up(database: peewee.Database) -> None:
    sqlite = isinstance(database, peewee.SqliteDatabase)
    key = '"id" INTEGER NOT NULL PRIMARY KEY' if sqlite else '"id" SERIAL NOT NULL PRIMARY KEY'
    for table, columns in _TABLES.items():
        body = columns.format(time="DATETIME" if sqlite else "TIMESTAMP")
        database.execute_sql(f'CREATE TABLE IF NOT EXISTS "{table}" ({key}, {body})')
        for index in _INDEXES[table]:
            name = f"{table}_{'_'.join(index)}"
            names = ", ".join(f'"{c}"' for c in index)
            database.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({names})')


def down(database: peewee.Database) -> None:
    for table in _TABLES:
        database.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
