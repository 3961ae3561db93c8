"""Connections still in their handshake are capped; stations that finished it are never evicted."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack

import pytest
import trio

from gateway import Gateway, GatewayConfig
from tests.gateway.conftest import TEST_CONFIG, add_station
from tests.gateway.ocpp_client import open_station


async def eventually(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await trio.sleep(0.01)
    raise AssertionError("the condition did not come true within 5 s")


@pytest.fixture(name="config")
def _config() -> GatewayConfig:
    return GatewayConfig(**{**TEST_CONFIG.__dict__, "max_pending_handshakes": 5})


async def test_idle_connections_are_evicted_oldest_first_and_stations_stay(
    gateway: Gateway, port: int, db_write
) -> None:
    for n in range(8):
        await db_write(add_station, f"CP{n}")
    admission = gateway.admission
    assert admission is not None
    idle: list[trio.SocketStream] = []
    with trio.fail_after(20):
        async with AsyncExitStack() as stack:
            stations = [
                await stack.enter_async_context(open_station(port, f"CP{n}")) for n in range(8)
            ]
            for station in stations:
                await station.result("Heartbeat", {})
            assert admission.pending == 0  # each handshake was seen to finish
            for _ in range(20):
                idle.append(await trio.open_tcp_stream("127.0.0.1", port))
            await eventually(lambda: admission.evicted >= 15)
            assert admission.pending == 5
            for station in stations:  # none of them was taken for an idle one
                assert (await station.result("Heartbeat", {}))["currentTime"]
            async with open_station(port, "CP0") as again:
                assert (await again.result("Heartbeat", {}))["currentTime"]
            # the oldest idle connections were the ones closed
            assert await idle[0].receive_some(10) == b""
        for stream in idle:
            await stream.aclose()
