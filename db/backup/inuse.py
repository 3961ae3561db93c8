"""Whether a server uses the database: every server holds a shared lock, a restore an
exclusive one, so a restore refuses while any server runs (and no server starts during it).

SQLite: ``flock`` on ``<database>.lock`` beside the file (released by the kernel when the
process ends, even killed). PostgreSQL: a session-level advisory lock on a connection of
its own (released when that connection ends), seen by servers on any machine.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import peewee

from db.backup.take import sqlite_path

__all__ = ["DatabaseInUseError", "held_by_server", "held_exclusive", "lock_path"]

#: The advisory lock key on PostgreSQL (any constant the application owns).
ADVISORY_KEY = 0x43_68_61_72_67_65_50  # "ChargeP"


class DatabaseInUseError(Exception):
    """A server uses the database (or a restore is running), so this cannot go on."""


def lock_path(database_file: Path) -> Path:
    return database_file.with_name(database_file.name + ".lock")


@contextmanager
def _flock(path: Path, mode: int, busy: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUseError(busy) from None
        yield
    finally:
        os.close(handle)  # releases the lock


@contextmanager
def _advisory(database: peewee.Database, function: str, busy: str) -> Iterator[None]:
    params = dict(getattr(database, "connect_params", {}) or {})
    connection = peewee.PostgresqlDatabase(database.database, **params)
    connection.connect()
    try:
        got = connection.execute_sql(f"SELECT {function}(%s)", (ADVISORY_KEY,)).fetchone()[0]
        if not got:
            raise DatabaseInUseError(busy)
        yield
    finally:
        connection.close()  # ends the session: the lock goes with it


SERVER_RUNS = (
    "a server is using this database (chargeportal serve): stop every server first, then restore"
)
RESTORE_RUNS = "a restore of this database is running: start the server when it is done"


@contextmanager
def held_by_server(database: peewee.Database) -> Iterator[None]:
    """Held by ``chargeportal serve`` for as long as it runs (shared: several may)."""
    path = sqlite_path(database)
    if path is not None:
        with _flock(lock_path(path), fcntl.LOCK_SH, RESTORE_RUNS):
            yield
    elif isinstance(database, peewee.PostgresqlDatabase):
        with _advisory(database, "pg_try_advisory_lock_shared", RESTORE_RUNS):
            yield
    else:  # an in-memory database: no other process can reach it
        yield


@contextmanager
def held_exclusive(database: peewee.Database) -> Iterator[None]:
    """Held by a restore: raises ``DatabaseInUseError`` while any server runs."""
    path = sqlite_path(database)
    if path is not None:
        with _flock(lock_path(path), fcntl.LOCK_EX, SERVER_RUNS):
            yield
    elif isinstance(database, peewee.PostgresqlDatabase):
        with _advisory(database, "pg_try_advisory_lock", SERVER_RUNS):
            yield
    else:
        yield
