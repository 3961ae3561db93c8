"""Group commit: one writer thread drains queued units of work into one transaction each."""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import peewee
import trio

from db.engine.checkpointer import WalCheckpointer
from db.engine.failures import FailureLog, real_error
from db.engine.fdwake import FdWaker

log = logging.getLogger(__name__)

T = TypeVar("T")

_STOP = object()
_URGENT = object()  # wakes the thread: a job is waiting in the urgent lane


class WriterClosedError(RuntimeError):
    """The writer thread has stopped; nothing more can be written."""


@dataclass(eq=False)
class _Group:
    """Jobs queued together (``run_parts``): one wake-up once the last is committed."""

    left: int
    done: trio.Event = field(default_factory=trio.Event)


@dataclass(eq=False)
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    token: trio.lowlevel.TrioToken
    done: trio.Event = field(default_factory=trio.Event)
    result: Any = None
    error: BaseException | None = None
    group: _Group | None = None
    waker: FdWaker | None = None  # urgent jobs: the caller is woken through an eventfd


@dataclass
class WriterStatistics:
    jobs: int = 0
    batches: int = 0
    failed_jobs: int = 0
    largest_batch: int = 0
    queued: int = 0
    busy_seconds: float = 0.0  # wall time spent running and committing batches
    cpu_seconds: float = 0.0  # of which the writer thread was on a CPU
    urgent_jobs: int = 0  # jobs that went ahead of the bulk queue
    cut_short: int = 0  # bulk transactions committed early for a waiting urgent job


