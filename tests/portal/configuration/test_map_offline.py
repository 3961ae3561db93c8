"""Address tabs without a reachable map (issue 12, fix 8): the tile server is a System
setting, empty by default (no map, coordinates typed, nothing fetched from outside), and
tiles that hang never hold the page up: they are asked for after the page has loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from db import Store
from db.system.settings import get_settings, update_settings
from gateway import Gateway
from portal import create_app, serve_portal
from tests.portal.browser import BrowserThread, screenshot
from tests.portal.conftest import PASSWORD, World, login
from tests.portal.tiles import HangingTileServer


async def test_no_tile_server_by_default_means_no_map_and_typed_coordinates(
    client: Any, store: Store, world: World
) -> None:
    assert (await store.read(get_settings))["map.tile_url"] == ""
    await login(client, "admin@example.com")
    for url in (
        f"/configuration/address?node=site:{world.solna}",
        f"/configuration/address?node=station:{world.solna_station2}",
    ):
        html = await (await client.get(url)).get_data(as_text=True)
        assert "data-map" not in html
        assert "leaflet" not in html  # neither its script nor its styles
        assert 'name="latitude"' in html
        assert 'data-testid="no-map"' in html
    await store.write(update_settings, {"map.tile_url": "https://tiles.example/{z}/{x}/{y}.png"})
    html = await (await client.get(f"/configuration/address?node=site:{world.solna}")).get_data(
        as_text=True
    )
    assert 'data-tile-url="https://tiles.example/{z}/{x}/{y}.png"' in html


@pytest.fixture(name="browser_app")
def _browser_app(store: Store, gateway: Gateway, tmp_path: Path) -> Any:
    config = {"SECRET_KEY": "test", "TESTING": True, "FILES_ROOT": str(tmp_path / "files")}
    return create_app(store, gateway, config=config)


@pytest.mark.browser
async def test_hanging_map_tiles_never_hold_the_address_tab_up(
    chromium: BrowserThread,
    browser_app: Any,
    store: Store,
    world: World,
    nursery: trio.Nursery,
) -> None:
    tiles = HangingTileServer()
    await nursery.start(tiles.run)
    await store.write(update_settings, {"map.tile_url": tiles.url})
    port = await nursery.start(serve_portal, browser_app, "127.0.0.1", 0)
    page = await chromium.new_page(f"http://127.0.0.1:{port}")

    def steps() -> dict[str, Any]:
        page.goto("/login")
        page.fill("input[name=email]", "admin@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector('[data-testid="logout"]', state="attached")
        # the tiles never answer: the page's load event must not wait for them
        page.goto(f"/configuration/address?node=site:{world.solna}", timeout=5000)
        page.fill("input[name=latitude]", "59.36")
        page.fill("input[name=longitude]", "17.97")
        page.wait_for_function("document.querySelector('[data-map] .leaflet-tile')")
        screenshot(page, "config-address-hanging-tiles")
        page.click('[data-address-form] button:has-text("Save address")', timeout=5000)
        page.wait_for_selector(".notice.success", timeout=5000)
        return {"saved": page.inner_text(".notice.success")}

    with trio.fail_after(60):
        seen = await chromium.run(steps)
    assert seen["saved"] == "Address saved."
    assert tiles.requests >= 1  # the map still asked for its tiles, after the page was usable
