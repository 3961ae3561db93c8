"""What the gateway stores about stations: boot data, status, transactions, meter samples.

Every function here is one synchronous unit of work, run by ``Store.write`` (or
``Store.read``) in one thread. Re-sent transaction messages are recognised by the
unique indexes on ``ChargingSession`` and ``MeterSample``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from db.alarms import AlarmChange, clear_alarms, raise_alarm
from db.authorization import TagAuthorization, tag_authorization
from db.models import (
    ChargingSession,
    ConfigurationKey,
    MeterSample,
    OcppMessage,
    Outlet,
    Reservation,
    Site,
    Station,
)

__all__ = [
    "MeterResult",
    "SampleIn",
    "StartResult",
    "StationRecord",
    "StopResult",
    "find_station",
    "record_boot",
    "record_connected",
    "record_diagnostics_status",
    "record_firmware_status",
    "record_meter_values",
    "record_start_transaction",
    "record_status",
    "record_stop_transaction",
    "running_sessions",
    "set_configuration_value",
    "store_configuration",
    "touch_last_seen",
]


@dataclass(frozen=True)
class StationRecord:
    """What the gateway needs to know about a station when it connects."""

    id: int
    charge_box_id: str
    password_hash: str | None
    site_id: int | None
    site_name: str
    name: str
    registration_status: str
    config_imported: bool


class SampleIn(NamedTuple):
    """One sampled value as received (already flattened from meterValue[].sampledValue[])."""

    timestamp: dt.datetime
    value: str
    measurand: str = "Energy.Active.Import.Register"
    unit: str = "Wh"
    context: str = "Sample.Periodic"
    phase: str = ""
    location: str = ""
    format: str = "Raw"


@dataclass(frozen=True)
class StartResult:
    transaction_id: int
    authorization: TagAuthorization  # what the station is told (idTagInfo)
    authentication: int  # 0 Anonymous, 1 RFID
    resent: bool
    meter_start: int


@dataclass(frozen=True)
class StopResult:
    found: bool
    transaction_id: int
    connector_id: int = 0
    energy_wh: int = 0
    resent: bool = False
    authorization: TagAuthorization | None = None


@dataclass(frozen=True)
class MeterResult:
    session_id: int | None
    foreign: bool  # the transaction id belongs to another station
    meter_last: int | None = None
    energy_wh: int | None = None


# --- stations --------------------------------------------------------------------


def find_station(charge_box_id: str) -> StationRecord | None:
    row = Station.select().where(Station.charge_box_id == charge_box_id).first()
    if row is None:
        return None
    site_name = ""
    if row.site_id is not None:
        site_name = Site.select(Site.name).where(Site.id == row.site_id).scalar() or ""
    return StationRecord(
        id=row.id,
        charge_box_id=row.charge_box_id,
        password_hash=row.password_hash,
        site_id=row.site_id,
        site_name=site_name,
        name=row.name,
        registration_status=row.registration_status or "Accepted",
        config_imported=row.config_imported_at is not None,
    )


def record_connected(station_id: int, now: dt.datetime) -> None:
    Station.update(last_seen_at=now).where(Station.id == station_id).execute()
    Station.update(first_connected_at=now).where(
        (Station.id == station_id) & Station.first_connected_at.is_null()
    ).execute()


def record_boot(station_id: int, boot: dict[str, str], now: dt.datetime) -> str:
    """Store the BootNotification data (model field -> value); return the registration status."""
    Station.update(last_boot_at=now, last_seen_at=now, **boot).where(
        Station.id == station_id
    ).execute()
    status = Station.select(Station.registration_status).where(Station.id == station_id).scalar()
    return status if status in ("Accepted", "Pending", "Rejected") else "Accepted"


def touch_last_seen(seen: Sequence[tuple[int, dt.datetime]]) -> None:
    """Batch the in-memory last-seen times of many stations into one unit of work."""
    for station_id, when in seen:
        Station.update(last_seen_at=when).where(Station.id == station_id).execute()


def record_status(
    station_id: int,
    charge_box_id: str,
    site_id: int | None,
    connector_id: int,
    status: str,
    error_code: str,
    now: dt.datetime,
    *,
    raise_kind: str | None = None,
    alarm_message: str = "",
    clear_kinds: Iterable[str] = (),
) -> list[AlarmChange]:
    """Store a connector's status (connector 0: the station) and raise/clear its alarms."""
    if connector_id > 0:
        updated = (
            Outlet.update(status=status, error_code=error_code, status_at=now)
            .where((Outlet.station == station_id) & (Outlet.connector_id == connector_id))
            .execute()
        )
        if not updated:
            Outlet.create(
                station=station_id,
                connector_id=connector_id,
                status=status,
                error_code=error_code,
                status_at=now,
            )
    changes = clear_alarms(charge_box_id, list(clear_kinds), connector_id=connector_id, now=now)
    if raise_kind is not None:
        changes.append(
            raise_alarm(
                raise_kind,
                charge_box_id,
                station_id=station_id,
                site_id=site_id,
                connector_id=connector_id,
                message=alarm_message,
                now=now,
            )
        )
    return changes


