"""Commands to an OCPP 1.5 station: the same command objects and deadline as 1.6, sent as
SOAP to the station's own endpoint (its From address); 1.6-only commands refused."""

from __future__ import annotations

import dataclasses

import pytest
import trio

from db import Store
from db.schema.models import ConfigurationKey, Station
from gateway.commands import (
    GetConfiguration,
    RemoteStartTransaction,
    Reset,
    TriggerMessage,
    command_from_ocpp,
)
from gateway.errors import CommandTimeoutError, UnsupportedProtocolError
from portal.errors import status_of
from tests.gateway.conftest import TEST_CONFIG, add_id_tag, add_station
from tests.gateway.ocpp15_rig import envelope, post, running
from tests.gateway.soap_station import SoapStation

HEARTBEAT = "<cs:heartbeatRequest/>"


def _from(url: str) -> bytes:
    return envelope(HEARTBEAT).replace(b"http://127.0.0.1:1/cp", url.encode())


async def test_commands_reach_the_station_at_its_from_address(
    store: Store, nursery: trio.Nursery
) -> None:
    await store.write(lambda: add_station("CP15"))
    await store.write(lambda: add_id_tag("TAG1"))
    station = SoapStation()
    await nursery.start(station.run)
    async with running(store) as rig:
        assert (await post(rig.url, _from(station.url))).status_code == 200
        reset = await rig.gateway.send("CP15", Reset(type="Hard"), timeout=5)
        start = await rig.gateway.send(
            "CP15", RemoteStartTransaction(id_tag="TAG1", connector_id=2), timeout=5
        )
        config = await rig.gateway.send("CP15", GetConfiguration(), timeout=5)
    assert (reset.answer, start.answer) == ({"status": "Accepted"}, {"status": "Accepted"})
    assert config.answer["unknownKey"] == ["Nope"]
    assert station.received == [
        ("CP15", "Reset", {"type": "Hard"}),
        ("CP15", "RemoteStartTransaction", {"connectorId": 2, "idTag": "TAG1"}),
        ("CP15", "GetConfiguration", {}),
    ]
    keys = await store.read(lambda: [(k.key, k.value) for k in ConfigurationKey.select()])
    assert ("HeartbeatInterval", "300") in keys  # recorded by the command, as for 1.6


async def test_a_16_only_command_is_refused_with_not_supported_by_protocol(
    store: Store, nursery: trio.Nursery
) -> None:
    await store.write(lambda: add_station("CP15"))
    station = SoapStation()
    await nursery.start(station.run)
    async with running(store) as rig:
        await post(rig.url, _from(station.url))
        with pytest.raises(UnsupportedProtocolError) as refused:
            await rig.gateway.send("CP15", TriggerMessage(requested_message="Heartbeat"), timeout=5)
    assert status_of(refused.value) == (409, "not-supported-by-protocol")
    assert station.received == []  # nothing was sent


async def test_a_slow_station_meets_the_same_deadline(store: Store, nursery: trio.Nursery) -> None:
    await store.write(lambda: add_station("CP15"))
    station = SoapStation(delay=3.0)
    await nursery.start(station.run)
    async with running(store) as rig:
        await post(rig.url, _from(station.url))
        began = trio.current_time()
        with pytest.raises(CommandTimeoutError):
            await rig.gateway.send("CP15", Reset(), timeout=0.5)
        took = trio.current_time() - began
    assert took < 2.0


async def test_the_configured_station_address_serves_until_a_request_names_one(
    store: Store, nursery: trio.Nursery
) -> None:
    station = SoapStation()
    await nursery.start(station.run)

    def configured() -> None:
        add_station("CP15")
        Station.update(soap_endpoint=station.url).where(Station.charge_box_id == "CP15").execute()

    await store.write(configured)
    async with running(store) as rig:
        no_from = envelope(HEARTBEAT).replace(
            b"<a:From><a:Address>http://127.0.0.1:1/cp</a:Address></a:From>", b""
        )
        assert (await post(rig.url, no_from)).status_code == 200
        reset = await rig.gateway.send("CP15", Reset(), timeout=5)
    assert reset.answer == {"status": "Accepted"}
    assert [op for _, op, _ in station.received] == ["Reset"]


