"""Settings of sites, floors, stations and outlets (SPEC §9.2–§9.5), one unit of work each."""

from __future__ import annotations

import secrets
from typing import Any

from db.accounts.passwords import STATION_PASSWORD_RULE, hash_station_password, station_password_ok
from db.config_errors import ConfigurationError, NotFoundError
from db.schema.models import Floor, Outlet, OutletExternalId, Service, Site, Station
from db.system.timezones import check_zone
from db.topology.nodes import (
    PROTOCOLS,
    _floor_name,
    _site_name,
    bounded,
    check_charge_box_id,
    get_floor,
    get_site,
    get_station,
)

CONNECTOR_TYPES = ("Type 2", "Type 2 cable", "Type 1", "CCS", "CHAdeMO", "Schuko", "Type 3")
OUTLET_MODES = ("OPEN", "RFID")
ADDRESS_FIELDS = ("country", "city", "street", "street_number", "latitude", "longitude")


def _coordinate(raw: Any, *, name: str, limit: float) -> float | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = float(str(raw).strip().replace(",", "."))
    except ValueError:
        raise ConfigurationError(f"{name.capitalize()} is a number.", field=name) from None
    if not -limit <= value <= limit:
        raise ConfigurationError(
            f"{name.capitalize()} lies between -{limit:g} and {limit:g}.", field=name
        )
    return round(value, 7)


