"""Alarms pages: active, history and event log, scoped by site and node, exportable."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import load_workbook

from db import Store
from db.schema.models import Alarm, Event
from tests.portal.conftest import World, login, post

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
    assert rows[1:] == [
        (T0, None, "Fuse", "SOLNA-1", 1, "Solna", "Fuse blown", 1, None, None, None)
    ]
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


async def test_a_bad_date_in_the_filters_is_explained_on_the_page(
    client: Any, store: Store, world: World
) -> None:
    """Issue 12, fix 5: as in Statistics, not a bare 400 page."""
    await store.write(_alarms, world)
    await login(client, "admin@example.com")
    response = await client.get("/alarms/?from=yesterday&kind=Fuse")
    assert response.status_code == 200
    html = await response.get_data(as_text=True)
    assert 'data-testid="filter-error"' in html
    assert "From: &#39;yesterday&#39; is not a date" in html
    assert "Fuse blown" in html  # the other filters still apply
    assert "KISTA-1" not in html.split("<tbody>")[1]
    assert "from=yesterday" not in html.split('data-testid="export-xlsx"')[0].rsplit("<a", 1)[1]
    events = await client.get("/alarms/events?to=2026-13-45")
    assert events.status_code == 200
    assert "To: &#39;2026-13-45&#39;" in await events.get_data(as_text=True)


def _stranger(world: World) -> int:
    """A Not registered of an id no station has (the gateway raised it)."""
    from db.system.alarms import raise_alarm

    return raise_alarm("Not registered", "STRANGER", message="connection attempt").alarm_id


async def test_an_alarm_is_acknowledged_with_who_when_and_a_comment(
    client: Any, store: Store, world: World
) -> None:
    await store.write(_alarms, world)
    fuse = await store.read(lambda: Alarm.get(Alarm.kind == "Fuse").id)
    await login(client, "site-admin@example.com")
    done = await post(client, f"/alarms/{fuse}/acknowledge", {"comment": "Electrician called"})
    assert done.status_code == 303
    alarm = await store.read(lambda: Alarm.get_by_id(fuse))
    assert alarm.acknowledged_by == "site-admin@example.com"
    assert alarm.ack_comment == "Electrician called"
    assert alarm.acknowledged_at is not None
    assert alarm.cleared_at is None  # still active: the fuse is still blown
    page = await _text(client, "/alarms/")
    row = page.split(f'data-alarm="{fuse}"')[1].split("</tr>")[0]
    assert "site-admin@example.com" in row
    assert "Electrician called" in row
    assert f"/alarms/{fuse}/clear" not in page  # a fuse clears itself
    events = await _text(client, "/alarms/events")
    assert "Fuse acknowledged by site-admin@example.com: Electrician called" in events
    # nothing of another site: his neighbour's alarm does not exist for him
    kista = await store.read(lambda: Alarm.get(Alarm.kind == "No network").id)
    assert (await post(client, f"/alarms/{kista}/acknowledge", {})).status_code == 404
    long = await post(client, f"/alarms/{fuse}/acknowledge", {"comment": "x" * 501})
    assert long.status_code == 400
    assert "at most 500 characters" in await long.get_data(as_text=True)


async def test_only_an_unknown_ids_not_registered_is_cleared_by_hand(
    client: Any, store: Store, world: World
) -> None:
    await store.write(_alarms, world)
    stranger = await store.write(_stranger, world)
    fuse = await store.read(lambda: Alarm.get(Alarm.kind == "Fuse").id)
    await login(client, "support@example.com")
    page = await _text(client, "/alarms/")
    assert f'action="/alarms/{stranger}/clear' in page
    refused = await post(client, f"/alarms/{fuse}/clear", {})
    assert refused.status_code == 409
    assert "clears itself" in await refused.get_data(as_text=True)
    assert await store.read(lambda: Alarm.get_by_id(fuse).cleared_at) is None
    cleared = await post(client, f"/alarms/{stranger}/clear", {"comment": "our test rig"})
    assert cleared.status_code == 303
    alarm = await store.read(lambda: Alarm.get_by_id(stranger))
    assert alarm.cleared_at is not None
    assert (alarm.acknowledged_by, alarm.ack_comment) == ("support@example.com", "our test rig")
    history = await _text(client, "/alarms/history")
    assert "STRANGER" in history.split("<tbody>")[1]
    again = await post(client, f"/alarms/{stranger}/clear", {})
    assert again.status_code == 409
    events = await _text(client, "/alarms/events")
    assert "Not registered cleared by support@example.com: our test rig" in events


async def test_the_api_acknowledges_and_clears_by_hand_as_the_page_does(
    client: Any, store: Store, world: World
) -> None:
    from tests.portal.conftest import csrf_of

    await store.write(_alarms, world)
    stranger = await store.write(_stranger, world)
    fuse = await store.read(lambda: Alarm.get(Alarm.kind == "Fuse").id)
    await login(client, "support@example.com")
    headers = {"X-CSRF-Token": await csrf_of(client)}
    done = await client.post(
        f"/api/v1/alarms/{fuse}/acknowledge", json={"comment": "on it"}, headers=headers
    )
    assert done.status_code == 200
    listed = await (await client.get("/api/v1/alarms?kind=Fuse")).get_json()
    item = listed["items"][0]
    assert (item["acknowledged_by"], item["ack_comment"]) == ("support@example.com", "on it")
    assert item["acknowledged_at"].endswith("Z")
    refused = await client.post(f"/api/v1/alarms/{fuse}/clear", json={}, headers=headers)
    assert refused.status_code == 409
    assert "clears itself" in (await refused.get_json())["message"]
    cleared = await client.post(f"/api/v1/alarms/{stranger}/clear", json={}, headers=headers)
    assert cleared.status_code == 200
    assert await store.read(lambda: Alarm.get_by_id(stranger).cleared_at) is not None


async def test_a_hand_acknowledgement_reaches_the_sites_open_pages_live(
    client: Any, store: Store, world: World, gateway: Any
) -> None:
    await store.write(_alarms, world)
    fuse = await store.read(lambda: Alarm.get(Alarm.kind == "Fuse").id)
    await login(client, "site-admin@example.com")
    async with gateway.events.subscribe() as feed:
        await post(client, f"/alarms/{fuse}/acknowledge", {"comment": "seen"})
        event = feed.receive_nowait()
    assert (event.kind, event.charge_box_id, event.site_id) == (
        "alarm.acknowledged",
        "SOLNA-1",
        world.solna,
    )
