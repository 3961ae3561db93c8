"""A station's certificate request waits for an external CA, visibly, until the operator
sends that CA's certificate through the command API."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from db import Store
from gateway import Gateway
from tests.gateway.ocpp_client import open_station
from tests.gateway.test_sign_certificate import make_csr
from tests.portal.conftest import World, csrf_of, login, start_gateway


@pytest.fixture(name="gateway")
async def _serving_gateway(store: Store, nursery: trio.Nursery) -> Gateway:
    return await start_gateway(store, nursery)


async def test_a_pending_request_is_shown_and_settled_by_the_external_certificate(
    client: Any, gateway: Gateway, world: World, nursery: trio.Nursery
) -> None:
    port = int(gateway.test_url.split(":")[2].split("/")[0])  # type: ignore[attr-defined]
    await login(client, "support@example.com")
    requests_url = "/api/v1/stations/SOLNA-1/certificate-requests"
    with trio.fail_after(15):
        async with open_station(port, "SOLNA-1") as station:
            answer = await station.result("SignCertificate", {"csr": make_csr("SOLNA-1")})
            assert answer == {"status": "Accepted"}
            listed = await (await client.get(requests_url)).get_json()
            assert listed["items"][0]["status"] == "Pending"
            page = await client.get(f"/configuration/control?node=station:{world.solna_station}")
            html = await page.get_data(as_text=True)
            assert "Station certificate" in html
            assert "waiting for an external CA" in html

            async def station_installs_it() -> None:
                call = await station.next_call()
                assert call[2] == "CertificateSigned"
                await station.answer(call, {"status": "Accepted"})

            nursery.start_soon(station_installs_it)
            sent = await client.post(
                "/api/v1/stations/SOLNA-1/commands/certificate-signed",
                json={"certificateChain": "-----BEGIN CERTIFICATE-----\nMIIB\n"},
                headers={"X-CSRF-Token": await csrf_of(client)},
            )
            assert sent.status_code == 200
    listed = await (await client.get(requests_url)).get_json()
    assert listed["items"][0]["status"] == "Installed"
