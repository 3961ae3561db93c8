"""The part of the Navigator a page shows: natural order, lazy levels, open branches, search.

A small installation gets the whole tree open. From ``SMALL_TREE`` stations on, only
the branches the user left open (remembered by the browser) and the path to the
selected node are loaded; the rest opens level by level (``navigator_children``).
The search (``navigator_search``) returns the matching nodes with their ancestors.
A site or floor with more than ``STATION_PAGE`` stations shows them a page at a time (the
page holding the selected station); the neighbouring pages load on demand
(``navigator_page``), so a 1,000-station site costs the page no more than a small one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from peewee import fn

from db.schema.models import Floor, Outlet, Site, Station
from db.topology.topology import NavFloor, Navigator, NavOutlet, NavSite, NavStation, NodeRef

__all__ = [
    "SEARCH_LIMIT",
    "SMALL_TREE",
    "STATION_PAGE",
    "natural_key",
    "navigator_children",
    "navigator_page",
    "navigator_search",
    "navigator_view",
]

#: Up to this many stations in scope, the Navigator opens everything unless told otherwise.
SMALL_TREE = 100
#: At most this many stations in a search answer (the answer says when there were more).
SEARCH_LIMIT = 200
#: A site's (or floor's) stations are shown this many at a time.
STATION_PAGE = 50

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key that puts P2 before P10 (numbers compare as numbers), case-insensitive."""
    parts = _DIGITS.split(text.casefold())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p != "")


def _sites(site_id: int | None, only: Collection[int] | None = None) -> list[NavSite]:
    query = Site.select(Site.id, Site.name)
    if site_id is not None:
        query = query.where(Site.id == site_id)
    if only is not None:
        query = query.where(Site.id.in_(list(only)))
    sites = [NavSite(s_id, name) for s_id, name in query.tuples()]
    return sorted(sites, key=lambda s: natural_key(s.name))


def _station_rows(condition: Any) -> list[NavStation]:
    """The stations matching ``condition`` in natural order, without their outlets."""
    query = Station.select(
        Station.id, Station.charge_box_id, Station.name, Station.site, Station.floor
    ).where(condition)
    return sorted((NavStation(*row) for row in query.tuples()), key=lambda s: natural_key(s.label))


def _load_outlets(stations: list[NavStation]) -> None:
    by_id = {s.id: s for s in stations}
    if not by_id:
        return
    outlets = (
        Outlet.select(
            Outlet.id,
            Outlet.station,
            Outlet.connector_id,
            Outlet.uuid,
            Outlet.status,
            Outlet.error_code,
            Outlet.mode,
        )
        .where(Outlet.station.in_(list(by_id)))
        .order_by(Outlet.connector_id)
    )
    for o_id, station_id, connector, uuid, status, error, mode in outlets.tuples():
        by_id[station_id].outlets.append(NavOutlet(o_id, connector, uuid, status, error, mode))


def _stations(condition: Any) -> list[NavStation]:
    stations = _station_rows(condition)
    _load_outlets(stations)
    return stations


def _window(holder: NavSite | NavFloor, current_station: int | None, paged: bool) -> None:
    """Keep the page of ``holder.stations`` that holds ``current_station`` (else the first)."""
    holder.total = len(holder.stations)
    if not paged or holder.total <= STATION_PAGE:
        return
    index = next((i for i, s in enumerate(holder.stations) if s.id == current_station), 0)
    holder.first = index // STATION_PAGE * STATION_PAGE
    holder.stations = holder.stations[holder.first : holder.first + STATION_PAGE]


