"""Sites, floors, stations and outlets as the JSON API lists them: filtered, paged, scoped."""

from __future__ import annotations

from typing import Any

import peewee as pw

from db.config_errors import ConfigurationError, NotFoundError
from db.errors import Conflict
from db.schema.models import Floor, Outlet, Site, Station
from db.system.timezones import iso_utc
from db.topology.station_settings import (
    CONNECTOR_TYPES,
    OUTLET_MODES,
    floor_view,
    outlet_view,
    site_view,
)

__all__ = [
    "Page",
    "add_outlet",
    "find_floor",
    "find_outlet",
    "find_site",
    "list_floors",
    "list_outlets",
    "list_sites",
    "list_stations",
    "remove_outlet",
    "station_api_view",
    "station_in_scope",
]

#: (items, total)
Page = tuple[list[dict[str, Any]], int]


def _page(query: pw.ModelSelect, view: Any, limit: int, offset: int) -> Page:
    total = query.count()
    return [view(row) for row in query.limit(limit).offset(offset)], total


def station_api_view(station: Station, outlets: list[Outlet] | None = None) -> dict[str, Any]:
    """A station as JSON (camelCase keys like OCPP), without secrets."""
    view: dict[str, Any] = {
        "id": station.id,
        "chargeBoxId": station.charge_box_id,
        "name": station.name,
        "description": station.description,
        "nodeType": station.node_type,
        "siteId": station.site_id,
        "floorId": station.floor_id,
        "protocol": station.protocol,
        "hasPassword": bool(station.password_hash),
        "vendor": station.vendor,
        "model": station.model,
        "serialNumber": station.serial_number,
        "firmwareVersion": station.firmware_version,
        "registrationStatus": station.registration_status,
        "lastSeenAt": iso_utc(station.last_seen_at),
        "latitude": station.latitude,
        "longitude": station.longitude,
    }
    if outlets is not None:
        view["outlets"] = [_outlet_json(o) for o in outlets]
    return view


def _outlet_json(outlet: Outlet) -> dict[str, Any]:
    raw = outlet_view(outlet)
    return {
        "id": raw["id"],
        "uuid": raw["uuid"],
        "stationId": raw["station_id"],
        "connectorId": raw["connector_id"],
        "connectorType": raw["connector_type"],
        "parking": raw["parking"],
        "mode": raw["mode"],
        "status": raw["status"],
    }


def _site_json(site: Site) -> dict[str, Any]:
    raw = site_view(site)
    return {
        "id": raw["id"],
        "name": raw["name"],
        "identification": raw["identification"],
        "description": raw["description"],
        "country": raw["country"],
        "city": raw["city"],
        "street": raw["street"],
        "streetNumber": raw["street_number"],
        "latitude": raw["latitude"],
        "longitude": raw["longitude"],
    }


def _floor_json(floor: Floor) -> dict[str, Any]:
    raw = floor_view(floor)
    return {
        "id": raw["id"],
        "siteId": raw["site_id"],
        "name": raw["name"],
        "planName": raw["plan_name"],
        "hasPlan": raw["has_plan"],
    }


def list_sites(scope: int | None, q: str = "", *, limit: int = 50, offset: int = 0) -> Page:
    query = Site.select().order_by(Site.name, Site.id)
    if scope is not None:
        query = query.where(Site.id == scope)
    if q:
        query = query.where((Site.name ** f"%{q}%") | (Site.city ** f"%{q}%"))
    return _page(query, _site_json, limit, offset)


def find_site(site_id: int, scope: int | None) -> dict[str, Any] | None:
    if scope is not None and site_id != scope:
        return None
    site = Site.get_or_none(Site.id == site_id)
    return _site_json(site) if site else None


def list_floors(
    scope: int | None, site_id: int | None = None, *, limit: int = 50, offset: int = 0
) -> Page:
    query = Floor.select().order_by(Floor.site, Floor.name, Floor.id)
    if scope is not None:
        query = query.where(Floor.site == scope)
    if site_id is not None:
        query = query.where(Floor.site == site_id)
    return _page(query, _floor_json, limit, offset)


def find_floor(floor_id: int, scope: int | None) -> dict[str, Any] | None:
    floor = Floor.get_or_none(Floor.id == floor_id)
    if floor is None or (scope is not None and floor.site_id != scope):
        return None
    return _floor_json(floor)


