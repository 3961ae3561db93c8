"""Diagrams: every predefined chart answers with data for the node, scoped by role."""

from __future__ import annotations

from typing import Any

import pytest

from db.sessions.session_aggregates import CHARTS
from tests.portal.conftest import World, login

NOVEMBER = "from=2026-11-01&to=2026-11-08"


async def chart(client: Any, key: str, extra: str = "") -> Any:
    response = await client.get(f"/diagrams/data?chart={key}&{NOVEMBER}{extra}")
    assert response.status_code == 200
    return await response.get_json()


@pytest.mark.parametrize("key", sorted(CHARTS))
async def test_every_chart_has_labels_and_datasets(client: Any, world: World, key: str) -> None:
    await login(client, "admin@example.com")
    body = await chart(client, key)
    assert body["chart"] == key
    assert body["title"] == CHARTS[key]
    assert body["datasets"]
    assert all(len(d["data"]) == len(body["labels"]) for d in body["datasets"])


async def test_energy_per_day_sums_the_node_sessions(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    body = await chart(client, "energy-day")
    assert body["labels"] == ["2026-11-02"]
    assert body["datasets"][0]["data"] == [12.0]  # 5 kWh at Solna + 7 kWh at Kista
    solna = await chart(client, "energy-day", f"&node=site:{world.solna}")
    assert solna["datasets"][0]["data"] == [5.0]


async def test_site_admin_charts_cover_his_site_only(client: Any, world: World) -> None:
    await login(client, "site-admin@example.com")
    body = await chart(client, "by-station")
    assert body["labels"] == ["Solna one (SOLNA-1)"]
    response = await client.get(f"/diagrams/data?chart=energy-day&node=site:{world.kista}")
    assert response.status_code == 404


async def test_page_has_the_chart_menu_and_the_timeline(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    response = await client.get(f"/diagrams/?chart=by-hour&{NOVEMBER}")
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="timeline"' in html
    assert 'aria-current="page">Sessions by hour of day' in html
    assert "2026-11-01 – 2026-11-07" in html
    timeline = await (await client.get("/diagrams/timeline")).get_json()
    assert timeline["days"] == [["2026-11-02", 2]]


async def test_bad_range_and_unknown_chart_are_refused(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    assert (await client.get("/diagrams/data?chart=pie-in-the-sky")).status_code == 400
    bad = await client.get("/diagrams/data?chart=energy-day&from=2026-11-08&to=2026-11-01")
    assert bad.status_code == 400
    assert (await client.get("/diagrams/data?chart=by-hour&from=soon")).status_code == 400