def _fill(
    sites: list[NavSite],
    open_sites: set[int],
    open_floors: set[int] | None,
    station_filter: Any = None,
    current_station: int | None = None,
    paged: bool = True,
) -> list[NavStation]:
    """Floors of the open sites, and the stations of the open sites and floors
    (``open_floors`` None: every floor of an open site is open), a page of each long
    list (``paged``); the shown stations with their outlets."""
    by_site = {s.id: s for s in sites}
    for site in sites:
        site.open = site.id in open_sites
    floors: dict[int, NavFloor] = {}
    if open_sites:
        query = Floor.select(Floor.id, Floor.name, Floor.site).where(
            Floor.site.in_(sorted(open_sites))
        )
        for f_id, name, site_id in sorted(query.tuples(), key=lambda r: natural_key(r[1])):
            floor = NavFloor(f_id, name)
            floor.open = open_floors is None or f_id in open_floors
            floors[f_id] = floor
            by_site[site_id].floors.append(floor)
    loaded_floors = [f.id for f in floors.values() if f.open]
    if not open_sites:
        return []
    condition = (Station.site.in_(sorted(open_sites))) & (
        Station.floor.is_null() | Station.floor.in_(loaded_floors or [0])
    )
    if station_filter is not None:
        condition &= station_filter
    for station in _station_rows(condition):
        if station.floor_id in floors:
            floors[station.floor_id].stations.append(station)
        elif station.site_id in by_site:
            by_site[station.site_id].stations.append(station)
    shown: list[NavStation] = []
    holders: list[NavSite | NavFloor] = [*by_site.values(), *floors.values()]
    for holder in holders:
        _window(holder, current_station, paged)
        shown.extend(holder.stations)
    _load_outlets(shown)
    return shown


def station_count(site_id: int | None) -> int:
    query = Station.select(fn.COUNT(Station.id))
    if site_id is not None:
        query = query.where(Station.site == site_id)
    return int(query.scalar() or 0)


def _ids(keys: Iterable[str], kind: str) -> set[int]:
    found = set()
    for key in keys:
        k, _, raw = key.partition(":")
        if k == kind and raw.isdigit():
            found.add(int(raw))
    return found


def navigator_view(
    site_id: int | None, open_keys: Collection[str] | None, current: NodeRef | None = None
) -> Navigator:
    """What the frame renders: every site in scope, the open branches loaded.

    ``open_keys`` is the user's remembered state (``site:3``, ``floor:2``, ``station:7``);
    None when there is none: then a small tree is all open and a big one is closed.
    The path to ``current`` (its ancestors) is always open.
    """
    keys = set(open_keys or ())
    if current is not None and current.kind != "system":
        # its ancestors (a selected site or floor stays as it was: it may hold hundreds of
        # stations), and a selected station shows its outlets
        if current.site_id is not None and current.kind != "site":
            keys.add(f"site:{current.site_id}")
        if current.floor_id is not None and current.kind in ("station", "outlet"):
            keys.add(f"floor:{current.floor_id}")
        if current.station_id is not None:
            keys.add(f"station:{current.station_id}")
    everything = open_keys is None and station_count(site_id) <= SMALL_TREE
    sites = _sites(site_id)
    open_sites = {s.id for s in sites} if everything else _ids(keys, "site")
    current_station = current.station_id if current is not None else None
    stations = _fill(
        sites, open_sites, None if everything else _ids(keys, "floor"), None, current_station
    )
    open_stations = _ids(keys, "station")
    for station in stations:
        station.open = station.id in open_stations
    unassigned: list[NavStation] = []
    if site_id is None:
        unassigned = _stations(Station.site.is_null())
        for station in unassigned:
            station.open = station.id in open_stations
    return Navigator(sites, unassigned, lazy=not everything)


