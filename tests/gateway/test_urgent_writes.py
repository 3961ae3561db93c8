"""After a command, what the station sends in answer is written ahead of the telemetry."""

from __future__ import annotations

from typing import Any

import trio

from db import Store
from db.schema.models import ChargingSession
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
