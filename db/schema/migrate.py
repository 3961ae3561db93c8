"""Numbered migrations: apply every ``db/schema/migrations/mNNNN_*.py`` not yet recorded."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import peewee

from db.schema import migrations as migrations_package
from db.schema.models import SchemaVersion


def available_migrations() -> list[tuple[int, str, ModuleType]]:
    """(number, name, module) for every migration module, in order."""
    found = []
    for info in pkgutil.iter_modules(migrations_package.__path__):
        if not info.name.startswith("m") or not info.name[1:5].isdigit():
            continue
        module = importlib.import_module(f"{migrations_package.__name__}.{info.name}")
        found.append((int(info.name[1:5]), info.name, module))
    return sorted(found, key=lambda item: item[0])


def current_version(database: peewee.Database) -> int:
    if not database.table_exists(SchemaVersion._meta.table_name):
        return 0
    with database.bind_ctx([SchemaVersion]):
        latest = SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar()
    return int(latest or 0)


def migrate(database: peewee.Database, target: int | None = None) -> list[int]:
    """Bring the schema up (or down) to ``target`` (default: newest). Returns versions run.

    On PostgreSQL several processes may start at once (``serve --workers``): a session
    advisory lock lets one migrate while the others wait, then find the work done.
    """
    database.connect(reuse_if_open=True)
    postgres = isinstance(database, peewee.PostgresqlDatabase)
    if postgres:
        database.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        return _migrate(database, target)
    finally:
        if postgres:
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


#: the advisory lock held while one process migrates a PostgreSQL database ("CPMIGR")
MIGRATION_LOCK = 0x43_50_4D_49_47_52


def _migrate(database: peewee.Database, target: int | None) -> list[int]:
    done: list[int] = []
    with database.bind_ctx([SchemaVersion]):
        if not database.table_exists(SchemaVersion._meta.table_name):
            database.create_tables([SchemaVersion])
        version = current_version(database)
        steps = available_migrations()
        goal = target if target is not None else (steps[-1][0] if steps else 0)
        if goal >= version:
            for number, name, module in steps:
                if version < number <= goal:
                    with database.atomic():
                        module.up(database)
                        SchemaVersion.create(version=number, name=name)
                    done.append(number)
        else:
            for number, _name, module in reversed(steps):
                if goal < number <= version:
                    with database.atomic():
                        module.down(database)
                        SchemaVersion.delete().where(SchemaVersion.version == number).execute()
                    done.append(number)
    return done