def navigator_children(
    key: str, site_id: int | None, open_keys: Collection[str]
) -> NavSite | NavFloor | NavStation | None:
    """The site, floor or station ``key`` with its next level loaded (None when out of
    scope)."""
    kind, _, raw = key.partition(":")
    if not raw.isdigit() or kind not in ("site", "floor", "station"):
        return None
    node_id = int(raw)
    if kind == "station":
        condition = Station.id == node_id
        if site_id is not None:
            condition &= Station.site == site_id
        found = _stations(condition)
        return found[0] if found else None
    open_stations = _ids(open_keys, "station")
    if kind == "site":
        sites = _sites(site_id, only=[node_id])
        if not sites:
            return None
        stations = _fill(sites, {node_id}, _ids(open_keys, "floor"))
        for station in stations:
            station.open = station.id in open_stations
        return sites[0]
    floor = Floor.get_or_none(Floor.id == node_id)
    if floor is None or (site_id is not None and floor.site_id != site_id):
        return None
    nav = NavFloor(floor.id, floor.name)
    nav.stations = _station_rows(Station.floor == floor.id)
    _window(nav, None, True)
    _load_outlets(nav.stations)
    for station in nav.stations:
        station.open = station.id in open_stations
    return nav


def navigator_page(
    key: str, site_id: int | None, open_keys: Collection[str], start: int
) -> NavSite | NavFloor | None:
    """The site (its stations directly under it) or floor ``key`` holding only its page
    of ``STATION_PAGE`` stations from ``start`` (None when out of scope)."""
    kind, _, raw = key.partition(":")
    if not raw.isdigit() or kind not in ("site", "floor"):
        return None
    node_id = int(raw)
    holder: NavSite | NavFloor
    if kind == "site":
        found = _sites(site_id, only=[node_id])
        if not found:
            return None
        holder = found[0]
        holder.stations = _station_rows((Station.site == node_id) & Station.floor.is_null())
    else:
        floor = Floor.get_or_none(Floor.id == node_id)
        if floor is None or (site_id is not None and floor.site_id != site_id):
            return None
        holder = NavFloor(floor.id, floor.name)
        holder.stations = _station_rows(Station.floor == node_id)
    holder.total = len(holder.stations)
    holder.first = max(0, min(start, holder.total))
    holder.stations = holder.stations[holder.first : holder.first + STATION_PAGE]
    _load_outlets(holder.stations)
    open_stations = _ids(open_keys, "station")
    for station in holder.stations:
        station.open = station.id in open_stations
    return holder


def navigator_search(site_id: int | None, text: str) -> tuple[Navigator, int]:
    """The sites, floors and stations whose name (or charge box id) contains ``text``,
    with their ancestors, all open; and how many stations matched in all."""
    needle = f"%{text.strip()}%"
    matching = (Station.name**needle) | (Station.charge_box_id**needle)
    if site_id is not None:
        matching &= Station.site == site_id
    found = Station.select(Station.id, Station.site, Station.floor).where(matching)
    total = found.count()
    rows = list(found.limit(SEARCH_LIMIT).tuples())
    site_ids = {site for _, site, _ in rows if site is not None}
    floor_rows = Floor.select(Floor.id, Floor.site).where(Floor.name**needle)
    if site_id is not None:
        floor_rows = floor_rows.where(Floor.site == site_id)
    matched_floors = dict(floor_rows.tuples())
    site_query = Site.select(Site.id).where(Site.name**needle)
    matched_sites = {s for (s,) in site_query.tuples()}
    if site_id is not None:
        matched_sites &= {site_id}
    sites = _sites(site_id, only=site_ids | set(matched_floors.values()) | matched_sites)
    station_ids = [s for s, _, _ in rows]
    floors_with_matches = {floor for _, _, floor in rows if floor is not None}
    stations = _fill(
        sites,
        {s.id for s in sites},
        floors_with_matches | set(matched_floors),
        Station.id.in_(station_ids or [0]),
        paged=False,  # SEARCH_LIMIT bounds it
    )
    keep_floors = floors_with_matches | set(matched_floors)
    for site in sites:
        site.floors = [f for f in site.floors if f.id in keep_floors]
        for floor in site.floors:  # a floor found by its name opens (loads) when clicked
            floor.open = floor.id in floors_with_matches
        site.open = bool(site.floors or site.stations)
    for station in stations:
        station.open = False
    unassigned: list[NavStation] = []
    if site_id is None:
        unassigned = _stations(Station.site.is_null() & Station.id.in_(station_ids or [0]))
    return Navigator(sites, unassigned), total
