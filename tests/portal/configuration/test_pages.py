"""Configuration pages: tabs per Navigator level, forms that save or refuse with a reason."""

from __future__ import annotations

from typing import Any

import pytest

from db import Store
from db.schema.models import Outlet, Setting, Station
from filestore.jpeg import demo_floor_plan, encode_blocks
from portal.configuration.control import OCPP16_ONLY
from tests.portal.conftest import World, login, post


async def _page(client: Any, path: str) -> tuple[int, str]:
    response = await client.get(path)
    return response.status_code, await response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("node", "tabs"),
    [
        ("", ["General", "Topology", "Services", "Firmware images"]),
        ("site", ["General", "Address", "Floors and stations"]),
        ("floor", ["General", "Station positions"]),
        ("station", ["General", "Address", "Control", "OCPP configuration"]),
        ("outlet", ["General"]),
    ],
)
async def test_tabs_follow_the_navigator_level(
    client: Any, world: World, node: str, tabs: list[str]
) -> None:
    await login(client, "admin@example.com")
    key = {
        "": "",
        "site": f"site:{world.solna}",
        "floor": f"floor:{world.solna_floor}",
        "station": f"station:{world.solna_station}",
        "outlet": f"outlet:{world.solna_outlet}",
    }[node]
    status, html = await _page(client, "/configuration/" + (f"?node={key}" if key else ""))
    assert status == 200
    for label in tabs:
        assert f">{label}</a>" in html
    for slug in ("general",):
        status, _ = await _page(client, f"/configuration/{slug}" + (f"?node={key}" if key else ""))
        assert status == 200


