"""Dashboard (SPEC §3): the user's four panels. The statistics work (issue 6) owns the panels."""

from __future__ import annotations

from collections import Counter
from typing import Any

from quart import Blueprint, render_template

from db.news import latest_news
from db.topology import navigator_tree
from portal.access import STAFF_ROLES, MenuEntry, current_principal, guard
from portal.context import get_gateway, get_store, selected_node
from portal.live import station_state
from portal.panels import DEFAULT_PANELS, PANELS

__all__ = ["bp", "menu"]

bp = guard(Blueprint("dashboard", __name__, url_prefix="/dashboard"), STAFF_ROLES)
menu = MenuEntry("Dashboard", "dashboard.index", STAFF_ROLES, order=10, icon="▦")


@bp.get("/")
async def index() -> Any:
    principal = current_principal()
    assert principal is not None
    node = selected_node()
    tree = await get_store().read(navigator_tree, principal.site_scope)
    gateway = get_gateway()
    stations = tree.stations()
    if node.kind == "site":
        stations = [s for s in stations if s.site_id == node.id]
    elif node.kind == "floor":
        stations = [s for s in stations if s.floor_id == node.id]
    elif node.kind in ("station", "outlet"):
        stations = [s for s in stations if s.id == node.station_id]
    colours = Counter(station_state(gateway, s.charge_box_id)["colour"] for s in stations)
    chosen = [p for p in (principal.dashboard_panels or DEFAULT_PANELS) if p in PANELS]
    return await render_template(
        "dashboard/index.html",
        chosen=chosen,
        panels=PANELS,
        colours=colours,
        station_count=len(stations),
        latest=await get_store().read(latest_news, 5),
    )
