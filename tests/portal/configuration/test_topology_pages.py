"""A site's Topology tab lists its stations a page at a time (each with its move and remove
forms), floor by floor, then those directly under the site."""

from __future__ import annotations

import re
from typing import Any

from db import Store
from db.schema.models import Outlet, Station
from portal.configuration.views_system import TOPOLOGY_PAGE
from tests.portal.conftest import World, login

ON_FLOOR = TOPOLOGY_PAGE + 10  # beside SOLNA-1
UNDER_SITE = TOPOLOGY_PAGE + 10  # beside SOLNA-2
TOTAL = ON_FLOOR + UNDER_SITE + 2


def _many(world: World) -> None:
    for n in range(1, ON_FLOOR + 1):
        station = Station.create(
            charge_box_id=f"F-{n:03d}", name=f"Floor {n}", site=world.solna, floor=world.solna_floor
        )
        Outlet.create(station=station, connector_id=1)
    for n in range(1, UNDER_SITE + 1):
        station = Station.create(charge_box_id=f"S-{n:03d}", name=f"Site {n}", site=world.solna)
        Outlet.create(station=station, connector_id=1)


def _listed(html: str) -> list[str]:
    tree = html.split('data-testid="topology-tree"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<li class="topo-station">.*?data-cbid="([^"]+)"', tree, re.S)


async def test_a_long_site_topology_is_paged_and_lists_every_station_once(
    client: Any, store: Store, world: World
) -> None:
    await store.write(_many, world)
    await login(client, "site-admin@example.com")
    url = f"/configuration/topology?node=site:{world.solna}"
    pages = -(-TOTAL // TOPOLOGY_PAGE)
    seen: list[str] = []
    for number in range(1, pages + 1):
        answer = await client.get(f"{url}&page={number}")
        html = await answer.get_data(as_text=True)
        assert answer.status_code == 200
        listed = _listed(html)
        assert len(listed) == min(TOPOLOGY_PAGE, TOTAL - (number - 1) * TOPOLOGY_PAGE)
        first = (number - 1) * TOPOLOGY_PAGE + 1
        assert f"Stations {first}–{first + len(listed) - 1} of {TOTAL}" in html
        assert html.count('data-testid="topology-next"') == (2 if number < pages else 0)
        if number < pages:
            assert f"page={number + 1}" in html
            assert f"node=site%3A{world.solna}" in html or f"node=site:{world.solna}" in html
        seen += listed
    assert len(seen) == len(set(seen)) == TOTAL  # each once, none left out
    assert seen[: ON_FLOOR + 1] == sorted(seen[: ON_FLOOR + 1])  # the floor's first
    assert "SOLNA-2" in seen[ON_FLOOR + 1 :]

    last = await (await client.get(f"{url}&page={pages}")).get_data(as_text=True)
    assert f"{ON_FLOOR + 1} stations on other pages" in last  # the floor, none of it here
    assert 'data-testid="create-station"' in last  # the forms beside it stay
    beyond = await (await client.get(f"{url}&page=999")).get_data(as_text=True)
    assert _listed(beyond) == _listed(last)
    for wrong in ("abc", "0", "-1", "9" * 30):
        answer = await client.get(f"{url}&page={wrong}")
        assert answer.status_code == 200
        assert _listed(await answer.get_data(as_text=True)) == seen[:TOPOLOGY_PAGE]


async def test_a_small_site_topology_has_no_pages(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    html = await (await client.get(f"/configuration/topology?node=site:{world.solna}")).get_data(
        as_text=True
    )
    assert sorted(_listed(html)) == ["SOLNA-1", "SOLNA-2"]
    assert "topology-pager" not in html
