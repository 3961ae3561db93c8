"""Dashboard (SPEC §3): the four panels a user chose in his settings, refreshing live.

Each panel is a fragment (``/dashboard/panels/<key>``) that htmx reloads every few
seconds; the page renders the same fragments on first load.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

from quart import Blueprint, render_template

from db.sessions.dashboard_queries import occupancy_per_site, today_vs_last_week
from db.sessions.session_filters import SessionFilter
from db.sessions.session_queries import page_sessions
from db.system.alarm_views import LogFilter, list_alarms
from db.system.news import latest_news
from db.topology.topology import charge_box_ids_in_scope
from portal.access import STAFF_ROLES, MenuEntry, current_principal, guard, not_found
from portal.context import get_gateway, get_store, scope_node, selected_node
from portal.live import station_state
from portal.panels import DEFAULT_PANELS, PANELS
from portal.timefmt import display_zone

__all__ = ["bp", "menu"]

bp = guard(Blueprint("dashboard", __name__, url_prefix="/dashboard"), STAFF_ROLES)
menu = MenuEntry("Dashboard", "dashboard.index", STAFF_ROLES, order=10, icon="▦")

#: when a panel reloads itself: on a timer, and at once (throttled) when the frame's live
#: event stream reports station changes (``cp:stations-changed`` from portal.js: at most
#: every 2 s, and always once more after the last change, which htmx's own throttle drops)
_LIVE = "cp:stations-changed from:document"
REFRESH = {
    "station-status": f"every 30s, {_LIVE}",
    "energy-today": f"every 15s, {_LIVE}",
    "active-alarms": f"every 10s, {_LIVE}",
    "latest-sessions": f"every 10s, {_LIVE}",
    "occupancy": f"every 10s, {_LIVE}",
    "news": "every 60s",
}


async def _station_status() -> dict[str, Any]:
    principal = current_principal()
    assert principal is not None
    cbids = await get_store().read(charge_box_ids_in_scope, selected_node(), principal.site_scope)
    gateway = get_gateway()
    colours = Counter(station_state(gateway, cbid)["colour"] for cbid in cbids)
    return {"colours": colours, "station_count": len(cbids)}


async def panel_data(key: str) -> dict[str, Any]:
    """What the panel ``key`` shows for the current principal and node."""
    principal = current_principal()
    assert principal is not None
    store = get_store()
    viewer, node = principal.viewer(), scope_node()
    if key == "station-status":
        return await _station_status()
    if key == "energy-today":
        compare = partial(today_vs_last_week, viewer, node, zone=display_zone())
        return {"compare": await store.read(compare)}
    if key == "active-alarms":
        ref = selected_node()
        flt = LogFilter(
            site_scope=principal.site_scope,
            node_kind=ref.kind,
            node_id=ref.id,
            station_id=getattr(ref, "station_id", None),
        )
        alarms, total = await store.read(partial(list_alarms, flt, active=True, limit=8))
        return {"alarms": alarms, "total": total}
    if key == "latest-sessions":
        page = await store.read(partial(page_sessions, SessionFilter(limit=8), viewer, node))
        return {"sessions": page.rows}
    if key == "occupancy":
        return {"sites": await store.read(partial(occupancy_per_site, viewer, node))}
    return {"latest": await store.read(latest_news, 5)}


@bp.get("/")
async def index() -> Any:
    principal = current_principal()
    assert principal is not None
    chosen = [p for p in (principal.dashboard_panels or DEFAULT_PANELS) if p in PANELS][:4]
    data = {key: await panel_data(key) for key in chosen}
    return await render_template(
        "dashboard/index.html", chosen=chosen, panels=PANELS, data=data, refresh=REFRESH
    )


@bp.get("/panels/<key>")
async def panel(key: str) -> Any:
    """One panel's fresh HTML (htmx polls it)."""
    if key not in PANELS:
        raise not_found("no such panel")
    return await render_template(
        "dashboard/_panel.html", key=key, panels=PANELS, d=await panel_data(key), refresh=REFRESH
    )
