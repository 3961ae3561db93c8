"""An urgent write's caller is woken through an eventfd; no descriptor is left behind."""

from __future__ import annotations

import os

import pytest
import trio
import trio.testing

from db import Store
from db.engine.fdwake import FdWaker

pytestmark = pytest.mark.skipif(not hasattr(os, "eventfd"), reason="eventfd is Linux only")


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_a_fire_from_another_thread_wakes_the_waiter_and_closes_its_descriptor() -> None:
    before = _open_fds()
    waker = FdWaker.create()
    assert waker is not None
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(waker.wait)
            await trio.to_thread.run_sync(waker.fire)
    assert _open_fds() == before


async def test_a_waiter_cancelled_before_the_fire_leaves_the_descriptor_to_the_firer() -> None:
    before = _open_fds()
    waker = FdWaker.create()
    assert waker is not None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(waker.wait)
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert _open_fds() == before + 1  # still open: the writer may be about to fire
    await trio.to_thread.run_sync(waker.fire)
    assert _open_fds() == before


async def test_urgent_writes_give_their_results_and_errors_and_leave_no_descriptor(
    store: Store,
) -> None:
    await store.write_urgent(lambda: None)  # the writer's connection is open now
    before = _open_fds()
    results = []
    for n in range(20):
        results.append(await store.write_urgent(lambda n=n: n * 3))
    with pytest.raises(ZeroDivisionError):
        await store.write_urgent(lambda: 1 / 0)
    assert results == [n * 3 for n in range(20)]
    assert _open_fds() == before
