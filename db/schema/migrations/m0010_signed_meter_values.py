"""Signed meter values (OCMF) are hundreds of characters: ``meter_sample.value`` to 4096."""

from __future__ import annotations

import peewee

OLD = '"value" VARCHAR(64) NOT NULL'
NEW = '"value" VARCHAR(4096) NOT NULL'


def _retype_sqlite(database: peewee.Database, old: str, new: str) -> None:
    # Both declared types have TEXT affinity, so the stored rows are untouched: SQLite's
    # documented way to change only the declaration is editing sqlite_schema in place
    # (https://sqlite.org/lang_altertable.html#otheralter), not copying a table that may
    # hold millions of samples. The schema version is bumped so every connection reloads.
    (sql,) = database.execute_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'meter_sample'"
    ).fetchone()
    if old not in sql:
        return  # already done (or a table made from today's models)
    (version,) = database.execute_sql("PRAGMA schema_version").fetchone()
    database.execute_sql("PRAGMA writable_schema = ON")
    try:
        database.execute_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'meter_sample'",
            (sql.replace(old, new),),
        )
        database.execute_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        database.execute_sql("PRAGMA writable_schema = OFF")
    (result,) = database.execute_sql("PRAGMA quick_check").fetchone()
    if result != "ok":
        raise RuntimeError(f"meter_sample after retyping value: {result}")


def up(database: peewee.Database) -> None:
    if isinstance(database, peewee.SqliteDatabase):
        _retype_sqlite(database, OLD, NEW)
    else:  # widening a VARCHAR is a catalogue change on PostgreSQL, no table rewrite
        database.execute_sql('ALTER TABLE "meter_sample" ALTER COLUMN "value" TYPE VARCHAR(4096)')


def down(database: peewee.Database) -> None:
    if isinstance(database, peewee.SqliteDatabase):
        _retype_sqlite(database, NEW, OLD)
    else:
        database.execute_sql(
            'ALTER TABLE "meter_sample" ALTER COLUMN "value" TYPE VARCHAR(64)'
            ' USING left("value", 64)'
        )
