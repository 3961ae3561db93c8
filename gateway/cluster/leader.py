"""One leader in the cluster: the node holding a PostgreSQL advisory lock.

The lock is a session lock on a connection of its own: it is released when that
connection ends, so a node that dies (even ``kill -9``) hands the duties over as soon as
PostgreSQL notices the closed socket. Cluster-wide duties (releasing dead nodes' leases,
"No network" for stations nobody holds, "Not registered", daily jobs) ask ``is_leader``.
"""

from __future__ import annotations

import logging
from typing import Any

import peewee
import trio

from db.system.cluster import LEADER_LOCK
from gateway.cluster.pglisten import connect_like

__all__ = ["LEADER_LOCK", "Leadership"]

log = logging.getLogger(__name__)


class Leadership:
    """Tries to become leader every ``interval`` seconds; checks it still is."""

    def __init__(
        self, database: peewee.Database, *, interval: float = 5.0, name: str = "chargeportal-leader"
    ) -> None:
        self._database = database
        self._name = name
        self._interval = interval
        self.is_leader = False
        self.changed = trio.Event()  # set (and replaced) whenever is_leader changes
        self.terms = 0

    def _set(self, value: bool) -> None:
        if value != self.is_leader:
            self.is_leader = value
            if value:
                self.terms += 1
            log.info("this node %s the cluster leader", "is now" if value else "is no longer")
            self.changed.set()
            self.changed = trio.Event()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        started = False
        while True:
            conn: Any = None
            try:
                conn = await trio.to_thread.run_sync(connect_like, self._database, self._name)
                while True:
                    query = (
                        "SELECT 1"
                        if self.is_leader
                        else f"SELECT pg_try_advisory_lock({LEADER_LOCK})"
                    )
                    row = await trio.to_thread.run_sync(_fetch_one, conn, query)
                    if not self.is_leader:
                        self._set(bool(row[0]))
                    if not started:
                        started = True
                        task_status.started()
                    await trio.sleep(self._interval)
            except Exception as exc:  # the connection broke: the lock is gone with it
                log.warning("leader lock connection lost: %s", exc)
                self._set(False)
                if not started:
                    started = True
                    task_status.started()
            finally:
                if conn is not None:
                    conn.close()
                    self._set(False)
            await trio.sleep(self._interval)


def _fetch_one(conn: Any, query: str) -> tuple[Any, ...]:
    with conn.cursor() as cursor:
        cursor.execute(query)
        return tuple(cursor.fetchone())
