"""An answer's frame leaves at once: no scheduling round of the whole gateway first."""

from __future__ import annotations

import json

import trio

from gateway import Gateway
from gateway.wsend import send_text
from tests.gateway.conftest import add_station
from tests.gateway.ocpp_client import open_station


async def test_a_frame_is_sent_before_any_other_ready_task_runs(
    gateway: Gateway, port: int, db_write: object
) -> None:
    await db_write(add_station, "CP1")  # type: ignore[operator]
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result("Heartbeat", {})
            actor = gateway.registry.actor("CP1")
            assert actor is not None
            task = trio.lowlevel.current_task()
            scheduled = task._schedule_points  # what trio.testing.assert_no_checkpoints reads
            await send_text(actor._ws, json.dumps([2, "g1", "Heartbeat", {}]))
            assert task._schedule_points == scheduled  # it never gave way to another task
            assert await station.receive() == [2, "g1", "Heartbeat", {}]


async def test_a_frame_waits_its_turn_while_another_is_being_sent(
    gateway: Gateway, port: int, db_write: object
) -> None:
    await db_write(add_station, "CP1")  # type: ignore[operator]
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result("Heartbeat", {})
            actor = gateway.registry.actor("CP1")
            assert actor is not None
            lock = actor._ws._stream_lock  # as if a ping were being written
            lock.acquire_nowait()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(send_text, actor._ws, json.dumps([2, "g2", "Heartbeat", {}]))
                await trio.sleep(0.05)
                lock.release()
            assert await station.receive() == [2, "g2", "Heartbeat", {}]
