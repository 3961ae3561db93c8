"""The first schema: every table of SPEC.md."""

from __future__ import annotations

import peewee

from db.models import ALL_MODELS, SchemaVersion

TABLES = [m for m in ALL_MODELS if m is not SchemaVersion]


def up(database: peewee.Database) -> None:
    with database.bind_ctx(TABLES):
        database.create_tables(TABLES, safe=True)


def down(database: peewee.Database) -> None:
    with database.bind_ctx(TABLES):
        database.drop_tables(TABLES, safe=True)
