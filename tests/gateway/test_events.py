"""The live event bus: fan-out, bounded buffers, and taking what queued in one go."""

from __future__ import annotations

import pytest
import trio

from gateway import EventBus, LiveEvent
from gateway.events import next_batch


async def test_next_batch_takes_everything_queued_behind_the_first_event() -> None:
    bus = EventBus()
    async with bus.subscribe() as events:
        for i in range(5):
            bus.publish(LiveEvent("connector.status", f"CP{i}"))
        batch = await next_batch(events)
        assert [e.charge_box_id for e in batch] == [f"CP{i}" for i in range(5)]
        with trio.move_on_after(0.1) as waiting:  # nothing left: it waits for the next
            await next_batch(events)
        assert waiting.cancelled_caught


async def test_a_full_subscriber_misses_events_and_the_bus_counts_them() -> None:
    bus = EventBus()
    async with bus.subscribe(max_buffer=2) as events:
        for i in range(3):
            bus.publish(LiveEvent("connector.status", f"CP{i}"))
        assert [e.charge_box_id for e in await next_batch(events)] == ["CP0", "CP1"]
    assert bus.statistics() == {"subscribers": 0, "published": 3, "dropped": 1}


async def test_next_batch_ends_like_receive_when_the_channel_ends() -> None:
    send, receive = trio.open_memory_channel[LiveEvent](1)
    await send.aclose()
    with pytest.raises(trio.EndOfChannel):
        await next_batch(receive)
