"""Index charging sessions by id tag and end time: the ConcurrentTx check per StartTransaction."""

from __future__ import annotations

import peewee

INDEX = "charging_session_id_tag_end_time"


def up(database: peewee.Database) -> None:
    database.execute_sql(
        f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "charging_session" ("id_tag", "end_time")'
    )


def down(database: peewee.Database) -> None:
    database.execute_sql(f'DROP INDEX IF EXISTS "{INDEX}"')
