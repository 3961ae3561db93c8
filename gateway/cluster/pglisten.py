"""LISTEN on PostgreSQL from Trio: one autocommit psycopg2 connection read in the event loop.

No thread: the task waits until the connection's socket is readable
(``trio.lowlevel.wait_readable``), then ``poll()`` and drains ``notifies``. A lost
connection is opened again (with back-off) and ``on_connect`` runs, so that callers can
catch up on what they may have missed while it was down.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import peewee
import trio

__all__ = ["PgListener", "connect_like"]

log = logging.getLogger(__name__)

Handler = Callable[[str, str], None]


def connect_like(database: peewee.Database, name: str = "", *, autocommit: bool = True) -> Any:
    """A new psycopg2 connection to the same database as peewee's ``database``, named
    ``name`` in ``pg_stat_activity.application_name`` (what monitoring sees)."""
    import psycopg2
    import psycopg2.extensions

    params = dict(database.connect_params)
    if name:
        params["application_name"] = name[:63]
    conn = psycopg2.connect(dbname=database.database, **params)
    if autocommit:
        conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    return conn


class PgListener:
    """Delivers NOTIFY payloads of some channels to ``handler(channel, payload)``.

    The handler runs in the listening task and must not block: hand work to other tasks.
    """

    def __init__(
        self,
        database: peewee.Database,
        channels: list[str],
        handler: Handler,
        *,
        on_connect: Callable[[], Awaitable[None]] | None = None,
        name: str = "chargeportal-listen",
    ) -> None:
        self._database = database
        self._name = name
        self._channels = channels
        self._handler = handler
        self._on_connect = on_connect
        self.received = 0
        self.reconnects = 0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        started = False
        delay = 0.5
        while True:
            conn = None
            try:
                conn = await trio.to_thread.run_sync(connect_like, self._database, self._name)
                cursor = conn.cursor()
                for channel in self._channels:
                    cursor.execute(f'LISTEN "{channel}"')
                if self._on_connect is not None:
                    await self._on_connect()
                if not started:
                    started = True
                    task_status.started()
                delay = 0.5
                await self._read(conn)
            except Exception as exc:  # psycopg2.Error, OSError: the server went away
                if not started:
                    raise
                self.reconnects += 1
                log.warning("LISTEN connection lost (%s); again in %.1f s", exc, delay)
            finally:
                if conn is not None:
                    conn.close()
            await trio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _read(self, conn: Any) -> None:
        fileno = conn.fileno()
        while True:
            await trio.lowlevel.wait_readable(fileno)
            conn.poll()
            notifies = conn.notifies
            while notifies:
                note = notifies.pop(0)
                self.received += 1
                try:
                    self._handler(note.channel, note.payload)
                except Exception:
                    log.exception("handling a notification on %s failed", note.channel)
