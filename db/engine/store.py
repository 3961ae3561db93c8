"""The async face of the database: reads in worker threads, writes group-committed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import peewee
import trio

from db.engine.checkpointer import WalCheckpointer
from db.engine.connection import is_sqlite, open_database
from db.engine.writer import GroupCommitWriter
from db.schema.migrate import migrate

T = TypeVar("T")


class Store:
    """Where gateway and portal reach the database without blocking the event loop.

    ``read(fn, *args)`` runs a synchronous query function in a worker thread (each
    thread has its own connection); ``write(fn, *args)`` hands a unit of work to the
    group-commit writer and returns once it is committed. A unit of work is one
    synchronous function: never ``await`` inside a transaction.
    """

    def __init__(self, database: peewee.Database, *, read_threads: int = 8) -> None:
        self.database = database
        self.checkpointer = (
            WalCheckpointer(database) if is_sqlite(database) and _on_disk(database) else None
        )
        self.writer = GroupCommitWriter(database, checkpointer=self.checkpointer)
        self._read_limiter = trio.CapacityLimiter(read_threads)

    def start(self) -> None:
        """Start the writer thread (and the WAL checkpointer beside it, for SQLite)."""
        if self.checkpointer is not None:
            self.checkpointer.start()
        self.writer.start()

    def close(self) -> None:
        """Finish queued writes, then stop the threads (blocking)."""
        self.writer.close()
        if self.checkpointer is not None:
            self.checkpointer.close()

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        return await trio.to_thread.run_sync(
            self._in_connection, fn, args, limiter=self._read_limiter
        )

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.writer.run(fn, *args)

    async def write_parts(
        self, fn: Callable[[Any], T], parts: list[Any]
    ) -> list[T | BaseException]:
        """``write(fn, part)`` for each part, queued together; per part its result or its
        exception once all are committed. An urgent write may be committed between parts
        (a large batch given as parts does not hold it up)."""
        return await self.writer.run_parts(fn, parts)

    async def write_urgent(self, fn: Callable[..., T], *args: Any) -> T:
        """``write`` ahead of the bulk queue: operator commands and a station's answers
        to them, so that a busy fleet's telemetry does not delay what a person waits for."""
        return await self.writer.run(fn, *args, urgent=True)

    def _in_connection(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        self.database.connect(reuse_if_open=True)
        return fn(*args)


def _on_disk(database: peewee.Database) -> bool:
    return str(database.database) not in {"", ":memory:"} and "mode=memory" not in str(
        database.database
    )


@asynccontextmanager
async def open_store(url: str | None = None, *, create: bool = True) -> AsyncIterator[Store]:
    """Open the database at ``url`` (migrating it when ``create``), start the writer."""
    database = open_database(url)
    if create:
        await trio.to_thread.run_sync(migrate, database)
    store = Store(database)
    store.start()
    try:
        yield store
    finally:
        await trio.to_thread.run_sync(store.close)
