"""``/api/v1/sessions/export.xlsx`` and ``export.csv``: what the filters select, by role."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl

from portal.session_export import EXPORT_COLUMNS
from tests.portal.conftest import World, login

NODE = EXPORT_COLUMNS.index("node")


async def test_xlsx_export_holds_the_filtered_sessions(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    response = await client.get("/api/v1/sessions/export.xlsx?station=KISTA")
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "1"
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(await response.get_data()))
    rows = list(book["Sessions"].iter_rows(values_only=True))
    assert [r[NODE] for r in rows[1:]] == ["KISTA-1"]
    assert rows[1][EXPORT_COLUMNS.index("energy")] == 7.0


async def test_xlsx_export_splits_sheets_at_the_configured_limit(
    client: Any, world: World, app: Any
) -> None:
    app.config["PORTAL_EXPORT_SHEET_ROWS"] = 1
    await login(client, "admin@example.com")
    response = await client.get("/api/v1/sessions/export.xlsx?sort=id")
    book = openpyxl.load_workbook(io.BytesIO(await response.get_data()))
    assert book.sheetnames == ["Sessions", "Sessions 2"]


async def test_csv_export_streams_only_the_ev_users_own_rows(client: Any, world: World) -> None:
    await login(client, "ev-user@example.com")
    response = await client.get("/api/v1/sessions/export.csv?columns=id,node,energy")
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "1"
    table = list(csv.reader(io.StringIO((await response.get_data()).decode("utf-8-sig"))))
    assert table == [
        ["Session", "Node identity", "Energy (kWh)"],
        [str(world.ev_session), "SOLNA-1", "5.0"],
    ]


async def test_site_admin_export_leaves_other_sites_out(client: Any, world: World) -> None:
    await login(client, "site-admin@example.com")
    response = await client.get("/api/v1/sessions/export.csv")
    text = (await response.get_data()).decode("utf-8-sig")
    assert "SOLNA-1" in text
    assert "KISTA-1" not in text


async def test_bad_filter_names_the_parameter(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    response = await client.get("/api/v1/sessions/export.csv?start_from=yesterday")
    assert response.status_code == 400
    assert (await response.get_json())["field"] == "start_from"


async def test_session_list_follows_the_navigator_node(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    body = await (await client.get(f"/api/v1/sessions?node=site:{world.kista}")).get_json()
    assert [item["node"] for item in body["items"]] == ["KISTA-1"]
    assert body["total"] == 1
