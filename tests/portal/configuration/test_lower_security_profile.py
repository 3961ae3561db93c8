"""An administrator lowers a station's stored security profile from its General tab (or
the JSON API): warned, logged (who, from, to); raising stays with the Control action."""

from __future__ import annotations

from typing import Any

from db import Store, hash_station_password
from db.schema.models import Event, Station
from tests.portal.conftest import World, csrf_of, login, post

PASSWORD = "portal-station-pass-16"


async def _profile(store: Store, world: World, profile: int, *, password: bool) -> None:
    hashed = hash_station_password(PASSWORD) if password else None
    await store.write(
        lambda: (
            Station.update(
                security_profile=profile, security_profile_pending=None, password_hash=hashed
            )
            .where(Station.id == world.solna_station)
            .execute()
        )
    )


def _stored(world: World) -> Station:
    return Station.get_by_id(world.solna_station)


def _events() -> list[str]:
    query = Event.select().where(Event.kind == "station.security").order_by(Event.id)
    return [f"{e.severity} {e.charge_box_id} {e.message}" for e in query]


async def test_an_administrator_lowers_the_profile_with_a_warning_and_an_event(
    client: Any, store: Store, world: World
) -> None:
    await _profile(store, world, 3, password=True)
    await store.write(
        lambda: (
            Station.update(security_profile_pending=None)
            .where(Station.id == world.solna_station)
            .execute()
        )
    )
    await login(client, "admin@example.com")
    tab = await client.get(f"/configuration/general?node=station:{world.solna_station}")
    html = await tab.get_data(as_text=True)
    form = html.split('data-testid="lower-security-profile"')[1].split("</form>")[0]
    done = await post(
        client,
        f"/configuration/stations/{world.solna_station}/security-profile",
        {"securityProfile": "1"},
    )
    after = await client.get(done.headers["Location"])
    after_html = await after.get_data(as_text=True)
    station = await store.read(_stored, world)
    events = await store.read(_events)
    assert 'value="2"' in form
    assert 'value="1"' in form
    assert 'value="3"' not in form  # not lower
    assert "accept a weaker connection" in form
    assert "data-confirm=" in form
    assert done.status_code == 302
    assert station.security_profile == 1
    assert 'data-testid="security-profile">1 — password (HTTP Basic)<' in after_html
    assert events == [
        "warning SOLNA-1 security profile lowered from 3 (TLS + client certificate) to 1"
        " (password (HTTP Basic)) by admin@example.com: the gateway now accepts a weaker"
        " connection from SOLNA-1"
    ]


async def test_raising_through_the_form_is_refused_and_points_to_the_control_action(
    client: Any, store: Store, world: World
) -> None:
    await _profile(store, world, 1, password=True)
    await login(client, "admin@example.com")
    page = await post(
        client,
        f"/configuration/stations/{world.solna_station}/security-profile",
        {"securityProfile": "2"},
    )
    text = await page.get_data(as_text=True)
    station = await store.read(_stored, world)
    assert page.status_code == 409
    assert 'role="alert">Raising a security profile is done with the Control tab' in text
    assert station.security_profile == 1
    assert await store.read(_events) == []


async def test_profile_0_is_refused_while_the_station_has_a_password(
    client: Any, store: Store, world: World
) -> None:
    await _profile(store, world, 2, password=True)
    await login(client, "admin@example.com")
    page = await post(
        client,
        f"/configuration/stations/{world.solna_station}/security-profile",
        {"securityProfile": "0"},
    )
    text = await page.get_data(as_text=True)
    assert page.status_code == 409
    assert 'role="alert">Profile 0 is a station without a password: clear its OCPP password' in text
    assert (await store.read(_stored, world)).security_profile == 2


async def test_support_and_site_administrators_neither_see_nor_use_the_form(
    client: Any, store: Store, world: World
) -> None:
    await _profile(store, world, 2, password=True)
    for email in ("support@example.com", "site-admin@example.com"):
        await login(client, email)
        tab = await client.get(f"/configuration/general?node=station:{world.solna_station}")
        html = await tab.get_data(as_text=True)
        page = await post(
            client,
            f"/configuration/stations/{world.solna_station}/security-profile",
            {"securityProfile": "1"},
        )
        assert 'data-testid="lower-security-profile"' not in html
        assert page.status_code == 403
        await client.post("/logout", form={"csrf_token": await csrf_of(client)})
    assert (await store.read(_stored, world)).security_profile == 2


async def test_the_json_api_lowers_and_refuses_raising(
    client: Any, store: Store, world: World
) -> None:
    await _profile(store, world, 3, password=False)
    await login(client, "admin@example.com")
    headers = {"X-CSRF-Token": await csrf_of(client)}
    url = "/api/v1/stations/SOLNA-1/security"
    lowered = await client.put(url, json={"securityProfile": 0}, headers=headers)
    raised = await client.put(url, json={"securityProfile": 3}, headers=headers)
    bad = await client.put(url, json={"securityProfile": 7}, headers=headers)
    body = await lowered.get_json()
    assert lowered.status_code == 200
    assert body["securityProfile"] == 0
    assert body["previousSecurityProfile"] == 3
    assert raised.status_code == 409
    assert (await raised.get_json())["field"] == "securityProfile"
    assert bad.status_code == 400
    assert (await store.read(_stored, world)).security_profile == 0
    assert len(await store.read(_events)) == 1
