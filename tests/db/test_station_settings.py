"""System, site, floor, station and outlet settings: stored when valid, refused with a reason."""

from __future__ import annotations

import pytest

from db import Store, verify_password
from db.config_errors import ConfigurationError
from db.errors import Conflict
from db.ocpp.config_keys import is_readonly, is_risky_key, list_keys
from db.schema.models import ConfigurationKey, Floor, Outlet, Station
from db.system.settings import get_settings, update_settings
from db.topology.nodes import create_floor, create_site, create_station
from db.topology.services import ensure_default_services, list_services, set_service_enabled
from db.topology.station_settings import (
    floor_plan,
    outlet_external_ids,
    set_floor_plan,
    set_outlet_external_ids,
    set_station_password,
    set_station_positions,
    update_outlet,
    update_site_address,
    update_station,
)
from filestore.jpeg import InvalidImageError, demo_floor_plan


async def test_settings_keep_valid_addresses_and_refuse_bad_ones(store: Store) -> None:
    await store.write(update_settings, {"ocpp16.url": "wss://cp.example.org/Ocpp/websocket"})
    assert (await store.read(get_settings))["ocpp16.url"] == "wss://cp.example.org/Ocpp/websocket"
    with pytest.raises(ConfigurationError, match="ws://"):
        await store.write(update_settings, {"ocpp16.url": "http://x/Ocpp"})
    with pytest.raises(ConfigurationError, match="Unknown setting"):
        await store.write(update_settings, {"nope": "1"})


async def test_station_general_and_password(store: Store) -> None:
    site = await store.write(create_site, "Solna")
    station = await store.write(lambda: create_station("CP1", site_id=site))
    await store.write(lambda: create_station("CP2", site_id=site))
    result = await store.write(
        lambda: update_station(station, name="Entrance", charge_box_id="CP9")
    )
    assert result["charge_box_id_changed"] is True
    assert result["previous_charge_box_id"] == "CP1"
    with pytest.raises(Conflict, match="already in use"):
        await store.write(lambda: update_station(station, name="x", charge_box_id="CP2"))
    with pytest.raises(ConfigurationError, match="16 to 40"):
        await store.write(set_station_password, station, "short")
    await store.write(set_station_password, station, "a-long-station-secret")
    stored = await store.read(lambda: Station.get_by_id(station).password_hash)
    assert verify_password(stored, "a-long-station-secret")


async def test_outlet_mode_and_type_change_but_uuid_stays(store: Store) -> None:
    site = await store.write(create_site, "Solna")
    station = await store.write(lambda: create_station("CP1", site_id=site))
    outlet = await store.read(lambda: Outlet.get(Outlet.station == station))
    await store.write(
        lambda: update_outlet(outlet.id, connector_type="CCS", parking="Bay 7", mode="OPEN")
    )
    after = await store.read(Outlet.get_by_id, outlet.id)
    assert (after.connector_type, after.parking, after.mode, after.uuid) == (
        "CCS",
        "Bay 7",
        "OPEN",
        outlet.uuid,
    )
    with pytest.raises(ConfigurationError, match="OPEN or RFID"):
        await store.write(lambda: update_outlet(outlet.id, connector_type="CCS", mode="FREE"))


async def test_external_ids_only_for_active_services(store: Store) -> None:
    site = await store.write(create_site, "Solna")
    station = await store.write(lambda: create_station("CP1", site_id=site))
    outlet = await store.read(lambda: Outlet.get(Outlet.station == station).id)
    await store.write(ensure_default_services)
    services = await store.read(list_services)
    assert [s["enabled"] for s in services] == [False, False]
    assert await store.read(outlet_external_ids, outlet) == []
    with pytest.raises(ConfigurationError, match="active services"):
        await store.write(set_outlet_external_ids, outlet, {services[0]["id"]: "M-1"})
    await store.write(set_service_enabled, services[0]["id"], True)
    await store.write(set_outlet_external_ids, outlet, {services[0]["id"]: "M-1"})
    rows = await store.read(outlet_external_ids, outlet)
    assert [(r["service"], r["external_id"]) for r in rows] == [(services[0]["name"], "M-1")]


async def test_floor_plan_and_positions(store: Store) -> None:
    site = await store.write(create_site, "Solna")
    floor = await store.write(create_floor, site, "P1")
    station = await store.write(lambda: create_station("CP1", floor_id=floor))
    other = await store.write(lambda: create_station("CP2", site_id=site))
    plan = demo_floor_plan(cols=10, rows=10)
    await store.write(set_floor_plan, floor, plan, "Garage")
    assert await store.read(floor_plan, floor) == plan
    with pytest.raises(InvalidImageError):
        await store.write(set_floor_plan, floor, b"\x89PNG\r\n\x1a\nxxxx")
    assert await store.read(lambda: Floor.get_by_id(floor).plan_name) == "Garage"
    await store.write(set_station_positions, floor, {station: (0.25, 0.75)})
    assert await store.read(lambda: Station.get_by_id(station).pos_x) == 0.25
    with pytest.raises(ConfigurationError, match="not on this floor"):
        await store.write(set_station_positions, floor, {other: (0.1, 0.1)})
    with pytest.raises(ConfigurationError, match="inside the plan"):
        await store.write(set_station_positions, floor, {station: (1.5, 0.1)})


async def test_site_address_coordinates_are_checked(store: Store) -> None:
    site = await store.write(create_site, "Solna")
    await store.write(update_site_address, site, {"city": "Solna", "latitude": "59,36"})
    with pytest.raises(ConfigurationError, match="between -90 and 90"):
        await store.write(update_site_address, site, {"latitude": "95"})


async def test_configuration_keys_are_listed_with_flags(store: Store) -> None:
    site = await store.write(create_site, "Solna")
    station = await store.write(lambda: create_station("CP1", site_id=site))

    def add_keys() -> None:
        ConfigurationKey.create(station=station, key="HeartbeatInterval", value="300")
        ConfigurationKey.create(station=station, key="endpoint", value="ws://x")
        ConfigurationKey.create(station=station, key="ChargePointModel", value="EVA", readonly=True)

    await store.write(add_keys)
    rows = {r["key"]: r for r in await store.read(list_keys, station)}
    assert rows["ChargePointModel"]["readonly"] is True
    assert (rows["endpoint"]["risky"], rows["HeartbeatInterval"]["risky"]) == (True, False)
    assert await store.read(is_readonly, "CP1", "ChargePointModel")
    assert not await store.read(is_readonly, "CP1", "HeartbeatInterval")
    assert is_risky_key("CentralSystemURL")
    assert is_risky_key("chargeboxidentity")
    assert not is_risky_key("ReserveConnectorZeroSupported")
    assert is_risky_key("CentralSystemPort")
