"""Bulk loading helpers: build a table's indexes once after a big insert."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import peewee

from db.engine.connection import is_sqlite

__all__ = ["indexes_built_after"]


@contextlib.contextmanager
def indexes_built_after(database: peewee.Database, model: type[peewee.Model]) -> Iterator[None]:
    """Drop ``model``'s secondary indexes, and create them again afterwards: a bulk fill
    into an empty table is faster when each index is built once, sorted."""
    table = model._meta.table_name
    if is_sqlite(database):
        found = database.execute_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        ).fetchall()
    else:
        found = database.execute_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
            "AND indexname NOT LIKE %s",
            (table, "%_pkey"),
        ).fetchall()
    for name, _ in found:
        database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    try:
        yield
    finally:
        for _, sql in found:
            database.execute_sql(sql)
