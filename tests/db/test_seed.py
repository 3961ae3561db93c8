"""Demo data: a first run has a floor plan with the demo stations placed on it."""

from __future__ import annotations

from db import Store
from db.demo.seed import DEMO_FLOOR, DEMO_STATIONS, seed_demo
from db.schema.models import Floor, Site, Station
from db.topology.station_settings import floor_plan, floor_stations
from filestore.jpeg import check_floor_plan


async def test_the_demo_floor_has_a_plan_with_every_demo_station_placed(store: Store) -> None:
    await store.write(seed_demo)
    floor_id = await store.read(lambda: Floor.get(Floor.name == DEMO_FLOOR).id)
    plan = await store.read(floor_plan, floor_id)
    assert plan is not None
    check_floor_plan(plan)  # a real JPEG the floor tab accepts
    placed = await store.read(floor_stations, floor_id)
    assert {s["charge_box_id"] for s in placed} == {cbid for cbid, _ in DEMO_STATIONS}
    for station in placed:
        assert 0 <= station["x"] <= 1
        assert 0 <= station["y"] <= 1
    assert len({(s["x"], s["y"]) for s in placed}) == len(placed)  # not on top of each other
    site = await store.read(lambda: Site.get())
    assert site.latitude is not None
    assert site.longitude is not None
    assert await store.read(lambda: Station.select().count()) == len(DEMO_STATIONS)
