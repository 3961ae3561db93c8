"""A database that cannot store: stations get CallErrors, the log gets a line, not tracebacks."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import trio

from db import Store
from db.schema.models import MeterSample
from gateway import Gateway
from tests.db.test_writer_failures import fill_disk, free_disk
from tests.gateway.conftest import add_station
from tests.gateway.ocpp_client import now_iso, open_station

START = dt.datetime(2026, 1, 1)


def many_samples(first: int) -> dict[str, object]:
    sampled = [{"value": str(first), "measurand": "Voltage", "phase": "L1", "unit": "V"}]
    return {
        "connectorId": 1,
        "meterValue": [
            {
                "timestamp": f"{START + dt.timedelta(seconds=n):%Y-%m-%dT%H:%M:%S}Z",
                "sampledValue": sampled,
            }
            for n in range(first, first + 100)
        ],
    }


async def test_a_full_disk_is_answered_internal_error_logged_once_and_recovered(
    gateway: Gateway, port: int, db_write, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_station, "CP2")
    caplog.set_level(logging.INFO)
    with trio.fail_after(20):
        async with open_station(port, "CP1") as one, open_station(port, "CP2") as two:
            await store.write(fill_disk, store)
            answers: list[list[object]] = []

            async def send(station, first: int) -> None:  # type: ignore[no-untyped-def]
                for round_ in range(5):
                    answers.append(
                        await station.call("MeterValues", many_samples(first + round_ * 100))
                    )

            async with trio.open_nursery() as senders:
                senders.start_soon(send, one, 0)
                senders.start_soon(send, two, 1000)
            assert {(a[0], a[2]) for a in answers} == {(4, "InternalError")}
            assert all("MeterValues could not be stored" in str(a[3]) for a in answers)
            await store.write(free_disk, store)
            assert (await one.call("MeterValues", many_samples(5000)))[0] == 3
            assert (
                await one.result(
                    "StatusNotification",
                    {
                        "connectorId": 1,
                        "errorCode": "NoError",
                        "status": "Available",
                        "timestamp": now_iso(),
                    },
                )
            ) == {}
    assert await store.read(lambda: MeterSample.select().count()) == 100
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    full = [r for r in caplog.records if "database or disk is full" in r.getMessage()]
    by_logger: dict[str, int] = {}
    for record in full:
        by_logger[record.name] = by_logger.get(record.name, 0) + 1
    assert by_logger
    assert max(by_logger.values()) == 1, by_logger
