"""The Navigator: natural order, levels that load when opened, remembered open branches,
the search box, scoped to what the user may see."""

from __future__ import annotations

import re
from typing import Any

import pytest
import trio

from db import Store
from db.schema.models import Outlet, Station
from db.topology.navigator import SMALL_TREE, STATION_PAGE
from tests.portal.browser import BrowserThread, log_in, screenshot
from tests.portal.conftest import PASSWORD, World, login


def _labels(html: str) -> list[str]:
    navigator = html.split('data-testid="navigator"', 1)[1].split('</ul>\n  <p class="legend"', 1)[
        0
    ]
    return re.findall(
        r'class="nav-node station[^>]*>\s*<span class="dot"[^>]*></span>([^<]+)<', navigator
    )


def _add_stations(site_id: int, names: list[str]) -> None:
    for name in names:
        station = Station.create(
            charge_box_id=name.replace(" ", "-").upper(), name=name, site=site_id
        )
        Outlet.create(station=station, connector_id=1)


async def test_stations_are_listed_in_natural_order(
    client: Any, store: Store, world: World
) -> None:
    await store.write(_add_stations, world.kista, ["Garage P10", "Garage P2", "Garage P1"])
    await login(client, "admin@example.com")
    html = await (await client.get("/dashboard/")).get_data(as_text=True)
    garage = [label for label in _labels(html) if label.startswith("Garage")]
    assert garage == ["Garage P1", "Garage P2", "Garage P10"]


async def test_a_big_tree_shows_the_remembered_branches_and_the_path_to_the_node(
    client: Any, store: Store, world: World
) -> None:
    names = [f"Big {n}" for n in range(1, SMALL_TREE + 2)]
    await store.write(_add_stations, world.kista, names)
    await login(client, "admin@example.com")

    closed = await (await client.get("/alarms/")).get_data(as_text=True)
    assert "Big 1<" not in closed  # too many stations: sites closed, loaded when opened
    assert f'data-key="site:{world.kista}" data-lazy="1"' in closed.replace(" >", ">")

    path = await client.get(f"/alarms/?node=station:{world.solna_station}")
    html = await path.get_data(as_text=True)
    assert "Solna one" in html  # the selected station's site and floor are open
    assert "Big 1<" not in html

    client.set_cookie("localhost", "cp_nav", f"site:{world.kista}")
    remembered = await (await client.get("/alarms/")).get_data(as_text=True)
    assert "Big 2<" in remembered
    assert "Solna one" not in remembered  # Solna stays closed: not remembered as open
    labels = [label for label in _labels(remembered) if label.startswith("Big")]
    assert labels[:3] == ["Big 1", "Big 2", "Big 3"]
    assert labels[-1] == f"Big {STATION_PAGE}"  # a page of them; the rest on demand
    assert f"Show more stations ({SMALL_TREE + 2 - STATION_PAGE})" in remembered
    assert 'data-cbid="BIG-1" data-connector' not in remembered  # outlets load when opened
    big1 = await store.read(lambda: Station.get(Station.charge_box_id == "BIG-1").id)
    outlets = await client.get(f"/navigator/children?key=station:{big1}&page=/alarms/")
    assert 'data-cbid="BIG-1" data-connector="1"' in await outlets.get_data(as_text=True)


def _more_buttons(html: str) -> list[tuple[str, str, str]]:
    """(key, start= or before=, text) of each "show more/earlier stations" button."""
    return re.findall(
        r'data-nav-more="([^"]+)" (data-(?:start|before)="\d+")>([^<]+)</button>', html
    )


