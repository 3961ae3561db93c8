"""Time zones in the portal: the system zone, a user's own zone, a site's zone (readable
errors next to the field), the zone named on every page, alarms shown and filtered in it."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import load_workbook

from db import Store
from db.models import Alarm, Setting, Site, User
from tests.portal.conftest import World, login, post

STOCKHOLM = "Europe/Stockholm"


async def _html(client: Any, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200, path
    return str(await response.get_data(as_text=True))


async def test_system_zone_is_set_on_the_general_tab_and_a_bad_name_is_refused_next_to_it(
    client: Any, world: World, store: Store
) -> None:
    await login(client, "admin@example.com")
    assert 'data-testid="display-zone">UTC<' in await _html(client, "/dashboard/")
    bad = await post(
        client,
        "/configuration/system/general",
        {"system.name": "Fleet", "system.time_zone": "Europe/Stockholmm"},
    )
    html = await bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'id="system.time_zone-error"' in html
    assert "is not an IANA time zone" in html
    good = await post(
        client,
        "/configuration/system/general",
        {"system.name": "Fleet", "system.time_zone": " Europe/Stockholm"},
    )
    assert good.status_code == 302
    assert await store.read(lambda: Setting.get_by_id("system.time_zone").value) == STOCKHOLM
    # the next page already shows it (no stale cache)
    assert f'data-testid="display-zone">{STOCKHOLM}<' in await _html(client, "/dashboard/")


async def test_a_user_chooses_his_own_zone_and_empty_goes_back_to_the_system_zone(
    client: Any, world: World, store: Store
) -> None:
    await login(client, "support@example.com")
    bad = await post(client, "/settings/time-zone", {"time_zone": "Mars/Olympus"})
    html = await bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'id="time_zone-error"' in html
    assert "Mars/Olympus" in html
    assert await post(client, "/settings/time-zone", {"time_zone": "America/New_York"})
    assert 'data-testid="display-zone">America/New_York<' in await _html(client, "/settings/")
    zone = await store.read(lambda: User.get(User.email == "support@example.com").time_zone)
    assert zone == "America/New_York"
    # another user still sees the system zone
    await post(client, "/settings/time-zone", {"time_zone": ""})
    assert 'data-testid="display-zone">UTC<' in await _html(client, "/settings/")


async def test_a_site_gets_its_own_zone_and_a_bad_one_is_refused_next_to_the_field(
    client: Any, world: World, store: Store
) -> None:
    await login(client, "admin@example.com")
    path = f"/configuration/sites/{world.solna}/general?node=site:{world.solna}"
    bad = await post(client, path, {"name": "Solna", "time_zone": "Stockholm"})
    html = await bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'id="time_zone-error"' in html
    good = await post(client, path, {"name": "Solna", "time_zone": STOCKHOLM})
    assert good.status_code == 302
    assert await store.read(lambda: Site.get_by_id(world.solna).time_zone) == STOCKHOLM
    page = await _html(client, f"/configuration/?node=site:{world.solna}")
    assert f'value="{STOCKHOLM}"' in page


def _set_zone(store_zone: str) -> Any:
    def work() -> None:
        Setting.insert(key="system.time_zone", value=store_zone).on_conflict_replace().execute()

    return work


async def test_alarms_show_filter_and_export_in_the_display_zone(
    client: Any, world: World, store: Store
) -> None:
    await store.write(_set_zone(STOCKHOLM))

    def alarms() -> None:
        # 23:30 UTC on 28 March = 00:30 CET on the 29th; 01:30 UTC on 29 March = 03:30 CEST
        for raised in (dt.datetime(2026, 3, 28, 23, 30), dt.datetime(2026, 3, 29, 1, 30)):
            Alarm.create(
                kind="Fuse",
                station=world.solna_station,
                charge_box_id="SOLNA-1",
                site=world.solna,
                raised_at=raised,
                message=f"at {raised:%H:%M}",
            )

    await store.write(alarms)
    await login(client, "admin@example.com")
    html = await _html(client, "/alarms/")
    assert '<time datetime="2026-03-28T23:30:00Z">2026-03-29 00:30:00</time>' in html
    assert '<time datetime="2026-03-29T01:30:00Z">2026-03-29 03:30:00</time>' in html
    assert f"times in {STOCKHOLM}" in html
    # a local "from 03:00" (= 01:00 UTC) selects only the later alarm
    later = await _html(client, "/alarms/?from=2026-03-29T03:00")
    assert "at 01:30" in later
    assert "at 23:30" not in later
    # an explicit offset wins over the display zone
    both = await _html(client, "/alarms/?from=2026-03-28T23:00Z")
    assert "at 01:30" in both
    assert "at 23:30" in both
    response = await client.get("/alarms/active/export.xlsx")
    rows = list(
        load_workbook(io.BytesIO(await response.get_data()), read_only=True).active.iter_rows(
            values_only=True
        )
    )
    assert rows[0][:2] == (f"Raised ({STOCKHOLM})", f"Cleared ({STOCKHOLM})")
    assert sorted(r[0] for r in rows[1:]) == [
        dt.datetime(2026, 3, 29, 0, 30),
        dt.datetime(2026, 3, 29, 3, 30),
    ]
    csv = await (await client.get("/alarms/active/export.csv")).get_data(as_text=True)
    assert "2026-03-29 03:30:00" in csv
    assert "01:30:00,," not in csv
