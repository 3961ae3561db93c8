"""Charging schedules (SPEC §10): weekly time-of-day power limits and availability windows.

A schedule belongs to a site, a station or an outlet. ``periods`` is a JSON list of
``{"weekday": 0..6 (Monday = 0), "start": "HH:MM", "end": "HH:MM" (24:00 allowed),
"limit": number | null, "available": bool}``; times are wall-clock times of the site's
zone (``schedule_zone``: the site's own, else the system zone), the clock the stations
there follow. Outside every period no limit applies; an unavailable window means a limit of 0.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from db.config_errors import ConfigurationError, NotFoundError
from db.schema.models import ChargingProfile, ChargingSchedule, Outlet, Site, Station, utcnow
from db.system.settings import get_setting
from db.topology.nodes import get_site, get_station

PURPOSES = ("TxDefaultProfile", "ChargePointMaxProfile")
RATE_UNITS = ("W", "A")
_TIME = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def minutes(text: str) -> int:
    """``"HH:MM"`` → minutes since midnight (``24:00`` = 1440)."""
    match = _TIME.match(text.strip())
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        raise ConfigurationError(f"{text!r} is not a time of day HH:MM.", field="periods")
    return int(match.group(1)) * 60 + int(match.group(2))


def normalise_periods(raw: Any, rate_unit: str = "W") -> list[dict[str, Any]]:
    """Checked, sorted periods; accepts ``"days": [..]`` as shorthand for several weekdays."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "[]")
        except ValueError:
            raise ConfigurationError("Periods are not valid JSON.", field="periods") from None
    if not isinstance(raw, list):
        raise ConfigurationError("Periods are a list.", field="periods")
    out: list[dict[str, Any]] = []
    for item in raw:
        if not isinstance(item, dict):
            raise ConfigurationError("Each period is an object.", field="periods")
        days = item.get("days", [item.get("weekday")])
        available = bool(item.get("available", True))
        limit = item.get("limit")
        if limit in ("", None):
            limit = None
        else:
            try:
                limit = round(float(limit), 1)
            except (TypeError, ValueError):
                raise ConfigurationError("A limit is a number.", field="periods") from None
            if limit < 0:
                raise ConfigurationError("A limit cannot be negative.", field="periods")
            if (rate_unit == "A" and limit > 1000) or (rate_unit == "W" and limit > 1_000_000):
                raise ConfigurationError(f"A limit of {limit:g} {rate_unit} is not plausible.")
        if available and limit is None:
            raise ConfigurationError(
                "A period either limits power or makes the outlet unavailable.", field="periods"
            )
        start, end = str(item.get("start", "")), str(item.get("end", ""))
        if minutes(start) >= minutes(end):
            raise ConfigurationError(f"A period ends after it starts ({start}–{end}).")
        for day in days:
            if not isinstance(day, int) or not 0 <= day <= 6:
                raise ConfigurationError("A weekday is 0 (Monday) to 6 (Sunday).", field="periods")
            out.append(
                {
                    "weekday": day,
                    "start": start,
                    "end": end,
                    "limit": None if not available else limit,
                    "available": available,
                }
            )
    out.sort(key=lambda p: (p["weekday"], minutes(p["start"])))
    for before, after in itertools.pairwise(out):
        if before["weekday"] == after["weekday"] and minutes(after["start"]) < minutes(
            before["end"]
        ):
            raise ConfigurationError(
                f"Periods overlap on weekday {before['weekday']}: "
                f"{before['start']}–{before['end']} and {after['start']}–{after['end']}.",
                field="periods",
            )
    return out


def _target(site_id: int | None, station_id: int | None, outlet_id: int | None) -> dict[str, Any]:
    given = [x for x in (site_id, station_id, outlet_id) if x is not None]
    if len(given) != 1:
        raise ConfigurationError("A schedule belongs to exactly one site, station or outlet.")
    if site_id is not None:
        return {"site": get_site(site_id), "station": None, "outlet": None}
    if station_id is not None:
        return {"site": None, "station": get_station(station_id), "outlet": None}
    outlet = Outlet.get_or_none(Outlet.id == outlet_id)
    if outlet is None:
        raise NotFoundError(f"No outlet {outlet_id}.")
    return {"site": None, "station": None, "outlet": outlet}


def save_schedule(
    *,
    name: str,
    periods: Any,
    site_id: int | None = None,
    station_id: int | None = None,
    outlet_id: int | None = None,
    purpose: str = "TxDefaultProfile",
    rate_unit: str = "W",
    stack_level: int = 0,
    schedule_id: int | None = None,
) -> int:
    """Create (or replace, with ``schedule_id``) a schedule; returns its id."""
    if not name.strip():
        raise ConfigurationError("A schedule needs a name.", field="name")
    if purpose not in PURPOSES:
        raise ConfigurationError("Purpose is TxDefaultProfile or ChargePointMaxProfile.")
    if rate_unit not in RATE_UNITS:
        raise ConfigurationError("The unit is W or A.", field="rate_unit")
    if not 0 <= int(stack_level) <= 99:
        raise ConfigurationError("The stack level is 0..99.", field="stack_level")
    target = _target(site_id, station_id, outlet_id)
    if purpose == "ChargePointMaxProfile" and target["outlet"] is not None:
        raise ConfigurationError(
            "A ChargePointMaxProfile limits a whole station: choose a station or site."
        )
    fields = {
        "name": name.strip(),
        "purpose": purpose,
        "rate_unit": rate_unit,
        "stack_level": int(stack_level),
        "periods": json.dumps(normalise_periods(periods, rate_unit)),
        **target,
    }
    if schedule_id is None:
        return int(ChargingSchedule.create(**fields).id)
    row = get_schedule(schedule_id)
    for key, value in fields.items():
        setattr(row, key, value)
    row.save()
    return int(row.id)


