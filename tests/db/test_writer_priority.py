"""The writer's urgent lane: a command's write goes ahead of the queued bulk writes."""

from __future__ import annotations

import threading

import trio

from db import Store


async def test_an_urgent_write_commits_before_the_bulk_queued_ahead_of_it(store: Store) -> None:
    order: list[str] = []
    busy = threading.Event()
    release = threading.Event()

    def slow_bulk() -> None:  # the batch being written when the urgent job arrives
        busy.set()
        release.wait(10)
        order.append("slow")

    def note(name: str) -> None:
        order.append(name)

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(store.write, slow_bulk)
            await trio.to_thread.run_sync(busy.wait)
            for n in range(50):  # telemetry queued behind it
                nursery.start_soon(store.write, note, f"bulk{n}")
            await trio.sleep(0.2)
            nursery.start_soon(store.write_urgent, note, "urgent")
            await trio.sleep(0.2)
            release.set()
    assert order[0] == "slow"  # the batch in progress is not interrupted
    assert order[1] == "urgent"
    assert sorted(order[2:]) == sorted(f"bulk{n}" for n in range(50))
    assert store.writer.statistics().urgent_jobs == 1
