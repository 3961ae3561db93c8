"""Gateway-side group commit: many stations' MeterValues, boots and statuses, one unit of work."""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from contextvars import ContextVar
from typing import Any, Generic, NamedTuple, TypeVar

import trio

from db import Store
from db.engine.failures import FailureLog, is_storage_failure

__all__ = ["BatchingStore", "WriteBatcher", "urgent_writes"]

#: True while a station answers a command (``StationActor``): its writes go ahead of the
#: bulk telemetry, each in the database writer's urgent lane instead of a large batch
urgent_writes: ContextVar[bool] = ContextVar("urgent_writes", default=False)

log = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")


class _Slot(Generic[Out]):
    __slots__ = ("done", "error", "hurry", "moved", "result", "stage")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.result: Out | None = None
        self.error: BaseException | None = None
        self.moved = False  # promoted to the urgent lane: no batch takes it
        self.hurry = False  # promoted while in a batch: woken first when it commits
        self.stage = 0  # 1: in a batch being written, 2: committed (wake_rounds only)


class WriteBatcher(Generic[In, Out]):
    """Collects items from many actors and writes them with one ``store.write`` call
    (or, given ``via=store.read``, looks them up with one read).

    ``await submit(item)`` returns the item's result only after the batch holding it
    is committed (persist before acknowledge). While one batch is being written the
    next one fills up, so batches grow with load. If a batch fails for one item (not
    for the database: that fails the batch at once), it is bisected beside the next
    batches, so one bad message neither fails nor slows its neighbours much. Given
    ``source`` (e.g. the station of a message), the source of an item that failed alone
    is suspect for ``quarantine`` seconds: its items are written in jobs of their own
    beside the batches, so a station that keeps sending bad data fails no batch again.

    Given ``wake_rounds``, the submitters of a committed batch are woken over about that
    many scheduling rounds (at least ``wake_at_least`` a round), not all at once: the
    round in which 500 stations get their answers would otherwise last as long as 500
    answers, and a station answering an operator's command waits through such rounds at
    each step. The rounds are shorter, not fewer: the event loop stays as busy. An item
    ``promote`` finds in a batch being written, or committed and not yet woken, is woken
    first.
    """

    def __init__(
        self,
        store: Store,
        write_batch: Callable[[Sequence[In]], list[Out]],
        *,
        max_batch: int = 500,
        via: Callable[..., Awaitable[Any]] | None = None,
        source: Callable[[In], Hashable] | None = None,
        quarantine: float = 60.0,
        urgent_lane: bool = True,
        wake_rounds: int = 0,
        wake_at_least: int = 64,
        part: int = 0,
    ) -> None:
        # store.write by default; store.read batches lookups the same way (no commit)
        self._run = via if via is not None else store.write
        # a batch goes to the writer in parts of this many items (an urgent write may be
        # committed between them): 0, or given ``via``, one job
        self._part = part if via is None else 0
        self._run_parts = store.write_parts
        self._run_urgent = store.write_urgent if via is None and urgent_lane else None
        self.urgent = 0  # items written ahead of the batches (urgent_writes)
        self._write_batch = write_batch
        self._max_batch = max_batch
        # per source, its item still waiting for a batch (promote); items promoted to the
        # urgent lane that are still in the queue
        self._waiting: dict[Hashable, tuple[In, _Slot[Out]]] = {}
        self._moved = 0
        self._pending: list[tuple[In, _Slot[Out]]] = []
        self._wakeup = trio.Event()
        self._running = False
        self.batches = 0
        self.items = 0
        self.largest = 0
        self.retried = 0  # batches that failed and were bisected
        self.bisect_writes = 0
        self._nursery: trio.Nursery | None = None
        self.failures = FailureLog(log, level=logging.WARNING)
        # whose item failed alone (e.g. a station id): its items are written apart for a while
        self._source = source
        self._quarantine = quarantine
        self._suspects: dict[Hashable, float] = {}
        self.quarantined = 0
        # committed items whose submitters are not woken yet (wake_rounds)
        self._wake_rounds = wake_rounds
        self._wake_at_least = wake_at_least
        self._to_wake: deque[tuple[In, _Slot[Out]]] = deque()
        self._wake_slice = wake_at_least
        self._wake_more = trio.Event()

    async def submit(self, item: In) -> Out:
        if self._run_urgent is not None and urgent_writes.get():
            # alone, in the writer's urgent lane: not behind the batch being gathered
            self.urgent += 1
            return (await self._run_urgent(self._write_batch, [item]))[0]  # type: ignore[no-any-return]
        if not self._running:  # not started (e.g. a unit test): write directly
            return (await self._run(self._write_batch, [item]))[0]  # type: ignore[no-any-return]
        slot: _Slot[Out] = _Slot()
        entry = (item, slot)
        self._pending.append(entry)
        if self._source is not None and self._run_urgent is not None:
            self._waiting[self._source(item)] = entry  # for promote
        self._wakeup.set()
        await slot.done.wait()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def promote(self, source: Hashable) -> int:
        """Move the items of ``source`` still waiting for a batch to the writer's urgent
        lane (a station's CALL that stands between an operator's command and the answer
        the operator waits for); how many moved. An item already in a batch being
        written stays there: that batch commits first anyway, and its submitter is woken
        ahead of the others then (or now, if committed and not woken yet)."""
        entry = self._waiting.pop(source, None)
        if entry is None or self._nursery is None or entry[1].done.is_set():
            return 0
        slot = entry[1]
        if slot.stage:  # in a batch being written, or committed (wake_rounds)
            slot.hurry = True
            if slot.stage == 2:
                slot.done.set()  # committed: no waiting for its turn to be woken
            return 1
        slot.moved = True  # the batches skip it
        self._moved += 1
        self.urgent += 1
        self._nursery.start_soon(self._write_urgent, [entry])
        return 1

    async def _write_urgent(self, items: list[tuple[In, _Slot[Out]]]) -> None:
        assert self._run_urgent is not None
        try:
            results = await self._run_urgent(self._write_batch, [item for item, _ in items])
        except Exception as exc:
            if len(items) == 1 and not is_storage_failure(exc):
                self._suspect(items[0][0])
            self._fail(items, exc)
            return
        self._answer(items, results)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self._running = True
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery  # failed batches are bisected beside the next ones
                if self._wake_rounds > 0:
                    nursery.start_soon(self._waker)
                task_status.started()
                await self._loop()
        finally:
            self._running = False
            self._nursery = None
            for _, slot in self._pending:
                slot.error = RuntimeError("the gateway is shutting down")
                slot.done.set()
            self._pending.clear()
            while self._to_wake:
                self._to_wake.popleft()[1].done.set()

    async def _waker(self) -> None:
        """Wake the submitters of committed batches a slice at a time, one scheduling
        round each (``wake_rounds``)."""
        to_wake, waiting, source = self._to_wake, self._waiting, self._source
        while True:
            await self._wake_more.wait()
            self._wake_more = trio.Event()
            while to_wake:
                for _ in range(min(self._wake_slice, len(to_wake))):
                    entry = to_wake.popleft()
                    entry[1].done.set()
                    if source is not None:
                        key = source(entry[0])
                        if waiting.get(key) is entry:
                            del waiting[key]
                await trio.lowlevel.checkpoint()

    async def _loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup = trio.Event()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                if self._waiting or self._moved:
                    self._taken(batch)
                    if not batch:
                        continue
                if self._suspects:
                    batch = self._set_aside(batch)
                    if not batch:
                        continue
                try:
                    await self._write(batch)
                except Exception as exc:  # a bug here must not end the gateway
                    log.exception("write batch failed")
                    self._fail(batch, exc)

    def _taken(self, batch: list[tuple[In, _Slot[Out]]]) -> None:
        """Items leave the queue for a batch: no promoting them now (nor the ones an
        earlier promote took: they are dropped from the batch)."""
        assert self._source is not None
        waiting = self._waiting
        if self._wake_rounds > 0:
            # promote finds them in _waiting until they are woken: hurried, not moved
            for entry in batch:
                entry[1].stage = 1
        else:
            for entry in batch:
                key = self._source(entry[0])
                if waiting.get(key) is entry:
                    del waiting[key]
        if self._moved:
            kept = [entry for entry in batch if not entry[1].moved]
            self._moved -= len(batch) - len(kept)
            batch[:] = kept

    async def _write(self, batch: list[tuple[In, _Slot[Out]]]) -> None:
        self.batches += 1
        self.items += len(batch)
        self.largest = max(self.largest, len(batch))
        size = self._part
        if 0 < size < len(batch):
            parts = [batch[start : start + size] for start in range(0, len(batch), size)]
            outcomes = await self._run_parts(
                self._write_batch, [[item for item, _ in part] for part in parts]
            )
            for part, outcome in zip(parts, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    self._failed(part, outcome)
                else:
                    self._committed(part, outcome)
            return
        try:
            results = await self._run(self._write_batch, [item for item, _ in batch])
        except Exception as exc:
            self._failed(batch, exc)
            return
        self._committed(batch, results)

    def _failed(self, batch: list[tuple[In, _Slot[Out]]], exc: BaseException) -> None:
        """A batch (or part) failed: fail it, or bisect it beside the next batches."""
        if len(batch) == 1 or is_storage_failure(exc):
            if len(batch) == 1 and not is_storage_failure(exc):
                self._suspect(batch[0][0])
            self._fail(batch, exc)  # another try would meet the same database
            return
        self.retried += 1
        self.failures.report(
            f"a batch of {len(batch)} writes failed, bisecting to the bad one", exc
        )
        assert self._nursery is not None
        self._nursery.start_soon(self._bisect, batch)  # the next batch does not wait

    def _committed(self, batch: list[tuple[In, _Slot[Out]]], results: list[Out]) -> None:
        if self._wake_rounds > 0:
            self._wake(batch, results)
        else:
            self._answer(batch, results)

    def _wake(self, batch: list[tuple[In, _Slot[Out]]], results: list[Out]) -> None:
        """Hand a committed batch to the waker; hurried items are woken at once."""
        to_wake = self._to_wake
        for entry, result in zip(batch, results, strict=True):
            slot = entry[1]
            slot.result = result
            slot.stage = 2
            if slot.hurry:
                slot.done.set()  # promoted while its batch was written
            else:
                to_wake.append(entry)
        self._wake_slice = max(self._wake_at_least, math.ceil(len(to_wake) / self._wake_rounds))
        self._wake_more.set()

    async def _bisect(self, batch: list[tuple[In, _Slot[Out]]]) -> None:
        """Write both halves of a failed batch at once; split a failing half again.

        One bad item among n costs 2 x log2(n) writes (not n), done log2(n) deep, and
        every good half is answered as soon as it is committed.
        """
        try:
            half = len(batch) // 2
            async with trio.open_nursery() as nursery:
                for part in (batch[:half], batch[half:]):
                    nursery.start_soon(self._settle, part)
        except Exception as exc:  # a bug here must not end the gateway nor hang a station
            log.exception("bisecting a failed batch failed")
            self._fail(batch, exc)

    async def _settle(self, part: list[tuple[In, _Slot[Out]]]) -> None:
        self.bisect_writes += 1
        try:
            results = await self._run(self._write_batch, [item for item, _ in part])
        except Exception as exc:
            if len(part) == 1 or is_storage_failure(exc):
                if len(part) == 1 and not is_storage_failure(exc):
                    self._suspect(part[0][0])
                self._fail(part, exc)
            else:
                await self._bisect(part)
            return
        self._answer(part, results)

    def _suspect(self, item: In) -> None:
        """The item failed alone: write its source's next items apart for a while."""
        if self._source is None:
            return
        if len(self._suspects) >= 10_000:
            self._suspects.clear()  # bounded; the worst case is one more bisection each
        self._suspects[self._source(item)] = trio.current_time() + self._quarantine

    def _set_aside(self, batch: list[tuple[In, _Slot[Out]]]) -> list[tuple[In, _Slot[Out]]]:
        """Items of suspect sources go in jobs of their own, beside the batch (the writer
        gives each job its own savepoint), so they cannot fail a batch again."""
        assert self._source is not None
        assert self._nursery is not None
        now = trio.current_time()
        kept = []
        for entry in batch:
            key = self._source(entry[0])
            until = self._suspects.get(key)
            if until is None:
                kept.append(entry)
            elif until > now:
                self.quarantined += 1
                self._nursery.start_soon(self._settle, [entry])
            else:
                del self._suspects[key]
                kept.append(entry)
        return kept

    @staticmethod
    def _answer(batch: list[tuple[In, _Slot[Out]]], results: list[Out]) -> None:
        for (_, slot), result in zip(batch, results, strict=True):
            slot.result = result
            slot.done.set()

    @staticmethod
    def _fail(batch: list[tuple[In, _Slot[Out]]], exc: BaseException) -> None:
        for _, slot in batch:
            if not slot.done.is_set():
                slot.error = exc
                slot.done.set()

    def statistics(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "items": self.items,
            "largest": self.largest,
            "retried": self.retried,
            "bisectWrites": self.bisect_writes,
            "quarantined": self.quarantined,
            "suspects": len(self._suspects),
            "pending": len(self._pending),
            "waking": len(self._to_wake),  # committed, answers not handed back yet
            "urgent": self.urgent,
        }


class _Each(NamedTuple):
    """An item for a function that writes many items at once (``BatchingStore.write_each``)."""

    write_many: Callable[[Sequence[Any]], list[Any]]
    item: Any


def _run_units(units: Sequence[Callable[[], Any] | _Each]) -> list[Any]:
    """Each unit's result. Items of one ``write_many`` go to it in one call, after the
    plain units: no unit of a batch waited for another (each caller waits for the
    commit), so any order of them is one the callers could have seen."""
    results: list[Any] = [None] * len(units)
    together: dict[Callable[[Sequence[Any]], list[Any]], list[int]] = {}
    for index, unit in enumerate(units):
        if isinstance(unit, _Each):
            together.setdefault(unit.write_many, []).append(index)
        else:
            results[index] = unit()
    for write_many, indexes in together.items():
        items = [units[index].item for index in indexes]  # type: ignore[union-attr]
        for index, result in zip(indexes, write_many(items), strict=True):
            results[index] = result
    return results


class BatchingStore:
    """The ``Store`` face that station actors use: writes from many stations share one job.

    ``write(fn, *args)`` returns after the batch holding ``fn(*args)`` is committed, like
    ``Store.write``; a failing batch is rolled back and bisected to its failing unit.
    ``write_each(write_many, item)`` does the same for one item of a set-based writer.
    """

    def __init__(self, store: Store, *, max_batch: int = 500) -> None:
        self.store = store
        self.units: WriteBatcher[Callable[[], Any] | _Each, Any] = WriteBatcher(
            store, _run_units, max_batch=max_batch
        )

    async def read(self, fn: Callable[..., Out], *args: Any) -> Out:
        return await self.store.read(fn, *args)

    async def write(self, fn: Callable[..., Out], *args: Any) -> Out:
        unit = (lambda: fn(*args)) if args else fn
        return await self.units.submit(unit)  # type: ignore[no-any-return]

    async def write_each(self, write_many: Callable[[Sequence[In]], list[Out]], item: In) -> Out:
        """``write_many([item])[0]``, committed like ``write``; the items of one batch that
        go to the same ``write_many`` reach it in one call (multi-row statements: a boot
        storm's boots and statuses are written like MeterValues)."""
        return await self.units.submit(_Each(write_many, item))  # type: ignore[no-any-return]