def _address(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(ADDRESS_FIELDS)
    if unknown:
        raise ConfigurationError(f"Unknown address field(s): {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    labels = {"country": "Country", "city": "City", "street": "Street"}
    for key in ("country", "city", "street", "street_number"):
        if key in values:
            column = getattr(Site, key)  # Station has the same address columns
            out[key] = bounded(column, values[key], key, labels.get(key, "A street number"))
    if "latitude" in values:
        out["latitude"] = _coordinate(values["latitude"], name="latitude", limit=90)
    if "longitude" in values:
        out["longitude"] = _coordinate(values["longitude"], name="longitude", limit=180)
    return out


# --- sites and floors ---------------------------------------------------------------


def update_site(
    site_id: int,
    *,
    name: str,
    identification: str = "",
    description: str = "",
    time_zone: str | None = None,
) -> None:
    """``time_zone``: the site's IANA zone, "" = the system zone, None = unchanged."""
    site = get_site(site_id)
    site.name = _site_name(name, current_id=site.id)
    site.identification = bounded(
        Site.identification, identification, "identification", "The identification"
    )
    site.description = description
    if time_zone is not None:
        site.time_zone = _site_zone(time_zone)
    site.save()


def _site_zone(value: str) -> str:
    if not value.strip():
        return ""
    try:
        return check_zone(value)
    except ValueError as exc:
        raise ConfigurationError(str(exc), field="time_zone") from None


def update_site_address(site_id: int, values: dict[str, Any]) -> None:
    site = get_site(site_id)
    for key, value in _address(values).items():
        setattr(site, key, value)
    site.save()


def update_floor(floor_id: int, *, name: str, plan_name: str = "") -> None:
    floor = get_floor(floor_id)
    floor.name = _floor_name(floor.site_id, name, current_id=floor.id)
    floor.plan_name = bounded(Floor.plan_name, plan_name, "plan_name", "A plan name")
    floor.save()


def set_floor_plan(floor_id: int, image: bytes | None, plan_name: str | None = None) -> None:
    """Store a checked JPEG floor plan (``filestore.jpeg.check_floor_plan``) or remove it."""
    from filestore.jpeg import check_floor_plan

    floor = get_floor(floor_id)
    if image is not None:
        check_floor_plan(image)
    floor.plan_image = image
    if plan_name is not None:
        floor.plan_name = plan_name.strip()
    floor.save()


def floor_plan(floor_id: int) -> bytes | None:
    row = Floor.select(Floor.plan_image).where(Floor.id == floor_id).first()
    return bytes(row.plan_image) if row is not None and row.plan_image is not None else None


def set_station_positions(floor_id: int, positions: dict[int, tuple[float, float] | None]) -> None:
    """Place stations of a floor on its plan: x, y in 0..1 of the image (None = unplaced)."""
    get_floor(floor_id)
    for station_id, position in positions.items():
        station = get_station(int(station_id))
        if station.floor_id != floor_id:
            raise ConfigurationError(f"Station {station.charge_box_id} is not on this floor.")
        if position is None:
            station.pos_x = station.pos_y = None
        else:
            x, y = (float(v) for v in position)
            if not (0 <= x <= 1 and 0 <= y <= 1):
                raise ConfigurationError("A position lies inside the plan (0..1).")
            station.pos_x, station.pos_y = round(x, 5), round(y, 5)
        station.save()


def floor_stations(floor_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "charge_box_id": s.charge_box_id,
            "name": s.name,
            "x": s.pos_x,
            "y": s.pos_y,
        }
        for s in Station.select().where(Station.floor == floor_id).order_by(Station.charge_box_id)
    ]


# --- stations -------------------------------------------------------------------------


def update_station(
    station_id: int,
    *,
    name: str,
    description: str = "",
    charge_box_id: str | None = None,
    protocol: str | None = None,
    soap_endpoint: str | None = None,
) -> dict[str, Any]:
    """Change a station's general fields; says whether the charge box id changed (and from what)."""
    station = get_station(station_id)
    old_cbid = str(station.charge_box_id)
    if charge_box_id is not None:
        station.charge_box_id = check_charge_box_id(charge_box_id, current_id=station.id)
    if protocol is not None:
        if protocol not in PROTOCOLS:
            raise ConfigurationError("Protocol is OCPP 1.6 or 1.5.", field="protocol")
        station.protocol = protocol
    if soap_endpoint is not None:
        station.soap_endpoint = bounded(
            Station.soap_endpoint, soap_endpoint, "soap_endpoint", "An address"
        )
    station.name = bounded(Station.name, name, "name", "A logical name") or station.charge_box_id
    station.description = description
    station.save()
    return {
        "charge_box_id": station.charge_box_id,
        "charge_box_id_changed": station.charge_box_id != old_cbid,
        "previous_charge_box_id": old_cbid,
    }


def generate_station_password() -> str:
    """24 URL-safe characters: inside OCPP's 16–40 byte AuthorizationKey range."""
    return secrets.token_urlsafe(18)


def check_station_password(password: str) -> str:
    """The password when it fits OCPP 1.6 security (16–40 printable ASCII), else refused."""
    if not station_password_ok(password):
        raise ConfigurationError(STATION_PASSWORD_RULE, field="password")
    return password


def set_station_password(station_id: int, password: str | None) -> None:
    """Set (16–40 printable ASCII, OCPP 1.6 security) or clear the station's password.

    A station with a password has at least security profile 1; one whose password is
    cleared drops from 1 or 2 to 0 (profile 3 needs no password)."""
    station = get_station(station_id)
    if password is None or password == "":
        station.password_hash = None
        if station.security_profile in (1, 2):  # profiles 1-2 are a password
            station.security_profile = 0
    else:
        station.password_hash = hash_station_password(check_station_password(password))
        station.security_profile = max(station.security_profile, 1)
    station.save()


def set_password_hash_of(charge_box_id: str, password_hash: str) -> None:
    """Store the hash of a password the station accepted (AuthorizationKey); hash it
    outside the writer thread (argon2 is slow on purpose)."""
    station = station_by_cbid(charge_box_id)
    Station.update(
        password_hash=password_hash, security_profile=max(station.security_profile, 1)
    ).where(Station.id == station.id).execute()


def update_station_address(station_id: int, values: dict[str, Any]) -> None:
    station = get_station(station_id)
    for key, value in _address(values).items():
        setattr(station, key, value)
    station.save()


def station_by_cbid(charge_box_id: str) -> Station:
    station = Station.get_or_none(Station.charge_box_id == charge_box_id)
    if station is None:
        raise NotFoundError(f"No station {charge_box_id!r}.")
    return station


# --- outlets ------------------------------------------------------------------------


def get_outlet(outlet_id: int) -> Outlet:
    outlet = Outlet.get_or_none(Outlet.id == outlet_id)
    if outlet is None:
        raise NotFoundError(f"No outlet {outlet_id}.")
    return outlet


def update_outlet(
    outlet_id: int, *, connector_type: str, parking: str = "", mode: str = "RFID"
) -> None:
    """Connector type, parking and mode; the UUID and the outlet id never change here."""
    outlet = get_outlet(outlet_id)
    if connector_type not in CONNECTOR_TYPES:
        raise ConfigurationError(
            f"Connector is one of: {', '.join(CONNECTOR_TYPES)}.", field="connector_type"
        )
    if mode not in OUTLET_MODES:
        raise ConfigurationError("Mode is OPEN or RFID.", field="mode")
    outlet.connector_type = connector_type
    outlet.parking = bounded(Outlet.parking, parking, "parking", "Parking")
    outlet.mode = mode
    outlet.save()


def outlet_external_ids(outlet_id: int) -> list[dict[str, Any]]:
    """One row per enabled service: the outlet's id on that service's side ('' if unset)."""
    ids = {
        row.service_id: row.external_id
        for row in OutletExternalId.select().where(OutletExternalId.outlet == outlet_id)
    }
    return [
        {"service_id": s.id, "service": s.name, "kind": s.kind, "external_id": ids.get(s.id, "")}
        for s in Service.select().where(Service.enabled == True).order_by(Service.name)  # noqa: E712
    ]


def set_outlet_external_ids(outlet_id: int, values: dict[int, str]) -> None:
    outlet = get_outlet(outlet_id)
    for service_id, raw in values.items():
        service = Service.get_or_none(Service.id == int(service_id))
        if service is None or not service.enabled:
            raise ConfigurationError("External ids are kept only for active services.")
        value = str(raw).strip()
        OutletExternalId.delete().where(
            (OutletExternalId.outlet == outlet) & (OutletExternalId.service == service)
        ).execute()
        if value:
            OutletExternalId.create(outlet=outlet, service=service, external_id=value[:128])


# --- plain views for pages and the API -------------------------------------------------


def site_view(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "name": site.name,
        "identification": site.identification,
        "description": site.description,
        "time_zone": site.time_zone,
        **{key: getattr(site, key) for key in ADDRESS_FIELDS},
    }


def floor_view(floor: Floor) -> dict[str, Any]:
    return {
        "id": floor.id,
        "site_id": floor.site_id,
        "name": floor.name,
        "plan_name": floor.plan_name,
        "has_plan": floor.plan_image is not None,
    }


def station_view(station: Station) -> dict[str, Any]:
    return {
        "id": station.id,
        "charge_box_id": station.charge_box_id,
        "name": station.name,
        "description": station.description,
        "node_type": station.node_type,
        "site_id": station.site_id,
        "floor_id": station.floor_id,
        "protocol": station.protocol,
        "soap_endpoint": station.soap_endpoint,
        "has_password": bool(station.password_hash),
        "security_profile": station.security_profile,
        "security_profile_pending": station.security_profile_pending,
        "certificate_subject": station.certificate_subject,
        "certificate_expires_at": station.certificate_expires_at,
        "vendor": station.vendor,
        "model": station.model,
        "firmware_version": station.firmware_version,
        "firmware_status": station.firmware_status,
        "diagnostics_status": station.diagnostics_status,
        "local_list_version": station.local_list_version,
        "first_connected_at": station.first_connected_at,
        "last_boot_at": station.last_boot_at,
        "last_seen_at": station.last_seen_at,
        "config_imported_at": station.config_imported_at,
        **{key: getattr(station, key) for key in ADDRESS_FIELDS},
    }


def outlet_view(outlet: Outlet) -> dict[str, Any]:
    return {
        "id": outlet.id,
        "station_id": outlet.station_id,
        "connector_id": outlet.connector_id,
        "connector_type": outlet.connector_type,
        "uuid": outlet.uuid,
        "parking": outlet.parking,
        "mode": outlet.mode,
        "status": outlet.status,
    }


def station_outlets(station_id: int) -> list[dict[str, Any]]:
    return [
        outlet_view(o)
        for o in Outlet.select().where(Outlet.station == station_id).order_by(Outlet.connector_id)
    ]
