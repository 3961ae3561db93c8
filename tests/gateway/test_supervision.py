"""The heartbeat watchdog and the live event bus."""

from __future__ import annotations

import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed

import gateway as gateway_package
from db import Store
from db.schema.models import Alarm
from gateway import EventBus, Gateway, GatewayConfig, LiveEvent
from tests.gateway.conftest import TEST_CONFIG, add_station
from tests.gateway.ocpp_client import open_station


def no_network_alarms() -> list[tuple[str, bool]]:
    return [
        (a.charge_box_id, a.cleared_at is None)
        for a in Alarm.select().where(Alarm.kind == "No network").order_by(Alarm.id)
    ]


#: The frame log's flush loop wakes every 0.5 s of (virtual) time by default; with the
#: autojump clock each wake-up costs the 0.1 s real threshold: 38 s for these minutes.
QUIET_LOG = {"frame_log_flush_interval": 10.0}


async def test_silent_station_is_closed_with_no_network_and_coming_back_clears_it(
    store: Store, nursery: trio.Nursery, db_write, mock_clock: trio.testing.MockClock
) -> None:
    mock_clock.autojump_threshold = 0.1
    config = GatewayConfig(
        **{**TEST_CONFIG.__dict__, "heartbeat_interval": 60, "supervisor_interval": 30, **QUIET_LOG}
    )
    gateway = Gateway(store, config=config)
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    await db_write(add_station, "QUIET")
    with trio.fail_after(1000):
        async with open_station(port, "QUIET") as station:
            await station.result("Heartbeat", {})
            await trio.sleep(100)  # under 2 x 60 s: still fine
            assert await store.read(no_network_alarms) == []
            await trio.sleep(60)
            assert await store.read(no_network_alarms) == [("QUIET", True)]
            snapshot = gateway.snapshot("QUIET")
            assert snapshot is not None
            assert (snapshot.no_network_alarm, snapshot.online) == (True, False)
            with pytest.raises(ConnectionClosed):  # the gateway closed the connection
                await station.result("Heartbeat", {})
        async with open_station(port, "QUIET") as station:
            await station.result("Heartbeat", {})
            await trio.sleep(31)
            assert await store.read(no_network_alarms) == [("QUIET", False)]


async def test_disconnected_station_raises_no_network_after_the_grace(
    store: Store, nursery: trio.Nursery, db_write, mock_clock: trio.testing.MockClock
) -> None:
    mock_clock.autojump_threshold = 0.1
    config = GatewayConfig(
        **{**TEST_CONFIG.__dict__, "offline_grace": 60, "supervisor_interval": 20, **QUIET_LOG}
    )
    gateway = Gateway(store, config=config)
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    await db_write(add_station, "GONE")
    with trio.fail_after(1000):
        async with gateway.events.subscribe() as feed:
            async with open_station(port, "GONE") as station:
                await station.result("Heartbeat", {})
            await trio.sleep(90)
            assert await store.read(no_network_alarms) == [("GONE", True)]
            kinds = []
            while "alarm.raised" not in kinds:
                kinds.append((await feed.receive()).kind)
            assert kinds.index("station.offline") < kinds.index("alarm.raised")
            async with open_station(port, "GONE") as station:
                await station.result("Heartbeat", {})
                await trio.sleep(25)
            assert await store.read(no_network_alarms) == [("GONE", False)]


