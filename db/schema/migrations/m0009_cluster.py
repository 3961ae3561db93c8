"""Scale-out (issue 17): nodes with leases, which node holds which station, and commands
routed to the node holding their station (rows + LISTEN/NOTIFY on PostgreSQL)."""

from __future__ import annotations

import peewee

TYPES = {
    "sqlite": {"id": "INTEGER NOT NULL PRIMARY KEY", "time": "DATETIME", "real": "REAL"},
    "postgres": {
        "id": "BIGSERIAL NOT NULL PRIMARY KEY",
        "time": "TIMESTAMP",
        "real": "DOUBLE PRECISION",
    },
}


def is_sqlite(database: peewee.Database) -> bool:
    return isinstance(database, peewee.SqliteDatabase)


def up(database: peewee.Database) -> None:
    t = TYPES["sqlite" if is_sqlite(database) else "postgres"]
    database.execute_sql(
        'CREATE TABLE IF NOT EXISTS "cluster_node" ('
        '"node_id" VARCHAR(100) NOT NULL PRIMARY KEY, '
        '"role" VARCHAR(16) NOT NULL, '
        '"host" VARCHAR(255) NOT NULL, '
        '"pid" INTEGER NOT NULL, '
        f'"started_at" {t["time"]} NOT NULL, '
        f'"renewed_at" {t["time"]} NOT NULL)'
    )
    database.execute_sql(
        'CREATE TABLE IF NOT EXISTS "station_presence" ('
        '"charge_box_id" VARCHAR(64) NOT NULL PRIMARY KEY, '
        '"node_id" VARCHAR(100) NOT NULL, '
        f'"connected_at" {t["time"]} NOT NULL, '
        f'"renewed_at" {t["time"]} NOT NULL)'
    )
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "station_presence_node_id" ON "station_presence" ("node_id")'
    )
    database.execute_sql(
        'CREATE TABLE IF NOT EXISTS "cluster_command" ('
        f'"id" {t["id"]}, '
        '"charge_box_id" VARCHAR(64) NOT NULL, '
        '"node_id" VARCHAR(100) NOT NULL, '
        '"action" VARCHAR(64) NOT NULL, '
        '"body" TEXT NOT NULL, '
        f'"deadline" {t["real"]} NOT NULL, '
        '"state" VARCHAR(16) NOT NULL, '
        '"result" TEXT, '
        f'"created_at" {t["time"]} NOT NULL, '
        f'"claimed_at" {t["time"]}, '
        f'"finished_at" {t["time"]})'
    )
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "cluster_command_node_id_state" '
        'ON "cluster_command" ("node_id", "state")'
    )


def down(database: peewee.Database) -> None:
    for table in ("cluster_command", "station_presence", "cluster_node"):
        database.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