def record_firmware_status(station_id: int, status: str) -> None:
    Station.update(firmware_status=status).where(Station.id == station_id).execute()


def record_diagnostics_status(station_id: int, status: str) -> None:
    Station.update(diagnostics_status=status).where(Station.id == station_id).execute()


# --- configuration ------------------------------------------------------------------


def store_configuration(
    station_id: int, keys: Sequence[dict[str, Any]], *, mark_imported: bool, now: dt.datetime
) -> int:
    """Upsert GetConfiguration's configurationKey list; returns how many keys were stored."""
    for entry in keys:
        ConfigurationKey.insert(
            station=station_id,
            key=entry["key"],
            value=entry.get("value"),
            readonly=bool(entry.get("readonly", False)),
            updated_at=now,
        ).on_conflict(
            conflict_target=[ConfigurationKey.station, ConfigurationKey.key],
            update={
                ConfigurationKey.value: entry.get("value"),
                ConfigurationKey.readonly: bool(entry.get("readonly", False)),
                ConfigurationKey.updated_at: now,
            },
        ).execute()
    if mark_imported:
        Station.update(config_imported_at=now).where(Station.id == station_id).execute()
    return len(keys)


def set_configuration_value(station_id: int, key: str, value: str, now: dt.datetime) -> None:
    """Remember a value the station accepted with ChangeConfiguration."""
    ConfigurationKey.insert(station=station_id, key=key, value=value, updated_at=now).on_conflict(
        conflict_target=[ConfigurationKey.station, ConfigurationKey.key],
        update={ConfigurationKey.value: value, ConfigurationKey.updated_at: now},
    ).execute()


# --- transactions -----------------------------------------------------------------


def _sample_rows(
    station_id: int, connector_id: int, session_id: int | None, samples: Iterable[SampleIn]
) -> list[dict[str, Any]]:
    return [
        {
            "session": session_id,
            "station": station_id,
            "connector_id": connector_id,
            "timestamp": s.timestamp,
            "measurand": s.measurand,
            "value": s.value,
            "unit": s.unit,
            "context": s.context,
            "phase": s.phase,
            "location": s.location,
            "format": s.format,
        }
        for s in samples
    ]


def _insert_samples(rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 100):
        MeterSample.insert_many(rows[start : start + 100]).on_conflict_ignore().execute()


def _keep_message(
    station_id: int,
    charge_box_id: str,
    session_id: int | None,
    action: str,
    unique_id: str,
    raw: str,
    now: dt.datetime,
) -> None:
    if raw:
        OcppMessage.create(
            station=station_id,
            charge_box_id=charge_box_id,
            session=session_id,
            received_at=now,
            direction="in",
            action=action,
            unique_id=unique_id[:64],
            payload=raw,
        )


def record_start_transaction(
    station_id: int,
    charge_box_id: str,
    connector_id: int,
    id_tag: str,
    meter_start: int,
    timestamp: dt.datetime,
    reservation_id: int | None,
    now: dt.datetime,
    *,
    unique_id: str = "",
    raw: str = "",
) -> StartResult:
    """Open a session (or recognise a re-sent StartTransaction) and authorize its tag.

    An outlet in OPEN mode charges anyone: an unknown or refused tag is accepted as
    Anonymous (0); a valid badge is RFID (1) with its user's e-mail.
    """
    existing = (
        ChargingSession.select()
        .where(
            (ChargingSession.charge_box_id == charge_box_id)
            & (ChargingSession.connector_id == connector_id)
            & (ChargingSession.id_tag == id_tag)
            & (ChargingSession.start_time == timestamp)
            & (ChargingSession.meter_start == meter_start)
        )
        .first()
    )
    outlet = (
        Outlet.select(Outlet.id, Outlet.mode)
        .where((Outlet.station == station_id) & (Outlet.connector_id == connector_id))
        .first()
    )
    open_mode = outlet is not None and outlet.mode == "OPEN"
    auth = tag_authorization(
        id_tag,
        now=now,
        check_concurrent=True,
        concurrent_except_session=existing.id if existing is not None else None,
    )
    if auth.accepted:
        authentication = 1
    elif open_mode:
        authentication = 0
        auth = TagAuthorization("Accepted")
    else:
        authentication = 1
    if existing is not None:
        return StartResult(existing.id, auth, existing.authentication, True, meter_start)
    station = Station.get_by_id(station_id)
    site_name = ""
    if station.site_id is not None:
        site_name = Site.select(Site.name).where(Site.id == station.site_id).scalar() or ""
    anonymous = authentication == 0
    session = ChargingSession.create(
        station=station_id,
        charge_box_id=charge_box_id,
        station_name=station.name,
        site_name=site_name,
        site=station.site_id,
        outlet=outlet.id if outlet is not None else None,
        connector_id=connector_id,
        id_tag=id_tag,
        user=None if anonymous or not auth.accepted else auth.user_id,
        user_email="" if anonymous or not auth.accepted else auth.user_email,
        authentication=authentication,
        reservation_id=reservation_id,
        start_time=timestamp,
        meter_start=meter_start,
        meter_last=meter_start,
        energy_wh=0,
        server_date=now,
    )
    if reservation_id is not None:
        Reservation.update(status="Used", session=session.id).where(
            (Reservation.id == reservation_id) & (Reservation.station == station_id)
        ).execute()
    _keep_message(station_id, charge_box_id, session.id, "StartTransaction", unique_id, raw, now)
    return StartResult(session.id, auth, authentication, False, meter_start)