async def test_last_seen_is_flushed_in_batches(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    station_id = await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result("Heartbeat", {})
        seen = gateway.snapshot("CP1").last_seen  # type: ignore[union-attr]
        await gateway.supervisor.tick()
    from db.schema.models import Station

    stored = await store.read(lambda: Station.get_by_id(station_id).last_seen_at)
    assert stored is not None
    assert seen is not None
    assert stored.isoformat(timespec="milliseconds") == seen.isoformat(timespec="milliseconds")


async def test_a_slow_subscriber_never_blocks_publishing() -> None:
    bus = EventBus()
    async with bus.subscribe(max_buffer=2) as slow, bus.subscribe(max_buffer=100) as fast:
        for n in range(10):
            bus.publish(LiveEvent("connector.status", f"CP{n}", {}))
        assert len([await fast.receive() for _ in range(10)]) == 10
        assert [(await slow.receive()).charge_box_id for _ in range(2)] == ["CP0", "CP1"]
    assert bus.statistics()["dropped"] == 8
    assert bus.statistics()["subscribers"] == 0


def test_public_surface_is_pinned() -> None:
    assert sorted(gateway_package.__all__) == sorted(
        [
            "CENTRAL_SYSTEM_INITIATED",
            "COMMAND_ACTIONS",
            "EVENT_KINDS",
            "CallErrorReply",
            "CommandTimeoutError",
            "EventBus",
            "Gateway",
            "GatewayAPI",
            "GatewayConfig",
            "GatewayError",
            "LiveEvent",
            "PayloadValidationError",
            "StationBusyError",
            "StationOfflineError",
            "UnknownActionError",
            "UnknownStationError",
        ]
    )
    for name in gateway_package.__all__:
        assert hasattr(gateway_package, name)


async def test_serving_tunes_the_interpreter_and_restores_it_after(store: Store) -> None:
    import gc
    import sys

    before = (sys.getswitchinterval(), gc.get_threshold())
    config = GatewayConfig(
        **{**TEST_CONFIG.__dict__, "switch_interval": 0.001, "gc_threshold": (12_345, 5, 6)}
    )
    gateway = Gateway(store, config=config)
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            await nursery.start(gateway.serve, "127.0.0.1", 0)
            assert gc.get_threshold() == (12_345, 5, 6)
            assert abs(sys.getswitchinterval() - 0.001) < 1e-9
            nursery.cancel_scope.cancel()
    assert (sys.getswitchinterval(), gc.get_threshold()) == before


def not_registered_alarms() -> list[tuple[str, bool, int | None]]:
    return [
        (a.charge_box_id, a.cleared_at is None, a.station_id)
        for a in Alarm.select().where(Alarm.kind == "Not registered").order_by(Alarm.id)
    ]


async def test_a_configured_station_that_never_connects_raises_not_registered(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    """SPEC §8: "the station has never registered with the portal" (issue 12, fix 5)."""
    import datetime as dt

    from db.schema.models import Station, utcnow
    from db.system.settings import update_settings

    late = await db_write(add_station, "LATE")
    fresh = await db_write(add_station, "FRESH")

    def age(station_id: int, hours: float) -> None:
        created = utcnow() - dt.timedelta(hours=hours)
        Station.update(created_at=created).where(Station.id == station_id).execute()

    await db_write(age, late, 25)  # the setting's default: 24 h
    await db_write(age, fresh, 1)
    with trio.fail_after(10):
        async with gateway.events.subscribe() as feed:
            await gateway.supervisor.tick()
            event = await feed.receive()
        assert (event.kind, event.charge_box_id, event.data["kind"]) == (
            "alarm.raised",
            "LATE",
            "Not registered",
        )
        await gateway.supervisor.tick()  # no second alarm, no count up
        assert await store.read(not_registered_alarms) == [("LATE", True, late)]
        count = await store.read(lambda: Alarm.get(Alarm.charge_box_id == "LATE").count)
        assert count == 1
        message = await store.read(lambda: Alarm.get(Alarm.charge_box_id == "LATE").message)
        assert "never connected" in message

        await db_write(update_settings, {"alarms.not_registered_hours": "0"})
        await db_write(age, fresh, 1000)
        await gateway.supervisor.tick()  # 0: never
        assert await store.read(not_registered_alarms) == [("LATE", True, late)]

        async with open_station(port, "LATE") as station:
            await station.result("Heartbeat", {})
            await gateway.supervisor.tick()
        assert await store.read(not_registered_alarms) == [("LATE", False, late)]


async def test_an_unknown_id_stays_not_registered_until_cleared_by_hand(
    gateway: Gateway, port: int, store: Store
) -> None:
    from trio_websocket import ConnectionRejected

    with trio.fail_after(10):
        try:
            async with open_station(port, "STRANGER"):
                pass
        except ConnectionRejected:
            pass
        await gateway.refusals.flush()  # what the gateway does every refusal_interval
        await gateway.supervisor.tick()
        await gateway.supervisor.tick()
    assert await store.read(not_registered_alarms) == [("STRANGER", True, None)]
