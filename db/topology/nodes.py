"""Topology (SPEC §9.1): sites, floors, stations and network controllers, with parent rules.

Rules: a floor needs a parent site; a station (or network controller) needs a site
or a floor (its site is then the floor's site); a node with children cannot be
removed before its children (a site with floors, stations or site administrators; a
floor with stations). A station's outlets and configuration are part of it and go with it;
its past charging sessions are kept (they carry the charge box id and names).
"""

from __future__ import annotations

import re
from typing import Any

from db.config_errors import ConfigurationError, NotFoundError
from db.errors import Conflict
from db.ocpp.frame_log import delete_station_frames
from db.schema.models import (
    Alarm,
    ChargingSession,
    ConnectionEvent,
    Floor,
    MeterSample,
    OcppMessage,
    Outlet,
    Site,
    Station,
    User,
)

CHARGE_BOX_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,48}$")
NODE_TYPES = ("station", "controller")
PROTOCOLS = ("1.6", "1.5")


def bounded(column: Any, value: Any, field: str, label: str) -> str:
    """``value`` stripped, refused (not cut, not left to the database) when longer than
    the column allows: SQLite would store it whole, PostgreSQL would fail the write."""
    text = str(value or "").strip()
    limit = getattr(column, "max_length", None)
    if limit is not None and len(text) > limit:
        raise ConfigurationError(f"{label} has at most {limit} characters.", field=field)
    return text


def check_charge_box_id(value: str, *, current_id: int | None = None) -> str:
    """A valid, unused charge box id (letters, digits, ``._:-``, at most 48)."""
    value = value.strip()
    if not CHARGE_BOX_ID.match(value):
        raise ConfigurationError(
            "A charge box id is 1–48 letters, digits or . _ : - (no spaces or slashes).",
            field="charge_box_id",
        )
    clash = Station.get_or_none(Station.charge_box_id == value)
    if clash is not None and clash.id != current_id:
        raise Conflict(f"Charge box id {value!r} is already in use.", field="charge_box_id")
    return value


#: Beyond SQLite's INTEGER no row exists (and the driver would raise OverflowError).
_MAX_ID = 2**63 - 1


def get_site(site_id: int) -> Site:
    site = Site.get_or_none(Site.id == site_id) if abs(site_id) <= _MAX_ID else None
    if site is None:
        raise NotFoundError(f"No site {site_id}.")
    return site


def get_floor(floor_id: int) -> Floor:
    floor = Floor.get_or_none(Floor.id == floor_id) if abs(floor_id) <= _MAX_ID else None
    if floor is None:
        raise NotFoundError(f"No floor {floor_id}.")
    return floor


def get_station(station_id: int) -> Station:
    station = Station.get_or_none(Station.id == station_id) if abs(station_id) <= _MAX_ID else None
    if station is None:
        raise NotFoundError(f"No station {station_id}.")
    return station


def _site_name(name: str, *, current_id: int | None = None) -> str:
    name = bounded(Site.name, name, "name", "A site name")
    if not name:
        raise ConfigurationError("A site needs a name.", field="name")
    clash = Site.get_or_none(Site.name == name)
    if clash is not None and clash.id != current_id:
        raise Conflict(f"A site named {name!r} exists already.", field="name")
    return name


def create_site(name: str, identification: str = "", description: str = "") -> int:
    site = Site.create(
        name=_site_name(name),
        identification=bounded(
            Site.identification, identification, "identification", "The identification"
        ),
        description=description,
    )
    return int(site.id)


def _floor_name(site_id: int, name: str, *, current_id: int | None = None) -> str:
    name = bounded(Floor.name, name, "name", "A floor name")
    if not name:
        raise ConfigurationError("A floor needs a name.", field="name")
    clash = Floor.get_or_none((Floor.site == site_id) & (Floor.name == name))
    if clash is not None and clash.id != current_id:
        raise Conflict(f"This site has a floor named {name!r} already.", field="name")
    return name


def create_floor(site_id: int | None, name: str) -> int:
    if site_id is None:
        raise ConfigurationError("Select a parent site before creating a floor.", field="site_id")
    site = get_site(site_id)
    floor = Floor.create(site=site, name=_floor_name(site.id, name))
    return int(floor.id)


def _parent(
    site_id: int | None, floor_id: int | None, *, required: bool = True
) -> tuple[Site | None, Floor | None]:
    if floor_id is not None:
        floor = get_floor(floor_id)
        if site_id is not None and floor.site_id != site_id:
            raise ConfigurationError("That floor belongs to another site.", field="floor_id")
        return floor.site, floor
    if site_id is not None:
        return get_site(site_id), None
    if not required:
        return None, None
    raise ConfigurationError("Select a site or a floor before creating a station.", field="site_id")


