"""Hand-written SQL for the gateway's hot paths: no query building per message.

Statements are written once with ``?`` placeholders and ``"quoted"`` identifiers
(valid in SQLite and PostgreSQL) and translated to the bound database's parameter
style on first use.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import peewee

from db.engine.connection import database_proxy, is_sqlite

__all__ = ["execute", "executemany", "fetchall", "fetchone", "insert_rows", "update_from_values"]

_translated: dict[tuple[str, str], str] = {}


def _database() -> peewee.Database:
    return database_proxy.obj  # type: ignore[no-any-return]


def _sql(database: peewee.Database, template: str) -> str:
    key = (database.param, template)
    sql = _translated.get(key)
    if sql is None:
        sql = _translated[key] = template.replace("?", database.param)
    return sql


def execute(template: str, params: Sequence[Any] = ()) -> Any:
    """Run one statement; returns the DB-API cursor (``rowcount``, ``fetch*``)."""
    database = _database()
    return database.execute_sql(_sql(database, template), params)


def executemany(template: str, rows: Iterable[Sequence[Any]]) -> None:
    database = _database()
    cursor = database.cursor()
    cursor.executemany(_sql(database, template), list(rows))


def fetchone(template: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    return execute(template, params).fetchone()  # type: ignore[no-any-return]


def fetchall(template: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return list(execute(template, params).fetchall())


# Many rows in one statement: one sqlite3_step (one release of the GIL) instead of one
# per row. Under load every GIL hand-back to the writer thread can cost the interpreter's
# switch interval, so statements per batch, not rows, decide the writer's speed.
_MAX_VARIABLES = 32_000 if sqlite3.sqlite_version_info >= (3, 32) else 999
_UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33)


def insert_rows(head: str, rows: Sequence[Sequence[Any]], tail: str = "") -> None:
    """``head VALUES (...), (...) tail`` in as few statements as the database allows."""
    if not rows:
        return
    width = len(rows[0])
    group = "(" + ", ".join("?" * width) + ")"
    per_statement = max(1, min(1000, _MAX_VARIABLES // width))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        sql = f"{head} VALUES {', '.join([group] * len(chunk))} {tail}"
        execute(sql, [value for row in chunk for value in row])


def update_from_values(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], update: str, fallback: str
) -> None:
    """``WITH v(columns) AS (VALUES ...) <update>`` (UPDATE ... FROM v), one statement.

    ``fallback`` is the same update for one row (``?`` per column, in order), run with
    executemany where the database cannot UPDATE ... FROM.
    """
    if not rows:
        return
    if is_sqlite(_database()) and not _UPDATE_FROM:
        executemany(fallback, rows)
        return
    width = len(columns)
    group = "(" + ", ".join("?" * width) + ")"
    names = ", ".join(f'"{c}"' for c in columns)
    per_statement = max(1, min(1000, _MAX_VARIABLES // width))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        sql = f"WITH v({names}) AS (VALUES {', '.join([group] * len(chunk))}) {update}"
        execute(sql, [value for row in chunk for value in row])
