"""Configuration import on a station's first boot, a few stations at a time."""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from gateway.actor import StationActor

__all__ = ["ConfigImporter"]

log = logging.getLogger(__name__)


class ConfigImporter:
    """Runs GetConfiguration imports with bounded concurrency.

    A boot storm of thousands of new stations would otherwise put thousands of
    GetConfiguration round trips and configuration writes on top of the storm; queued
    here, stations boot first and their configurations follow a few at a time.
    """

    def __init__(self, concurrency: int = 16) -> None:
        self._queue: deque[StationActor] = deque()
        self._wakeup = trio.Event()
        self._limiter = trio.CapacityLimiter(concurrency)
        self._running = False
        self.imported = 0
        self.failed = 0

    @property
    def running(self) -> bool:
        return self._running

    def request(self, actor: StationActor) -> None:
        self._queue.append(actor)
        self._wakeup.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._running = True
            task_status.started()
            try:
                while True:
                    await self._wakeup.wait()
                    self._wakeup = trio.Event()
                    while self._queue:
                        actor = self._queue.popleft()
                        token = object()  # one borrower per request, even for one actor
                        await self._limiter.acquire_on_behalf_of(token)
                        nursery.start_soon(self._import, actor, token)
            finally:
                self._running = False

    async def _import(self, actor: StationActor, token: object) -> None:
        try:
            if await actor.import_configuration():
                self.imported += 1
            else:
                self.failed += 1
        except Exception:
            self.failed += 1
            log.exception("%s: configuration import crashed", actor.charge_box_id)
        finally:
            self._limiter.release_on_behalf_of(token)

    def statistics(self) -> dict[str, int]:
        return {"queued": len(self._queue), "imported": self.imported, "failed": self.failed}
