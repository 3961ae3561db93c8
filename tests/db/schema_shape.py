"""What a database's schema is, read back from the engine: tables, columns, keys, indexes."""

from __future__ import annotations

import re
from typing import Any

import peewee

Shape = dict[str, Any]


def _normal(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql).replace("IF NOT EXISTS ", "")
    return sql.replace("( ", "(").replace(" )", ")").strip()


def _sqlite(database: peewee.Database) -> Shape:
    shape: Shape = {}
    rows = database.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    for (table,) in rows:
        columns = {
            row[1]: (row[2].upper(), bool(row[3]), row[4], row[5])
            for row in database.execute_sql(f'PRAGMA table_info("{table}")')
        }
        keys = sorted(
            (row[2], row[3], row[4], row[6])
            for row in database.execute_sql(f'PRAGMA foreign_key_list("{table}")')
        )
        indexes = sorted(
            _normal(row[0])
            for row in database.execute_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                " AND sql IS NOT NULL",
                (table,),
            )
        )
        shape[table] = {"columns": columns, "foreign keys": keys, "indexes": indexes}
    return shape


def _postgres(database: peewee.Database) -> Shape:
    shape: Shape = {}
    for (table,) in database.execute_sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    ).fetchall():
        columns = {
            row[0]: tuple(row[1:])
            for row in database.execute_sql(
                "SELECT column_name, data_type, character_maximum_length, is_nullable,"
                " column_default FROM information_schema.columns"
                " WHERE table_schema = 'public' AND table_name = %s",
                (table,),
            )
        }
        constraints = sorted(
            (row[0], row[1])
            for row in database.execute_sql(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass",
                (f'"{table}"',),
            )
        )
        indexes = sorted(
            row[0]
            for row in database.execute_sql(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s",
                (table,),
            )
        )
        shape[table] = {"columns": columns, "constraints": constraints, "indexes": indexes}
    return shape


def schema_shape(database: peewee.Database) -> Shape:
    """Every table's columns (by name), foreign keys or constraints, and index definitions."""
    if isinstance(database, peewee.SqliteDatabase):
        return _sqlite(database)
    return _postgres(database)


def differences(first: Shape, second: Shape) -> list[str]:
    """Readable lines, one per table part that differs (empty when the schemas agree)."""
    lines = [f"table {t} only on one side" for t in sorted(set(first) ^ set(second))]
    for table in sorted(set(first) & set(second)):
        for part, value in first[table].items():
            other = second[table][part]
            if value == other:
                continue
            if isinstance(value, dict):
                for name in sorted(set(value) | set(other)):
                    if value.get(name) != other.get(name):
                        lines.append(f"{table}.{name}: {value.get(name)} != {other.get(name)}")
            else:
                lines.append(f"{table} {part}: {value} != {other}")
    return lines
