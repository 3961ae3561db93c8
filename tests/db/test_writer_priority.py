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


async def test_an_urgent_write_waits_for_the_bulk_job_being_run_not_the_rest(
    store: Store,
) -> None:
    order: list[str] = []
    gate, busy_gate = threading.Event(), threading.Event()
    in_part, leave_part = threading.Event(), threading.Event()

    def hold() -> None:  # keeps the writer busy while the parts queue up behind it
        busy_gate.set()
        gate.wait(10)
        order.append("hold")

    def part(name: str) -> str:
        if name == "a":  # the part being run when the urgent write comes
            in_part.set()
            leave_part.wait(10)
        if name == "bad":
            raise ValueError("refused")
        order.append(name)
        return name.upper()

    outcomes: list[object] = []

    async def parts() -> None:
        outcomes.extend(await store.write_parts(part, ["a", "b", "bad", "c"]))

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(store.write, hold)
            await trio.to_thread.run_sync(busy_gate.wait)
            nursery.start_soon(parts)
            while store.writer.statistics().queued < 4:  # noqa: ASYNC110 - a thread's queue
                await trio.sleep(0.01)
            gate.set()  # the writer takes the four parts as one batch, runs "a"
            await trio.to_thread.run_sync(in_part.wait)
            nursery.start_soon(store.write_urgent, order.append, "urgent")
            while store.writer.statistics().urgent_jobs < 1:  # noqa: ASYNC110
                await trio.sleep(0.01)
            leave_part.set()
    assert order == ["hold", "a", "urgent", "b", "c"]  # not behind b and c
    assert outcomes[:2] == ["A", "B"]
    assert outcomes[3] == "C"
    assert isinstance(outcomes[2], ValueError)  # a failing part fails alone
    assert store.writer.statistics().cut_short == 1