async def test_a_first_boot_imports_the_configuration_over_soap(
    store: Store, nursery: trio.Nursery
) -> None:
    await store.write(lambda: add_station("CP15"))
    station = SoapStation()
    await nursery.start(station.run)
    boot = (
        "<cs:bootNotificationRequest><cs:chargePointVendor>Acme</cs:chargePointVendor>"
        "<cs:chargePointModel>Old</cs:chargePointModel></cs:bootNotificationRequest>"
    )
    config = dataclasses.replace(TEST_CONFIG, import_configuration=True)
    async with running(store, config) as rig:
        data = envelope(boot).replace(b"http://127.0.0.1:1/cp", station.url.encode())
        assert (await post(rig.url, data)).status_code == 200

        def keys() -> list[tuple[str, str]]:
            return [(k.key, k.value) for k in ConfigurationKey.select()]

        with trio.fail_after(5):  # recorded once the station's answer is in
            while ("HeartbeatInterval", "300") not in await store.read(keys):  # noqa: ASYNC110 - the database
                await trio.sleep(0.05)
    assert [op for _, op, _ in station.received] == ["GetConfiguration"]


#: (command, its 1.6 payload, what the 1.5 station must receive, the answer as recorded)
PER_COMMAND = [
    (
        "ReserveNow",
        {
            "connectorId": 1,
            "expiryDate": "2030-01-01T10:00:00Z",
            "idTag": "TAG1",
            "reservationId": 42,
        },
        {
            "connectorId": 1,
            "expiryDate": "2030-01-01T10:00:00Z",
            "idTag": "TAG1",
            "reservationId": 42,
        },
        {"status": "Occupied"},
    ),
    ("CancelReservation", {"reservationId": 42}, {"reservationId": 42}, {"status": "Rejected"}),
    (
        "UpdateFirmware",
        {
            "location": "http://files.example.com/fw-2.bin",
            "retrieveDate": "2030-01-01T02:00:00Z",
            "retries": 3,
            "retryInterval": 60,
        },
        {
            "retrieveDate": "2030-01-01T02:00:00Z",
            "location": "http://files.example.com/fw-2.bin",
            "retries": 3,
            "retryInterval": 60,
        },
        {},
    ),
    (
        "GetDiagnostics",
        {"location": "ftp://u:p@files.example.com/diag/", "retries": 1},
        {"location": "ftp://u:p@files.example.com/diag/", "retries": 1},
        {"fileName": "CP15-diagnostics.log"},
    ),
    (
        "ChangeAvailability",
        {"connectorId": 0, "type": "Inoperative"},
        {"connectorId": 0, "type": "Inoperative"},
        {"status": "Scheduled"},
    ),
    (
        "DataTransfer",
        {"vendorId": "Acme", "messageId": "Ping", "data": "ping"},
        {"vendorId": "Acme", "messageId": "Ping", "data": "ping"},
        {"status": "Accepted", "data": "pong"},
    ),
    ("UnlockConnector", {"connectorId": 2}, {"connectorId": 2}, {"status": "Unlocked"}),
]


@pytest.mark.parametrize(
    ("action", "payload", "received", "answer"), PER_COMMAND, ids=[c[0] for c in PER_COMMAND]
)
async def test_each_command_reaches_a_15_station_in_15_shape_and_its_answer_in_16_shape(
    store: Store,
    nursery: trio.Nursery,
    action: str,
    payload: dict,
    received: dict,
    answer: dict,
) -> None:
    await store.write(lambda: add_station("CP15"))
    await store.write(lambda: add_id_tag("TAG1"))
    station = SoapStation()
    await nursery.start(station.run)
    async with running(store) as rig:
        assert (await post(rig.url, _from(station.url))).status_code == 200
        result = await rig.gateway.send("CP15", command_from_ocpp(action, payload), timeout=5)
    assert station.received == [("CP15", action, received)]  # schema-checked by the station
    assert result.answer == answer
    # our request names us: From and ReplyTo are the endpoint the station reached
    addressing = station.addressing[0]
    assert addressing["Action"] == f"/{action}"
    assert addressing["From"] == addressing["ReplyTo"] == rig.url
    assert addressing["chargeBoxIdentity"] == "CP15"
