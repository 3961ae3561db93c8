"""One deadline per command: queue wait, send and answer; expiry says what was sent."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from db import Store
from gateway import CommandTimeoutError, Gateway, GatewayConfig
from tests.gateway.conftest import TEST_CONFIG, add_station
from tests.gateway.ocpp_client import open_station


async def test_a_command_behind_an_unanswered_one_ends_at_its_deadline_unsent(
    gateway: Gateway, port: int, db_write
) -> None:
    await db_write(add_station, "CP1")
    with trio.fail_after(20):
        async with open_station(port, "CP1") as station, trio.open_nursery() as nursery:
            await station.result("Heartbeat", {})

            async def first() -> None:
                answer = await gateway.call("CP1", "Reset", {"type": "Soft"}, timeout=10)
                assert answer == {"status": "Accepted"}

            nursery.start_soon(first)
            reset = await station.next_call()  # outstanding, never answered in time
            started = trio.current_time()
            with pytest.raises(CommandTimeoutError) as caught:
                await gateway.call("CP1", "ClearCache", {}, timeout=1)
            took = trio.current_time() - started
            await station.answer(reset, {"status": "Accepted"})  # in time for Reset alone
            with trio.move_on_after(0.5):
                extra = await station.next_call()
                raise AssertionError(f"an expired command was still sent: {extra}")
    assert caught.value.sent is False
    assert "ClearCache was not sent" in str(caught.value)
    assert "behind Reset" in str(caught.value)
    assert 1 <= took < 2


async def test_an_unanswered_command_says_it_was_sent(
    gateway: Gateway, port: int, db_write
) -> None:
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result("Heartbeat", {})
            with pytest.raises(CommandTimeoutError) as caught:
                await gateway.call("CP1", "ClearCache", {}, timeout=0.5)
            assert (await station.next_call())[2] == "ClearCache"
    assert caught.value.sent is True
    assert "was sent but the station did not answer" in str(caught.value)


async def test_a_command_queued_behind_the_first_boot_import_of_a_silent_station_ends_in_time(
    store: Store, nursery: trio.Nursery, db_write
) -> None:
    config = GatewayConfig(
        **{**TEST_CONFIG.__dict__, "import_configuration": True, "command_timeout": 30}
    )
    gateway = Gateway(store, config=config)
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    await db_write(add_station, "CP1")
    boot: dict[str, Any] = {"chargePointVendor": "V", "chargePointModel": "M"}
    with trio.fail_after(20):
        async with open_station(port, "CP1") as station:
            await station.result("BootNotification", boot)
            assert (await station.next_call())[2] == "GetConfiguration"  # never answered
            started = trio.current_time()
            with pytest.raises(CommandTimeoutError) as caught:
                await gateway.call("CP1", "Reset", {"type": "Soft"}, timeout=1.5)
            took = trio.current_time() - started
    assert caught.value.sent is False
    assert "behind GetConfiguration" in str(caught.value)
    assert 1.5 <= took < 2.5


async def test_expired_commands_free_their_place_in_the_queue(
    store: Store, nursery: trio.Nursery, db_write
) -> None:
    config = GatewayConfig(**{**TEST_CONFIG.__dict__, "command_queue_size": 1})
    gateway = Gateway(store, config=config)
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station, trio.open_nursery() as callers:
            await station.result("Heartbeat", {})

            async def outstanding() -> None:
                with pytest.raises(CommandTimeoutError):
                    await gateway.call("CP1", "Reset", {"type": "Soft"}, timeout=5)

            callers.start_soon(outstanding)
            await station.next_call()
            for _ in range(3):  # each waits its deadline out in the one queue place
                with pytest.raises(CommandTimeoutError) as caught:
                    await gateway.call("CP1", "ClearCache", {}, timeout=0.2)
                assert caught.value.sent is False
            callers.cancel_scope.cancel()
