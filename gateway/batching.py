"""Gateway-side group commit for the busiest message: many MeterValues, one unit of work."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import trio

from db import Store

__all__ = ["WriteBatcher"]

log = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")


class _Slot(Generic[Out]):
    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.result: Out | None = None
        self.error: BaseException | None = None


class WriteBatcher(Generic[In, Out]):
    """Collects items from many actors and writes them with one ``store.write`` call
    (or, given ``via=store.read``, looks them up with one read).

    ``await submit(item)`` returns the item's result only after the batch holding it
    is committed (persist before acknowledge). While one batch is being written the
    next one fills up, so batches grow with load. If a batch fails, its items are
    retried one by one so that one bad message cannot fail its neighbours.
    """

    def __init__(
        self,
        store: Store,
        write_batch: Callable[[Sequence[In]], list[Out]],
        *,
        max_batch: int = 500,
        via: Callable[..., Awaitable[Any]] | None = None,
    ) -> None:
        # store.write by default; store.read batches lookups the same way (no commit)
        self._run = via if via is not None else store.write
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._pending: list[tuple[In, _Slot[Out]]] = []
        self._wakeup = trio.Event()
        self._running = False
        self.batches = 0
        self.items = 0
        self.largest = 0
        self.retried = 0

    async def submit(self, item: In) -> Out:
        if not self._running:  # not started (e.g. a unit test): write directly
            return (await self._run(self._write_batch, [item]))[0]  # type: ignore[no-any-return]
        slot: _Slot[Out] = _Slot()
        self._pending.append((item, slot))
        self._wakeup.set()
        await slot.done.wait()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self._running = True
        task_status.started()
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup = trio.Event()
                while self._pending:
                    batch = self._pending[: self._max_batch]
                    del self._pending[: self._max_batch]
                    try:
                        await self._write(batch)
                    except Exception as exc:  # a bug here must not end the gateway
                        log.exception("write batch failed")
                        for _, slot in batch:
                            if not slot.done.is_set():
                                slot.error = exc
                                slot.done.set()
        finally:
            self._running = False
            for _, slot in self._pending:
                slot.error = RuntimeError("the gateway is shutting down")
                slot.done.set()
            self._pending.clear()

    async def _write(self, batch: list[tuple[In, _Slot[Out]]]) -> None:
        self.batches += 1
        self.items += len(batch)
        self.largest = max(self.largest, len(batch))
        items = [item for item, _ in batch]
        try:
            results = await self._run(self._write_batch, items)
        except Exception as exc:
            if len(batch) == 1:
                batch[0][1].error = exc
                batch[0][1].done.set()
                return
            self.retried += 1
            log.warning("a batch of %d writes failed; retrying them one by one", len(batch))
            for item, slot in batch:
                try:
                    slot.result = (await self._run(self._write_batch, [item]))[0]
                except Exception as exc:
                    slot.error = exc
                slot.done.set()
            return
        for (_, slot), result in zip(batch, results, strict=True):
            slot.result = result
            slot.done.set()

    def statistics(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "items": self.items,
            "largest": self.largest,
            "retried": self.retried,
            "pending": len(self._pending),
        }


def _run_units(units: Sequence[Callable[[], Any]]) -> list[Any]:
    return [unit() for unit in units]


class BatchingStore:
    """The ``Store`` face that station actors use: writes from many stations share one job.

    ``write(fn, *args)`` returns after the batch holding ``fn(*args)`` is committed, like
    ``Store.write``; a failing batch is rolled back and its units retried one by one.
    """

    def __init__(self, store: Store, *, max_batch: int = 500) -> None:
        self.store = store
        self.units: WriteBatcher[Callable[[], Any], Any] = WriteBatcher(
            store, _run_units, max_batch=max_batch
        )

    async def read(self, fn: Callable[..., Out], *args: Any) -> Out:
        return await self.store.read(fn, *args)

    async def write(self, fn: Callable[..., Out], *args: Any) -> Out:
        unit = (lambda: fn(*args)) if args else fn
        return await self.units.submit(unit)  # type: ignore[no-any-return]
