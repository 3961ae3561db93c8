"""The JSON command API sends the security extension's commands the gateway knows."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from db import Store
from gateway import Gateway
from tests.gateway.ocpp_client import open_station
from tests.portal.conftest import World, csrf_of, login, start_gateway

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
HASH = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "aa",
    "issuerKeyHash": "bb",
    "serialNumber": "1",
}

# (URL action, OCPP action, request payload, the station's answer)
CASES = [
    (
        "install-certificate",
        "InstallCertificate",
        {"certificateType": "CentralSystemRootCertificate", "certificate": PEM},
        {"status": "Accepted"},
    ),
    (
        "get-installed-certificate-ids",
        "GetInstalledCertificateIds",
        {"certificateType": "ManufacturerRootCertificate"},
        {"status": "Accepted", "certificateHashData": [HASH]},
    ),
    (
        "delete-certificate",
        "DeleteCertificate",
        {"certificateHashData": HASH},
        {"status": "Accepted"},
    ),
    (
        "extended-trigger-message",
        "ExtendedTriggerMessage",
        {"requestedMessage": "SignChargePointCertificate"},
        {"status": "Accepted"},
    ),
    ("certificate-signed", "CertificateSigned", {"certificateChain": PEM}, {"status": "Accepted"}),
    (
        "get-log",
        "GetLog",
        {"logType": "SecurityLog", "requestId": 7, "log": {"remoteLocation": "ftp://h/logs/"}},
        {"status": "Accepted", "filename": "security.log"},
    ),
    (
        "signed-update-firmware",
        "SignedUpdateFirmware",
        {
            "requestId": 8,
            "firmware": {
                "location": "https://h/fw.bin",
                "retrieveDateTime": "2030-01-01T00:00:00Z",
                "signingCertificate": PEM,
                "signature": "c2lnbmF0dXJl",
            },
        },
        {"status": "Accepted"},
    ),
]


@pytest.fixture(name="gateway")
async def _serving_gateway(store: Store, nursery: trio.Nursery) -> Gateway:
    return await start_gateway(store, nursery)


@pytest.mark.parametrize(("kebab", "action", "payload", "answer"), CASES)
async def test_each_security_command_reaches_the_station_and_returns_its_answer(
    client: Any,
    gateway: Gateway,
    world: World,
    nursery: trio.Nursery,
    kebab: str,
    action: str,
    payload: dict[str, Any],
    answer: dict[str, Any],
) -> None:
    port = int(gateway.test_url.split(":")[2].split("/")[0])  # type: ignore[attr-defined]
    await login(client, "support@example.com")
    token = await csrf_of(client)
    received: list[list[Any]] = []
    with trio.fail_after(15):
        async with open_station(port, "SOLNA-1") as station:
            await station.result("Heartbeat", {})

            async def answer_one() -> None:
                call = await station.next_call()
                received.append(call)
                await station.answer(call, answer)

            nursery.start_soon(answer_one)
            response = await client.post(
                f"/api/v1/stations/SOLNA-1/commands/{kebab}",
                json=payload,
                headers={"X-CSRF-Token": token},
            )
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert await response.get_json() == answer
    assert received[0][2] == action
    assert received[0][3] == payload
