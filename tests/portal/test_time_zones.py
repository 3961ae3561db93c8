"""Time zones in the portal: the system zone, a user's own zone, a site's zone (readable
errors next to the field), the zone named on every page, alarms shown and filtered in it."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

import trio
from openpyxl import load_workbook

from db import Store
from db.schema.models import (
    Alarm,
    ChargingSchedule,
    ChargingSession,
    IdTag,
    Setting,
    Site,
    Station,
    User,
    utcnow,
)
from db.system.schedules import save_schedule
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


def _late_session(world: World) -> int:
    """A Kista session at 23:30 UTC on 2 November: 00:30 on the 3rd in Stockholm (CET)."""
    start = dt.datetime(2026, 11, 2, 23, 30)
    return int(
        ChargingSession.create(
            station=world.kista_station,
            charge_box_id="KISTA-1",
            site=world.kista,
            site_name="Kista",
            outlet=world.kista_outlet,
            connector_id=1,
            start_time=start,
            end_time=start + dt.timedelta(minutes=45),
            meter_start=0,
            meter_stop=1000,
            energy_wh=1000,
        ).id
    )


def _ids(html: str) -> set[int]:
    return {int(m) for m in re.findall(r'data-session-id="(\d+)"', html)}


async def test_statistics_show_and_filter_in_the_system_zone(
    client: Any, world: World, store: Store
) -> None:
    late = await store.write(_late_session, world)
    await store.write(_set_zone(STOCKHOLM))
    await login(client, "admin@example.com")
    html = await _html(client, "/statistics/")
    assert "2026-11-02 09:00:00.0" in html  # 08:00 UTC
    assert "2026-11-03 00:30:00.0" in html  # 23:30 UTC
    assert "2026-11-02 08:00:00.0" not in html
    assert f"times in {STOCKHOLM}" in html
    # the filter's times are typed in Stockholm time
    assert _ids(await _html(client, "/statistics/?start_from=2026-11-03T00:00")) == {late}
    assert _ids(await _html(client, "/statistics/?start_to=2026-11-02T09:00")) == set()
    assert _ids(await _html(client, "/statistics/?start_to=2026-11-02T09:00:01")) == {
        world.ev_session,
        world.kista_session,
    }
    # an explicit Z keeps meaning UTC
    assert _ids(await _html(client, "/statistics/?start_from=2026-11-02T23:00Z")) == {late}
    show = await _html(client, f"/statistics/sessions/{world.ev_session}")
    assert '<dd data-field="start">2026-11-02 09:00:00.0</dd>' in show
    assert '<dd data-field="end">2026-11-02 10:00:00.0</dd>' in show


async def test_the_export_job_writes_local_times_of_the_users_zone(
    client: Any, world: World, store: Store
) -> None:
    await store.write(_late_session, world)

    def choose() -> None:
        User.update(time_zone=STOCKHOLM).where(User.email == "admin@example.com").execute()

    await store.write(choose)
    await login(client, "admin@example.com")
    started = await post(client, "/statistics/exports?format=xlsx&site=kista&sort=start")
    job = await started.get_json()
    with trio.fail_after(20):
        while job["state"] in ("counting", "running"):
            await trio.sleep(0.05)
            job = await (await client.get(job["progress_url"])).get_json()
    download = await client.get(f"/statistics/exports/{job['id']}/download")
    rows = list(
        load_workbook(io.BytesIO(await download.get_data()))["Sessions"].iter_rows(values_only=True)
    )
    assert rows[0][0] == f"Start session ({STOCKHOLM})"
    assert [r[0] for r in rows[1:]] == [
        dt.datetime(2026, 11, 2, 9, 0),
        dt.datetime(2026, 11, 3, 0, 30),
    ]


async def test_diagram_days_and_hours_are_local(client: Any, world: World, store: Store) -> None:
    await store.write(_late_session, world)
    await store.write(_set_zone(STOCKHOLM))
    await login(client, "admin@example.com")
    response = await client.get("/diagrams/data?chart=energy-day&from=2026-11-01&to=2026-11-08")
    body = await response.get_json()
    assert body["zone"] == STOCKHOLM
    assert body["labels"] == ["2026-11-02", "2026-11-03"]
    assert body["datasets"][0]["data"] == [12.0, 1.0]
    hours = await (
        await client.get("/diagrams/data?chart=by-hour&from=2026-11-01&to=2026-11-08")
    ).get_json()
    counts = dict(zip(hours["labels"], hours["datasets"][0]["data"], strict=True))
    assert (counts["09:00"], counts["00:00"], counts["08:00"], counts["23:00"]) == (2, 1, 0, 0)
    timeline = await (await client.get("/diagrams/timeline")).get_json()
    assert timeline["days"] == [["2026-11-02", 2], ["2026-11-03", 1]]


async def test_a_badge_expiry_is_typed_and_shown_in_the_display_zone(
    client: Any, world: World, store: Store
) -> None:
    await store.write(_set_zone(STOCKHOLM))
    await login(client, "admin@example.com")
    changed = await post(
        client, "/provisioning/tags/1001/edit", {"status": "Accepted", "expiry": "2030-06-01T12:00"}
    )
    assert changed.status_code == 302
    tag = await store.read(lambda: IdTag.get(IdTag.id_tag == "1001"))
    assert tag.expiry_date == dt.datetime(2030, 6, 1, 10, 0)  # 12:00 CEST
    page = await _html(client, "/provisioning/tags?edit=1001")
    assert f"Expires ({STOCKHOLM})" in page
    assert 'value="2030-06-01T12:00:00"' in page  # the badge's edit form
    # the API keeps UTC with Z
    listed = await (await client.get("/api/v1/id-tags")).get_json()
    expiry = [t["expiryDate"] for t in listed["items"] if t["idTag"] == "1001"]
    assert expiry == ["2030-06-01T10:00:00Z"]


async def test_the_json_api_keeps_utc_with_z_and_reads_offsets(
    client: Any, world: World, store: Store
) -> None:
    late = await store.write(_late_session, world)
    await store.write(_set_zone(STOCKHOLM))  # a display zone changes nothing for machines
    await login(client, "admin@example.com")
    body = await (await client.get("/api/v1/sessions?sort=start")).get_json()
    starts = {item["id"]: item["start"] for item in body["items"]}
    assert starts[world.ev_session] == "2026-11-02T08:00:00Z"
    assert starts[late] == "2026-11-02T23:30:00Z"

    async def ids(query: str) -> set[int]:
        answer = await (await client.get(f"/api/v1/sessions?{query}")).get_json()
        return {item["id"] for item in answer["items"]}

    # a naive time is UTC in the API; an offset (encoded, or its + sent bare) is honoured
    assert await ids("start_from=2026-11-02T23:00") == {late}
    assert await ids("start_from=2026-11-03T00:00%2B01:00") == {late}
    assert await ids("start_from=2026-11-03T00:00+01:00") == {late}
    assert await ids("start_from=2026-11-02T09:00:01%2B01:00") == {late}
    assert len(await ids("start_from=2026-11-02T09:00%2B01:00")) == 3  # inclusive


async def test_a_stored_zone_this_server_does_not_know_falls_back_to_utc(
    client: Any, world: World, store: Store
) -> None:
    await store.write(_set_zone("Mars/Olympus"))  # e.g. a name dropped from tzdata

    def user_zone() -> None:
        User.update(time_zone="Atlantis/Capital").where(
            User.email == "support@example.com"
        ).execute()

    await store.write(user_zone)
    await login(client, "support@example.com")
    assert 'data-testid="display-zone">UTC<' in await _html(client, "/statistics/")


async def test_station_general_shows_last_seen_in_the_display_zone(
    client: Any, world: World, store: Store
) -> None:
    await store.write(_set_zone(STOCKHOLM))

    def seen() -> None:
        Station.update(last_seen_at=dt.datetime(2026, 7, 1, 10, 0, 5)).where(
            Station.id == world.solna_station
        ).execute()

    await store.write(seen)
    await login(client, "admin@example.com")
    html = await _html(client, f"/configuration/general?node=station:{world.solna_station}")
    # 10:00:05 UTC in July is 12:00:05 CEST
    assert (
        '<dd data-testid="last-seen"><time datetime="2026-07-01T10:00:05Z">'
        "2026-07-01 12:00:05</time></dd>"
    ) in html


async def test_a_schedule_pushed_in_summer_time_asks_to_be_pushed_again(
    client: Any, world: World, store: Store
) -> None:
    def schedules() -> tuple[int, int]:
        Site.update(time_zone=STOCKHOLM).where(Site.id == world.solna).execute()
        periods = [{"days": [0], "start": "17:00", "end": "21:00", "limit": 3680}]
        summer = save_schedule(name="Summer", periods=periods, station_id=world.solna_station)
        fresh = save_schedule(name="Fresh", periods=periods, station_id=world.solna_station)
        for sid, pushed in ((summer, dt.datetime(2026, 7, 1, 12)), (fresh, utcnow())):
            ChargingSchedule.update(pushed_at=pushed).where(ChargingSchedule.id == sid).execute()
        return summer, fresh

    summer, fresh = await store.write(schedules)
    await login(client, "admin@example.com")
    html = await _html(client, f"/schedule/?node=station:{world.solna_station}")
    rows = {sid: html.split(f"edit={sid}")[1].split("</tr>")[0] for sid in (summer, fresh)}
    winter = utcnow().replace(tzinfo=dt.UTC).astimezone(ZoneInfo(STOCKHOLM)).dst() == dt.timedelta(
        0
    )
    assert ('data-testid="push-again"' in rows[summer]) is winter
    assert 'data-testid="push-again"' not in rows[fresh]
