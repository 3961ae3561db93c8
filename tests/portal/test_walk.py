"""The browser walk (issue 12): every role opens every menu page, tab and chart it may
see at every Navigator level, on a demo database with live simulated stations, and no
page logs a console error, throws, makes a failing request or sticks out of its
container; what a role may not see answers 403/404 without a stack trace."""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import trio

from db import Store
from db.demo.demo_data import generate_sessions
from gateway import Gateway
from simulator import SimulatedStation
from tests.portal.browser import ARTIFACTS, BrowserThread
from tests.portal.conftest import PASSWORD, password_hash, simulated_station
from tests.portal.walk import (
    LIVE,
    ROLES,
    RoleWalk,
    Walker,
    forbidden_answer,
    give_walk_badge,
    seed_demo_world,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def _live_stations(
    gateway: Gateway, nursery: trio.Nursery, badge: str
) -> list[SimulatedStation]:
    """The demo stations online: one charging, one with a fault, one available."""
    stations = [simulated_station(gateway, cbid, outlets) for cbid, outlets in LIVE]
    for station in stations:
        await nursery.start(station.run)
        await station.wait_online()
    charging = stations[1]
    await charging.plug_in(1)
    assert await charging.present_tag(1, badge) == "Accepted"
    await charging.wait_status(1, "Charging")
    stations[2].set_fault(2, "ground")
    await stations[2].wait_status(2, "Faulted")
    return stations


def _node_of(url: str) -> str:
    return dict(parse_qsl(urlsplit(url).query)).get("node", "")


def _refusals(page: Any, admin: RoleWalk, walk: RoleWalk) -> list[str]:
    """Every page the administrator saw that ``walk``'s role was not offered (another
    page, or a node of another site) must answer 403 or 404, without a stack trace."""
    wrong = []
    visible_nodes = set(walk.nodes.values())
    for visit in admin.visits:
        path, node = urlsplit(visit.url).path, _node_of(visit.url)
        other_site = walk.role == "site-admin" and node and node not in visible_nodes
        if path in walk.paths and not other_site:
            continue
        status, body = forbidden_answer(page, visit.url)
        if other_site and status != 404:
            wrong.append(f"{walk.role} {visit.url}: {status}, not 404 (another site's node)")
        elif status not in (403, 404):
            wrong.append(f"{walk.role} {visit.url}: {status}, not 403/404")
        if "Traceback" in body or 'File "' in body:
            wrong.append(f"{walk.role} {visit.url}: the answer shows a stack trace")
    return wrong


#: The roles each of the three browsers walks (about as many pages each: 120, 113, 100).
LANES = (("admin",), ("support",), ("site-admin", "ev-user"))
#: Then each browser checks that these roles are refused what the administrator saw.
REFUSAL_LANES = (("support",), ("site-admin",), ("ev-user",))


async def _walk_lane(
    thread: BrowserThread, base_url: str, roles: tuple[str, ...], walks: dict[str, RoleWalk]
) -> None:
    page = await thread.new_page(base_url)
    walker = await thread.run(Walker, page)
    for role in roles:
        walks[role] = await thread.run(walker.walk, role, ROLES[role], PASSWORD)


async def _refusal_lane(
    thread: BrowserThread,
    base_url: str,
    roles: tuple[str, ...],
    walks: dict[str, RoleWalk],
    refusals: list[str],
) -> None:
    page = await thread.new_page(base_url)
    walker = await thread.run(Walker, page)
    for role in roles:
        await thread.run(walker.log_in, ROLES[role], PASSWORD)
        refusals.extend(await thread.run(_refusals, page, walks["admin"], walks[role]))
        await thread.run(walker.log_out)


async def test_every_role_walks_every_page_at_every_level_without_a_problem(
    chromium: BrowserThread,
    base_url: str,
    store: Store,
    serving_gateway: Gateway,
    nursery: trio.Nursery,
) -> None:
    await store.write(seed_demo_world, password_hash())
    await store.write(partial(generate_sessions, store.database, 3000, days=90))
    badge = await store.write(give_walk_badge)
    with trio.fail_after(60):
        await _live_stations(serving_gateway, nursery, badge)
    walks: dict[str, RoleWalk] = {}
    refusals: list[str] = []
    # three browsers walk side by side: the walk's waits (page loads, settling) overlap
    others = [BrowserThread() for _ in LANES[1:]]
    started: list[BrowserThread] = []
    try:
        for other in others:
            await trio.to_thread.run_sync(other.start)
            started.append(other)
        threads = [chromium, *others]
        with trio.fail_after(600):
            async with trio.open_nursery() as lanes:
                for thread, roles in zip(threads, LANES, strict=True):
                    lanes.start_soon(_walk_lane, thread, base_url, roles, walks)
            async with trio.open_nursery() as lanes:
                for thread, roles in zip(threads, REFUSAL_LANES, strict=True):
                    lanes.start_soon(_refusal_lane, thread, base_url, roles, walks, refusals)
    finally:
        for other in started:
            await trio.to_thread.run_sync(other.close)

    problems = [
        f"{v.role} @ {v.level} {v.url}: {p}"
        for w in walks.values()
        for v in w.visits
        for p in v.problems
    ]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "walk.txt").write_text("\n".join(problems + refusals) + "\n")
    assert not problems, "\n".join(problems)
    assert not refusals, "\n".join(refusals)
    levels = {role: sorted(w.nodes) for role, w in walks.items()}
    assert levels["admin"] == ["floor", "outlet", "site", "station", "system"]
    assert levels["support"] == ["floor", "outlet", "site", "station", "system"]
    assert levels["site-admin"] == ["floor", "outlet", "site", "station"]
    assert levels["ev-user"] == ["system"]
    for role, walked in walks.items():  # pages were opened at every level the role sees
        assert {v.level for v in walked.visits} == set(walked.nodes), role
    pages = {role: len(w.visits) for role, w in walks.items()}
    assert pages["admin"] > pages["support"] > pages["ev-user"] >= 3, pages
    assert pages["site-admin"] > pages["ev-user"], pages
