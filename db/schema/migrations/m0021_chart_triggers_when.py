"""The chart aggregate triggers (m0011 hourly, m0020 per day) run only for a counted session.

Their bodies add or take away a session only when it is closed and counted (``end_time``
set, ``authentication`` not 2); every MeterValues updates a running session's
``energy_wh``, so the update triggers ran for nothing ~500 times per batch. A ``WHEN``
with the bodies' own condition (on OLD or NEW) skips them then and changes nothing else:
a closed session's every change, a close, a deletion, a site move still reach the bodies.
SQLite: the triggers m0011/m0020 wrote are re-created with the ``WHEN`` put before their
body (the bodies stay as written). PostgreSQL: the one trigger per table becomes three
(insert, update, delete), each with its ``WHEN``, calling the same function. Literal SQL.
"""

from __future__ import annotations

import peewee

#: (table of the aggregate, columns its update trigger watches)
_POSTGRES = {
    "session_hour": (
        '"start_time", "end_time", "energy_wh", "authentication", "site_id", "station_id",'
        ' "outlet_id"'
    ),
    "session_day": '"start_time", "end_time", "energy_wh", "authentication", "site_id"',
}
_COUNTED = "{row}.end_time IS NOT NULL AND {row}.authentication != 2"
_CONDITIONS = {
    "insert": _COUNTED.format(row="NEW"),
    "delete": _COUNTED.format(row="OLD"),
    "update": f"({_COUNTED.format(row='OLD')}) OR ({_COUNTED.format(row='NEW')})",
}
_BODY = " FOR EACH ROW BEGIN "


def is_sqlite(database: peewee.Database) -> bool:
    return isinstance(database, peewee.SqliteDatabase)


def _sqlite_rewrite(database: peewee.Database, limited: bool) -> None:
    for prefix in _POSTGRES:
        for event, condition in _CONDITIONS.items():
            name = f"{prefix}_{event}"
            row = database.execute_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)
            ).fetchone()
            if row is None:  # dropped for a bulk load: made again, then limited, after it
                continue
            when = f" FOR EACH ROW WHEN {condition} BEGIN "
            sql = str(row[0])
            new = sql.replace(_BODY, when, 1) if limited else sql.replace(when, _BODY, 1)
            if new == sql:
                continue
            database.execute_sql(f'DROP TRIGGER "{name}"')
            database.execute_sql(new)


def _postgres_limit(database: peewee.Database) -> None:
    for prefix, columns in _POSTGRES.items():
        drop_postgres(database, prefix)
        events = {
            "insert": "INSERT",
            "update": f"UPDATE OF {columns}",
            "delete": "DELETE",
        }
        for event, condition in _CONDITIONS.items():
            database.execute_sql(
                f'CREATE TRIGGER "{prefix}_{event}" AFTER {events[event]} ON "charging_session" '
                f"FOR EACH ROW WHEN ({condition.replace('!=', '<>')}) "
                f'EXECUTE FUNCTION "{prefix}_trigger"()'
            )


def drop_postgres(database: peewee.Database, prefix: str) -> None:
    """Drop both forms of ``prefix``'s triggers (m0011/m0020's one, this migration's three)."""
    for name in (prefix, *(f"{prefix}_{event}" for event in _CONDITIONS)):
        database.execute_sql(f'DROP TRIGGER IF EXISTS "{name}" ON "charging_session"')


def limit(database: peewee.Database) -> None:
    """Put the ``WHEN`` on the chart triggers (also after a bulk load made them again)."""
    if is_sqlite(database):
        _sqlite_rewrite(database, limited=True)
    else:
        _postgres_limit(database)


def up(database: peewee.Database) -> None:
    limit(database)


def down(database: peewee.Database) -> None:
    if is_sqlite(database):
        _sqlite_rewrite(database, limited=False)
        return
    for prefix, columns in _POSTGRES.items():
        drop_postgres(database, prefix)
        database.execute_sql(
            f'CREATE TRIGGER "{prefix}" AFTER INSERT OR DELETE OR UPDATE OF {columns} '
            f'ON "charging_session" FOR EACH ROW EXECUTE FUNCTION "{prefix}_trigger"()'
        )
