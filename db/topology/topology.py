"""The Navigator tree and node lookup (SPEC §4), scoped by site; CRUD rules are in
db.topology.nodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from db.schema.models import Floor, Outlet, Site, Station

__all__ = [
    "SYSTEM",
    "NavFloor",
    "NavOutlet",
    "NavSite",
    "NavStation",
    "Navigator",
    "NodeRef",
    "charge_box_ids_in_scope",
    "navigator_tree",
    "resolve_node",
    "running_transaction",
    "site_choices",
    "site_of_station",
    "station_ids_in_scope",
]


@dataclass(frozen=True)
class NodeRef:
    """A Navigator node: kind is system | site | floor | station | outlet."""

    kind: str
    id: int | None = None
    site_id: int | None = None  # the site the node belongs to (None for system/unassigned)
    label: str = "System"
    charge_box_id: str = ""  # for station/outlet nodes
    station_id: int | None = None  # for station/outlet nodes
    floor_id: int | None = None

    @property
    def key(self) -> str:
        return "system" if self.kind == "system" else f"{self.kind}:{self.id}"


SYSTEM = NodeRef("system")


@dataclass
class NavOutlet:
    id: int
    connector_id: int
    uuid: str
    status: str
    error_code: str
    mode: str


@dataclass
class NavStation:
    id: int
    charge_box_id: str
    name: str
    site_id: int | None
    floor_id: int | None
    outlets: list[NavOutlet] = field(default_factory=list)
    open: bool = False  # its outlets shown (the Navigator's remembered state)

    @property
    def label(self) -> str:
        return self.name or self.charge_box_id


@dataclass
class NavFloor:
    id: int
    name: str
    stations: list[NavStation] = field(default_factory=list)
    open: bool = True  # its stations loaded and shown (False: loaded when opened)
    # a long list shows a window of it: ``stations`` are the ``first``.. of ``total``
    first: int = 0
    total: int = 0

    @property
    def later(self) -> int:
        """Stations after the shown window."""
        return max(0, self.total - self.first - len(self.stations))


@dataclass
class NavSite:
    id: int
    name: str
    floors: list[NavFloor] = field(default_factory=list)
    stations: list[NavStation] = field(default_factory=list)  # directly under the site
    open: bool = True  # its floors and stations loaded and shown (False: loaded when opened)
    first: int = 0  # as NavFloor: ``stations`` are the ``first``.. of ``total``
    total: int = 0

    @property
    def later(self) -> int:
        return max(0, self.total - self.first - len(self.stations))


@dataclass
class Navigator:
    sites: list[NavSite]
    unassigned: list[NavStation]  # stations without a site (administrators only)
    lazy: bool = False  # a big tree: a closed station's outlets load when it is opened

    def stations(self) -> list[NavStation]:
        found = list(self.unassigned)
        for site in self.sites:
            found.extend(site.stations)
            for floor in site.floors:
                found.extend(floor.stations)
        return found


def navigator_tree(site_id: int | None = None) -> Navigator:
    """The whole tree, or only ``site_id``'s branch: four queries whatever the size."""
    sites = Site.select(Site.id, Site.name).order_by(Site.name)
    floors = Floor.select(Floor.id, Floor.name, Floor.site).order_by(Floor.name)
    stations = Station.select(
        Station.id, Station.charge_box_id, Station.name, Station.site, Station.floor
    ).order_by(Station.name, Station.charge_box_id)
    outlets = Outlet.select(
        Outlet.id,
        Outlet.station,
        Outlet.connector_id,
        Outlet.uuid,
        Outlet.status,
        Outlet.error_code,
        Outlet.mode,
    ).order_by(Outlet.connector_id)
    if site_id is not None:
        sites = sites.where(Site.id == site_id)
        floors = floors.where(Floor.site == site_id)
        stations = stations.where(Station.site == site_id)
        outlets = outlets.join(Station).where(Station.site == site_id)
    nav_sites = {s.id: NavSite(s.id, s.name) for s in sites}
    nav_floors: dict[int, NavFloor] = {}
    for f in floors:
        nav_floors[f.id] = NavFloor(f.id, f.name)
        if f.site_id in nav_sites:
            nav_sites[f.site_id].floors.append(nav_floors[f.id])
    nav_stations: dict[int, NavStation] = {}
    unassigned: list[NavStation] = []
    for s in stations:
        node = NavStation(s.id, s.charge_box_id, s.name, s.site_id, s.floor_id)
        nav_stations[s.id] = node
        if s.floor_id in nav_floors:
            nav_floors[s.floor_id].stations.append(node)
        elif s.site_id in nav_sites:
            nav_sites[s.site_id].stations.append(node)
        else:
            unassigned.append(node)
    for o in outlets:
        if o.station_id in nav_stations:
            nav_stations[o.station_id].outlets.append(
                NavOutlet(o.id, o.connector_id, o.uuid, o.status, o.error_code, o.mode)
            )
    return Navigator(list(nav_sites.values()), unassigned if site_id is None else [])


