"""Time zones: ``site.time_zone`` (a site's own zone, for its schedules) and ``user.time_zone``
(a user's display zone); empty = the system zone (setting ``system.time_zone``)."""

from __future__ import annotations

import peewee
from playhouse.migrate import PostgresqlMigrator, SchemaMigrator, SqliteMigrator, migrate

COLUMNS = (("site", "time_zone"), ("user", "time_zone"))


def is_sqlite(database: peewee.Database) -> bool:
    return isinstance(database, peewee.SqliteDatabase)


def _migrator(database: peewee.Database) -> SchemaMigrator:
    if is_sqlite(database):
        return SqliteMigrator(database)
    return PostgresqlMigrator(database)


def _has(database: peewee.Database, table: str, column: str) -> bool:
    return any(c.name == column for c in database.get_columns(table))


def up(database: peewee.Database) -> None:
    # databases created before m0001 was frozen (tables from the models of the day) have them
    missing = [(t, c) for t, c in COLUMNS if not _has(database, t, c)]
    # One statement on both engines. playhouse's SqliteMigrator makes a NOT NULL column by
    # rebuilding the table, which fails on a database with rows (foreign keys point at site
    # and user); and its PostgreSQL migrator leaves no column default, unlike the models.
    for table, column in missing:
        database.execute_sql(
            f'ALTER TABLE "{table}" ADD COLUMN "{column}" VARCHAR(64) NOT NULL DEFAULT \'\''
        )


def down(database: peewee.Database) -> None:
    migrator = _migrator(database)
    present = [(t, c) for t, c in COLUMNS if _has(database, t, c)]
    migrate(*(migrator.drop_column(table, column) for table, column in present))
