"""The Navigator's data for the frame and its HTML answers: a level's children, the search.

The browser remembers which branches are open in the cookie ``cp_nav`` (keys joined by
dots, ``-`` for none); the frame renders those open, the rest loads when opened.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from quart import Blueprint, render_template, request
from werkzeug.exceptions import BadRequest

from db.topology.navigator import (
    SEARCH_LIMIT,
    STATION_PAGE,
    navigator_children,
    navigator_page,
    navigator_search,
)
from db.topology.topology import Navigator, NavStation
from portal.access import STAFF_ROLES, current_principal, guard, not_found
from portal.context import get_gateway, get_store
from portal.live import station_state

__all__ = ["COOKIE", "bp", "live_colours", "node_link", "open_keys"]

bp = guard(Blueprint("navigator", __name__, url_prefix="/navigator"), STAFF_ROLES)

COOKIE = "cp_nav"
#: the most branches a browser remembers (the cookie stays far below 4 KB)
MAX_KEYS = 300


def open_keys() -> list[str] | None:
    """The branches this browser left open; None when it never said."""
    raw = request.cookies.get(COOKIE)
    if raw is None:
        return None
    if raw == "-":
        return []
    keys = [k for k in raw.split(".") if k.partition(":")[2].isdigit()]
    return keys[:MAX_KEYS]


def live_colours(tree: Navigator) -> dict[str, Any]:
    """Each shown station's state (colour, outlets) as the gateway knows it now."""
    gateway = get_gateway()
    return {s.charge_box_id: station_state(gateway, s.charge_box_id) for s in tree.stations()}


def node_link(path: str, args: list[tuple[str, str]], key: str) -> str:
    """``path`` with its query ``args`` scoped to another Navigator node (``?node=key``)."""
    kept = [(k, v) for k, v in args if k not in ("node", "page", "after")]
    if key != "system":
        kept.append(("node", key))
    return path + ("?" + urlencode(kept) if kept else "")


def _page_links() -> tuple[Callable[[str], str], str]:
    """Links for the page the browser shows (``?page=/path?query``), and its selected node."""
    page = request.args.get("page", "/")
    parts = urlsplit(page)
    if not page.startswith("/") or page.startswith("//") or parts.scheme or parts.netloc:
        parts = urlsplit("/")
    args = parse_qsl(parts.query)
    current = dict(args).get("node", "system")
    return partial(node_link, parts.path or "/", args), current


@bp.get("/children")
async def children() -> Any:
    """One site's floors and stations, or one floor's stations (HTML list items)."""
    principal = current_principal()
    assert principal is not None  # guarded
    key = request.args.get("key", "")
    branch = await get_store().read(
        navigator_children, key, principal.site_scope, open_keys() or []
    )
    if branch is None:
        raise not_found(f"There is no node {key}.")
    node_url, current = _page_links()
    if isinstance(branch, NavStation):
        stations = [branch]
    else:
        stations = branch.stations + [s for f in getattr(branch, "floors", []) for s in f.stations]
    gateway = get_gateway()
    live = {s.charge_box_id: station_state(gateway, s.charge_box_id) for s in stations}
    return await render_template(
        "frame/_nav_fragment.html",
        kind=key.partition(":")[0],
        branch=branch,
        live=live,
        current=current,
        node_url=node_url,
        lazy_outlets=True,
    )


def _position(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@bp.get("/page")
async def page() -> Any:
    """A page of a long station list (a site's or a floor's): the one from ``start`` and
    its "more" button, or the one before ``before`` and its "earlier" button."""
    principal = current_principal()
    assert principal is not None  # guarded
    key = request.args.get("key", "")
    start, before = _position("start"), _position("before")
    if start is None and before is None:
        raise BadRequest("Give start or before.")
    direction = "later" if start is not None else "earlier"
    first = start if start is not None else max(0, (before or 0) - STATION_PAGE)
    holder = await get_store().read(
        navigator_page, key, principal.site_scope, open_keys() or [], first
    )
    if holder is None:
        raise not_found(f"There is no node {key}.")
    if before is not None:  # only what lies before: the rest is already shown
        holder.stations = holder.stations[: max(0, before - holder.first)]
    node_url, current = _page_links()
    gateway = get_gateway()
    live = {s.charge_box_id: station_state(gateway, s.charge_box_id) for s in holder.stations}
    return await render_template(
        "frame/_nav_fragment.html",
        kind="page",
        key=key,
        direction=direction,
        branch=holder,
        live=live,
        current=current,
        node_url=node_url,
        lazy_outlets=True,
    )


@bp.get("/search")
async def search() -> Any:
    """The sites, floors and stations matching ``q``, with their ancestors (HTML)."""
    principal = current_principal()
    assert principal is not None
    text = request.args.get("q", "").strip()[:100]
    tree, total = await get_store().read(navigator_search, principal.site_scope, text)
    node_url, current = _page_links()
    return await render_template(
        "frame/_nav_fragment.html",
        search=text,
        navigator=tree,
        total=total,
        shown=min(total, SEARCH_LIMIT),
        live=live_colours(tree),
        current=current,
        node_url=node_url,
        lazy_outlets=True,
    )
