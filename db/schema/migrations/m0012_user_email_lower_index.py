"""Index users by their lower-cased e-mail address: login and every "is this address
taken" check compare ``LOWER("email")`` (addresses keep the case they were typed in), which
scanned the whole users table (100,000 EV users at scale) without it."""

from __future__ import annotations

import peewee

INDEX = "user_email_lower"
#: Also declared on ``db.schema.models.User`` (same text: the planner matches the expression).
SQL = 'CREATE INDEX IF NOT EXISTS "user_email_lower" ON "user" (LOWER("email"))'


def up(database: peewee.Database) -> None:
    database.execute_sql(SQL)


def down(database: peewee.Database) -> None:
    database.execute_sql(f'DROP INDEX IF EXISTS "{INDEX}"')
