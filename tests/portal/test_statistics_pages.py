"""The Statistics pages: the table by role and node, filters in the URL, Show, exports."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import trio

from db import Store
from db.schema.models import MeterSample, OcppMessage, utcnow
from tests.portal.conftest import World, login, post


async def page(client: Any, path: str) -> tuple[int, str]:
    response = await client.get(path)
    return response.status_code, await response.get_data(as_text=True)


def session_ids(html: str) -> set[int]:
    import re

    return {int(m) for m in re.findall(r'data-session-id="(\d+)"', html)}


async def test_admin_sees_every_session_and_filters_by_site(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    status, html = await page(client, "/statistics/")
    assert status == 200
    assert session_ids(html) == {world.ev_session, world.kista_session}
    status, html = await page(client, "/statistics/?site=kis")
    assert session_ids(html) == {world.kista_session}
    assert 'value="kis"' in html  # the filter stays in the form and the address
    assert "1 session<" in html


async def test_site_admin_sees_only_his_site(client: Any, world: World) -> None:
    await login(client, "site-admin@example.com")
    _, html = await page(client, "/statistics/")
    assert session_ids(html) == {world.ev_session}
    assert "KISTA-1" not in html
    status, _ = await page(client, f"/statistics/sessions/{world.kista_session}")
    assert status == 404
    status, _ = await page(client, f"/statistics/?node=site:{world.kista}")
    assert status == 404


async def test_navigator_node_scopes_the_table(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    _, html = await page(client, f"/statistics/?node=station:{world.kista_station}")
    assert session_ids(html) == {world.kista_session}


async def test_ev_user_sees_his_sessions_and_monthly_totals(client: Any, world: World) -> None:
    await login(client, "ev-user@example.com")
    status, html = await page(client, "/statistics/")
    assert status == 200
    assert session_ids(html) == {world.ev_session}
    assert 'data-testid="monthly-totals"' in html
    assert "<td>2026-11</td><td>1</td><td>5.0</td>" in html
    status, _ = await page(client, f"/statistics/sessions/{world.kista_session}")
    assert status == 404


async def test_chosen_columns_and_sort_come_from_the_url(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    _, html = await page(client, "/statistics/?columns=station,energy&sort=energy")
    head = html.split("<thead>")[1].split("</thead>")[0]
    assert "Station" in head
    assert "Energy (kWh)" in head
    assert "Start session" not in head
    assert len(session_ids(html)) == 2
    body = html.split("<tbody>")[1]
    assert body.index(f'data-session-id="{world.ev_session}"') < body.index(
        f'data-session-id="{world.kista_session}"'
    )  # 5 kWh before 7 kWh


async def test_a_bad_filter_is_explained_not_fatal(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    status, html = await page(client, "/statistics/?energy_min=lots")
    assert status == 200
    assert 'data-testid="filter-error"' in html
    assert "energy_min" in html
    assert session_ids(html) == {world.ev_session, world.kista_session}


async def test_show_has_details_meter_values_and_ocpp_messages(
    client: Any, world: World, store: Store
) -> None:
    def add() -> None:
        start = utcnow()
        for minute, value in ((0, 0), (15, 2000), (30, 5000)):
            MeterSample.create(
                session=world.ev_session,
                station=world.solna_station,
                connector_id=1,
                timestamp=start.replace(minute=minute, second=0, microsecond=0),
                value=str(value),
            )
        OcppMessage.create(
            station=world.solna_station,
            charge_box_id="SOLNA-1",
            session=world.ev_session,
            direction="in",
            action="StopTransaction",
            unique_id="m-42",
            payload='{"transactionId": 1, "meterStop": 5000}',
        )

    await store.write(add)
    await login(client, "ev-user@example.com")
    status, html = await page(client, f"/statistics/sessions/{world.ev_session}")
    assert status == 200
    assert "SOLNA-1" in html
    assert "1hrs 0min 0sec" in html
    assert "StopTransaction" in html
    assert "m-42" in html
    assert 'id="meter-chart"' in html
    response = await client.get(f"/statistics/sessions/{world.ev_session}/meter-values")
    series = (await response.get_json())["series"]
    assert [p[1] for p in series[0]["points"]] == [0.0, 2000.0, 5000.0]


async def test_export_job_runs_with_progress_and_downloads_the_filtered_rows(
    client: Any, world: World
) -> None:
    await login(client, "admin@example.com")
    started = await post(client, "/statistics/exports?format=xlsx&site=solna")
    assert started.status_code == 202
    job = await started.get_json()
    with trio.fail_after(20):
        while job["state"] in ("counting", "running"):
            await trio.sleep(0.05)
            job = await (await client.get(job["progress_url"])).get_json()
    assert job["state"] == "done"
    assert job["total"] == job["done"] == 1
    download = await client.get(f"/statistics/exports/{job['id']}/download")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    book = openpyxl.load_workbook(io.BytesIO(await download.get_data()))
    rows = list(book["Sessions"].iter_rows(values_only=True))
    assert len(rows) == 2
    assert "SOLNA-1" in rows[1]


async def test_every_answer_about_an_export_carries_its_links(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    job = await (await post(client, "/statistics/exports?format=csv&site=solna")).get_json()
    progress = await (await client.get(job["progress_url"])).get_json()
    for link in ("progress_url", "download_url", "cancel_url"):
        assert progress[link] == job[link]


async def test_someone_elses_export_is_not_found(client: Any, world: World, app: Any) -> None:
    await login(client, "admin@example.com")
    job = await (await post(client, "/statistics/exports?format=csv")).get_json()
    other = app.test_client()
    await login(other, "support@example.com")
    assert (await other.get(job["progress_url"])).status_code == 404
    assert (await other.get(f"/statistics/exports/{job['id']}/download")).status_code == 404


async def test_unknown_export_format_is_refused(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    response = await post(client, "/statistics/exports?format=pdf")
    assert response.status_code == 400