async def test_a_long_station_list_shows_the_page_of_the_selected_station_and_loads_the_others(
    client: Any, store: Store, world: World
) -> None:
    total = 2 * STATION_PAGE + 30  # the site's own KISTA-1 ("Kista one") sorts last
    await store.write(_add_stations, world.kista, [f"Big {n}" for n in range(1, total)])
    selected = STATION_PAGE + 25  # on the second page
    station = await store.read(lambda: Station.get(Station.charge_box_id == f"BIG-{selected}").id)
    await login(client, "admin@example.com")

    html = await (await client.get(f"/alarms/?node=station:{station}")).get_data(as_text=True)
    labels = [label for label in _labels(html) if label.startswith(("Big", "Kista"))]
    assert labels == [f"Big {n}" for n in range(STATION_PAGE + 1, 2 * STATION_PAGE + 1)]
    kista = f"site:{world.kista}"
    assert _more_buttons(html) == [
        (kista, f'data-before="{STATION_PAGE}"', f"Show earlier stations ({STATION_PAGE})"),
        (kista, f'data-start="{2 * STATION_PAGE}"', "Show more stations (30)"),
    ]

    later = await client.get(f"/navigator/page?key={kista}&start={2 * STATION_PAGE}&page=/alarms/")
    later_html = await later.get_data(as_text=True)
    assert _labels_of(later_html) == [
        *(f"Big {n}" for n in range(2 * STATION_PAGE + 1, total)),
        "Kista one",
    ]
    assert _more_buttons(later_html) == []  # the end of the list
    assert 'href="/alarms/?node=station%3A' in later_html

    earlier = await client.get(f"/navigator/page?key={kista}&before={STATION_PAGE}")
    earlier_html = await earlier.get_data(as_text=True)
    assert _labels_of(earlier_html) == [f"Big {n}" for n in range(1, STATION_PAGE + 1)]
    assert _more_buttons(earlier_html) == []  # nothing before the first page
    page = await client.get(f"/navigator/page?key={kista}&start=10")
    assert _more_buttons(await page.get_data(as_text=True)) == [
        (kista, f'data-start="{10 + STATION_PAGE}"', f"Show more stations ({total - 60})")
    ]
    assert (await client.get(f"/navigator/page?key={kista}")).status_code == 400


async def test_a_long_floor_is_paged_too_and_a_site_administrator_pages_only_his_site(
    client: Any, store: Store, world: World
) -> None:
    def on_the_floor() -> None:
        for n in range(1, STATION_PAGE + 11):
            station = Station.create(
                charge_box_id=f"LEVEL-{n}", name=f"Level {n}", site=world.solna,
                floor=world.solna_floor,
            )  # fmt: skip
            Outlet.create(station=station, connector_id=1)

    await store.write(on_the_floor)
    await login(client, "site-admin@example.com")
    floor = f"floor:{world.solna_floor}"
    html = await (await client.get(f"/navigator/children?key={floor}")).get_data(as_text=True)
    assert len(_labels_of(html)) == STATION_PAGE
    assert _labels_of(html)[:2] == ["Level 1", "Level 2"]
    assert _more_buttons(html) == [
        (floor, f'data-start="{STATION_PAGE}"', "Show more stations (11)")  # and Solna one
    ]
    rest = await client.get(f"/navigator/page?key={floor}&start={STATION_PAGE}")
    assert _labels_of(await rest.get_data(as_text=True))[-1] == "Solna one"
    other = await client.get(f"/navigator/page?key=site:{world.kista}&start=0")
    assert other.status_code == 404


def _labels_of(fragment: str) -> list[str]:
    return re.findall(
        r'class="nav-node station[^>]*>\s*<span class="dot"[^>]*></span>([^<]+)<', fragment
    )