def get_schedule(schedule_id: int) -> ChargingSchedule:
    row = ChargingSchedule.get_or_none(ChargingSchedule.id == schedule_id)
    if row is None:
        raise NotFoundError(f"No schedule {schedule_id}.")
    return row


def delete_schedule(schedule_id: int) -> None:
    get_schedule(schedule_id).delete_instance()


def schedule_view(row: ChargingSchedule) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "site_id": row.site_id,
        "station_id": row.station_id,
        "outlet_id": row.outlet_id,
        "purpose": row.purpose,
        "stack_level": row.stack_level,
        "rate_unit": row.rate_unit,
        "periods": json.loads(row.periods or "[]"),
        "pushed_at": row.pushed_at,
    }


def schedules_for(
    *, site_id: int | None = None, station_id: int | None = None, outlet_id: int | None = None
) -> list[dict[str, Any]]:
    """Schedules attached to this node and the nodes above it (what applies here)."""
    query = ChargingSchedule.select()
    conditions = []
    if outlet_id is not None:
        outlet = Outlet.get_by_id(outlet_id)
        station_id = outlet.station_id
        conditions.append(ChargingSchedule.outlet == outlet_id)
    if station_id is not None:
        station = get_station(station_id)
        site_id = station.site_id
        conditions.append(ChargingSchedule.station == station_id)
    if site_id is not None:
        conditions.append(ChargingSchedule.site == site_id)
    if conditions:
        where = conditions[0]
        for extra in conditions[1:]:
            where = where | extra
        query = query.where(where)
    return [schedule_view(row) for row in query.order_by(ChargingSchedule.name)]


def push_targets(schedule_id: int) -> list[tuple[str, int]]:
    """(charge box id, connector id) the schedule's profile goes to: OCPP 1.6 stations only."""
    row = get_schedule(schedule_id)
    if row.outlet_id is not None:
        outlet = Outlet.get_by_id(row.outlet_id)
        stations = [outlet.station]
        connector = int(outlet.connector_id)
    elif row.station_id is not None:
        stations, connector = [row.station], 0
    else:
        stations = list(
            Station.select()
            .where((Station.site == row.site_id) & (Station.node_type == "station"))
            .order_by(Station.charge_box_id)
        )
        connector = 0
    return [(s.charge_box_id, connector) for s in stations if s.protocol == "1.6"]


def site_zone(site_id: int | None) -> str:
    """The zone a site's schedules are read in: its own, else the system zone."""
    site = Site.get_or_none(Site.id == site_id) if site_id is not None else None
    return (site.time_zone if site is not None else "") or get_setting("system.time_zone")


def schedule_zone(schedule_id: int) -> str:
    """The zone of the site the schedule's stations belong to (see ``site_zone``)."""
    row = get_schedule(schedule_id)
    if row.site_id is not None:
        return site_zone(row.site_id)
    station_id = row.station_id
    if station_id is None:
        station_id = Outlet.get_by_id(row.outlet_id).station_id
    return site_zone(Station.get_by_id(station_id).site_id)


def record_push(
    schedule_id: int, charge_box_id: str, connector_id: int, profile: dict[str, Any], status: str
) -> None:
    """Remember what was sent to a station and its answer."""
    station = Station.get_or_none(Station.charge_box_id == charge_box_id)
    schedule = get_schedule(schedule_id)
    if station is None:
        return
    inner = profile["csChargingProfiles"]
    ChargingProfile.delete().where(
        (ChargingProfile.station == station)
        & (ChargingProfile.profile_id == inner["chargingProfileId"])
    ).execute()
    ChargingProfile.create(
        station=station,
        connector_id=connector_id,
        profile_id=inner["chargingProfileId"],
        purpose=inner["chargingProfilePurpose"],
        stack_level=inner["stackLevel"],
        schedule=schedule,
        profile=json.dumps(profile),
        status=status,
    )
    if status == "Accepted":
        schedule.pushed_at = utcnow()
        schedule.save(only=[ChargingSchedule.pushed_at])


def schedules_in_scope(site_id: int | None = None) -> list[dict[str, Any]]:
    """Every schedule (or those of one site: on it, its stations or their outlets)."""
    query = ChargingSchedule.select().order_by(ChargingSchedule.name)
    if site_id is not None:
        stations = Station.select(Station.id).where(Station.site == site_id)
        outlets = Outlet.select(Outlet.id).where(Outlet.station.in_(stations))
        query = query.where(
            (ChargingSchedule.site == site_id)
            | ChargingSchedule.station.in_(stations)
            | ChargingSchedule.outlet.in_(outlets)
        )
    return [schedule_view(row) for row in query]


def schedule_site(schedule_id: int) -> int | None:
    """The site a schedule belongs to (through its station or outlet)."""
    row = get_schedule(schedule_id)
    if row.site_id is not None:
        return int(row.site_id)
    if row.station_id is not None:
        return row.station.site_id  # type: ignore[union-attr,no-any-return]
    return Outlet.get_by_id(row.outlet_id).station.site_id  # type: ignore[no-any-return]


def target_site(site_id: int | None, station_id: int | None, outlet_id: int | None) -> int | None:
    """The site of a schedule's target (None when the station or outlet does not exist)."""
    if site_id is not None:
        return site_id
    if station_id is not None:
        station = Station.get_or_none(Station.id == station_id)
        return station.site_id if station else None
    if outlet_id is not None:
        outlet = Outlet.get_or_none(Outlet.id == outlet_id)
        return outlet.station.site_id if outlet else None
    return None
