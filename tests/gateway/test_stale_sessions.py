"""End to end: a session whose StopTransaction never came never blocks charging."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
import trio

from db import Store
from db.ocpp.stale_sessions import STALE_STOP_REASON
from db.schema.models import ChargingSession, Event, utcnow
from gateway import Gateway, GatewayConfig
from tests.gateway.conftest import TEST_CONFIG, add_id_tag, add_station
from tests.gateway.ocpp_client import RawStation, now_iso, open_station

BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Wallbox"}
GRACE = 0.5


@pytest.fixture(name="config")
def _config() -> GatewayConfig:
    return dataclasses.replace(TEST_CONFIG, stale_session_grace=GRACE)


async def start(
    station: RawStation, tag: str, meter: int = 0, connector: int = 1, at: str | None = None
) -> dict:
    return await station.result(
        "StartTransaction",
        {"connectorId": connector, "idTag": tag, "meterStart": meter, "timestamp": at or now_iso()},
    )


async def status(station: RawStation, value: str, connector: int = 1) -> None:
    await station.result(
        "StatusNotification", {"connectorId": connector, "errorCode": "NoError", "status": value}
    )


async def meter(station: RawStation, tx: int, wh: int, at: str, connector: int = 1) -> None:
    sample = {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    await station.result(
        "MeterValues",
        {
            "connectorId": connector,
            "transactionId": tx,
            "meterValue": [{"timestamp": at, "sampledValue": [sample]}],
        },
    )


def session(tx: int) -> dict[str, Any]:
    return ChargingSession.select().where(ChargingSession.id == tx).dicts().get()


def open_sessions() -> list[int]:
    query = ChargingSession.select(ChargingSession.id).where(ChargingSession.end_time.is_null())
    return [s.id for s in query]


def stale_events() -> list[str]:
    query = Event.select().where(Event.kind == "session.stale_closed").order_by(Event.id)
    return [e.message for e in query]


async def test_lost_stop_then_a_new_start_on_the_connector_closes_the_old_and_charges(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1")
    sampled_at = utcnow().replace(microsecond=0) + dt.timedelta(minutes=1)
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            first = await start(station, "TAG1", 1_000)
            old = first["transactionId"]
            await meter(station, old, 4_000, sampled_at.isoformat() + "Z")
            # the StopTransaction is lost; the driver badges again on the same connector
            authorize = await station.result("Authorize", {"idTag": "TAG1"})
            later = (sampled_at + dt.timedelta(minutes=5)).isoformat() + "Z"
            second = await start(station, "TAG1", 4_000, at=later)
    assert authorize["idTagInfo"]["status"] == "Accepted"
    assert second["idTagInfo"]["status"] == "Accepted"  # was ConcurrentTx
    assert second["transactionId"] != old
    closed = await store.read(session, old)
    assert closed["stop_reason"] == STALE_STOP_REASON
    assert closed["meter_stop"] == 4_000
    assert closed["energy_wh"] == 3_000
    assert closed["end_time"] == sampled_at  # the last meter sample, not the new start
    assert await store.read(open_sessions) == [second["transactionId"]]
    logged = await store.read(stale_events)
    assert len(logged) == 1
    assert f"transaction {old}" in logged[0]
    snapshot = gateway.snapshot("CP1")
    assert snapshot is not None
    assert snapshot.connectors[1].transaction_id == second["transactionId"]


async def test_the_same_tag_on_another_connector_of_the_station_is_not_concurrent(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_station, "CP2")
    await db_write(add_id_tag, "TAG1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            first = await start(station, "TAG1", connector=1)
            second = await start(station, "TAG1", connector=2)
            async with open_station(port, "CP2") as other:
                authorize = await other.result("Authorize", {"idTag": "TAG1"})
                elsewhere = await start(other, "TAG1")
    assert second["idTagInfo"]["status"] == "Accepted"
    # at another station the tag is live: Authorize and StartTransaction agree
    assert authorize["idTagInfo"]["status"] == "ConcurrentTx"
    assert elsewhere["idTagInfo"]["status"] == "ConcurrentTx"
    assert sorted(await store.read(open_sessions)) == sorted(
        [first["transactionId"], second["transactionId"]]
    )


async def test_reboot_mid_session_closes_the_session_when_the_connector_reports_idle(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1")
    await db_write(add_id_tag, "TAG2")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result("BootNotification", BOOT)
            running = (await start(station, "TAG1", 500, connector=1))["transactionId"]
            kept = (await start(station, "TAG2", 700, connector=2))["transactionId"]
            await status(station, "Charging", 1)
        # power loss: the station comes back without its transaction on connector 1
        async with open_station(port, "CP1") as station:
            await station.result("BootNotification", BOOT)
            await status(station, "Available", 1)
            await status(station, "Charging", 2)  # connector 2 kept its transaction
            closed = await store.read(session, running)
            # later idle reports are not "first after boot": grace applies again
            await status(station, "Available", 2)
            still_open = await store.read(open_sessions)
    assert closed["stop_reason"] == STALE_STOP_REASON
    assert closed["meter_stop"] == 500
    assert still_open == [kept]
    snapshot = gateway.snapshot("CP1")
    assert snapshot is not None
    assert snapshot.connectors[1].transaction_id is None


async def test_available_with_an_open_session_closes_it_after_the_grace_period(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1")
    stopped: list[Any] = []
    with trio.fail_after(10):
        async with gateway.events.subscribe() as feed, open_station(port, "CP1") as station:
            tx = (await start(station, "TAG1", 100))["transactionId"]
            await status(station, "Charging")
            await meter(station, tx, 900, now_iso())
            await status(station, "Available")  # the StopTransaction was lost
            assert await store.read(open_sessions) == [tx]  # not at once: within the grace
            while not stopped:
                event = await feed.receive()
                if event.kind == "session.stopped":
                    stopped.append(event)
    assert stopped[0].data["transactionId"] == tx
    assert stopped[0].data["reason"] == STALE_STOP_REASON
    closed = await store.read(session, tx)
    assert closed["stop_reason"] == STALE_STOP_REASON
    assert closed["energy_wh"] == 800
    assert await store.read(stale_events)


async def test_a_connector_that_resumes_charging_within_the_grace_keeps_its_session(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            tx = (await start(station, "TAG1"))["transactionId"]
            await status(station, "Preparing")
            await status(station, "Charging")
            await trio.sleep(GRACE * 2)
            await station.result("Heartbeat", {})
    assert await store.read(open_sessions) == [tx]
    assert await store.read(stale_events) == []


async def test_a_late_stop_replaces_the_guessed_stop_of_a_stale_session(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            old = (await start(station, "TAG1", 0))["transactionId"]
            await start(station, "TAG1", 2_000)
            # the station's queued StopTransaction arrives after all
            await station.result(
                "StopTransaction",
                {"transactionId": old, "meterStop": 2_000, "timestamp": now_iso()},
            )
    closed = await store.read(session, old)
    assert closed["stop_reason"] == "Local"
    assert closed["energy_wh"] == 2_000


async def test_the_grace_period_survives_a_reconnection_without_reboot(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1")
    stopped: list[Any] = []
    with trio.fail_after(10):
        async with gateway.events.subscribe() as feed:
            async with open_station(port, "CP1") as station:
                tx = (await start(station, "TAG1", 100))["transactionId"]
                await status(station, "Available")  # the StopTransaction was lost
            # the connection drops before the grace period ends; the station comes back
            # without rebooting and has nothing new to report
            async with open_station(port, "CP1") as station:
                await station.result("Heartbeat", {})
                while not stopped:
                    event = await feed.receive()
                    if event.kind == "session.stopped":
                        stopped.append(event)
    assert stopped[0].data["transactionId"] == tx
    closed = await store.read(session, tx)
    assert closed["stop_reason"] == STALE_STOP_REASON
