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

from db import rawsql
from db.alarms import AlarmChange, clear_alarms, raise_alarm
from db.authorization import TagAuthorization, tag_authorization
from db.models import (
    Outlet,
    Station,
)

__all__ = [
    "MeterIn",
    "MeterResult",
    "SampleIn",
    "StartResult",
    "StationRecord",
    "StopResult",
    "find_station",
    "record_boot",
    "record_command_outcome",
    "record_connected",
    "record_diagnostics_status",
    "record_firmware_status",
    "record_meter_batch",
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
    row = rawsql.fetchone(
        'SELECT s."id", s."charge_box_id", s."password_hash", s."site_id", s."name",'
        ' s."registration_status", s."config_imported_at", t."name"'
        ' FROM "station" s LEFT OUTER JOIN "site" t ON t."id" = s."site_id"'
        ' WHERE s."charge_box_id" = ?',
        (charge_box_id,),
    )
    if row is None:
        return None
    return StationRecord(
        id=row[0],
        charge_box_id=row[1],
        password_hash=row[2],
        site_id=row[3],
        site_name=row[7] or "",
        name=row[4] or "",
        registration_status=row[5] or "Accepted",
        config_imported=row[6] is not None,
    )


def record_connected(station_id: int, now: dt.datetime) -> None:
    rawsql.execute(
        'UPDATE "station" SET "last_seen_at" = ?,'
        ' "first_connected_at" = COALESCE("first_connected_at", ?) WHERE "id" = ?',
        (now, now, station_id),
    )


def record_boot(station_id: int, boot: dict[str, str], now: dt.datetime) -> str:
    """Store the BootNotification data (model field -> value); return the registration status."""
    Station.update(last_boot_at=now, last_seen_at=now, **boot).where(
        Station.id == station_id
    ).execute()
    status = Station.select(Station.registration_status).where(Station.id == station_id).scalar()
    return status if status in ("Accepted", "Pending", "Rejected") else "Accepted"


def touch_last_seen(seen: Sequence[tuple[int, dt.datetime]]) -> None:
    """Batch the in-memory last-seen times of many stations into one unit of work."""
    if seen:
        rawsql.executemany(
            'UPDATE "station" SET "last_seen_at" = ? WHERE "id" = ?',
            [(when, station_id) for station_id, when in seen],
        )


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
        updated = rawsql.execute(
            'UPDATE "outlet" SET "status" = ?, "error_code" = ?, "status_at" = ?'
            ' WHERE "station_id" = ? AND "connector_id" = ?',
            (status, error_code, now, station_id, connector_id),
        ).rowcount
        if not updated:
            Outlet.create(
                station=station_id,
                connector_id=connector_id,
                status=status,
                error_code=error_code,
                status_at=now,
            )
    changes: list[AlarmChange] = []
    clear_kinds = list(clear_kinds)
    if clear_kinds and rawsql.fetchone(
        'SELECT 1 FROM "alarm" WHERE "charge_box_id" = ? AND "connector_id" = ?'
        ' AND "cleared_at" IS NULL',
        (charge_box_id, connector_id),
    ):
        changes = clear_alarms(charge_box_id, clear_kinds, connector_id=connector_id, now=now)
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


_UPSERT_KEY = (
    'INSERT INTO "configuration_key" ("station_id", "key", "value", "readonly", "updated_at")'
    " VALUES (?, ?, ?, ?, ?)"
    ' ON CONFLICT ("station_id", "key") DO UPDATE SET "value" = excluded."value",'
    ' "readonly" = excluded."readonly", "updated_at" = excluded."updated_at"'
)


#: Write-only keys whose value is a secret (OCPP 1.6 security: the Basic auth password):
#: never kept in clear; the station's password hash lives in ``station.password_hash``.
SECRET_KEYS = frozenset({"authorizationkey"})


def _kept_value(key: str, value: Any) -> Any:
    return None if key.lower() in SECRET_KEYS else value


def store_configuration(
    station_id: int, keys: Sequence[dict[str, Any]], *, mark_imported: bool, now: dt.datetime
) -> int:
    """Upsert GetConfiguration's configurationKey list; returns how many keys were stored."""
    rawsql.executemany(
        _UPSERT_KEY,
        [
            (
                station_id,
                entry["key"],
                _kept_value(entry["key"], entry.get("value")),
                bool(entry.get("readonly")),
                now,
            )
            for entry in keys
        ],
    )
    if mark_imported:
        rawsql.execute(
            'UPDATE "station" SET "config_imported_at" = ? WHERE "id" = ?', (now, station_id)
        )
    return len(keys)


def record_command_outcome(
    station_id: int, action: str, payload: dict[str, Any], result: dict[str, Any]
) -> None:
    """Remember what an accepted command changed at the station (reservations, lists...)."""
    status = result.get("status")
    if action == "ReserveNow":
        rawsql.execute(
            'UPDATE "reservation" SET "status" = ? WHERE "id" = ? AND "station_id" = ?',
            (status, payload["reservationId"], station_id),
        )
    elif action == "CancelReservation" and status == "Accepted":
        rawsql.execute(
            'UPDATE "reservation" SET "status" = ? WHERE "id" = ? AND "station_id" = ?',
            ("Cancelled", payload["reservationId"], station_id),
        )
    elif action == "SendLocalList" and status == "Accepted":
        rawsql.execute(
            'UPDATE "station" SET "local_list_version" = ? WHERE "id" = ?',
            (payload["listVersion"], station_id),
        )
    elif action == "GetLocalListVersion" and "listVersion" in result:
        rawsql.execute(
            'UPDATE "station" SET "local_list_version" = ? WHERE "id" = ?',
            (result["listVersion"], station_id),
        )
    elif action == "SetChargingProfile":
        profile_id = payload["csChargingProfiles"]["chargingProfileId"]
        rawsql.execute(
            'UPDATE "charging_profile" SET "status" = ?'
            ' WHERE "station_id" = ? AND "profile_id" = ?',
            (status, station_id, profile_id),
        )


def set_configuration_value(station_id: int, key: str, value: str, now: dt.datetime) -> None:
    """Remember a value the station accepted with ChangeConfiguration."""
    rawsql.execute(
        'INSERT INTO "configuration_key" ("station_id", "key", "value", "readonly", "updated_at")'
        " VALUES (?, ?, ?, ?, ?)"
        ' ON CONFLICT ("station_id", "key") DO UPDATE SET "value" = excluded."value",'
        ' "updated_at" = excluded."updated_at"',
        (station_id, key, _kept_value(key, value), False, now),
    )


# --- transactions -----------------------------------------------------------------


_INSERT_SAMPLES = (
    'INSERT INTO "meter_sample" ("session_id", "station_id", "connector_id", "timestamp",'
    ' "value", "measurand", "unit", "context", "phase", "location", "format")'
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def _insert_samples(
    station_id: int, connector_id: int, session_id: int | None, samples: Iterable[SampleIn]
) -> None:
    rows = [(session_id, station_id, connector_id, *sample) for sample in samples]
    if rows:
        rawsql.executemany(_INSERT_SAMPLES, rows)


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
        rawsql.execute(
            'INSERT INTO "ocpp_message" ("station_id", "charge_box_id", "session_id",'
            ' "received_at", "direction", "action", "unique_id", "payload")'
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (station_id, charge_box_id, session_id, now, "in", action, unique_id[:64], raw),
        )


_INSERT_SESSION = (
    'INSERT INTO "charging_session" ("station_id", "charge_box_id", "station_name",'
    ' "site_name", "site_id", "outlet_id", "connector_id", "id_tag", "user_id", "user_email",'
    ' "authentication", "reservation_id", "start_time", "meter_start", "meter_last",'
    ' "energy_wh", "stop_reason", "stop_id_tag", "server_date")'
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', '', ?)"
    ' RETURNING "id"'
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
    existing = rawsql.fetchone(
        'SELECT "id", "authentication" FROM "charging_session" WHERE "charge_box_id" = ?'
        ' AND "connector_id" = ? AND "id_tag" = ? AND "start_time" = ? AND "meter_start" = ?',
        (charge_box_id, connector_id, id_tag, timestamp, meter_start),
    )
    outlet = rawsql.fetchone(
        'SELECT "id", "mode" FROM "outlet" WHERE "station_id" = ? AND "connector_id" = ?',
        (station_id, connector_id),
    )
    open_mode = outlet is not None and outlet[1] == "OPEN"
    auth = tag_authorization(
        id_tag,
        now=now,
        check_concurrent=True,
        concurrent_except_session=existing[0] if existing is not None else None,
    )
    if auth.accepted:
        authentication = 1
    elif open_mode:
        authentication = 0
        auth = TagAuthorization("Accepted")
    else:
        authentication = 1
    if existing is not None:
        return StartResult(existing[0], auth, existing[1], True, meter_start)
    station = rawsql.fetchone(
        'SELECT s."name", s."site_id", t."name" FROM "station" s'
        ' LEFT OUTER JOIN "site" t ON t."id" = s."site_id" WHERE s."id" = ?',
        (station_id,),
    )
    name, site_id, site_name = station if station is not None else ("", None, "")
    known_user = authentication == 1 and auth.accepted
    row = rawsql.fetchone(
        _INSERT_SESSION,
        (
            station_id,
            charge_box_id,
            name or "",
            site_name or "",
            site_id,
            outlet[0] if outlet is not None else None,
            connector_id,
            id_tag,
            auth.user_id if known_user else None,
            auth.user_email if known_user else "",
            authentication,
            reservation_id,
            timestamp,
            meter_start,
            meter_start,
            now,
        ),
    )
    assert row is not None
    session_id = int(row[0])
    if reservation_id is not None:
        rawsql.execute(
            'UPDATE "reservation" SET "status" = ?, "session_id" = ?'
            ' WHERE "id" = ? AND "station_id" = ?',
            ("Used", session_id, reservation_id, station_id),
        )
    _keep_message(station_id, charge_box_id, session_id, "StartTransaction", unique_id, raw, now)
    return StartResult(session_id, auth, authentication, False, meter_start)


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
    session = rawsql.fetchone(
        'SELECT "id", "connector_id", "meter_start", "end_time", "energy_wh"'
        ' FROM "charging_session" WHERE "id" = ? AND "charge_box_id" = ?',
        (transaction_id, charge_box_id),
    )
    if session is None:
        return StopResult(False, transaction_id, authorization=auth)
    session_id, connector_id, meter_start, end_time, energy_wh = session
    _insert_samples(station_id, connector_id, session_id, samples)
    if end_time is not None:
        return StopResult(True, session_id, connector_id, energy_wh, True, authorization=auth)
    energy = max(0, meter_stop - meter_start)
    rawsql.execute(
        'UPDATE "charging_session" SET "end_time" = ?, "meter_stop" = ?, "meter_last" = ?,'
        ' "energy_wh" = ?, "stop_reason" = ?, "stop_id_tag" = ?, "stopped_server_date" = ?'
        ' WHERE "id" = ?',
        (timestamp, meter_stop, meter_stop, energy, reason or "Local", id_tag, now, session_id),
    )
    _keep_message(station_id, charge_box_id, session_id, "StopTransaction", unique_id, raw, now)
    return StopResult(True, session_id, connector_id, energy, False, authorization=auth)


class MeterIn(NamedTuple):
    """One MeterValues message to store (see ``record_meter_batch``)."""

    station_id: int
    charge_box_id: str
    connector_id: int
    transaction_id: int | None
    samples: Sequence[SampleIn]
    reading_wh: int | None
    known_session: bool = False


_UPDATE_LIVE_ENERGY = (
    'UPDATE "charging_session" SET "meter_last" = ?, "energy_wh" = ? - "meter_start"'
    ' WHERE "id" = ? AND "end_time" IS NULL AND ("meter_last" IS NULL OR "meter_last" < ?)'
)


def record_meter_batch(messages: Sequence[MeterIn]) -> list[MeterResult]:
    """Store many MeterValues in one unit of work: one insert and one update statement.

    A re-sent message adds no sample (unique index) and never lowers the live energy.
    ``known_session``: the caller already knows the transaction is this station's
    session (it answered its StartTransaction), so the ownership check is skipped.
    """
    results: list[MeterResult] = []
    rows: list[tuple[Any, ...]] = []
    updates: list[tuple[int, int, int, int]] = []
    for m in messages:
        session_id: int | None = None
        if m.transaction_id is not None:
            if m.known_session:
                session_id = m.transaction_id
            else:
                row = rawsql.fetchone(
                    'SELECT "id" FROM "charging_session" WHERE "id" = ? AND "charge_box_id" = ?',
                    (m.transaction_id, m.charge_box_id),
                )
                if row is not None:
                    session_id = row[0]
                elif rawsql.fetchone(
                    'SELECT 1 FROM "charging_session" WHERE "id" = ?', (m.transaction_id,)
                ):
                    results.append(MeterResult(None, foreign=True))
                    continue
        rows.extend((session_id, m.station_id, m.connector_id, *s) for s in m.samples)
        if session_id is not None and m.reading_wh is not None:
            updates.append((m.reading_wh, m.reading_wh, session_id, m.reading_wh))
        results.append(MeterResult(session_id, False))
    if rows:
        rawsql.executemany(_INSERT_SAMPLES, rows)
    if updates:
        rawsql.executemany(_UPDATE_LIVE_ENERGY, updates)
    return results


def record_meter_values(
    station_id: int,
    charge_box_id: str,
    connector_id: int,
    transaction_id: int | None,
    samples: Sequence[SampleIn],
    reading_wh: int | None,
    *,
    known_session: bool = False,
) -> MeterResult:
    """Store one MeterValues message (``record_meter_batch`` of one)."""
    message = MeterIn(
        station_id, charge_box_id, connector_id, transaction_id, samples, reading_wh, known_session
    )
    return record_meter_batch([message])[0]


def running_sessions(charge_box_id: str) -> list[tuple[int, int, int, int | None, str]]:
    """(transaction id, connector, meter start, meter last, id tag) of open sessions."""
    return [
        (row[0], row[1], row[2], row[3], row[4])
        for row in rawsql.fetchall(
            'SELECT "id", "connector_id", "meter_start", "meter_last", "id_tag"'
            ' FROM "charging_session" WHERE "charge_box_id" = ? AND "end_time" IS NULL',
            (charge_box_id,),
        )
    ]
