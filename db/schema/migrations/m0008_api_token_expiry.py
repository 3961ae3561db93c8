"""API token expiry (issue 11 point 10): ``api_token.expires_at``, NULL = never expires."""

from __future__ import annotations

import peewee
from playhouse.migrate import PostgresqlMigrator, SchemaMigrator, SqliteMigrator, migrate

TYPES = {"sqlite": "DATETIME", "postgres": "TIMESTAMP"}


def is_sqlite(database: peewee.Database) -> bool:
    return isinstance(database, peewee.SqliteDatabase)


def _has(database: peewee.Database) -> bool:
    return any(c.name == "expires_at" for c in database.get_columns("api_token"))


def up(database: peewee.Database) -> None:
    # a database made from the models before m0001 was frozen may have it already
    if not _has(database):
        engine = "sqlite" if is_sqlite(database) else "postgres"
        database.execute_sql(f'ALTER TABLE "api_token" ADD COLUMN "expires_at" {TYPES[engine]}')


def down(database: peewee.Database) -> None:
    migrator: SchemaMigrator = (
        SqliteMigrator(database) if is_sqlite(database) else PostgresqlMigrator(database)
    )
    if _has(database):
        migrate(migrator.drop_column("api_token", "expires_at"))