def record_stop_transaction(
    station_id: int,
    charge_box_id: str,
    transaction_id: int,
    meter_stop: int,
    timestamp: dt.datetime,
    reason: str,
    id_tag: str,
    samples: Sequence[SampleIn],
    now: dt.datetime,
    *,
    unique_id: str = "",
    raw: str = "",
) -> StopResult:
    """Close the station's own session ``transaction_id``; a re-sent stop changes nothing."""
    auth = tag_authorization(id_tag, now=now) if id_tag else None
    session = (
        ChargingSession.select()
        .where(
            (ChargingSession.id == transaction_id)
            & (ChargingSession.charge_box_id == charge_box_id)
        )
        .first()
    )
    if session is None:
        return StopResult(False, transaction_id, authorization=auth)
    _insert_samples(_sample_rows(station_id, session.connector_id, session.id, samples))
    if session.end_time is not None:
        return StopResult(
            True, session.id, session.connector_id, session.energy_wh, True, authorization=auth
        )
    energy = max(0, meter_stop - session.meter_start)
    ChargingSession.update(
        end_time=timestamp,
        meter_stop=meter_stop,
        meter_last=meter_stop,
        energy_wh=energy,
        stop_reason=reason or "Local",
        stop_id_tag=id_tag,
        stopped_server_date=now,
    ).where(ChargingSession.id == session.id).execute()
    _keep_message(station_id, charge_box_id, session.id, "StopTransaction", unique_id, raw, now)
    return StopResult(True, session.id, session.connector_id, energy, False, authorization=auth)


def record_meter_values(
    station_id: int,
    charge_box_id: str,
    connector_id: int,
    transaction_id: int | None,
    samples: Sequence[SampleIn],
    reading_wh: int | None,
) -> MeterResult:
    """Store the samples (a re-sent message adds nothing) and the session's live energy."""
    session = None
    if transaction_id is not None:
        session = (
            ChargingSession.select(
                ChargingSession.id,
                ChargingSession.meter_start,
                ChargingSession.meter_last,
                ChargingSession.end_time,
            )
            .where(
                (ChargingSession.id == transaction_id)
                & (ChargingSession.charge_box_id == charge_box_id)
            )
            .first()
        )
        if (
            session is None
            and ChargingSession.select().where(ChargingSession.id == transaction_id).exists()
        ):
            return MeterResult(None, foreign=True)
    session_id = session.id if session is not None else None
    _insert_samples(_sample_rows(station_id, connector_id, session_id, samples))
    if session is None:
        return MeterResult(None, False)
    meter_last = session.meter_last
    energy = None
    if (
        reading_wh is not None
        and session.end_time is None
        and (meter_last is None or reading_wh > meter_last)
    ):
        meter_last = reading_wh
        energy = max(0, reading_wh - session.meter_start)
        ChargingSession.update(meter_last=reading_wh, energy_wh=energy).where(
            ChargingSession.id == session.id
        ).execute()
    elif meter_last is not None:
        energy = max(0, meter_last - session.meter_start)
    return MeterResult(session.id, False, meter_last, energy)


def running_sessions(charge_box_id: str) -> list[tuple[int, int, int, int | None, str]]:
    """(transaction id, connector, meter start, meter last, id tag) of open sessions."""
    return [
        (s.id, s.connector_id, s.meter_start, s.meter_last, s.id_tag)
        for s in ChargingSession.select().where(
            (ChargingSession.charge_box_id == charge_box_id) & ChargingSession.end_time.is_null()
        )
    ]