class GroupCommitWriter:
    """Runs synchronous write functions in one thread, many per transaction.

    ``await writer.run(fn, *args)`` returns ``fn(*args)`` only after the transaction
    holding it has been committed: the answer to a station may be sent then. Each job
    runs inside its own savepoint, so one failing job rolls back alone and the rest of
    the batch still commits.

    ``run(..., urgent=True)`` (operator commands and what a station sends in answer to
    one) goes ahead of everything queued: urgent jobs are committed in a transaction of
    their own before the next bulk batch. An urgent job that arrives while a bulk batch
    is being written waits only for the job being run: the jobs of the batch run so far
    are committed, the urgent ones next, then the rest of the batch in a transaction of
    its own (a large unit of work given as parts, ``run_parts``, is cut between parts).
    """

    def __init__(
        self,
        database: peewee.Database,
        *,
        max_batch: int = 1000,
        checkpointer: WalCheckpointer | None = None,
    ) -> None:
        self._database = database
        self._checkpointer = checkpointer
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._urgent: collections.deque[_Job] = collections.deque()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stats = WriterStatistics()
        self.failures = FailureLog(log)  # a full disk: one line a minute, not one per batch

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="db-writer", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Finish what is queued, then stop the thread (blocking)."""
        if self._thread is None or self._closed:
            self._closed = True
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()

    def statistics(self) -> WriterStatistics:
        self._stats.queued = self._queue.qsize()
        return self._stats

    async def run(self, fn: Callable[..., T], *args: Any, urgent: bool = False) -> T:
        """Run ``fn(*args)`` in the writer thread; return once it is committed
        (``urgent``: ahead of the bulk queue)."""
        if self._closed or self._thread is None:
            raise WriterClosedError("the database writer is not running")
        job = _Job(fn, args, trio.lowlevel.current_trio_token())
        if urgent:
            self._stats.urgent_jobs += 1
            # a person waits: woken by the event loop's poll, one round sooner (fdwake)
            job.waker = FdWaker.create()
            self._urgent.append(job)
            self._queue.put(_URGENT)
        else:
            self._queue.put(job)
        if job.waker is not None:
            await job.waker.wait()
        else:
            await job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[no-any-return]

    async def run_parts(self, fn: Callable[[Any], T], parts: list[Any]) -> list[T | BaseException]:
        """``fn(part)`` for each part, each a job of its own (its own savepoint), queued
        together in the bulk lane; once every part is committed (or failed), per part
        its result or its exception. An urgent job may be committed between parts."""
        if self._closed or self._thread is None:
            raise WriterClosedError("the database writer is not running")
        token = trio.lowlevel.current_trio_token()
        group = _Group(len(parts))
        jobs = [_Job(fn, (part,), token, group=group) for part in parts]
        for job in jobs:
            self._queue.put(job)
        await group.done.wait()
        return [job.error if job.error is not None else job.result for job in jobs]

    # -- the thread ----------------------------------------------------------

    def _loop(self) -> None:
        try:
            self._database.connect(reuse_if_open=True)
            if self._checkpointer is not None:
                # commits append to the WAL only; the checkpointer thread copies it back
                self._database.execute_sql("PRAGMA wal_autocheckpoint = 0")
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                self._commit_urgent()
                batch = [] if first is _URGENT else [first]
                stop_after = False
                while len(batch) < self._max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop_after = True
                        break
                    if item is _URGENT:
                        self._commit_urgent()  # still ahead of the bulk batch being gathered
                        continue
                    batch.append(item)
                if batch:
                    self._commit(batch)
                if self._checkpointer is not None:
                    self._checkpointer.nudge()
                if stop_after:
                    self._commit_urgent()
                    return
        finally:
            if not self._database.is_closed():
                self._database.close()

    def _commit_urgent(self) -> None:
        batch = self._take_urgent()
        if batch:
            self._commit(batch, urgent=True)

    def _take_urgent(self) -> list[_Job]:
        batch: list[_Job] = []
        while self._urgent and len(batch) < self._max_batch:
            batch.append(self._urgent.popleft())
        return batch

    def _commit(self, batch: list[_Job], *, urgent: bool = False) -> None:
        started = time.perf_counter()
        cpu = time.thread_time()
        try:
            self._commit_batch(batch, urgent=urgent)
        finally:
            self._stats.busy_seconds += time.perf_counter() - started
            self._stats.cpu_seconds += time.thread_time() - cpu

    def _commit_batch(self, batch: list[_Job], *, urgent: bool = False) -> None:
        while batch:
            ran = self._commit_part(batch, cut=not urgent)
            if ran < len(batch):  # cut short: an urgent job is waiting
                self._stats.cut_short += 1
                self._commit_batch(self._take_urgent(), urgent=True)
            batch = batch[ran:]

    def _commit_part(self, batch: list[_Job], *, cut: bool) -> int:
        """Run ``batch``'s jobs in one transaction; with ``cut``, stop after the job
        during which an urgent job came (not after the last). How many jobs ran."""
        ran = len(batch)
        try:
            with self._database.atomic():
                for index, job in enumerate(batch):
                    self._run_job(job, savepoint=len(batch) > 1)
                    if cut and self._urgent and index + 1 < len(batch):
                        ran = index + 1
                        break
        except Exception as exc:  # the commit failed: nothing of the batch is stored
            cause = real_error(exc)  # not peewee's "cannot rollback" that followed it
            if isinstance(cause, ValueError) and any(job.error is cause for job in batch):
                # a unit of work refused its input (db's domain errors are ValueErrors):
                # the caller gets the exception and answers it; not a database failure
                log.debug("a write refused its input: %s", cause)
            else:
                self.failures.report("database write failed", cause)
            for job in batch[:ran]:
                if job.error is None:
                    job.error = cause
        self._stats.batches += 1
        self._stats.jobs += ran
        self._stats.largest_batch = max(self._stats.largest_batch, ran)
        for job in batch[:ran]:
            if job.error is not None:
                self._stats.failed_jobs += 1
            self._deliver(job)
        return ran

    def _run_job(self, job: _Job, *, savepoint: bool) -> None:
        try:
            if savepoint:
                with self._database.atomic():
                    job.result = job.fn(*job.args)
            else:
                job.result = job.fn(*job.args)
        except Exception as exc:
            job.error = real_error(exc)
            if not savepoint:
                raise
        if job.error is not None and not getattr(
            self._database.connection(), "in_transaction", True
        ):
            # SQLite rolled the whole transaction back (disk full, I/O error): the jobs
            # before this one are gone too, and none may run outside it
            raise job.error

    @staticmethod
    def _deliver(job: _Job) -> None:
        if job.waker is not None:
            job.waker.fire()
            return
        done = job.done
        if job.group is not None:  # one wake-up for the whole group, after its last job
            job.group.left -= 1
            if job.group.left:
                return
            done = job.group.done
        try:
            job.token.run_sync_soon(done.set)
        except trio.RunFinishedError:
            pass
