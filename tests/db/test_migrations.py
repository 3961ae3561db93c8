"""Frozen migrations: an upgraded database has exactly the schema of a new one."""

from __future__ import annotations

import ast
from pathlib import Path

import peewee
import pytest

from db import migrate, open_database
from db.engine.dialect import SORT_KEYS, sort_key_sql
from db.schema.migrate import available_migrations
from db.schema.migrations import (
    m0003_session_sort_indexes,
    m0011_session_hour_stats,
    m0020_session_day_quarters,
    m0021_chart_triggers_when,
)
from db.schema.models import ALL_MODELS, SchemaVersion
from tests.db.schema_shape import differences, schema_shape

MIGRATIONS = Path(__file__).resolve().parents[2] / "db" / "schema" / "migrations"


def declared_schema(database: peewee.Database) -> None:
    """The schema the code expects: the models' tables plus the sessions' sort indexes
    and the chart aggregates with their triggers (not models: m0011, m0020, m0021 make them)."""
    database.create_tables(ALL_MODELS)
    for key in SORT_KEYS:
        database.execute_sql(
            f'CREATE INDEX "charging_session_sort_{key}" ON "charging_session"'
            f' (({sort_key_sql(key, database)}), "id")'
        )
    m0011_session_hour_stats.up(database)
    m0020_session_day_quarters.up(database)
    m0021_chart_triggers_when.up(database)


def stamp(database: peewee.Database, version: int) -> None:
    """Record migrations 1..version as applied, as a database of that age would."""
    with database.bind_ctx([SchemaVersion]):
        for number, name, _module in available_migrations():
            if number <= version:
                SchemaVersion.create(version=number, name=name)


def fresh(url: str) -> peewee.Database:
    database = open_database(url)
    database.connect(reuse_if_open=True)
    return database


def add_a_site(database: peewee.Database) -> None:
    """A row in a table later migrations alter (SQLite rebuilds and adds columns with data)."""
    columns = [c for c in database.get_columns("site") if c.name != "id"]
    names = ", ".join(f'"{c.name}"' for c in columns)
    marks = ", ".join(
        "%s" if not isinstance(database, peewee.SqliteDatabase) else "?" for _ in columns
    )
    values = [
        "2026-01-01 00:00:00" if c.name == "created_at" else None if c.null else "" for c in columns
    ]
    database.execute_sql(f'INSERT INTO "site" ({names}) VALUES ({marks})', values)


def check_upgraded_equals_declared(first: str, second: str) -> None:
    upgraded = fresh(first)
    migrate(upgraded, target=1)
    add_a_site(upgraded)
    migrate(upgraded)
    declared = fresh(second)
    declared_schema(declared)
    assert differences(schema_shape(upgraded), schema_shape(declared)) == []
    upgraded.close()
    declared.close()


def test_a_database_upgraded_from_m0001_has_the_schema_the_models_declare(
    tmp_path: Path,
) -> None:
    check_upgraded_equals_declared(
        f"sqlite:///{tmp_path}/upgraded.sqlite3", f"sqlite:///{tmp_path}/declared.sqlite3"
    )


def test_a_database_created_from_the_models_before_the_freeze_upgrades_to_the_same_schema(
    tmp_path: Path,
) -> None:
    """Before m0001 was frozen it created the models' tables of the day: later steps
    must leave such a database exactly as they leave one that began at frozen m0001."""
    legacy = fresh(f"sqlite:///{tmp_path}/legacy.sqlite3")
    legacy.create_tables(ALL_MODELS)
    stamp(legacy, 1)
    add_a_site(legacy)
    migrate(legacy)
    upgraded = fresh(f"sqlite:///{tmp_path}/upgraded.sqlite3")
    migrate(upgraded)
    assert differences(schema_shape(legacy), schema_shape(upgraded)) == []
    legacy.close()
    upgraded.close()


def test_the_sort_keys_match_the_indexed_expressions_of_m0003() -> None:
    for key, expressions in m0003_session_sort_indexes.EXPRESSIONS.items():
        assert SORT_KEYS[key] == expressions


@pytest.mark.parametrize("path", sorted(MIGRATIONS.glob("m[0-9]*.py")), ids=lambda p: p.stem)
def test_no_migration_imports_live_code(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    project = {"db", "gateway", "portal", "chargeportal", "simulator", "filestore"}
    assert not {name for name in imported if name.split(".")[0] in project}
