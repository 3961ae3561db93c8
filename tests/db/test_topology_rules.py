"""Topology rules of SPEC §9.1: parents first, children before their parent is removed."""

from __future__ import annotations

import pytest

from db import Store
from db.config_errors import ConfigurationError, NotFoundError
from db.errors import Conflict
from db.schema.models import (
    Alarm,
    ChargingSession,
    MeterSample,
    Outlet,
    Site,
    Station,
    User,
    utcnow,
)
from db.topology.nodes import (
    create_floor,
    create_site,
    create_station,
    move_station,
    remove_floor,
    remove_site,
    remove_station,
    topology_tree,
)


async def test_a_floor_needs_a_parent_site(store: Store) -> None:
    with pytest.raises(ConfigurationError, match="Select a parent site"):
        await store.write(create_floor, None, "Level 1")


async def test_a_station_needs_a_site_or_floor_and_takes_the_floors_site(store: Store) -> None:
    with pytest.raises(ConfigurationError, match="Select a site or a floor"):
        await store.write(lambda: create_station("CP1"))
    site = await store.write(create_site, "Solna")
    floor = await store.write(create_floor, site, "P1")
    station_id = await store.write(lambda: create_station("CP1", floor_id=floor, outlets=2))

    def read() -> tuple[int, int, int]:
        s = Station.get_by_id(station_id)
        return s.site_id, s.floor_id, Outlet.select().where(Outlet.station == s).count()

    assert await store.read(read) == (site, floor, 2)


async def test_a_network_controller_has_no_outlets(store: Store) -> None:
    site = await store.write(create_site, "Solna")
    cid = await store.write(lambda: create_station("NC1", site_id=site, node_type="controller"))
    assert await store.read(lambda: Outlet.select().where(Outlet.station == cid).count()) == 0


async def test_charge_box_ids_are_unique_and_well_formed(store: Store) -> None:
    site = await store.write(create_site, "Solna")
    await store.write(lambda: create_station("CP1", site_id=site))
    with pytest.raises(Conflict, match="already in use"):
        await store.write(lambda: create_station("CP1", site_id=site))
    with pytest.raises(ConfigurationError, match="no spaces or slashes"):
        await store.write(lambda: create_station("CP/2", site_id=site))


async def test_a_site_with_floors_or_stations_cannot_be_removed(store: Store) -> None:
    site = await store.write(create_site, "Solna")
    floor = await store.write(create_floor, site, "P1")
    station = await store.write(lambda: create_station("CP1", floor_id=floor))
    with pytest.raises(Conflict, match=r"1 floor\(s\), 1 station\(s\)"):
        await store.write(remove_site, site)
    with pytest.raises(Conflict, match=r"still has 1 station\(s\)"):
        await store.write(remove_floor, floor)
    await store.write(remove_station, station)
    await store.write(remove_floor, floor)
    await store.write(remove_site, site)
    assert await store.read(topology_tree) == []


async def test_a_site_with_a_site_administrator_cannot_be_removed(store: Store) -> None:
    site = await store.write(create_site, "Solna")
    await store.write(lambda: User.create(email="a@x.se", role="site-admin", site=site))
    with pytest.raises(Conflict, match="user"):
        await store.write(remove_site, site)


async def test_removing_a_station_keeps_its_past_sessions(store: Store) -> None:
    site = await store.write(create_site, "Solna")
    station = await store.write(lambda: create_station("CP1", site_id=site))

    def add_session() -> None:
        session = ChargingSession.create(
            station=station,
            charge_box_id="CP1",
            connector_id=1,
            start_time=utcnow(),
            meter_start=0,
        )
        MeterSample.create(
            session=session, station=station, connector_id=1, timestamp=utcnow(), value="10"
        )
        Alarm.create(kind="Fuse", station=station, charge_box_id="CP1")

    await store.write(add_session)
    await store.write(remove_station, station)
    assert await store.read(lambda: ChargingSession.get().charge_box_id) == "CP1"
    assert await store.read(MeterSample.select().count) == 1
    assert await store.read(lambda: Alarm.get().charge_box_id) == "CP1"


async def test_moving_a_station_between_floors_and_sites(store: Store) -> None:
    solna = await store.write(create_site, "Solna")
    kista = await store.write(create_site, "Kista")
    p1 = await store.write(create_floor, solna, "P1")
    k1 = await store.write(create_floor, kista, "K1")
    station = await store.write(lambda: create_station("CP1", floor_id=p1))
    await store.write(lambda: Station.update(pos_x=0.5, pos_y=0.5).execute())
    await store.write(lambda: move_station(station, floor_id=k1))
    moved = await store.read(Station.get_by_id, station)
    assert (moved.site_id, moved.floor_id, moved.pos_x) == (kista, k1, None)
    with pytest.raises(ConfigurationError, match="another site"):
        await store.write(lambda: move_station(station, site_id=solna, floor_id=k1))
    await store.write(lambda: move_station(station, site_id=solna))
    tree = await store.read(topology_tree)
    solna_node = next(n for n in tree if n["name"] == "Solna")
    assert [s["charge_box_id"] for s in solna_node["stations"]] == ["CP1"]
    with pytest.raises(NotFoundError):
        await store.write(lambda: move_station(station, floor_id=9999))


async def test_too_long_names_are_refused_with_the_field_not_cut_or_left_to_the_database(
    store: Store,
) -> None:
    """SQLite stores any length; PostgreSQL fails the write: refuse it first, readably."""
    from db.topology.station_settings import update_site_address, update_station

    site_id = await store.write(create_site, "Solna")
    station_id = await store.write(lambda: create_station("CP1", site_id=site_id))
    attempts = [
        (lambda: create_site("S" * 129), "name"),
        (lambda: create_floor(site_id, "F" * 129), "name"),
        (lambda: create_station("CP2", site_id=site_id, name="N" * 129), "name"),
        (lambda: update_site_address(site_id, {"country": "C" * 65}), "country"),
        (lambda: update_station(station_id, name="ok", soap_endpoint="h" * 256), "soap_endpoint"),
    ]
    for attempt, field in attempts:
        with pytest.raises(ConfigurationError, match="at most") as refused:
            await store.write(attempt)
        assert refused.value.field == field
    assert await store.read(lambda: Site.select().count()) == 1
