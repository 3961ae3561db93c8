"""Times typed for a station: a reservation's end in the display zone, a schedule's
periods on the wall clock of the station's site (not the viewer's), with a live station."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import trio

from db import Store
from db.schema.models import ChargingProfile, Reservation, Site, User, utcnow
from db.system.schedules import save_schedule
from gateway import Gateway
from gateway.commands.profiles import week_start
from tests.portal.conftest import World, login, post, simulated_station, start_gateway

STOCKHOLM = "Europe/Stockholm"
NEW_YORK = "America/New_York"


@pytest.fixture(name="gateway")
async def _serving_gateway(store: Store, nursery: trio.Nursery) -> Gateway:
    return await start_gateway(store, nursery)


async def _zones(store: Store, world: World) -> None:
    def work() -> None:
        Site.update(time_zone=STOCKHOLM).where(Site.id == world.solna).execute()
        User.update(time_zone=NEW_YORK).where(User.email == "admin@example.com").execute()

    await store.write(work)


async def test_a_reservation_ends_at_the_time_typed_in_the_display_zone(
    client: Any, store: Store, world: World, gateway: Gateway, nursery: trio.Nursery
) -> None:
    await _zones(store, world)
    station = simulated_station(gateway, "SOLNA-1")
    with trio.fail_after(30):
        await nursery.start(station.run)
        await station.wait_online()
        await login(client, "admin@example.com")
        page = await client.get(f"/configuration/control?node=station:{world.solna_station}")
        html = await page.get_data(as_text=True)
        assert f"Until ({NEW_YORK})" in html
        answer = await post(
            client,
            f"/configuration/stations/{world.solna_station}/control/reserve-now",
            {"connectorId": "1", "idTag": "1001", "expiryDate": "2030-12-24T18:00"},
            headers={"Accept": "application/json"},
        )
        assert answer.status_code < 500
    expiry = await store.read(lambda: Reservation.get().expiry_date)
    assert expiry == dt.datetime(2030, 12, 24, 23, 0)  # 18:00 EST = 23:00 UTC


async def test_a_pushed_schedule_follows_the_sites_zone_not_the_viewers(
    client: Any, store: Store, world: World, gateway: Gateway, nursery: trio.Nursery
) -> None:
    await _zones(store, world)
    periods = [{"days": [0], "start": "17:00", "end": "21:00", "limit": 3680}]
    sid = await store.write(
        lambda: save_schedule(name="Evening", periods=periods, station_id=world.solna_station)
    )
    station = simulated_station(gateway, "SOLNA-1")
    with trio.fail_after(30):
        await nursery.start(station.run)
        await station.wait_online()
        await login(client, "admin@example.com")
        page = await client.get(f"/schedule/?node=station:{world.solna_station}")
        html = await page.get_data(as_text=True)
        assert f"wall-clock times in <strong>{STOCKHOLM}</strong>" in html
        pushed = await post(client, f"/schedule/{sid}/push?node=station:{world.solna_station}")
        assert 'data-status="Accepted"' in await pushed.get_data(as_text=True)
    sent = json.loads(await store.read(lambda: ChargingProfile.get().profile))
    schedule = sent["csChargingProfiles"]["chargingSchedule"]
    monday = week_start(utcnow(), STOCKHOLM)
    assert schedule["startSchedule"] == monday.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert monday.hour in (22, 23)  # local midnight, an hour or two before UTC's
    assert {"startPeriod": 17 * 3600, "limit": 3680} in schedule["chargingSchedulePeriod"]
