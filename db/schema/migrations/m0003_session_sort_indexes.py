"""Expression indexes for sorting the sessions table by duration, energy and meter value.

The sort keys depend only on columns written at start and stop, so MeterValues updates
do not touch these indexes. Without them, sorting a million sessions by duration scans
and sorts the whole table (~2 s per page). The expressions are written out here as they
were at this migration; ``db.engine.dialect.SORT_KEYS`` must keep the same text for the planner
to use them (``tests/db/test_migrations.py`` checks that it does).
"""

from __future__ import annotations

import peewee

TABLE = "charging_session"

_RUNNING_LAST = 'CASE WHEN "end_time" IS NULL THEN 1e15 '
EXPRESSIONS: dict[str, dict[str, str]] = {
    "duration": {
        "sqlite": 'COALESCE((julianday("end_time") - julianday("start_time")) * 86400.0, 1e12)',
        "postgres": 'COALESCE(EXTRACT(EPOCH FROM ("end_time" - "start_time")), 1e12)',
    },
    "energy": {
        "sqlite": _RUNNING_LAST + 'ELSE "energy_wh" END',
        "postgres": _RUNNING_LAST + 'ELSE "energy_wh" END',
    },
    "meter": {
        "sqlite": _RUNNING_LAST + 'ELSE COALESCE("meter_stop", "meter_start") END',
        "postgres": _RUNNING_LAST + 'ELSE COALESCE("meter_stop", "meter_start") END',
    },
}


def _name(key: str) -> str:
    return f"charging_session_sort_{key}"


def up(database: peewee.Database) -> None:
    engine = "sqlite" if isinstance(database, peewee.SqliteDatabase) else "postgres"
    for key, expressions in EXPRESSIONS.items():
        database.execute_sql(
            f'CREATE INDEX IF NOT EXISTS "{_name(key)}" ON "{TABLE}" '
            f'(({expressions[engine]}), "id")'
        )


def down(database: peewee.Database) -> None:
    for key in EXPRESSIONS:
        database.execute_sql(f'DROP INDEX IF EXISTS "{_name(key)}"')
