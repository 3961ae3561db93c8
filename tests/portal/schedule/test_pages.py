"""Schedule pages: a weekly schedule is built from the editor, listed, pushed, scoped."""

from __future__ import annotations

from typing import Any

from db import Store
from db.system.schedules import get_schedule, save_schedule, schedule_view
from tests.portal.conftest import World, login, post


def _form(**extra: str) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name": "Evening cap",
        "purpose": "TxDefaultProfile",
        "rate_unit": "W",
        "p0_start": "17:00",
        "p0_end": "21:00",
        "p0_limit": "3680",
        "p1_start": "00:00",
        "p1_end": "24:00",
        "p1_off": "1",
    }
    form.update(extra)
    return form


async def test_a_schedule_is_built_from_the_editor(client: Any, world: World, store: Store) -> None:
    await login(client, "site-admin@example.com")
    token_form = _form()
    url = f"/schedule/?node=station:{world.solna_station}"
    from tests.portal.conftest import csrf_of

    token = await csrf_of(client)
    from urllib.parse import urlencode

    pairs = [*token_form.items(), ("csrf_token", token)]
    pairs += [("p0_days", day) for day in ("0", "1", "2", "3", "4")] + [("p1_days", "6")]
    created = await client.post(
        url,
        data=urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert created.status_code == 302
    schedule_id = int(created.headers["Location"].rsplit("edit=", 1)[1])
    view = await store.read(lambda: schedule_view(get_schedule(schedule_id)))
    assert view["station_id"] == world.solna_station
    assert [(p["weekday"], p["limit"], p["available"]) for p in view["periods"]] == [
        (0, 3680.0, True),
        (1, 3680.0, True),
        (2, 3680.0, True),
        (3, 3680.0, True),
        (4, 3680.0, True),
        (6, None, False),
    ]
    page = await client.get(created.headers["Location"])
    html = await page.get_data(as_text=True)
    assert "Evening cap" in html
    assert html.count('name="p0_days"') == 7
    assert html.count("checked") >= 7  # Mon–Fri in row 0, Sun and 'unavailable' in row 1


async def test_a_period_without_days_or_limit_is_refused(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    response = await post(
        client,
        f"/schedule/?node=station:{world.solna_station}",
        {"name": "Empty", "p0_start": "08:00", "p0_end": "09:00"},
    )
    assert response.status_code == 400
    assert "at least one period" in await response.get_data(as_text=True)


async def test_pushing_to_an_offline_station_sends_nothing_and_says_so(
    client: Any, world: World, store: Store
) -> None:
    await login(client, "support@example.com")
    periods = [{"weekday": 0, "start": "08:00", "end": "12:00", "limit": 7000}]
    sid = await store.write(
        lambda: save_schedule(name="Cap", periods=periods, station_id=world.solna_station)
    )
    response = await post(client, f"/schedule/{sid}/push")
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-status="Offline"' in html
    assert "SOLNA-1 is offline: nothing was sent." in html


async def test_another_sites_schedule_does_not_exist_for_a_site_admin(
    client: Any, world: World, store: Store
) -> None:
    periods = [{"weekday": 0, "start": "08:00", "end": "12:00", "limit": 7000}]
    sid = await store.write(
        lambda: save_schedule(name="Kista cap", periods=periods, station_id=world.kista_station)
    )
    await login(client, "site-admin@example.com")
    listing = await client.get("/schedule/")
    assert "Kista cap" not in await listing.get_data(as_text=True)
    assert (await client.get(f"/schedule/?edit={sid}")).status_code == 404
    assert (await post(client, f"/schedule/{sid}/push")).status_code == 404
