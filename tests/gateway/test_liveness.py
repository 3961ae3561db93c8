"""Liveness: pings find a half-open connection, a silent station is closed and shown offline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from db import Store
from db.schema.models import ConfigurationKey
from gateway import Gateway, GatewayConfig
from tests.gateway.conftest import TEST_CONFIG, add_station
from tests.gateway.ocpp_client import open_station

HANDSHAKE = (
    "GET /Ocpp/websocket/{cbid} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
)


@asynccontextmanager
async def half_open_station(port: int, charge_box_id: str) -> AsyncIterator[trio.SocketStream]:
    """A station whose socket stays open but never answers again: no data, no FIN, as when
    a mobile link drops without telling either end."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(HANDSHAKE.format(cbid=charge_box_id).encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += await stream.receive_some(4096)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    try:
        yield stream  # the test never reads from it: pings go unanswered
    finally:
        await stream.aclose()


async def until_online(gateway: Gateway, charge_box_id: str) -> None:
    for _ in range(500):
        if gateway.is_online(charge_box_id):
            return
        await trio.sleep(0.01)
    raise AssertionError(f"{charge_box_id} never came online")


def config(**changes: float) -> GatewayConfig:
    return GatewayConfig(**{**TEST_CONFIG.__dict__, "disconnect_timeout": 0.5, **changes})


async def offline_event(gateway: Gateway, charge_box_id: str) -> dict[str, object]:
    async with gateway.events.subscribe() as feed:
        async for event in feed:
            if event.kind == "station.offline" and event.charge_box_id == charge_box_id:
                return event.data
    raise AssertionError("event feed ended")


def test_pings_are_on_by_default() -> None:
    assert GatewayConfig().ping_interval > 0


async def test_a_half_open_connection_is_found_by_pings_and_shown_offline(
    store: Store, nursery: trio.Nursery, db_write
) -> None:
    gateway = Gateway(store, config=config(ping_interval=0.3, pong_timeout=0.3))
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    await db_write(add_station, "CP1")
    async with half_open_station(port, "CP1"):
        with trio.fail_after(5):
            await until_online(gateway, "CP1")
            started = trio.current_time()
            data = await offline_event(gateway, "CP1")
        took = trio.current_time() - started
        assert not gateway.is_online("CP1")
        assert gateway.snapshot("CP1").online is False  # type: ignore[union-attr]
        assert "ping" in str(data["reason"])
        assert took < 0.3 + 0.3 + 0.5 + 0.5  # ping interval + pong wait + close, with slack


async def test_the_stations_own_websocket_ping_interval_is_respected(
    store: Store, nursery: trio.Nursery, db_write
) -> None:
    """The gateway's pings are off here, but this station asked for pings every second."""
    gateway = Gateway(store, config=config(ping_interval=0, pong_timeout=0.3))
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    station_id = await db_write(add_station, "CP1")
    await db_write(
        lambda: ConfigurationKey.create(station=station_id, key="WebSocketPingInterval", value="1")
    )
    async with half_open_station(port, "CP1"):
        with trio.fail_after(5):
            data = await offline_event(gateway, "CP1")
    assert "ping" in str(data["reason"])


async def test_a_live_station_without_pings_stays_connected(
    store: Store, nursery: trio.Nursery, db_write
) -> None:
    gateway = Gateway(store, config=config(ping_interval=0))
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    await db_write(add_station, "CP1")
    async with half_open_station(port, "CP1"):
        with trio.fail_after(5):
            await until_online(gateway, "CP1")
        await trio.sleep(1)
        assert gateway.is_online("CP1")  # nothing asked it anything


async def test_a_station_answering_pings_but_silent_too_long_is_closed(
    store: Store, nursery: trio.Nursery, db_write
) -> None:
    """Pongs come from the WebSocket library; a station whose OCPP side hangs sends no
    heartbeat: past factor x heartbeat interval it is closed, offline and alarmed."""
    gateway = Gateway(
        store, config=config(ping_interval=0.2, heartbeat_interval=1, no_network_factor=1.5)
    )
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result("Heartbeat", {})
            await trio.sleep(1)
            await gateway.supervisor.tick()  # 1 s silent: under 1.5 x 1 s
            assert gateway.is_online("CP1")
            await trio.sleep(0.7)
            async with trio.open_nursery() as watch:
                watch.start_soon(gateway.supervisor.tick)
                data = await offline_event(gateway, "CP1")
    assert "silent for more than 1.5 s" in str(data["reason"])
    assert gateway.snapshot("CP1").no_network_alarm is True  # type: ignore[union-attr]


async def test_an_idle_station_runs_no_task_of_its_own_between_pings(
    store: Store, nursery: trio.Nursery, db_write
) -> None:
    """Between pings an idle station costs an entry in the gateway's pinger, not a task
    sleeping until its next ping (memory per idle station); the pings still go out."""
    gateway = Gateway(store, config=config(ping_interval=0.2, pong_timeout=0.5))
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result("Heartbeat", {})
            actor = gateway.registry.actor("CP1")
            assert actor is not None
            assert actor.statistics()["tasks"] == 0
            assert len(gateway.pinger) == 1
            while gateway.pinger.pings < 3:  # noqa: ASYNC110 - no event for it
                await trio.sleep(0.05)
            while actor.statistics()["tasks"]:  # noqa: ASYNC110 - a ping in flight, until its pong
                await trio.sleep(0.01)
            assert len(gateway.pinger) == 1  # the next one is scheduled
            assert gateway.is_online("CP1")
            assert (await station.result("Heartbeat", {}))["currentTime"]
