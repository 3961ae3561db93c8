"""An integrator registers the tag a station will send; the station is then let in."""

from __future__ import annotations

from typing import Any

import trio

from db import Store
from db.accounts.passwords import STATION_PASSWORD_RULE
from tests.gateway.ocpp_client import now_iso, open_station
from tests.portal.conftest import World, csrf_of, login, start_gateway


async def _api(client: Any, method: str, path: str, body: Any = None) -> Any:
    token = await csrf_of(client)
    return await client.open(path, method=method, json=body, headers={"X-CSRF-Token": token})


async def test_a_hex_looking_tag_registered_by_api_is_the_tag_the_station_sends(
    client: Any, store: Store, world: World, nursery: trio.Nursery
) -> None:
    gateway = await start_gateway(store, nursery)
    port = int(gateway.test_url.split(":")[2].split("/")[0])  # type: ignore[attr-defined]
    await login(client, "admin@example.com")
    for tag in ("100000C02", "TAG-001"):
        created = await _api(client, "POST", "/api/v1/id-tags", {"idTag": tag})
        assert created.status_code == 201, await created.get_data(as_text=True)
    with trio.fail_after(10):
        async with open_station(port, "SOLNA-1") as station:
            hexish = await station.result("Authorize", {"idTag": "100000C02"})
            named = await station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "TAG-001", "meterStart": 0, "timestamp": now_iso()},
            )
            converted = await station.result("Authorize", {"idTag": str(0x100000C02)})
    assert hexish["idTagInfo"]["status"] == "Accepted"
    assert named["idTagInfo"]["status"] == "Accepted"
    assert converted["idTagInfo"]["status"] == "Invalid"  # nobody registered that one


async def test_the_api_refuses_a_short_station_password_with_the_cli_sentence(
    client: Any, world: World
) -> None:
    await login(client, "support@example.com")
    answer = await _api(
        client, "PUT", "/api/v1/stations/SOLNA-1/password", {"password": "s3cretpass"}
    )
    assert answer.status_code == 400
    assert (await answer.get_json())["message"] == STATION_PASSWORD_RULE
