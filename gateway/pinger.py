"""WebSocket pings for every connected station from one task: a heap of due times.

A task per station sleeping until its next ping cost each idle station a task, its
coroutine chain, a cancel scope and a context copy (about 2.5 KB). Here an idle station
costs one heap entry; a ping runs as a short task in the station's own nursery (see
``StationActor.ping_due``) and, once the pong is back, the station is put back on the
heap for its next one. The heap holds weak references: an actor whose connection ended
is dropped when its time comes, never kept alive by the heap.
"""

from __future__ import annotations

import heapq
import itertools
import math
import weakref
from typing import Protocol

import trio

__all__ = ["Pinger"]


class Pingable(Protocol):
    def ping_due(self) -> None: ...


class Pinger:
    """When each connected station is pinged next; ``run`` starts the pings that are due."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, weakref.ref[Pingable]]] = []
        self._order = itertools.count()  # ties never compare the references
        self._wakeup = trio.Event()
        self.pings = 0

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, actor: Pingable, after: float) -> None:
        """Ping ``actor`` in ``after`` seconds (trio clock)."""
        due = trio.current_time() + after
        if not self._heap or due < self._heap[0][0]:
            self._wakeup.set()  # sooner than what ``run`` sleeps until
        heapq.heappush(self._heap, (due, next(self._order), weakref.ref(actor)))

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        heap = self._heap
        while True:
            now = trio.current_time()
            while heap and heap[0][0] <= now:
                actor = heapq.heappop(heap)[2]()
                if actor is not None:
                    self.pings += 1
                    actor.ping_due()
            self._wakeup = trio.Event()
            with trio.move_on_at(heap[0][0] if heap else math.inf):
                await self._wakeup.wait()