async def test_a_level_loads_with_links_to_the_page_being_shown(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    answer = await client.get(
        f"/navigator/children?key=site:{world.solna}&page=/statistics/%3Fsort%3D-start"
    )
    html = await answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f'href="/statistics/?sort=-start&amp;node=floor%3A{world.solna_floor}"' in html
    assert "Solna two" in html  # directly under the site
    floor = await client.get(f"/navigator/children?key=floor:{world.solna_floor}&page=//evil")
    assert f'href="/?node=station%3A{world.solna_station}"' in await floor.get_data(as_text=True)


async def test_a_site_administrator_neither_opens_nor_finds_another_site(
    client: Any, store: Store, world: World
) -> None:
    await store.write(_add_stations, world.kista, ["Kista garage"])
    await login(client, "site-admin@example.com")
    other = await client.get(f"/navigator/children?key=site:{world.kista}")
    assert other.status_code == 404
    own = await client.get(f"/navigator/children?key=floor:{world.solna_floor}")
    assert "Solna one" in await own.get_data(as_text=True)
    found = await (await client.get("/navigator/search?q=garage")).get_data(as_text=True)
    assert "Garage P1" in found  # his own floor, found by its name
    assert "Kista" not in found


async def test_the_search_finds_stations_floors_and_sites_with_their_ancestors(
    client: Any, store: Store, world: World
) -> None:
    await store.write(_add_stations, world.kista, ["Garage P10", "Garage P2"])
    await login(client, "admin@example.com")
    html = await (await client.get("/navigator/search?q=p2&page=/alarms/")).get_data(as_text=True)
    assert "Garage P2" in html
    assert "Garage P10" not in html
    assert 'class="nav-node site"' in html  # Kista, its site
    assert "Solna one" not in html
    nothing = await (await client.get("/navigator/search?q=zzz")).get_data(as_text=True)
    assert "Nothing matches" in nothing


@pytest.mark.browser
async def test_in_a_browser_the_tree_filters_opens_lazily_and_remembers(
    chromium: BrowserThread, base_url: str, store: Store, world: World
) -> None:
    names = [f"Big {n}" for n in range(1, SMALL_TREE + 2)]
    await store.write(_add_stations, world.kista, names)
    page = await chromium.new_page(base_url)
    kista = f'details[data-key="site:{world.kista}"]'

    def steps() -> dict[str, Any]:
        log_in(page, "admin@example.com", PASSWORD)
        page.goto("/alarms/")
        before = page.locator('a.station[data-cbid="BIG-7"]').count()
        page.click(f"{kista} > summary", position={"x": 4, "y": 8})  # the marker
        page.wait_for_selector('a.station[data-cbid="BIG-7"]')
        href = page.get_attribute('a.station[data-cbid="BIG-7"]', "href")
        paged_out = page.locator('a.station[data-cbid="BIG-60"]').count()
        page.click(f'button[data-nav-more="site:{world.kista}"]')
        page.wait_for_selector('a.station[data-cbid="BIG-60"]')
        more_left = page.locator("button[data-nav-more]").all_inner_texts()
        in_order = page.eval_on_selector_all(
            f"{kista} a.station", "els => els.slice(48, 53).map(e => e.textContent.trim())"
        )
        page.reload()
        after_reload = page.locator('a.station[data-cbid="BIG-7"]').count()
        page.fill('[data-testid="navigator-search"]', "big 10")
        page.wait_for_selector('[data-testid="navigator-results"] a.station')
        found = page.inner_text('[data-testid="navigator-results"]')
        tree_hidden = page.is_hidden('[data-testid="navigator"]')
        screenshot(page, "navigator-search")
        page.fill('[data-testid="navigator-search"]', "")
        page.wait_for_selector('[data-testid="navigator"]')
        # closed and the page left at once, before the toggle event's task has run
        with page.expect_navigation():
            page.evaluate(
                "sel => { document.querySelector(sel).click(); window.location.reload(); }",
                f"{kista} > summary",
            )
        page.wait_for_selector('[data-testid="navigator"]')
        closed_again = page.locator('a.station[data-cbid="BIG-7"]').count()
        return {
            "before": before,
            "href": href,
            "paged_out": paged_out,
            "more_left": more_left,
            "in_order": in_order,
            "after_reload": after_reload,
            "found": found,
            "tree_hidden": tree_hidden,
            "closed_again": closed_again,
        }

    with trio.fail_after(60):
        seen = await chromium.run(steps)
    assert seen["before"] == 0
    assert seen["href"].startswith("/alarms/?node=station%3A")
    assert seen["paged_out"] == 0  # a page of the long list, the rest on demand
    assert seen["more_left"] == ["Show more stations (2)"]  # Big 101 and Kista one
    assert [t.split(" (")[0] for t in seen["in_order"]] == [f"Big {n}" for n in range(49, 54)]
    assert seen["after_reload"] == 1
    assert "Big 10" in seen["found"]
    assert "Big 101" in seen["found"]
    assert "Big 7" not in seen["found"]
    assert "Solna" not in seen["found"]
    assert seen["tree_hidden"] is True
    assert seen["closed_again"] == 0
