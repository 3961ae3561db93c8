"""OCPP 1.6 security profiles (issue 18): ``station.security_profile`` and its pending
upgrade, and the station's client certificate (subject, expiry).

A station that had a password was refused without it (profile 1): it starts at 1, the
others at 0, so nothing changes for a connected fleet.
"""

from __future__ import annotations

import peewee
from playhouse.migrate import PostgresqlMigrator, SchemaMigrator, SqliteMigrator, migrate

TIME = {"sqlite": "DATETIME", "postgres": "TIMESTAMP"}
SMALL = {"sqlite": "INTEGER", "postgres": "SMALLINT"}


def is_sqlite(database: peewee.Database) -> bool:
    return isinstance(database, peewee.SqliteDatabase)


def _columns(database: peewee.Database) -> dict[str, str]:
    engine = "sqlite" if is_sqlite(database) else "postgres"
    return {
        "security_profile": f"{SMALL[engine]} NOT NULL DEFAULT 0",
        "security_profile_pending": SMALL[engine],
        "certificate_subject": "VARCHAR(255) NOT NULL DEFAULT ''",
        "certificate_expires_at": TIME[engine],
    }


def _present(database: peewee.Database) -> set[str]:
    return {c.name for c in database.get_columns("station")}


def up(database: peewee.Database) -> None:
    present = _present(database)
    for column, kind in _columns(database).items():
        if column not in present:
            database.execute_sql(f'ALTER TABLE "station" ADD COLUMN "{column}" {kind}')
    if "security_profile" not in present:
        database.execute_sql(
            'UPDATE "station" SET "security_profile" = 1 WHERE "password_hash" IS NOT NULL'
        )


def down(database: peewee.Database) -> None:
    migrator: SchemaMigrator = (
        SqliteMigrator(database) if is_sqlite(database) else PostgresqlMigrator(database)
    )
    present = _present(database)
    drops = [migrator.drop_column("station", c) for c in _columns(database) if c in present]
    if drops:
        migrate(*drops)
