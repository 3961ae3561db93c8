"""The JSON API and an OCPP 1.5 station: a 1.6-only command answers 409
``not-supported-by-protocol`` (nothing sent), never a silent no-op."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from db import Store
from gateway import Gateway
from tests.gateway.ocpp15_rig import envelope
from tests.portal.conftest import World, csrf_of, login, start_gateway


@pytest.fixture(name="gateway")
async def _serving_gateway(store: Store, nursery: trio.Nursery) -> Gateway:
    return await start_gateway(store, nursery)


async def test_a_16_only_command_for_a_15_station_is_a_409(
    client: Any, gateway: Gateway, world: World
) -> None:
    heard = await client.post(
        "/Ocpp/CentralSystemService15",
        data=envelope("<cs:heartbeatRequest/>", charge_box_id="SOLNA-1"),
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
    )
    assert heard.status_code == 200
    assert gateway.is_online("SOLNA-1")  # a 1.5 station, heard just now
    await login(client, "support@example.com")
    token = await csrf_of(client)
    answer = await client.post(
        "/api/v1/stations/SOLNA-1/commands/trigger-message",
        json={"requestedMessage": "Heartbeat"},
        headers={"X-CSRF-Token": token},
    )
    body = await answer.get_json()
    assert answer.status_code == 409
    assert body["error"] == "not-supported-by-protocol"
    assert "OCPP 1.5" in body["message"]