#: The largest INTEGER SQLite stores (and more than PostgreSQL's ids reach).
_MAX_ID = 2**63 - 1


def resolve_node(key: str, site_id: int | None = None) -> NodeRef | None:
    """``system``, ``site:3``, ``floor:2``, ``station:7`` or ``outlet:9`` → NodeRef.

    None when the node does not exist or lies outside ``site_id`` (when given):
    the caller answers 404 either way, so other sites' nodes stay invisible.
    """
    if not key or key == "system":
        return SYSTEM
    kind, _, raw = key.partition(":")
    try:
        node_id = int(raw)
    except ValueError:
        return None
    if not 0 < node_id <= _MAX_ID:  # no such row; SQLite would raise OverflowError
        return None
    ref: NodeRef | None = None
    if kind == "site":
        site = Site.get_or_none(Site.id == node_id)
        if site:
            ref = NodeRef("site", site.id, site.id, site.name)
    elif kind == "floor":
        floor = Floor.get_or_none(Floor.id == node_id)
        if floor:
            ref = NodeRef("floor", floor.id, floor.site_id, floor.name, floor_id=floor.id)
    elif kind == "station":
        station = Station.get_or_none(Station.id == node_id)
        if station:
            ref = NodeRef(
                "station",
                station.id,
                station.site_id,
                station.name or station.charge_box_id,
                charge_box_id=station.charge_box_id,
                station_id=station.id,
                floor_id=station.floor_id,
            )
    elif kind == "outlet":
        outlet = Outlet.select(Outlet, Station).join(Station).where(Outlet.id == node_id).first()
        if outlet:
            st = outlet.station
            ref = NodeRef(
                "outlet",
                outlet.id,
                st.site_id,
                f"{st.name or st.charge_box_id} / {outlet.connector_id}",
                charge_box_id=st.charge_box_id,
                station_id=st.id,
                floor_id=st.floor_id,
            )
    if ref is None:
        return None
    if site_id is not None and ref.site_id != site_id:
        return None
    return ref


def station_ids_in_scope(node: NodeRef, site_id: int | None = None) -> list[int]:
    """Ids of the stations under ``node`` (and inside ``site_id`` when given)."""
    query = Station.select(Station.id)
    if site_id is not None:
        query = query.where(Station.site == site_id)
    if node.kind == "site":
        query = query.where(Station.site == node.id)
    elif node.kind == "floor":
        query = query.where(Station.floor == node.id)
    elif node.kind in ("station", "outlet"):
        query = query.where(Station.id == node.station_id)
    return [s.id for s in query]


def charge_box_ids_in_scope(node: NodeRef, site_id: int | None = None) -> list[str]:
    """Charge box ids of the stations under ``node`` (and inside ``site_id`` when given):
    one narrow query, for counts and colours over many stations."""
    query = Station.select(Station.charge_box_id)
    if site_id is not None:
        query = query.where(Station.site == site_id)
    if node.kind == "site":
        query = query.where(Station.site == node.id)
    elif node.kind == "floor":
        query = query.where(Station.floor == node.id)
    elif node.kind in ("station", "outlet"):
        query = query.where(Station.id == node.station_id)
    return [cbid for (cbid,) in query.tuples()]


def site_of_station(charge_box_id: str) -> Any:
    """The site id of a station by charge box id (None when unassigned or unknown)."""
    station = Station.get_or_none(Station.charge_box_id == charge_box_id)
    return station.site_id if station else None


def site_choices(site_id: int | None = None) -> list[tuple[int, str]]:
    """(id, name) of the sites a form may offer (only ``site_id`` when given)."""
    query = Site.select(Site.id, Site.name).order_by(Site.name)
    if site_id is not None:
        query = query.where(Site.id == site_id)
    return [(s.id, s.name) for s in query]


def running_transaction(outlet_id: int) -> int | None:
    """The transaction id of the session still running on an outlet, if any."""
    from db.schema.models import ChargingSession

    session = (
        ChargingSession.select(ChargingSession.id)
        .where((ChargingSession.outlet == outlet_id) & ChargingSession.end_time.is_null())
        .order_by(ChargingSession.start_time.desc())
        .first()
    )
    return int(session.id) if session is not None else None
