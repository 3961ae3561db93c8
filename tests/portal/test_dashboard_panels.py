"""Dashboard: the user's four panels with today's numbers, alarms, sessions, occupancy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from db import Store
from db.schema.models import Alarm, ChargingSession, Outlet, User, utcnow
from portal.panels import PANELS
from tests.portal.conftest import World, login


def _today_sessions(world: World) -> None:
    now = utcnow()
    base = {"charge_box_id": "SOLNA-2", "station": world.solna_station2, "site": world.solna}
    outlet = Outlet.get(Outlet.station == world.solna_station2)
    base |= {"site_name": "Solna", "connector_id": 1, "outlet": outlet}
    # started an hour ago, still charging: 3 kWh so far
    ChargingSession.create(
        start_time=now - dt.timedelta(hours=1), meter_start=100, meter_last=3100, **base
    )
    # a week ago at the same time: 2 kWh, and later that day 10 kWh more
    week = now - dt.timedelta(days=7)
    ChargingSession.create(
        start_time=week - dt.timedelta(minutes=30),
        end_time=week,
        meter_start=0,
        meter_stop=2000,
        energy_wh=2000,
        **base,
    )
    if week.hour < 23:
        ChargingSession.create(
            start_time=week + dt.timedelta(minutes=20),
            end_time=week + dt.timedelta(minutes=40),
            meter_start=5000,
            meter_stop=15000,
            energy_wh=10000,
            **base,
        )
    Alarm.create(
        kind="Fuse", charge_box_id="KISTA-1", station=world.kista_station, site=world.kista
    )
    User.update(dashboard_panels="energy-today,active-alarms,latest-sessions,occupancy").execute()


@pytest.fixture(name="busy")
async def _busy(store: Store, world: World) -> World:
    await store.write(_today_sessions, world)
    return world


async def test_dashboard_shows_the_four_chosen_panels(client: Any, busy: World) -> None:
    await login(client, "admin@example.com")
    html = await (await client.get("/dashboard/")).get_data(as_text=True)
    for key in ("energy-today", "active-alarms", "latest-sessions", "occupancy"):
        assert f'data-testid="panel-{key}"' in html
    assert 'data-testid="panel-news"' not in html
    assert 'hx-trigger="every' in html  # panels refresh themselves


async def test_energy_today_compares_with_the_same_time_last_week(client: Any, busy: World) -> None:
    await login(client, "admin@example.com")
    html = await (await client.get("/dashboard/panels/energy-today")).get_data(as_text=True)
    assert 'data-testid="energy-today">3.0 kWh' in html  # the running session's live energy
    assert "2.0 kWh" in html  # last week up to this time of day
    assert "+50.0 % energy" in html


async def test_alarm_and_session_panels_follow_the_site_scope(client: Any, busy: World) -> None:
    await login(client, "site-admin@example.com")
    alarms = await (await client.get("/dashboard/panels/active-alarms")).get_data(as_text=True)
    assert "KISTA-1" not in alarms
    assert "No active alarms" in alarms
    sessions = await (await client.get("/dashboard/panels/latest-sessions")).get_data(as_text=True)
    assert "SOLNA-2" in sessions or "Solna" in sessions
    assert "KISTA" not in sessions
    occupancy = await (await client.get("/dashboard/panels/occupancy")).get_data(as_text=True)
    assert "1 of 3 outlets charging" in occupancy
    assert "Kista" not in occupancy


async def test_admin_sees_the_other_sites_alarm(client: Any, busy: World) -> None:
    await login(client, "admin@example.com")
    alarms = await (await client.get("/dashboard/panels/active-alarms")).get_data(as_text=True)
    assert "Fuse" in alarms
    assert "KISTA-1" in alarms


@pytest.mark.parametrize("key", sorted(PANELS))
async def test_every_panel_renders(client: Any, world: World, key: str) -> None:
    await login(client, "support@example.com")
    response = await client.get(f"/dashboard/panels/{key}")
    assert response.status_code == 200
    assert f'id="panel-{key}"' in await response.get_data(as_text=True)


async def test_unknown_panel_is_not_found(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    assert (await client.get("/dashboard/panels/horoscope")).status_code == 404
