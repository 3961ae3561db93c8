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

__all__ = [
    "execute",
    "executemany",
    "fetchall",
    "fetchone",
    "in_list",
    "insert_rows",
    "statement_sizes",
    "update_from_values",
]

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


# A statement of N rows is a new statement text for every N: the driver prepares it anew
# (a 500-row INSERT costs about as much to prepare as to run) and keeps it in its cache of
# 128 prepared statements per connection, each as large as its rows (~400 KB for 500
# frames of the message log): 10-70 MB of SQLite memory per connection after a boot storm
# or a few minutes of load. Statements of k * 4**m rows (k = 1..3) bound a head's texts to
# ~15, prepared once; a batch of N rows takes one statement per base-4 digit of N.


def statement_sizes(count: int, most: int) -> list[int]:
    """``count`` rows as statements of k * 4**m rows (k = 1..3), each at most ``most``,
    in order, largest first: 1000 rows with ``most`` 1000 are 768 + 192 + 32 + 8."""
    sizes = []
    while count > 0:
        size = min(count, most)
        unit = 1
        while unit * 4 <= size:
            unit *= 4
        size -= size % unit
        sizes.append(size)
        count -= size
    return sizes


def in_list(values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``(?, ?, ...)`` and its values for an ``IN``: padded with its last value to a power
    of two, so that lists of any length share a few statement texts (see above)."""
    size = 1 << max(0, len(values) - 1).bit_length()
    padded = list(values) + [values[-1]] * (size - len(values)) if values else []
    return "(" + ", ".join("?" * size) + ")", padded


def insert_rows(head: str, rows: Sequence[Sequence[Any]], tail: str = "") -> None:
    """``head VALUES (...), (...) tail``: one statement per base-4 digit of the row count."""
    if not rows:
        return
    width = len(rows[0])
    group = "(" + ", ".join("?" * width) + ")"
    per_statement = max(1, min(1000, _MAX_VARIABLES // width))
    start = 0
    for size in statement_sizes(len(rows), per_statement):
        chunk = rows[start : start + size]
        start += size
        sql = f"{head} VALUES {', '.join([group] * size)} {tail}"
        execute(sql, [value for row in chunk for value in row])


def update_from_values(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], update: str, fallback: str
) -> None:
    """``WITH v(columns) AS (VALUES ...) <update>`` (UPDATE ... FROM v), a few statements.

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
    start = 0
    for size in statement_sizes(len(rows), per_statement):
        chunk = rows[start : start + size]
        start += size
        sql = f"WITH v({names}) AS (VALUES {', '.join([group] * size)}) {update}"
        execute(sql, [value for row in chunk for value in row])
