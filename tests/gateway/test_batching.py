"""Writes from many stations share one unit of work; one bad write harms no other."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence

import peewee
import pytest
import trio

from db import Store
from db.ocpp.ocpp_transactions import MeterIn, MeterResult, SampleIn, record_meter_batch
from db.schema.models import Event, MeterSample, utcnow
from db.system.alarms import log_event
from gateway.batching import BatchingStore, WriteBatcher


async def test_concurrent_writes_share_batches_and_a_failure_stays_alone(
    store: Store, nursery: trio.Nursery
) -> None:
    batching = BatchingStore(store)
    await nursery.start(batching.units.run)
    outcomes: dict[int, object] = {}

    def bad() -> None:
        log_event("doomed", "CP0")
        raise ValueError("bad unit")

    async def write(n: int) -> None:
        try:
            outcomes[n] = await batching.write(
                (lambda: log_event("fine", f"CP{n}")) if n != 3 else bad
            )
        except ValueError as exc:
            outcomes[n] = exc

    with trio.fail_after(10):
        async with trio.open_nursery() as writers:
            for n in range(8):
                writers.start_soon(write, n)
    assert isinstance(outcomes.pop(3), ValueError)
    assert all(isinstance(value, int) for value in outcomes.values())
    kinds = await store.read(lambda: sorted(e.kind for e in Event.select()))
    assert kinds == ["fine"] * 7  # the failing unit's own write was rolled back
    stats = batching.units.statistics()
    assert stats["largest"] > 1
    assert stats["retried"] == 1


async def test_without_a_running_batcher_writes_go_straight_to_the_store(store: Store) -> None:
    batching = BatchingStore(store)
    event_id = await batching.write(log_event, "direct", "CP1")
    assert await store.read(lambda: Event.get_by_id(event_id).kind) == "direct"
    with pytest.raises(ZeroDivisionError):
        await batching.write(lambda: 1 / 0)


async def test_a_failing_batch_finds_its_bad_item_by_bisection_not_one_by_one(
    store: Store, nursery: trio.Nursery
) -> None:
    runs: list[int] = []

    def write_batch(messages: Sequence[MeterIn]) -> list[MeterResult]:
        runs.append(len(messages))
        return record_meter_batch(messages)

    batcher: WriteBatcher[MeterIn, MeterResult] = WriteBatcher(store, write_batch, max_batch=64)
    await nursery.start(batcher.run)
    at = utcnow()
    outcomes: dict[int, object] = {}

    async def submit(n: int) -> None:
        # connector 2**70 fits no SQLite INTEGER nor PostgreSQL SMALLINT: its batch fails
        connector = 2**70 if n == 17 else 1
        message = MeterIn(
            1, "CP1", connector, None, [SampleIn(at + dt.timedelta(seconds=n), str(n))], None
        )
        try:
            outcomes[n] = await batcher.submit(message)
        except (OverflowError, peewee.DataError) as exc:
            outcomes[n] = exc

    with trio.fail_after(10):
        async with trio.open_nursery() as senders:
            for n in range(64):
                senders.start_soon(submit, n)
    assert isinstance(outcomes.pop(17), OverflowError | peewee.DataError)
    assert all(isinstance(result, MeterResult) for result in outcomes.values())
    stored = await store.read(lambda: sorted(int(s.value) for s in MeterSample.select()))
    assert stored == [n for n in range(64) if n != 17]
    # one batch, then two halves per level down to the bad item: 1 + 2 x log2(64) = 13
    assert len(runs) <= 13, runs
    assert batcher.statistics()["retried"] == 1


async def test_a_storage_failure_fails_the_batch_at_once_without_retrying_each_item(
    store: Store, nursery: trio.Nursery
) -> None:
    runs: list[int] = []

    def write_batch(units: Sequence[int]) -> list[int]:
        runs.append(len(units))
        raise peewee.OperationalError("disk I/O error")

    batcher: WriteBatcher[int, int] = WriteBatcher(store, write_batch)
    await nursery.start(batcher.run)
    failures: list[BaseException] = []

    async def submit(n: int) -> None:
        try:
            await batcher.submit(n)
        except peewee.OperationalError as exc:
            failures.append(exc)

    with trio.fail_after(10):
        async with trio.open_nursery() as senders:
            for n in range(20):
                senders.start_soon(submit, n)
    assert len(failures) == 20
    assert sum(runs) == 20  # each item tried once: another try would meet the same disk


async def test_a_station_whose_item_failed_alone_is_written_apart_and_fails_no_batch_again(
    store: Store, nursery: trio.Nursery
) -> None:
    runs: list[list[int]] = []

    def write_batch(messages: Sequence[MeterIn]) -> list[MeterResult]:
        runs.append(sorted(m.station_id for m in messages))
        return record_meter_batch(messages)

    batcher: WriteBatcher[MeterIn, MeterResult] = WriteBatcher(
        store, write_batch, max_batch=64, source=lambda m: m.station_id
    )
    await nursery.start(batcher.run)
    at = utcnow()
    failed: list[int] = []

    async def submit(station: int, second: int) -> None:
        connector = 2**70 if station == 7 else 1  # station 7 keeps sending what fails
        sample = SampleIn(at + dt.timedelta(seconds=second), "1")
        try:
            await batcher.submit(MeterIn(station, f"CP{station}", connector, None, [sample], None))
        except (OverflowError, peewee.DataError):
            failed.append(station)

    with trio.fail_after(10):
        for second in range(3):
            async with trio.open_nursery() as senders:
                for station in range(32):
                    senders.start_soon(submit, station, second)
            if second == 0:
                assert batcher.statistics()["retried"] >= 1  # found by bisection once
                runs.clear()
    assert failed == [7, 7, 7]
    assert batcher.statistics()["retried"] == 1  # never again: station 7 is written apart
    assert all(run == [7] or 7 not in run for run in runs), runs
    assert batcher.statistics()["quarantined"] == 2


async def test_a_promoted_item_is_written_ahead_of_its_batch_and_only_once(
    store: Store, nursery: trio.Nursery
) -> None:
    written: list[list[str]] = []
    busy, release = threading.Event(), threading.Event()

    def write_batch(items: Sequence[str]) -> list[str]:
        if items == ["first"]:  # the batch in progress while the others queue up
            busy.set()
            release.wait(10)
        written.append(list(items))
        return [item.upper() for item in items]

    batcher: WriteBatcher[str, str] = WriteBatcher(store, write_batch, source=lambda s: s[0])
    await nursery.start(batcher.run)
    answers: dict[str, str] = {}

    async def submit(item: str) -> None:
        answers[item] = await batcher.submit(item)

    with trio.fail_after(10):
        async with trio.open_nursery() as submitters:
            submitters.start_soon(submit, "first")
            await trio.to_thread.run_sync(busy.wait)
            for item in ("a1", "b1", "c1"):
                submitters.start_soon(submit, item)
            while batcher.statistics()["pending"] < 3:  # noqa: ASYNC110 - no event for it
                await trio.sleep(0.005)
            assert batcher.promote("b") == 1
            assert batcher.promote("b") == 0  # nothing more of b waits
            assert batcher.promote("x") == 0
            while store.writer.statistics().urgent_jobs < 1:  # noqa: ASYNC110
                await trio.sleep(0.005)
            release.set()
    assert written[:2] == [["first"], ["b1"]]  # ahead of the batch queued before it
    assert sorted(written[2]) == ["a1", "c1"]  # the batch, without it
    assert len(written) == 3
    assert answers == {"first": "FIRST", "a1": "A1", "b1": "B1", "c1": "C1"}
    assert batcher.statistics()["urgent"] == 1


async def test_a_committed_batch_wakes_its_submitters_over_several_rounds_not_one(
    store: Store, nursery: trio.Nursery
) -> None:
    batcher: WriteBatcher[int, int] = WriteBatcher(
        store, lambda items: [n * 2 for n in items], wake_rounds=4, wake_at_least=2
    )
    await nursery.start(batcher.run)
    still_to_wake: dict[int, int] = {}  # per submitter: how many others were not woken yet

    async def submit(n: int) -> None:
        assert await batcher.submit(n) == n * 2
        still_to_wake[n] = batcher.statistics()["waking"]

    with trio.fail_after(10):
        async with trio.open_nursery() as submitters:
            for n in range(40):
                submitters.start_soon(submit, n)
    assert batcher.statistics()["largest"] == 40  # one batch
    assert len(still_to_wake) == 40  # every one answered
    # the first ones answered ran while most of the batch still waited: 10 a round
    assert max(still_to_wake.values()) >= 20
    assert min(still_to_wake.values()) == 0


async def test_an_item_promoted_while_its_batch_is_written_is_answered_first(
    store: Store, nursery: trio.Nursery
) -> None:
    busy, release = threading.Event(), threading.Event()

    def write_batch(items: Sequence[str]) -> list[str]:
        busy.set()
        release.wait(10)
        return [item.upper() for item in items]

    batcher: WriteBatcher[str, str] = WriteBatcher(
        store, write_batch, source=lambda s: s[0], wake_rounds=4, wake_at_least=1
    )
    await nursery.start(batcher.run)
    answered: list[str] = []

    async def submit(item: str) -> None:
        assert await batcher.submit(item) == item.upper()
        answered.append(item)

    items = [f"{letter}1" for letter in "abcdefghij"]
    with trio.fail_after(10):
        async with trio.open_nursery() as submitters:
            for item in items:
                submitters.start_soon(submit, item)
            await trio.to_thread.run_sync(busy.wait)
            assert batcher.statistics()["pending"] == 0  # all in the batch being written
            assert batcher.promote("g") == 1  # stays in its batch, not written again
            assert batcher.promote("g") == 0
            release.set()
    assert answered[0] == "g1"
    assert sorted(answered) == items
    assert batcher.statistics()["batches"] == 1
    assert batcher.statistics()["urgent"] == 0


async def test_an_item_promoted_after_its_commit_is_answered_before_its_turn(
    store: Store, nursery: trio.Nursery
) -> None:
    batcher: WriteBatcher[str, str] = WriteBatcher(
        store,
        lambda items: [item.upper() for item in items],
        source=lambda s: s[:2],
        wake_rounds=1000,
        wake_at_least=1,  # one a round
    )
    await nursery.start(batcher.run)
    answered: list[str] = []
    items = [f"{n:02}" for n in range(30)]
    promoted: list[str] = []

    async def submit(item: str) -> None:
        await batcher.submit(item)
        answered.append(item)
        if len(answered) == 1:  # committed; the other 29 wait for their turn
            assert batcher.statistics()["waking"] >= 28
            # the batch is in submission order or the reverse: the other end waits longest
            promoted.append(items[0] if item == items[-1] else items[-1])
            assert batcher.promote(promoted[0]) == 1

    with trio.fail_after(10):
        async with trio.open_nursery() as submitters:
            for item in items:
                submitters.start_soon(submit, item)
    assert answered.index(promoted[0]) <= 2  # not 30th
    assert sorted(answered) == items
