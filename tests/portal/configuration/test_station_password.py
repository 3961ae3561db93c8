"""A station's OCPP password is sent to the connected station first (OCA TC_073,
ChangeConfiguration of AuthorizationKey) and stored only when the station accepts it."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from db import Store, verify_password
from db.schema.models import ConfigurationKey, Station
from gateway import Gateway
from simulator import SimulatedStation
from simulator.config import StationConfiguration
from tests.portal.conftest import World, csrf_of, login, post, simulated_station, start_gateway

NEW = "fresh-station-pass-0042"


@pytest.fixture(name="gateway")
async def _serving_gateway(store: Store, nursery: trio.Nursery) -> Gateway:
    return await start_gateway(store, nursery, command_timeout=2.0)


async def _station(nursery: trio.Nursery, gateway: Gateway, cbid: str) -> SimulatedStation:
    station = simulated_station(gateway, cbid)
    await nursery.start(station.run)
    await station.wait_online()
    return station


def _without_authorization_key(station: SimulatedStation) -> None:
    """A station without OCPP security: it answers NotSupported to AuthorizationKey."""
    specs = {k: v for k, v in station.config.specs.items() if k != "AuthorizationKey"}
    station.config = StationConfiguration(specs)


async def _hash_of(store: Store, cbid: str) -> str | None:
    return await store.read(lambda: Station.get(Station.charge_box_id == cbid).password_hash)


async def _api(client: Any, method: str, path: str, body: Any = None) -> Any:
    token = await csrf_of(client)
    return await client.open(path, method=method, json=body, headers={"X-CSRF-Token": token})


async def test_tc_073_the_general_tab_sends_the_password_and_the_station_reconnects_with_it(
    client: Any, store: Store, gateway: Gateway, world: World, nursery: trio.Nursery
) -> None:
    with trio.fail_after(20):
        station = await _station(nursery, gateway, "SOLNA-1")
        await login(client, "support@example.com")
        tab = await client.get(f"/configuration/general?node=station:{world.solna_station}")
        assert 'data-testid="password-send"' in await tab.get_data(as_text=True)
        page = await post(
            client,
            f"/configuration/stations/{world.solna_station}/password",
            {"password": NEW, "do": "send"},
        )
        assert page.status_code == 302
        stored = await _hash_of(store, "SOLNA-1")
        assert stored is not None
        assert verify_password(stored, NEW)
        assert station.config.get("AuthorizationKey") == NEW
        # the station drops the connection and logs in again with the new password
        await station.wait_for(lambda: station.connect_count >= 2 and station.online)
        assert gateway.is_online("SOLNA-1")
        assert station.rejected_status is None
        clear = await store.read(
            lambda: ConfigurationKey.select().where(ConfigurationKey.value == NEW).count()
        )
        assert clear == 0  # the password is never kept in clear
        # "Generate and send": the station gets it, the page shows it once
        await station.wait_online()
        generated = await post(
            client,
            f"/configuration/stations/{world.solna_station}/password",
            {"do": "generate-send"},
        )
        html = await generated.get_data(as_text=True)
        assert generated.status_code == 200
        shown = station.config.get("AuthorizationKey")
        assert shown != NEW
        assert f'value="{shown}"' in html
        assert verify_password(await _hash_of(store, "SOLNA-1"), shown)


async def test_a_password_the_station_refuses_is_not_stored(
    client: Any, store: Store, gateway: Gateway, world: World, nursery: trio.Nursery
) -> None:
    with trio.fail_after(20):
        station = await _station(nursery, gateway, "SOLNA-1")
        _without_authorization_key(station)
        await login(client, "support@example.com")
        page = await post(
            client,
            f"/configuration/stations/{world.solna_station}/password",
            {"password": NEW, "do": "send"},
        )
        assert page.status_code == 409
        assert "NotSupported" in await page.get_data(as_text=True)
        api = await _api(client, "PUT", "/api/v1/stations/SOLNA-1/password", {"password": NEW})
        assert api.status_code == 409
        body = await api.get_json()
        assert (body["error"], body["stationAnswer"]) == (
            "not-accepted",
            {"status": "NotSupported"},
        )
        assert await _hash_of(store, "SOLNA-1") is None
        assert gateway.is_online("SOLNA-1")


async def test_an_offline_station_gets_its_password_in_the_database_only_when_asked(
    client: Any, store: Store, world: World
) -> None:
    await login(client, "admin@example.com")
    tab = await client.get(f"/configuration/general?node=station:{world.solna_station2}")
    assert 'data-testid="password-offline"' in await tab.get_data(as_text=True)
    sent = await post(
        client,
        f"/configuration/stations/{world.solna_station2}/password",
        {"password": NEW, "do": "send"},
    )
    assert sent.status_code == 409
    assert "database only" in await sent.get_data(as_text=True)
    api = await _api(client, "PUT", "/api/v1/stations/SOLNA-2/password", {"password": NEW})
    assert (api.status_code, (await api.get_json())["error"]) == (409, "offline")
    assert await _hash_of(store, "SOLNA-2") is None
    db_only = await post(
        client,
        f"/configuration/stations/{world.solna_station2}/password",
        {"password": NEW, "do": "database"},
    )
    assert db_only.status_code == 302
    stored = await _hash_of(store, "SOLNA-2")
    assert stored is not None
    assert verify_password(stored, NEW)
    generated = await _api(
        client,
        "PUT",
        "/api/v1/stations/SOLNA-2/password",
        {"generate": True, "sendToStation": False},
    )
    assert generated.status_code == 200
    password = (await generated.get_json())["password"]
    assert verify_password(await _hash_of(store, "SOLNA-2"), password)
    wrong = await _api(
        client, "PUT", "/api/v1/stations/SOLNA-2/password", {"password": NEW, "sendToStation": 1}
    )
    assert wrong.status_code == 400


async def test_authorization_key_through_the_command_api_updates_the_stored_password(
    client: Any, store: Store, gateway: Gateway, world: World, nursery: trio.Nursery
) -> None:
    with trio.fail_after(20):
        station = await _station(nursery, gateway, "SOLNA-1")
        await login(client, "admin@example.com")
        path = "/api/v1/stations/SOLNA-1/commands/change-configuration"
        short = await _api(client, "POST", path, {"key": "AuthorizationKey", "value": "x"})
        assert short.status_code == 400
        answer = await _api(client, "POST", path, {"key": "AuthorizationKey", "value": NEW})
        assert (answer.status_code, await answer.get_json()) == (200, {"status": "Accepted"})
        assert verify_password(await _hash_of(store, "SOLNA-1"), NEW)
        await station.wait_for(lambda: station.connect_count >= 2 and station.online)
        assert station.rejected_status is None
