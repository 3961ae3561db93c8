"""Statistics and Diagrams in a real Chromium: filter the table, right-click → Show in a
new window, export with progress, move the diagram's timeline. Screenshots:
tests/artifacts/statistics-*.png, session-show.png, diagrams-*.png, dashboard-panels.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import trio

from db import Store
from db.schema.models import ChargingSession, MeterSample, OcppMessage, Outlet, User
from gateway import Gateway
from tests.portal.browser import ARTIFACTS, BrowserThread, log_in, screenshot
from tests.portal.conftest import PASSWORD, World, simulated_station

pytestmark = pytest.mark.browser


def _more_sessions(world: World) -> int:
    """Two months of sessions at both sites; the last one with meter values and messages."""
    outlets = {o.station_id: o for o in Outlet.select().where(Outlet.connector_id == 1)}
    meter = 10_000
    last = None
    for day in range(60):
        start = dt.datetime(2026, 9, 10, 9, 0) + dt.timedelta(days=day)
        for station, cbid, site, name in (
            (world.solna_station2, "SOLNA-2", world.solna, "Solna"),
            (world.kista_station, "KISTA-1", world.kista, "Kista"),
        ):
            energy = 1000 * (day % 9 + 2)
            last = ChargingSession.create(
                station=station,
                charge_box_id=cbid,
                station_name=cbid.title(),
                site=site,
                site_name=name,
                outlet=outlets[station],
                connector_id=1,
                start_time=start + dt.timedelta(hours=day % 5),
                end_time=start + dt.timedelta(hours=day % 5 + 2),
                meter_start=meter,
                meter_stop=meter + energy,
                energy_wh=energy,
            )
            meter += energy
    assert last is not None
    for minute in range(0, 121, 15):
        MeterSample.create(
            session=last,
            station=last.station_id,
            connector_id=1,
            timestamp=last.start_time + dt.timedelta(minutes=minute),
            value=str(last.meter_start + minute * 40),
        )
    OcppMessage.create(
        station=last.station_id,
        charge_box_id=last.charge_box_id,
        session=last,
        direction="in",
        action="StartTransaction",
        unique_id="b-1",
        payload='{"connectorId": 1, "idTag": "", "meterStart": 1}',
    )
    User.update(dashboard_panels="station-status,energy-today,latest-sessions,occupancy").execute()
    return int(last.id)


def _log_in(page: Any, email: str) -> None:
    log_in(page, email, PASSWORD)


async def test_filter_show_export_and_timeline_in_a_browser(
    chromium: BrowserThread, base_url: str, world: World, store: Store
) -> None:
    await store.write(_more_sessions, world)
    page = await chromium.new_page(base_url)

    def table_steps() -> dict[str, Any]:
        _log_in(page, "admin@example.com")
        page.goto("/statistics/")
        page.click(".filter-panel summary")
        page.fill("#f-site", "Kista")
        page.fill("input[name=energy_min]", "9")
        page.click('[data-testid="apply-filters"]')
        page.wait_for_url("**site=Kista**")
        screenshot(page, "statistics-filtered")
        rows = page.locator("table.sessions tbody tr[data-session-id]")
        seen = {
            "url": page.url,
            "rows": rows.count(),
            "total": page.inner_text('[data-testid="total"]'),
            "stations": set(page.locator("td.c-node").all_inner_texts()),
        }
        # right-click the first row: the context menu's Show opens a new window
        with page.context.expect_page() as popup_info:
            rows.first.click(button="right")
            page.click('.context-menu button:has-text("Show")')
        popup = popup_info.value
        popup.wait_for_load_state()
        seen["show_title"] = popup.title()
        seen["show_details"] = popup.inner_text('[data-testid="session-details"]')
        popup.close()
        # export the filtered rows with progress, then the download
        with page.expect_download(timeout=30_000) as download_info:
            page.click('[data-testid="export-xlsx"]')
            page.wait_for_selector('[data-testid="export-progress"]:not([hidden])')
        download = download_info.value
        target = ARTIFACTS / "statistics-export.xlsx"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        download.save_as(str(target))
        page.wait_for_selector('.export-text:has-text("Ready")')
        seen["progress"] = page.inner_text(".export-text")
        screenshot(page, "statistics-exported")
        seen["export"] = str(target)
        return seen

    with trio.fail_after(90):
        seen = await chromium.run(table_steps)
    assert "site=Kista" in seen["url"]
    assert "energy_min=9" in seen["url"]
    assert seen["stations"] == {"KISTA-1"}
    assert seen["rows"] == 12  # the 9 and 10 kWh days of 60 (day % 9 >= 7)
    assert seen["total"].startswith("12 sessions")
    assert seen["show_title"].startswith("Session ")
    assert "KISTA-1" in seen["show_details"]
    assert seen["progress"] == "Ready: 12 rows"
    book = openpyxl.load_workbook(Path(seen["export"]), read_only=True)
    table = list(book["Sessions"].iter_rows(values_only=True))
    book.close()
    assert len(table) == 13
    assert all("KISTA-1" in row for row in table[1:])


async def test_show_window_draws_meter_values_and_lists_messages(
    chromium: BrowserThread, base_url: str, world: World, store: Store
) -> None:
    last = await store.write(_more_sessions, world)
    page = await chromium.new_page(base_url)

    def steps() -> dict[str, Any]:
        _log_in(page, "admin@example.com")
        page.goto(f"/statistics/sessions/{last}")
        page.wait_for_selector('#meter-chart[data-ready="1"]')
        screenshot(page, "session-show")
        return {"messages": page.inner_text('[data-testid="ocpp-messages"]')}

    with trio.fail_after(60):
        seen = await chromium.run(steps)
    assert "StartTransaction" in seen["messages"]
    assert "b-1" in seen["messages"]


async def test_dragging_the_timeline_moves_the_chart_range(
    chromium: BrowserThread, base_url: str, world: World, store: Store
) -> None:
    await store.write(_more_sessions, world)
    page = await chromium.new_page(base_url)

    def steps() -> dict[str, Any]:
        _log_in(page, "admin@example.com")
        page.goto("/diagrams/?chart=sessions-day&from=2026-10-10&to=2026-10-24")
        page.wait_for_selector('#chart[data-ready="2026-10-10/2026-10-24"]')
        page.wait_for_selector('#timeline[data-ready="1"]')
        screenshot(page, "diagrams-before")
        box = page.locator("#timeline .window").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x - 60, y, steps=6)
        page.mouse.move(x - 120, y, steps=6)
        page.mouse.up()
        # CSS selectors, not script: the page's CSP forbids eval
        page.wait_for_selector(
            '#chart[data-ready]:not([data-ready=""]):not([data-ready="2026-10-10/2026-10-24"])'
        )
        moved = page.get_attribute("#chart", "data-ready")
        url = page.url
        screenshot(page, "diagrams-timeline-moved")
        page.locator("#timeline").hover()
        page.mouse.wheel(0, 300)  # zoom out
        page.wait_for_selector(
            f'#chart[data-ready]:not([data-ready=""]):not([data-ready="{moved}"])'
        )
        zoomed = page.get_attribute("#chart", "data-ready")
        page.goto("/diagrams/?chart=by-station&from=2026-09-01&to=2026-11-15")
        page.wait_for_selector('#chart[data-ready]:not([data-ready=""])')
        screenshot(page, "diagrams-by-station")
        page.goto("/dashboard/")
        page.wait_for_selector('[data-testid="panel-latest-sessions"]')
        screenshot(page, "dashboard-panels")
        return {"moved": moved, "url": url, "zoomed": zoomed}

    with trio.fail_after(90):
        seen = await chromium.run(steps)
    start, end = (dt.date.fromisoformat(d) for d in seen["moved"].split("/"))
    assert start < dt.date(2026, 10, 10)  # dragged to the left: earlier days
    assert (end - start).days == 14  # moving keeps the width
    assert f"from={start.isoformat()}" in seen["url"]  # the address follows
    zoom_start, zoom_end = (dt.date.fromisoformat(d) for d in seen["zoomed"].split("/"))
    assert (zoom_end - zoom_start).days > 14


async def test_dashboard_status_panel_follows_a_station_live(
    chromium: BrowserThread,
    base_url: str,
    serving_gateway: Gateway,
    store: Store,
    world: World,
    nursery: trio.Nursery,
) -> None:
    """A simulated station starts charging: the panel's counts change without a reload,
    and the session shows up in the latest sessions with its live energy."""
    page = await chromium.new_page(base_url)
    await store.write(
        lambda: User.update(dashboard_panels="station-status,latest-sessions").execute()
    )
    station = simulated_station(serving_gateway, "SOLNA-1")
    with trio.fail_after(90):
        await nursery.start(station.run)
        await station.wait_online()

        def open_dashboard() -> None:
            _log_in(page, "admin@example.com")
            page.goto("/dashboard/")
            page.wait_for_selector("body[data-live='1']", state="attached")
            page.wait_for_selector(
                '[data-testid="panel-station-status"] [data-colour="black"]:text("1")'
            )

        await chromium.run(open_dashboard)
        await station.plug_in(1)
        assert await station.present_tag(1, "1001") == "Accepted"
        await station.wait_status(1, "Charging")

        def wait_blue() -> int:
            page.wait_for_selector(
                '[data-testid="panel-station-status"] [data-colour="blue"]:text("1")'
            )
            page.wait_for_selector(
                '[data-testid="panel-latest-sessions"] .pill.live', timeout=20_000
            )
            screenshot(page, "dashboard-live")
            return int(page.evaluate("performance.getEntriesByType('navigation').length"))

        assert await chromium.run(wait_blue) == 1  # no reload
