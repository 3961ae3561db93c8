"""Opening the database: SQLite (WAL, IMMEDIATE) by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import peewee

#: Every model binds to this proxy; ``open_database`` points it at a real database.
database_proxy = peewee.DatabaseProxy()

DEFAULT_SQLITE_PATH = Path("var") / "chargeportal.sqlite3"

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "busy_timeout": 10_000,
    "foreign_keys": 1,
    "cache_size": -32_000,
}


class DatabaseURLError(ValueError):
    """The database URL cannot be understood."""


def default_database_url() -> str:
    """``$DATABASE_URL``, else the SQLite file under ``var/``."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def make_database(url: str) -> peewee.Database:
    """Build (not connect) a peewee database for ``url``.

    ``sqlite:///relative/path``, ``sqlite:////abs/path``, ``sqlite:///:memory:`` and
    ``postgresql://user:pw@host:port/name`` are understood.
    """
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme == "sqlite":
        path = unquote(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else ""
        if not path:
            raise DatabaseURLError(f"not a SQLite URL with a path: {url!r}")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return peewee.SqliteDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            lock_type="IMMEDIATE",
            check_same_thread=False,
            timeout=10,
        )
    if scheme in {"postgres", "postgresql"}:
        if not parsed.path.strip("/"):
            raise DatabaseURLError(f"PostgreSQL URL without a database name: {url!r}")
        return peewee.PostgresqlDatabase(
            parsed.path.lstrip("/"),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or None,
            port=parsed.port or 5432,
        )
    raise DatabaseURLError(f"unsupported database URL scheme {scheme!r} (sqlite or postgresql)")


def open_database(url: str | None = None) -> peewee.Database:
    """Bind every model to the database at ``url`` and return it."""
    database = make_database(url or default_database_url())
    database_proxy.initialize(database)
    return database


def is_sqlite(database: peewee.Database | None = None) -> bool:
    target = database if database is not None else database_proxy.obj
    return isinstance(target, peewee.SqliteDatabase)
