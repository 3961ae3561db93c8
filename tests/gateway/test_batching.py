"""Writes from many stations share one unit of work; one bad write harms no other."""

from __future__ import annotations

import pytest
import trio

from db import Store
from db.alarms import log_event
from db.models import Event
from gateway.batching import BatchingStore


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
