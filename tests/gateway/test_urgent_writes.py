"""After a command, what the station sends in answer is written ahead of the telemetry."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import trio

from db import Store
from db.schema.models import ChargingSession, MeterSample
from gateway import Gateway
from tests.gateway.conftest import add_id_tag, add_station
from tests.gateway.ocpp_client import now_iso, open_station


async def test_a_stations_answers_to_a_command_take_the_urgent_lane(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1")
    before = store.writer.statistics().urgent_jobs

    async def remote_start(call: list[Any]) -> None:
        await station.answer(call, {"status": "Accepted"})

    with trio.fail_after(20):
        async with open_station(port, "CP1") as station:
            status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
            await station.result("StatusNotification", status)  # before: the bulk lane
            assert store.writer.statistics().urgent_jobs == before
            async with trio.open_nursery() as nursery:
                nursery.start_soon(
                    gateway.call,
                    "CP1",
                    "RemoteStartTransaction",
                    {"connectorId": 1, "idTag": "TAG1"},
                )
                await remote_start(await station.next_call())
            await station.result("StatusNotification", status | {"status": "Preparing"})
            started = await station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": now_iso()},
            )
            await station.result("StatusNotification", status | {"status": "Charging"})
    # the command's record, both statuses and the start: each in the urgent lane
    assert store.writer.statistics().urgent_jobs - before >= 4
    session = await store.read(ChargingSession.get_by_id, started["transactionId"])
    assert session.id_tag == "TAG1"


def _meter_values(wh: int) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "meterValue": [{"timestamp": now_iso(), "sampledValue": [{"value": str(wh)}]}],
    }


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():  # noqa: ASYNC110 - the batcher's counters, no event to await
        await trio.sleep(0.005)


def _sample_ids(station_id: int) -> list[int]:
    query = MeterSample.select(MeterSample.id).where(MeterSample.station_id == station_id)
    return sorted(row.id for row in query)


@asynccontextmanager
async def _writer_held(store: Store) -> AsyncIterator[trio.Nursery]:
    """The database writer busy with a bulk batch until the block ends."""
    busy, release = threading.Event(), threading.Event()

    def batch_in_progress() -> None:
        busy.set()
        release.wait(10)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(store.write, batch_in_progress)
        await trio.to_thread.run_sync(busy.wait)
        try:
            yield nursery
        finally:
            release.set()


async def test_the_meter_values_outstanding_at_a_command_are_stored_before_older_telemetry(
    gateway: Gateway, port: int, db_write: Any, store: Store
) -> None:
    """The station's CALL in progress stands between the command and the status it
    will send: it leaves the telemetry queue and is answered ahead of it."""
    cp1 = await db_write(add_station, "CP1")
    cp2 = await db_write(add_station, "CP2")
    await db_write(add_id_tag, "TAG1")
    meter = gateway.meter_writer
    with trio.fail_after(20):
        async with open_station(port, "CP1") as one, open_station(port, "CP2") as two:
            for station in (one, two):  # connected: nothing of theirs waits for the writer
                await station.result("Heartbeat", {})
            async with trio.open_nursery() as commands:
                async with _writer_held(store) as nursery:
                    # CP2's telemetry: its batch waits in the writer behind the one in progress
                    nursery.start_soon(two.result, "MeterValues", _meter_values(100))
                    await _until(lambda: meter.statistics()["batches"] == 1)
                    # CP1's waits for the next batch
                    nursery.start_soon(one.result, "MeterValues", _meter_values(200))
                    await _until(lambda: meter.statistics()["pending"] == 1)
                    urgent_jobs = store.writer.statistics().urgent_jobs
                    commands.start_soon(
                        gateway.call,
                        "CP1",
                        "RemoteStartTransaction",
                        {"connectorId": 2, "idTag": "TAG1"},
                    )
                    await _until(lambda: meter.statistics()["urgent"] == 1)
                    # in the writer's urgent lane before the writer is let go (promote
                    # hands it over from a task of its own)
                    await _until(lambda: store.writer.statistics().urgent_jobs > urgent_jobs)
                await one.answer(await one.next_call(), {"status": "Accepted"})
    ids_one, ids_two = await store.read(_sample_ids, cp1), await store.read(_sample_ids, cp2)
    assert ids_one
    assert ids_two
    assert max(ids_one) < min(ids_two)  # committed first, though sent and queued after


async def test_meter_values_sent_while_a_command_awaits_its_answer_go_ahead_of_telemetry(
    gateway: Gateway, port: int, db_write: Any, store: Store
) -> None:
    cp1 = await db_write(add_station, "CP1")
    cp2 = await db_write(add_station, "CP2")
    await db_write(add_id_tag, "TAG1")
    meter = gateway.meter_writer
    with trio.fail_after(20):
        async with open_station(port, "CP1") as one, open_station(port, "CP2") as two:
            for station in (one, two):  # connected: nothing of theirs waits for the writer
                await station.result("Heartbeat", {})
            async with trio.open_nursery() as commands:
                commands.start_soon(
                    gateway.call,
                    "CP1",
                    "RemoteStartTransaction",
                    {"connectorId": 2, "idTag": "TAG1"},
                )
                command = await one.next_call()  # not answered yet: its MeterValues cross it
                async with _writer_held(store) as nursery:
                    nursery.start_soon(two.result, "MeterValues", _meter_values(100))
                    await _until(lambda: meter.statistics()["batches"] == 1)
                    nursery.start_soon(one.result, "MeterValues", _meter_values(200))
                    await _until(lambda: meter.statistics()["urgent"] == 1)
                await one.answer(command, {"status": "Accepted"})
    ids_one, ids_two = await store.read(_sample_ids, cp1), await store.read(_sample_ids, cp2)
    assert ids_one
    assert ids_two
    assert max(ids_one) < min(ids_two)


async def test_a_stations_telemetry_after_the_answer_stays_in_the_batches(
    gateway: Gateway, port: int, db_write: Any
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1")
    with trio.fail_after(20):
        async with open_station(port, "CP1") as one:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(
                    gateway.call,
                    "CP1",
                    "RemoteStartTransaction",
                    {"connectorId": 2, "idTag": "TAG1"},
                )
                await one.answer(await one.next_call(), {"status": "Accepted"})
            for wh in (100, 200, 300):
                await one.result("MeterValues", _meter_values(wh))
    statistics = gateway.meter_writer.statistics()
    assert statistics["urgent"] == 0
    assert statistics["items"] == 3
