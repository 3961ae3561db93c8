"""Expression indexes for sorting the sessions table by duration, energy and meter value.

The sort keys (``db.dialect.SORT_KEYS``) depend only on columns written at start and
stop, so MeterValues updates do not touch these indexes. Without them, sorting a
million sessions by duration scans and sorts the whole table (~2 s per page).
"""

from __future__ import annotations

import peewee

from db.dialect import SORT_KEYS, sort_key_sql

TABLE = "charging_session"


def _name(key: str) -> str:
    return f"charging_session_sort_{key}"


def up(database: peewee.Database) -> None:
    for key in SORT_KEYS:
        expression = sort_key_sql(key, database)
        database.execute_sql(
            f'CREATE INDEX IF NOT EXISTS "{_name(key)}" ON "{TABLE}" (({expression}), "id")'
        )


def down(database: peewee.Database) -> None:
    for key in SORT_KEYS:
        database.execute_sql(f'DROP INDEX IF EXISTS "{_name(key)}"')
