"""Alarm acknowledgement (issue 12, fix 5): who acknowledged an alarm, when, and his comment."""

from __future__ import annotations

import peewee
from playhouse.migrate import PostgresqlMigrator, SchemaMigrator, SqliteMigrator, migrate

#: (column, SQL type per engine, rest of the definition)
COLUMNS = (
    ("acknowledged_at", {"sqlite": "DATETIME", "postgres": "TIMESTAMP"}, ""),
    (
        "acknowledged_by",
        {"sqlite": "VARCHAR(254)", "postgres": "VARCHAR(254)"},
        " NOT NULL DEFAULT ''",
    ),
    ("ack_comment", {"sqlite": "TEXT", "postgres": "TEXT"}, " NOT NULL DEFAULT ''"),
)


def is_sqlite(database: peewee.Database) -> bool:
    return isinstance(database, peewee.SqliteDatabase)


def _has(database: peewee.Database, column: str) -> bool:
    return any(c.name == column for c in database.get_columns("alarm"))


def up(database: peewee.Database) -> None:
    # One ALTER TABLE per column on both engines: SQLite adds a column with a constant
    # default in place (playhouse would rebuild the table), PostgreSQL keeps the default.
    engine = "sqlite" if is_sqlite(database) else "postgres"
    for column, types, rest in COLUMNS:
        if not _has(database, column):
            database.execute_sql(f'ALTER TABLE "alarm" ADD COLUMN "{column}" {types[engine]}{rest}')


def down(database: peewee.Database) -> None:
    migrator: SchemaMigrator = (
        SqliteMigrator(database) if is_sqlite(database) else PostgresqlMigrator(database)
    )
    present = [c[0] for c in COLUMNS if _has(database, c[0])]
    migrate(*(migrator.drop_column("alarm", column) for column in present))
