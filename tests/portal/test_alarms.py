"""Alarms pages: active, history and event log, scoped by site and node, exportable."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import load_workbook

from db import Store
from db.models import Alarm, Event
from tests.portal.conftest import World, login

T0 = dt.datetime(2026, 11, 20, 10, 0, 0)


def _alarms(world: World) -> None:
    Alarm.create(
        kind="Fuse",
        station=world.solna_station,
        charge_box_id="SOLNA-1",
        site=world.solna,
        connector_id=1,
        message="Fuse blown",
        raised_at=T0,
    )
    Alarm.create(
        kind="No network",
        station=world.kista_station,
        charge_box_id="KISTA-1",
        site=world.kista,
        raised_at=T0 + dt.timedelta(minutes=1),
    )
    Alarm.create(
        kind="Temperature",
        station=world.solna_station,
        charge_box_id="SOLNA-1",
        site=world.solna,
        raised_at=T0 - dt.timedelta(days=1),
        cleared_at=T0 - dt.timedelta(hours=20),
    )
    Event.create(
        kind="station.booted",
        station=world.solna_station,
        charge_box_id="SOLNA-1",
        site=world.solna,
        message="BootNotification accepted",
        time=T0,
    )
    Event.create(
        kind="station.booted",
        station=world.kista_station,
        charge_box_id="KISTA-1",
        site=world.kista,
        message="BootNotification accepted",
        time=T0,
    )


async def _text(client: Any, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200, path
    return await response.get_data(as_text=True)


async def test_active_alarms_history_and_events_are_separate_tables(
    client: Any, store: Store, world: World
) -> None:
    await store.write(_alarms, world)
    await login(client, "support@example.com")
    active = await _text(client, "/alarms/")
    assert "Fuse blown" in active
    assert "KISTA-1" in active
    assert "Temperature" not in active.split("<tbody>")[1]
    history = await _text(client, "/alarms/history")
    assert "Temperature" in history.split("<tbody>")[1]
    assert "Fuse blown" not in history
    events = await _text(client, "/alarms/events")
    assert events.count("BootNotification accepted") == 2


async def test_a_site_administrator_sees_only_his_sites_alarms(
    client: Any, store: Store, world: World
) -> None:
    await store.write(_alarms, world)
    await login(client, "site-admin@example.com")
    active = await _text(client, "/alarms/")
    assert "SOLNA-1" in active
    assert "KISTA-1" not in active
    events = await _text(client, "/alarms/events")
    assert "KISTA-1" not in events
    assert (await client.get(f"/alarms/?node=site:{world.kista}")).status_code == 404


async def test_the_navigator_node_and_filters_narrow_the_table(
    client: Any, store: Store, world: World
) -> None:
    await store.write(_alarms, world)
    await login(client, "admin@example.com")
    station = await _text(client, f"/alarms/?node=station:{world.kista_station}")
    assert "KISTA-1" in station
    assert "SOLNA-1" not in station.split("<tbody>")[1]
    fuse = await _text(client, "/alarms/?kind=Fuse")
    assert "Fuse blown" in fuse
    assert "KISTA-1" not in fuse.split("<tbody>")[1]
    bad = await client.get("/alarms/?from=yesterday")
    assert bad.status_code == 400


async def test_active_alarms_export_to_excel_with_the_filter(
    client: Any, store: Store, world: World
) -> None:
    await store.write(_alarms, world)
    await login(client, "admin@example.com")
    response = await client.get(f"/alarms/active/export.xlsx?node=site:{world.solna}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(await response.get_data()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("Raised (UTC)", "Cleared (UTC)", "Alarm", "Station")
    assert rows[1:] == [(T0, None, "Fuse", "SOLNA-1", 1, "Solna", "Fuse blown", 1)]
    csv = await client.get("/alarms/events/export.csv")
    lines = (await csv.get_data(as_text=True)).strip().splitlines()
    assert lines[0] == "Time (UTC),Severity,Event,Station,Site,Message"
    assert len(lines) == 3


async def test_the_api_lists_active_and_cleared_alarms_in_scope(
    client: Any, store: Store, world: World
) -> None:
    await store.write(_alarms, world)
    await login(client, "site-admin@example.com")
    active = await (await client.get("/api/v1/alarms")).get_json()
    assert [(a["kind"], a["charge_box_id"]) for a in active["items"]] == [("Fuse", "SOLNA-1")]
    assert active["items"][0]["raised_at"] == "2026-11-20T10:00:00Z"
    cleared = await (await client.get("/api/v1/alarms?state=cleared")).get_json()
    assert [a["kind"] for a in cleared["items"]] == ["Temperature"]
    events = await (await client.get("/api/v1/events")).get_json()
    assert [e["charge_box_id"] for e in events["items"]] == ["SOLNA-1"]
