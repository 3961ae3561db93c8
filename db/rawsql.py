"""Hand-written SQL for the gateway's hot paths: no query building per message.

Statements are written once with ``?`` placeholders and ``"quoted"`` identifiers
(valid in SQLite and PostgreSQL) and translated to the bound database's parameter
style on first use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import peewee

from db.connection import database_proxy

__all__ = ["execute", "executemany", "fetchall", "fetchone"]

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