def list_stations(
    scope: int | None,
    *,
    site_id: int | None = None,
    floor_id: int | None = None,
    q: str = "",
    charge_box_ids: list[str] | None = None,
    exclude_charge_box_ids: list[str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    query = Station.select().order_by(Station.charge_box_id)
    if scope is not None:
        query = query.where(Station.site == scope)
    if site_id is not None:
        query = query.where(Station.site == site_id)
    if floor_id is not None:
        query = query.where(Station.floor == floor_id)
    if q:
        like = f"%{q}%"
        query = query.where((Station.charge_box_id**like) | (Station.name**like))
    if charge_box_ids is not None:
        query = query.where(Station.charge_box_id.in_(charge_box_ids))
    if exclude_charge_box_ids:
        query = query.where(Station.charge_box_id.not_in(exclude_charge_box_ids))
    total = query.count()
    stations = list(query.limit(limit).offset(offset))
    outlets: dict[int, list[Outlet]] = {}
    if stations:
        for o in (
            Outlet.select()
            .where(Outlet.station.in_([s.id for s in stations]))
            .order_by(Outlet.connector_id)
        ):
            outlets.setdefault(o.station_id, []).append(o)
    return [station_api_view(s, outlets.get(s.id, [])) for s in stations], total


def station_in_scope(charge_box_id: str, scope: int | None) -> dict[str, Any] | None:
    """A station by charge box id, None when unknown or outside ``scope``."""
    station = Station.get_or_none(Station.charge_box_id == charge_box_id)
    if station is None or (scope is not None and station.site_id != scope):
        return None
    outlets = list(
        Outlet.select().where(Outlet.station == station.id).order_by(Outlet.connector_id)
    )
    return station_api_view(station, outlets)


def list_outlets(
    scope: int | None,
    *,
    charge_box_id: str = "",
    mode: str = "",
    limit: int = 50,
    offset: int = 0,
) -> Page:
    query = Outlet.select(Outlet).join(Station).order_by(Station.charge_box_id, Outlet.connector_id)
    if scope is not None:
        query = query.where(Station.site == scope)
    if charge_box_id:
        query = query.where(Station.charge_box_id == charge_box_id)
    if mode:
        query = query.where(Outlet.mode == mode)
    total = query.count()
    rows = []
    for o in query.limit(limit).offset(offset):
        item = _outlet_json(o)
        item["chargeBoxId"] = o.station.charge_box_id
        rows.append(item)
    return rows, total


def find_outlet(uuid: str, scope: int | None) -> dict[str, Any] | None:
    """An outlet by its UUID (SPEC §9.5), with its station's charge box id."""
    outlet = Outlet.select(Outlet, Station).join(Station).where(Outlet.uuid == uuid).first()
    if outlet is None or (scope is not None and outlet.station.site_id != scope):
        return None
    item = _outlet_json(outlet)
    item["chargeBoxId"] = outlet.station.charge_box_id
    item["siteId"] = outlet.station.site_id
    return item


def add_outlet(
    station_id: int, connector_id: int, connector_type: str = "Type 2", mode: str = "RFID"
) -> str:
    """A new outlet (connector 1–4, unused on the station); returns its UUID."""
    if not 1 <= connector_id <= 4:
        raise ConfigurationError("An outlet id (connectorId) is 1 to 4.", field="connectorId")
    if connector_type not in CONNECTOR_TYPES:
        raise ConfigurationError(
            f"Connector is one of: {', '.join(CONNECTOR_TYPES)}.", field="connectorType"
        )
    if mode not in OUTLET_MODES:
        raise ConfigurationError("Mode is OPEN or RFID.", field="mode")
    if Station.get_or_none(Station.id == station_id) is None:
        raise NotFoundError(f"No station {station_id}.")
    if Outlet.get_or_none((Outlet.station == station_id) & (Outlet.connector_id == connector_id)):
        raise Conflict(f"The station already has outlet {connector_id}.", field="connectorId")
    outlet = Outlet.create(
        station=station_id, connector_id=connector_id, connector_type=connector_type, mode=mode
    )
    return str(outlet.uuid)


def remove_outlet(uuid: str) -> bool:
    return bool(Outlet.delete().where(Outlet.uuid == uuid).execute())
