"""The Navigator keeps every station's live colour on every configuration page."""

from __future__ import annotations

import re
from typing import Any

import pytest
import trio

from db import Store
from gateway import Gateway
from tests.portal.conftest import World, login, simulated_station, start_gateway


@pytest.fixture(name="gateway")
async def _serving_gateway(store: Store, nursery: trio.Nursery) -> Gateway:
    return await start_gateway(store, nursery)


def _navigator_colour(html: str, cbid: str) -> str:
    navigator = html.split('data-testid="navigator"', 1)[1]
    found = re.search(rf'class="nav-node station st-(\w+)" data-cbid="{cbid}"', navigator)
    assert found, cbid
    return found.group(1)


async def test_a_site_topology_tab_does_not_grey_out_the_other_sites_stations(
    client: Any, gateway: Gateway, world: World, nursery: trio.Nursery
) -> None:
    with trio.fail_after(20):
        station = simulated_station(gateway, "SOLNA-1")
        await nursery.start(station.run)
        await station.wait_online()
        await login(client, "admin@example.com")
        for path in (
            "/configuration/topology",
            f"/configuration/topology?node=site:{world.solna}",
            f"/configuration/topology?node=site:{world.kista}",
        ):
            html = await (await client.get(path)).get_data(as_text=True)
            assert _navigator_colour(html, "SOLNA-1") == "black", path
            assert _navigator_colour(html, "KISTA-1") == "grey", path