def create_station(
    charge_box_id: str,
    *,
    site_id: int | None = None,
    floor_id: int | None = None,
    name: str = "",
    description: str = "",
    node_type: str = "station",
    outlets: int = 1,
    protocol: str = "1.6",
    parent_required: bool = True,
) -> int:
    """A station (1–4 outlets) or a network controller (no outlets) under a site or floor
    (or, for the command line's test rigs, ``parent_required=False``, under none).

    The one way a station is created: the portal, the JSON API, the command line and the
    demo seed all come here (the command line through ``db.provisioning``)."""
    site, floor = _parent(site_id, floor_id, required=parent_required)
    if node_type not in NODE_TYPES:
        raise ConfigurationError("A node is a station or a network controller.", field="node_type")
    if protocol not in PROTOCOLS:
        raise ConfigurationError("Protocol is OCPP 1.6 or 1.5.", field="protocol")
    if node_type == "station" and not 1 <= outlets <= 4:
        raise ConfigurationError("A station has 1 to 4 outlets.", field="outlets")
    cbid = check_charge_box_id(charge_box_id)
    station = Station.create(
        charge_box_id=cbid,
        name=bounded(Station.name, name, "name", "A logical name") or cbid,
        description=description,
        node_type=node_type,
        site=site,
        floor=floor,
        protocol=protocol,
    )
    if node_type == "station":
        for connector_id in range(1, outlets + 1):
            Outlet.create(station=station, connector_id=connector_id)
    return int(station.id)


def remove_site(site_id: int) -> None:
    site = get_site(site_id)
    floors = Floor.select().where(Floor.site == site).count()
    stations = Station.select().where(Station.site == site).count()
    admins = User.select().where(User.site == site).count()
    reasons = []
    if floors:
        reasons.append(f"{floors} floor(s)")
    if stations:
        reasons.append(f"{stations} station(s)")
    if admins:
        reasons.append(f"{admins} user(s) attached to it")
    if reasons:
        raise Conflict(
            f"Site {site.name!r} still has {', '.join(reasons)}; remove or move them first."
        )
    site.delete_instance()


def remove_floor(floor_id: int) -> None:
    floor = get_floor(floor_id)
    stations = Station.select().where(Station.floor == floor).count()
    if stations:
        raise Conflict(
            f"Floor {floor.name!r} still has {stations} station(s); remove or move them first."
        )
    floor.delete_instance()


def remove_station(station_id: int) -> str:
    """Remove a station with its outlets and configuration; returns its charge box id.

    Its history stays (SPEC §11: no session or meter reading is lost): sessions, meter
    samples, transaction messages and alarms keep the charge box id and lose only the
    link to the station row, which the schema would otherwise cascade-delete.
    """
    station = get_station(station_id)
    cbid = str(station.charge_box_id)
    for model in (OcppMessage, Alarm):
        model.update(station=None).where(model.station == station).execute()
    # meter samples have no station-led index (m0005): reach them through the station's
    # sessions, and the few taken outside a transaction through the NULL-session range
    sessions = ChargingSession.select(ChargingSession.id).where(ChargingSession.station == station)
    MeterSample.update(station_id=None).where(MeterSample.session.in_(sessions)).execute()
    MeterSample.update(station_id=None).where(
        MeterSample.session.is_null(), MeterSample.station_id == station.id
    ).execute()
    # the message log is diagnostics keyed by the station's id (which SQLite may reuse)
    delete_station_frames(station.id)
    ConnectionEvent.delete().where(ConnectionEvent.station_id == station.id).execute()
    station.delete_instance()
    return cbid


def move_station(
    station_id: int, *, site_id: int | None = None, floor_id: int | None = None
) -> None:
    """Hang a station under another floor, or directly under a site (its plan position resets)."""
    station = get_station(station_id)
    site, floor = _parent(site_id, floor_id)
    floor_changed = (floor.id if floor else None) != station.floor_id
    station.site = site
    station.floor = floor
    if floor_changed:
        station.pos_x = station.pos_y = None
    station.save()


def topology_tree(site_id: int | None = None) -> list[dict[str, Any]]:
    """Sites → floors → stations (stations without a floor under ``stations`` of the site)."""
    sites = Site.select().order_by(Site.name)
    if site_id is not None:
        sites = sites.where(Site.id == site_id)
    tree = []
    for site in sites:
        floors = {
            floor.id: {"id": floor.id, "name": floor.name, "stations": []}
            for floor in Floor.select().where(Floor.site == site).order_by(Floor.name)
        }
        loose: list[dict[str, Any]] = []
        for station in Station.select().where(Station.site == site).order_by(Station.charge_box_id):
            node = {
                "id": station.id,
                "charge_box_id": station.charge_box_id,
                "name": station.name,
                "node_type": station.node_type,
            }
            (floors[station.floor_id]["stations"] if station.floor_id in floors else loose).append(
                node
            )
        tree.append(
            {"id": site.id, "name": site.name, "floors": list(floors.values()), "stations": loose}
        )
    return tree
