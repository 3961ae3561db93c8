"""Every central-system command through ``POST /api/v1/stations/{cbid}/commands/{action}``,
against a raw OCPP-J station over real sockets: the payload it receives, the answer the
caller gets, and what the database holds afterwards (recorded once, by the command)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import trio

from db import Store
from db.schema.models import (
    ChargingProfile,
    ConfigurationKey,
    IdTag,
    LocalListEntry,
    Reservation,
    Station,
)
from gateway import Gateway
from gateway.commands import BY_KEBAB
from tests.gateway.ocpp_client import open_station
from tests.portal.conftest import World, csrf_of, login, start_gateway

FUTURE = "2030-01-01T00:00:00Z"
CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
PROFILE = {
    "chargingProfileId": 9,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
    },
}


@dataclass(frozen=True)
class Case:
    """A command's request, the station's answer, and the database afterwards."""

    action: str
    payload: dict[str, Any]
    answer: dict[str, Any] = field(default_factory=lambda: {"status": "Accepted"})
    after: Callable[[int], Any] | None = None  # (station id) -> what the database holds
    expected: Any = None


def _key(station: int, key: str) -> str | None:
    row = ConfigurationKey.get_or_none(
        (ConfigurationKey.station == station) & (ConfigurationKey.key == key)
    )
    return row.value if row is not None else None


CASES = [
    Case("cancel-reservation", {"reservationId": 501},
         after=lambda s: Reservation.get_by_id(501).status, expected="Cancelled"),
    Case("certificate-signed", {"certificateChain": CERTIFICATE}),
    Case("change-availability", {"connectorId": 1, "type": "Inoperative"}),
    Case("change-configuration", {"key": "HeartbeatInterval", "value": "120"},
         after=lambda s: _key(s, "HeartbeatInterval"), expected="120"),
    Case("clear-cache", {}),
    Case("clear-charging-profile", {"id": 9}),
    Case("data-transfer", {"vendorId": "ACME", "messageId": "ping", "data": "x"},
         answer={"status": "Accepted", "data": "pong"}),
    Case("delete-certificate", {"certificateHashData": {
        "hashAlgorithm": "SHA256", "issuerNameHash": "a1", "issuerKeyHash": "b2",
        "serialNumber": "01"}}),
    Case("extended-trigger-message", {"requestedMessage": "Heartbeat"}),
    Case("get-composite-schedule", {"connectorId": 0, "duration": 3600, "chargingRateUnit": "W"},
         answer={"status": "Rejected"}),
    Case("get-configuration", {"key": ["MeterValueSampleInterval"]},
         answer={"configurationKey": [
             {"key": "MeterValueSampleInterval", "readonly": False, "value": "60"}]},
         after=lambda s: _key(s, "MeterValueSampleInterval"), expected="60"),
    Case("get-diagnostics", {"location": "ftp://files.example/up/"},
         answer={"fileName": "diag.zip"}),
    Case("get-installed-certificate-ids", {"certificateType": "CentralSystemRootCertificate"},
         answer={"status": "NotFound"}),
    Case("get-local-list-version", {}, answer={"listVersion": 5},
         after=lambda s: Station.get_by_id(s).local_list_version, expected=5),
    Case("get-log", {"logType": "DiagnosticsLog", "requestId": 1,
                     "log": {"remoteLocation": "ftp://files.example/logs/"}},
         answer={"status": "Accepted", "filename": "log.txt"}),
    Case("install-certificate", {"certificateType": "CentralSystemRootCertificate",
                                 "certificate": CERTIFICATE}),
    Case("remote-start-transaction", {"connectorId": 1, "idTag": "7777"}),
    Case("remote-stop-transaction", {"transactionId": 4242}),
    Case("reserve-now", {"connectorId": 1, "expiryDate": FUTURE, "idTag": "7777",
                         "reservationId": 502},
         answer={"status": "Occupied"},
         after=lambda s: Reservation.get_by_id(502).status, expected="Occupied"),
    Case("reset", {"type": "Soft"}),
    Case("send-local-list", {"listVersion": 3, "updateType": "Full", "localAuthorizationList": [
        {"idTag": "7777", "idTagInfo": {"status": "Accepted", "expiryDate": FUTURE}}]},
         after=lambda s: (Station.get_by_id(s).local_list_version,
                          [e.id_tag for e in LocalListEntry.select().where(
                              LocalListEntry.station == s)]),
         expected=(3, ["7777"])),
    Case("set-charging-profile", {"connectorId": 1, "csChargingProfiles": PROFILE},
         answer={"status": "Rejected"},
         after=lambda s: ChargingProfile.get(ChargingProfile.profile_id == 9).status,
         expected="Rejected"),
    Case("signed-update-firmware", {"requestId": 2, "firmware": {
        "location": "https://files.example/fw.bin", "retrieveDateTime": FUTURE,
        "signingCertificate": CERTIFICATE, "signature": "c2ln"}}),
    Case("trigger-message", {"requestedMessage": "Heartbeat"}),
    Case("unlock-connector", {"connectorId": 1}, answer={"status": "Unlocked"}),
    Case("update-firmware", {"location": "https://files.example/fw.bin", "retrieveDate": FUTURE},
         answer={}),
]  # fmt: skip


def test_every_command_has_a_case() -> None:
    assert sorted(c.action for c in CASES) == sorted(BY_KEBAB)


@pytest.fixture(name="gateway")
async def _serving_gateway(store: Store, nursery: trio.Nursery) -> Gateway:
    return await start_gateway(store, nursery)


def _rows_the_cases_change(station: int) -> None:
    """What the reservation and profile cases update, and a badge the gateway accepts."""
    expiry = dt.datetime(2030, 1, 1)
    IdTag.create(id_tag="7777", status="Accepted")
    for number in (501, 502):
        Reservation.create(
            id=number, station=station, connector_id=1, id_tag="7777", expiry_date=expiry,
            status="Accepted" if number == 501 else "Requested",
        )  # fmt: skip
    ChargingProfile.create(
        station=station, connector_id=1, profile_id=9, purpose="TxDefaultProfile",
        profile=json.dumps(PROFILE), status="Requested",
    )  # fmt: skip


async def post_command(
    client: Any, gateway: Gateway, kebab: str, payload: dict[str, Any], answer: dict[str, Any]
) -> tuple[Any, Any, list[Any]]:
    """POST one command for SOLNA-1 (online as a raw station answering ``answer``): the
    response, its JSON body and the calls the station received."""
    port = gateway.port
    assert port is not None
    received: list[Any] = []
    with trio.fail_after(20):
        async with open_station(port, "SOLNA-1") as station, trio.open_nursery() as nursery:
            await station.result("Heartbeat", {})

            async def respond() -> None:
                call = await station.next_call()
                received.append(call)
                await station.answer(call, answer)

            nursery.start_soon(respond)
            token = await csrf_of(client)
            response = await client.post(
                f"/api/v1/stations/SOLNA-1/commands/{kebab}",
                json=payload,
                headers={"X-CSRF-Token": token},
            )
            body = await response.get_json()
            nursery.cancel_scope.cancel()  # a refused command reaches no station
    return response, body, received


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.action)
async def test_a_command_through_the_json_api(
    case: Case, client: Any, gateway: Gateway, world: World, store: Store
) -> None:
    await store.write(_rows_the_cases_change, world.solna_station)
    await login(client, "admin@example.com")
    response, body, received = await post_command(
        client, gateway, case.action, case.payload, case.answer
    )
    assert response.status_code == 200, body
    assert body == case.answer
    [(_, _, action, payload)] = received
    assert (action, payload) == (BY_KEBAB[case.action].action, case.payload)
    if case.after is not None:
        after = case.after
        assert await store.read(lambda: after(world.solna_station)) == case.expected


@pytest.mark.parametrize(
    ("key", "value", "sent"),
    [("HeartbeatInterval", "ten", None), ("LocalAuthListEnabled", "yes", None),
     ("LocalAuthListEnabled", " TRUE ", "true"), ("HeartbeatInterval", " 0300", "300")],
)  # fmt: skip
async def test_change_configuration_checks_a_known_keys_type_before_sending(
    client: Any, gateway: Gateway, world: World, key: str, value: str, sent: str | None
) -> None:
    """The JSON API checks integer and boolean keys as the Configuration tab does."""
    await login(client, "admin@example.com")
    response, body, received = await post_command(
        client,
        gateway,
        "change-configuration",
        {"key": key, "value": value},
        {"status": "Accepted"},
    )
    if sent is None:
        assert response.status_code == 400, body
        assert body["field"] == "value", body
        assert key in body["message"], body
        assert received == []
    else:
        assert response.status_code == 200, body
        [(_, _, _, payload)] = received
        assert payload == {"key": key, "value": sent}
