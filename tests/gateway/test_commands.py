"""The command API: a station's answer, or a clear error for every way a call can fail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import trio
import trio.testing

from db import Store
from db.schema.models import ConfigurationKey, Station
from gateway import (
    CallErrorReply,
    CommandTimeoutError,
    Gateway,
    GatewayConfig,
    PayloadValidationError,
    StationBusyError,
    StationOfflineError,
    UnknownActionError,
    UnknownStationError,
)
from gateway.commands import COMMAND_ACTIONS
from gateway.ocpp16 import schemas
from tests.gateway.conftest import TEST_CONFIG, add_id_tag, add_station
from tests.gateway.ocpp_client import RawStation, open_station

ISSUE_ACTIONS = {
    "Reset", "ChangeAvailability", "ChangeConfiguration", "GetConfiguration", "ClearCache",
    "RemoteStartTransaction", "RemoteStopTransaction", "UnlockConnector", "DataTransfer",
    "UpdateFirmware", "GetDiagnostics", "SendLocalList", "GetLocalListVersion", "ReserveNow",
    "CancelReservation", "SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule",
    "TriggerMessage",
}  # fmt: skip


def test_every_central_system_operation_of_the_six_profiles_is_a_command() -> None:
    assert ISSUE_ACTIONS <= COMMAND_ACTIONS
    assert schemas().actions >= ISSUE_ACTIONS


async def serve_one_call(
    station: RawStation, answer: Callable[[list[Any]], Any], *, task_status: Any
) -> None:
    task_status.started()
    call = await station.next_call()
    await answer(call)


async def test_a_command_gets_the_stations_answer(gateway: Gateway, port: int, db_write) -> None:
    await db_write(add_station, "CP1")
    seen: list[Any] = []

    async def accept(call: list[Any]) -> None:
        seen.append(call)
        await station.answer(call, {"status": "Accepted"})

    with trio.fail_after(10):
        async with open_station(port, "CP1") as station, trio.open_nursery() as nursery:
            await station.result("Heartbeat", {})
            await nursery.start(serve_one_call, station, accept)
            reply = await gateway.call("CP1", "Reset", {"type": "Soft"})
    assert reply == {"status": "Accepted"}
    assert seen[0][0] == 2
    assert seen[0][2:] == ["Reset", {"type": "Soft"}]


async def test_a_refusal_is_returned_as_the_stations_answer(
    gateway: Gateway, port: int, db_write
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1")  # a badge the gateway would refuse is not even sent

    async def refuse(call: list[Any]) -> None:
        await station.answer(call, {"status": "Rejected"})

    with trio.fail_after(10):
        async with open_station(port, "CP1") as station, trio.open_nursery() as nursery:
            await station.result("Heartbeat", {})
            await nursery.start(serve_one_call, station, refuse)
            reply = await gateway.call(
                "CP1", "RemoteStartTransaction", {"connectorId": 1, "idTag": "TAG1"}
            )
    assert reply == {"status": "Rejected"}


async def test_a_call_error_becomes_call_error_reply(gateway: Gateway, port: int, db_write) -> None:
    await db_write(add_station, "CP1")

    async def fail(call: list[Any]) -> None:
        await station.answer_error(call, "NotSupported", "no reservations here")

    with trio.fail_after(10):
        async with open_station(port, "CP1") as station, trio.open_nursery() as nursery:
            await station.result("Heartbeat", {})
            await nursery.start(serve_one_call, station, fail)
            with pytest.raises(CallErrorReply) as caught:
                await gateway.call("CP1", "CancelReservation", {"reservationId": 3})
    assert (caught.value.code, caught.value.description) == ("NotSupported", "no reservations here")


async def test_an_invalid_answer_is_reported_not_returned(
    gateway: Gateway, port: int, db_write
) -> None:
    await db_write(add_station, "CP1")

    async def garble(call: list[Any]) -> None:
        await station.answer(call, {"status": "Maybe"})

    with trio.fail_after(10):
        async with open_station(port, "CP1") as station, trio.open_nursery() as nursery:
            await station.result("Heartbeat", {})
            await nursery.start(serve_one_call, station, garble)
            with pytest.raises(CallErrorReply) as caught:
                await gateway.call("CP1", "ClearCache", {})
    assert caught.value.code == "PropertyConstraintViolation"


async def test_an_unanswered_command_times_out_and_a_late_answer_is_dropped(
    gateway: Gateway, port: int, db_write, mock_clock: trio.testing.MockClock
) -> None:
    mock_clock.autojump_threshold = 0.1  # jump only when really idle (db threads finish first)
    await db_write(add_station, "CP1")
    with trio.fail_after(120):
        async with open_station(port, "CP1") as station:
            await station.result("Heartbeat", {})
            with pytest.raises(CommandTimeoutError):
                await gateway.call("CP1", "Reset", {"type": "Hard"}, timeout=30)
            late = await station.next_call()
            await station.answer(late, {"status": "Accepted"})  # too late: dropped

            async def answer_next(*, task_status: Any) -> None:
                task_status.started()
                call = await station.next_call()
                await station.answer(call, {"status": "Accepted"})

            async with trio.open_nursery() as nursery:
                await nursery.start(answer_next)
                reply = await gateway.call("CP1", "ClearCache", {})
            assert reply == {"status": "Accepted"}
            assert (await station.result("Heartbeat", {}))["currentTime"]


async def test_commands_are_sent_one_at_a_time_in_order(
    gateway: Gateway, port: int, db_write
) -> None:
    await db_write(add_station, "CP1")
    order: list[str] = []
    replies: list[dict[str, Any]] = []
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station, trio.open_nursery() as nursery:
            await station.result("Heartbeat", {})

            async def send(key: str) -> None:
                replies.append(
                    await gateway.call("CP1", "ChangeConfiguration", {"key": key, "value": "1"})
                )

            for n, key in enumerate(("A", "B", "C"), 1):
                nursery.start_soon(send, key)
                # queued before the next one starts (preparing a command reads the
                # database in a thread: a fixed pause raced it on a busy machine)
                while gateway.statistics()["commands"] < n:  # noqa: ASYNC110 - polls the gateway
                    await trio.sleep(0.001)
            for _ in range(3):
                call = await station.next_call()
                order.append(call[3]["key"])
                # nothing else is sent while this CALL is outstanding
                with trio.move_on_after(0.05):
                    await station.next_call()
                    raise AssertionError("a second CALL while one is outstanding")
                await station.answer(call, {"status": "Accepted"})
    assert order == ["A", "B", "C"]
    assert len(replies) == 3


async def test_a_full_command_queue_answers_busy(
    store: Store, nursery: trio.Nursery, db_write
) -> None:
    config = GatewayConfig(**{**TEST_CONFIG.__dict__, "command_queue_size": 1})
    gateway = Gateway(store, config=config)
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    await db_write(add_station, "CP1")
    outcomes: list[str] = []
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station, trio.open_nursery() as callers:
            await station.result("Heartbeat", {})

            async def send() -> None:
                try:
                    await gateway.call("CP1", "ClearCache", {}, timeout=2)
                    outcomes.append("answered")
                except CommandTimeoutError:
                    outcomes.append("timeout")

            callers.start_soon(send)  # outstanding
            await station.next_call()
            callers.start_soon(send)  # queued
            await trio.sleep(0.01)
            with pytest.raises(StationBusyError):
                await gateway.call("CP1", "ClearCache", {})
            callers.cancel_scope.cancel()


async def test_commands_to_absent_stations_and_bad_requests_fail_clearly(
    gateway: Gateway, db_write
) -> None:
    await db_write(add_station, "SLEEPER")
    with pytest.raises(UnknownStationError):
        await gateway.call("NOBODY", "Reset", {"type": "Soft"})
    with pytest.raises(StationOfflineError):
        await gateway.call("SLEEPER", "Reset", {"type": "Soft"})
    with pytest.raises(UnknownActionError):
        await gateway.call("SLEEPER", "BootNotification", {})
    with pytest.raises(UnknownActionError):
        await gateway.call("SLEEPER", "MakeCoffee", {})
    with pytest.raises(PayloadValidationError) as caught:
        await gateway.call("SLEEPER", "Reset", {"type": "Gentle"})
    assert caught.value.errors
    assert "type" in caught.value.errors[0]


async def test_pending_commands_fail_when_the_station_disconnects(
    gateway: Gateway, port: int, db_write
) -> None:
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            async with open_station(port, "CP1") as station:
                await station.result("Heartbeat", {})
                errors: list[Exception] = []

                async def send() -> None:
                    try:
                        await gateway.call("CP1", "Reset", {"type": "Soft"})
                    except StationOfflineError as exc:
                        errors.append(exc)

                nursery.start_soon(send)
                await station.next_call()
            await trio.sleep(0.2)
    assert len(errors) == 1


async def test_first_boot_imports_the_configuration(
    store: Store, nursery: trio.Nursery, db_write
) -> None:
    config = GatewayConfig(**{**TEST_CONFIG.__dict__, "import_configuration": True})
    gateway = Gateway(store, config=config)
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    station_id = await db_write(add_station, "CP1")
    keys = [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "ChargingStationModel", "readonly": True, "value": "EVA"},
    ]
    boot = {"chargePointVendor": "Acme", "chargePointModel": "EVA"}
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result("BootNotification", boot)
            call = await station.next_call()
            assert call[2:] == ["GetConfiguration", {}]
            await station.answer(call, {"configurationKey": keys})
            await station.result("Heartbeat", {})
            await trio.sleep(0.1)
        stored = await store.read(
            lambda: {(k.key, k.value, k.readonly) for k in ConfigurationKey.select()}
        )
        assert stored == {
            ("HeartbeatInterval", "300", False),
            ("ChargingStationModel", "EVA", True),
        }
        imported = await store.read(lambda: Station.get_by_id(station_id).config_imported_at)
        assert imported is not None
        assert gateway.statistics()["configImports"]["imported"] == 1
        async with open_station(port, "CP1") as station:  # the next boot imports nothing
            await station.result("BootNotification", boot)
            with trio.move_on_after(0.2):
                await station.next_call()
                raise AssertionError("configuration imported twice")


async def test_change_configuration_accepted_is_remembered(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")

    async def accept(call: list[Any]) -> None:
        await station.answer(call, {"status": "Accepted"})

    with trio.fail_after(10):
        async with open_station(port, "CP1") as station, trio.open_nursery() as nursery:
            await station.result("Heartbeat", {})
            await nursery.start(serve_one_call, station, accept)
            await gateway.call(
                "CP1", "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "30"}
            )
    value = await store.read(
        lambda: ConfigurationKey.get(ConfigurationKey.key == "MeterValueSampleInterval").value
    )
    assert value == "30"


async def test_accepted_reservation_and_local_list_are_remembered(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    from db.schema.models import Reservation, utcnow

    station_id = await db_write(add_station, "CP1")
    reservation = await db_write(
        lambda: (
            Reservation.create(
                station=station_id, connector_id=1, id_tag="TAG1", expiry_date=utcnow()
            ).id
        )
    )

    async def accept_all(*, task_status: Any) -> None:
        task_status.started()
        for _ in range(2):
            call = await station.next_call()
            await station.answer(call, {"status": "Accepted"})

    with trio.fail_after(10):
        async with open_station(port, "CP1") as station, trio.open_nursery() as nursery:
            await station.result("Heartbeat", {})
            await nursery.start(accept_all)
            await gateway.call(
                "CP1",
                "ReserveNow",
                {
                    "connectorId": 1,
                    "expiryDate": "2030-01-01T10:00:00Z",
                    "idTag": "TAG1",
                    "reservationId": reservation,
                },
            )
            await gateway.call("CP1", "SendLocalList", {"listVersion": 7, "updateType": "Full"})
    assert await store.read(lambda: Reservation.get_by_id(reservation).status) == "Accepted"
    assert await store.read(lambda: Station.get_by_id(station_id).local_list_version) == 7
