"""Clients that have not proved who they are write nothing; password guesses are throttled."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed, ConnectionRejected

from db import Store
from db.schema.models import Alarm, AuthFailure, Event
from gateway import Gateway, GatewayConfig
from tests.gateway.conftest import TEST_CONFIG, add_station
from tests.gateway.ocpp_client import open_station


async def status_of(port: int, charge_box_id: str, **kwargs: object) -> int:
    try:
        async with open_station(port, charge_box_id, **kwargs):  # type: ignore[arg-type]
            return 101
    except ConnectionRejected as refusal:
        return refusal.status_code


def _age_auth_failures(seconds: float) -> None:
    for failure in AuthFailure.select():
        failure.at -= dt.timedelta(seconds=seconds)
        failure.save()


@pytest.fixture(name="clock")
def _clock() -> trio.testing.MockClock:
    """Real time, which a test can jump forward (pytest-trio runs the test on it)."""
    return trio.testing.MockClock(rate=1.0)


@pytest.fixture(name="config")
def _config() -> GatewayConfig:
    return GatewayConfig(
        **{
            **TEST_CONFIG.__dict__,
            "refusal_interval": 3600.0,  # the tests flush by hand
            "refused_ids_remembered": 50,
            "auth_failures_per_station": 5,
            "auth_failures_per_address": 12,
            "auth_failure_window": 60.0,  # a burst on a busy machine stays inside it
        }
    )


async def test_random_unknown_ids_write_nothing_until_one_coalesced_flush(
    gateway: Gateway, port: int, store: Store
) -> None:
    jobs_before = store.writer.statistics().jobs
    ids = [f"X{uuid.uuid4().hex[:12]}" for _ in range(80)]
    with trio.fail_after(30):
        for charge_box_id in ids + ids[:10] * 3:
            assert await status_of(port, charge_box_id) == 404
        # an id no station can have is no id at all: not remembered, not written
        assert await status_of(port, "X", path="/Ocpp/websocket/AB%00C") == 404
        assert await status_of(port, "X", path="/Ocpp/websocket/AB%0AC") == 404
    assert store.writer.statistics().jobs == jobs_before  # not one write for 110 refusals
    await gateway.refusals.flush()
    alarms = await store.read(lambda: {a.charge_box_id: a.count for a in Alarm.select()})
    assert len(alarms) == 50  # the ids remembered one by one
    assert sorted(alarms.values())[-10:] == [4] * 10
    overflow = await store.read(
        lambda: [e.message for e in Event.select().where(Event.kind == "station.not_registered")]
    )
    assert len(overflow) == 1
    assert overflow[0].startswith("30 connection attempts with unknown ids beyond the 50")
    rows = await store.read(lambda: Event.select().count())
    assert rows == 51  # one "alarm.raised" per remembered id and one summary
    await gateway.refusals.flush()
    assert await store.read(lambda: Event.select().count()) == rows  # nothing new to write


async def test_two_clients_fighting_over_one_id_write_one_event_row_per_interval(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    with trio.fail_after(30):
        for _ in range(20):
            async with open_station(port, "CP1") as first:
                await first.result("Heartbeat", {})
                async with open_station(port, "CP1") as second:
                    await second.result("Heartbeat", {})
                    with pytest.raises(ConnectionClosed):
                        await first.receive()
    await gateway.refusals.flush()
    replaced = await store.read(
        lambda: [e.message for e in Event.select().where(Event.kind == "station.replaced")]
    )
    assert len(replaced) == 1
    assert replaced[0].startswith("replaced 20 times")


async def test_wrong_station_passwords_are_throttled_per_station_then_per_address(
    clock: trio.testing.MockClock,
    gateway: Gateway,
    port: int,
    db_write,
    store: Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await db_write(add_station, "CP1", password="right-password-1")
    for n in range(2, 5):
        await db_write(add_station, f"CP{n}", password=f"right-password-{n}")
    caplog.set_level(logging.INFO)
    with trio.fail_after(30):
        codes = [await status_of(port, "CP1", password=f"guess{n}") for n in range(40)]
        assert codes == [401] * 5 + [429] * 35
        assert gateway.statistics()["passwordChecks"] == 5  # refusals past the limit are cheap
        # throttled: even the right password waits for the window
        assert await status_of(port, "CP1", password="right-password-1") == 429
        # the address: 12 failures over several ids, then every id from it waits
        codes = [await status_of(port, f"CP{2 + n % 3}", password="guess") for n in range(9)]
        assert codes == [401] * 7 + [429] * 2
        assert await status_of(port, "CP4", password="right-password-4") == 429
    # the window passes, for this process and for the shared record in the database
    await store.write(_age_auth_failures, 60.1)
    clock.jump(60.1)
    with trio.fail_after(30):
        assert await status_of(port, "CP1", password="right-password-1") == 101
    throttled = [r for r in caplog.records if "throttled" in r.getMessage()]
    assert len(throttled) == 2, [r.getMessage() for r in throttled]  # once per burst
    await gateway.refusals.flush()
    security = await store.read(
        lambda: {
            e.charge_box_id: e.message
            for e in Event.select().where(Event.kind == "station.security")
        }
    )
    # 5 wrong passwords, 35 throttled guesses and the throttled right one
    assert security["CP1"].startswith("41 refused password attempts, the last from 127.0.0.1")
    assert "; throttled for 60 s" in security["CP1"]
    assert "throttled" in security["CP3"]  # where the address burst began