async def test_every_tab_renders_for_admin(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    nodes = {
        "": ["general", "topology", "services", "files"],
        f"site:{world.solna}": ["general", "address", "topology"],
        f"floor:{world.solna_floor}": ["general", "positions"],
        f"station:{world.solna_station}": ["general", "address", "control", "ocpp"],
        f"outlet:{world.solna_outlet}": ["general"],
    }
    for key, tabs in nodes.items():
        for tab in tabs:
            status, html = await _page(
                client, f"/configuration/{tab}" + (f"?node={key}" if key else "")
            )
            assert status == 200, (key, tab, html[:500])


async def test_an_offline_station_says_so_before_any_click(client: Any, world: World) -> None:
    await login(client, "support@example.com")
    status, html = await _page(client, f"/configuration/control?node=station:{world.solna_station}")
    assert status == 200
    assert "SOLNA-1 is offline." in html
    assert (
        'data-offline-banner role="status" >' in html
        or 'data-offline-banner role="status" hidden' not in html
    )


@pytest.mark.parametrize(
    ("action", "form", "message"),
    [
        ("change-configuration", {"key": "HeartbeatInterval", "value": "ten"}, "whole number"),
        ("reset", {"type": "Sideways"}, "type is one of Soft, Hard"),
        ("unlock-connector", {"connectorId": "abc"}, "connector"),
    ],
)
async def test_a_control_form_with_a_bad_value_names_it_even_when_the_station_is_offline(
    client: Any, world: World, action: str, form: dict[str, str], message: str
) -> None:
    """What is wrong with the form is said first: the operator fixes it while waiting for
    the station, instead of learning about it only once the station is back."""
    await login(client, "admin@example.com")
    url = f"/configuration/stations/{world.solna_station}/control/{action}"
    answer = await post(client, url, form)
    html = await answer.get_data(as_text=True)
    assert answer.status_code == 400, html[:500]
    assert message in html
    assert "offline" not in html


async def test_system_settings_are_saved_by_an_admin_only(
    client: Any, world: World, store: Store
) -> None:
    await login(client, "support@example.com")
    denied = await post(client, "/configuration/system/general", {"system.name": "X"})
    assert denied.status_code == 403
    assert await store.read(lambda: Setting.get_or_none(Setting.key == "system.name")) is None


async def test_system_settings_refuse_a_bad_address_next_to_the_field(
    client: Any, world: World, store: Store
) -> None:
    await login(client, "admin@example.com")
    bad = await post(
        client,
        "/configuration/system/general",
        {"system.name": "Portal", "ocpp16.url": "http://wrong/"},
    )
    html = await bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'id="ocpp16.url-error"' in html
    good = await post(
        client,
        "/configuration/system/general",
        {"system.name": "Fleet", "ocpp16.url": "wss://cp.example.org/Ocpp/websocket"},
    )
    assert good.status_code == 302
    assert await store.read(lambda: Setting.get_by_id("system.name").value) == "Fleet"
    _, html = await _page(client, "/configuration/")
    assert "· Fleet</title>" in html  # the frame shows the new system name


async def test_topology_refuses_to_remove_a_site_with_children(
    client: Any, world: World, store: Store
) -> None:
    await login(client, "admin@example.com")
    refused = await post(client, f"/configuration/topology/sites/{world.solna}/remove")
    html = await refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "still has 1 floor(s), 2 station(s)" in html
    created = await post(
        client,
        "/configuration/topology/stations",
        {"parent": f"floor:{world.solna_floor}", "charge_box_id": "NEW-1", "outlets": "2"},
    )
    assert created.status_code == 302
    station = await store.read(lambda: Station.get(Station.charge_box_id == "NEW-1"))
    assert (station.site_id, station.floor_id) == (world.solna, world.solna_floor)
    no_parent = await post(client, "/configuration/topology/floors", {"name": "P9"})
    assert no_parent.status_code == 400
    assert "Select a parent site" in await no_parent.get_data(as_text=True)
    no_target = await post(
        client, f"/configuration/topology/stations/{world.solna_station}/move", {"target": "x"}
    )
    assert no_target.status_code == 400  # and the page says why
    assert "Choose the site or floor to move to." in await no_target.get_data(as_text=True)


async def test_a_site_admin_cannot_touch_another_site(client: Any, world: World) -> None:
    await login(client, "site-admin@example.com")
    status, _ = await _page(client, f"/configuration/?node=station:{world.kista_station}")
    assert status == 404
    moved = await post(
        client,
        f"/configuration/topology/stations/{world.kista_station}/remove",
        {},
    )
    assert moved.status_code == 404
    own = await post(
        client,
        f"/configuration/topology/floors?node=site:{world.solna}",
        {"site_id": str(world.kista), "name": "Sneaky"},
    )
    assert own.status_code == 404


async def test_floor_plan_upload_checks_the_content(
    client: Any, world: World, store: Store
) -> None:
    await login(client, "admin@example.com")
    url = f"/configuration/floors/{world.solna_floor}/general?node=floor:{world.solna_floor}"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    import io

    from quart.datastructures import FileStorage

    def upload(data: bytes, name: str) -> dict[str, Any]:
        return {"plan": FileStorage(io.BytesIO(data), filename=name, content_type="image/jpeg")}

    renamed = await post(client, url, {"name": "Garage P1"}, files=upload(png, "plan.jpg"))
    assert renamed.status_code == 400
    assert "PNG image" in await renamed.get_data(as_text=True)
    big = encode_blocks([[128] * 4] * 4, comment=b"x" * (3 * 1024 * 1024))
    too_big = await post(client, url, {"name": "Garage P1"}, files=upload(big, "big.jpg"))
    assert too_big.status_code == 400
    assert "at most 2 MB" in await too_big.get_data(as_text=True)
    plan = demo_floor_plan(cols=20, rows=10)
    ok = await post(client, url, {"name": "Garage P1"}, files=upload(plan, "plan.jpg"))
    assert ok.status_code == 302
    image = await client.get(f"/configuration/floors/{world.solna_floor}/plan.jpg")
    assert image.status_code == 200
    assert await image.get_data() == plan
    saved = await client.post(
        f"/configuration/floors/{world.solna_floor}/positions",
        json={"positions": {str(world.solna_station): [0.4, 0.6]}},
        headers={"X-CSRF-Token": await _csrf(client)},
    )
    assert saved.status_code == 200
    assert await store.read(lambda: Station.get_by_id(world.solna_station).pos_x) == 0.4


async def _csrf(client: Any) -> str:
    from tests.portal.conftest import csrf_of

    return await csrf_of(client)


async def test_outlet_mode_is_saved_and_uuid_kept(client: Any, world: World, store: Store) -> None:
    await login(client, "site-admin@example.com")
    before = await store.read(lambda: Outlet.get_by_id(world.solna_outlet).uuid)
    response = await post(
        client,
        f"/configuration/outlets/{world.solna_outlet}/general",
        {"connector_type": "CCS", "parking": "Bay 3", "mode": "OPEN", "uuid": "hacked"},
    )
    assert response.status_code == 302
    outlet = await store.read(Outlet.get_by_id, world.solna_outlet)
    assert (outlet.mode, outlet.parking, outlet.uuid) == ("OPEN", "Bay 3", before)


async def test_station_general_warns_when_the_charge_box_id_changes(
    client: Any, world: World, store: Store
) -> None:
    await login(client, "admin@example.com")
    response = await post(
        client,
        f"/configuration/stations/{world.solna_station2}/general",
        {"name": "Two", "charge_box_id": "SOLNA-22", "protocol": "1.6"},
    )
    assert response.status_code == 302
    page = await client.get(response.headers["Location"])
    assert "configure the same id in the station" in await page.get_data(as_text=True)
    clash = await post(
        client,
        f"/configuration/stations/{world.solna_station2}/general",
        {"name": "Two", "charge_box_id": "KISTA-1", "protocol": "1.6"},
    )
    assert clash.status_code == 409


async def test_a_15_station_shows_16_only_commands_disabled_with_the_reason(
    client: Any, world: World, store: Store
) -> None:
    await login(client, "admin@example.com")
    path = f"/configuration/control?node=station:{world.solna_station}"
    _, before = await _page(client, path)
    assert 'data-testid="not-in-protocol"' not in before  # an OCPP 1.6 station: all there
    await store.write(
        lambda: Station.update(protocol="1.5").where(Station.id == world.solna_station).execute()
    )
    status, html = await _page(client, path)
    assert status == 200
    assert "speaks OCPP 1.5, which has no Trigger message command" in html
    assert "speaks OCPP 1.5, which has no Security profile command" in html
    # trigger message and the security extension's forms (a certificate is deleted from
    # the list of installed certificates, which a 1.5 station does not have)
    assert html.count('data-testid="not-in-protocol"') == len(OCPP16_ONLY - {"delete-certificate"})
    assert 'data-testid="installed-certificates"' not in html
