"""What the gateway stores about stations: lookup, connection, configuration.

Every function here is one synchronous unit of work, run by ``Store.write`` (or
``Store.read``) in one thread. Charging sessions live in ``db.ocpp.ocpp_transactions``;
boots, statuses and first-boot imports of many stations at once in
``db.ocpp.station_batches``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from db.engine import rawsql
from db.schema.models import Station

__all__ = [
    "UPSERT_KEY_HEAD",
    "UPSERT_KEY_TAIL",
    "StationRecord",
    "configuration_rows",
    "find_station",
    "find_stations",
    "known_stations",
    "outlet_count",
    "record_connected",
    "record_diagnostics_status",
    "record_firmware_status",
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
    outlets: int = 0  # the highest outlet number (connectorId); 0: none configured
    # the station's own WebSocketPingInterval and HeartbeatInterval keys, when known
    ping_interval: int | None = None
    heartbeat_interval: int | None = None
    security_profile: int = 0  # connections below it are refused (OCPP 1.6 security)
    security_profile_pending: int | None = None  # an upgrade the station accepted


# --- stations --------------------------------------------------------------------


def _key_value(key: str) -> str:
    return (
        f', (SELECT k."value" FROM "configuration_key" k WHERE k."station_id" = s."id"'
        f" AND k.\"key\" = '{key}')"
    )


_FIND_STATIONS = (
    'SELECT s."id", s."charge_box_id", s."password_hash", s."site_id", s."name",'
    ' s."registration_status", s."config_imported_at", t."name",'
    ' (SELECT MAX(o."connector_id") FROM "outlet" o WHERE o."station_id" = s."id")'
    + _key_value("WebSocketPingInterval")
    + _key_value("HeartbeatInterval")
    + ', s."security_profile", s."security_profile_pending"'
    + ' FROM "station" s LEFT OUTER JOIN "site" t ON t."id" = s."site_id"'
    ' WHERE s."charge_box_id" IN '
)


def _station_record(row: tuple[Any, ...]) -> StationRecord:
    return StationRecord(
        id=row[0],
        charge_box_id=row[1],
        password_hash=row[2],
        site_id=row[3],
        site_name=row[7] or "",
        name=row[4] or "",
        registration_status=row[5] or "Accepted",
        config_imported=row[6] is not None,
        outlets=row[8] or 0,
        ping_interval=_whole(row[9]),
        heartbeat_interval=_whole(row[10]),
        security_profile=row[11] or 0,
        security_profile_pending=row[12],
    )


def _whole(value: str | None) -> int | None:
    """A configuration value as a whole number of seconds (None: unset or not a number)."""
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def find_station(charge_box_id: str) -> StationRecord | None:
    return find_stations([charge_box_id])[0]


def find_stations(charge_box_ids: Sequence[str]) -> list[StationRecord | None]:
    """``find_station`` for many ids in one query per 500 (a boot storm's connections)."""
    found: dict[str, StationRecord] = {}
    unique = list(dict.fromkeys(charge_box_ids))
    for start in range(0, len(unique), 500):
        placeholders, chunk = rawsql.in_list(unique[start : start + 500])
        for row in rawsql.fetchall(_FIND_STATIONS + placeholders, chunk):
            found[row[1]] = _station_record(row)
    return [found.get(charge_box_id) for charge_box_id in charge_box_ids]


def outlet_count(station_id: int) -> int:
    """The station's highest outlet number (connectorId), 0 when it has no outlets."""
    row = rawsql.fetchone(
        'SELECT MAX("connector_id") FROM "outlet" WHERE "station_id" = ?', (station_id,)
    )
    return int(row[0] or 0) if row is not None else 0


def record_connected(station_id: int, now: dt.datetime) -> None:
    rawsql.execute(
        'UPDATE "station" SET "last_seen_at" = ?,'
        ' "first_connected_at" = COALESCE("first_connected_at", ?) WHERE "id" = ?',
        (now, now, station_id),
    )


def record_protocol(station_id: int, protocol: str) -> None:
    """The OCPP version ("1.5" | "1.6") the station last spoke (a firmware upgrade moves it)."""
    rawsql.execute(
        'UPDATE "station" SET "protocol" = ? WHERE "id" = ? AND "protocol" <> ?',
        (protocol, station_id, protocol),
    )


def soap_endpoint(station_id: int) -> str:
    """The OCPP 1.5 ChargePointService address configured for the station ("" = none)."""
    row = rawsql.fetchone('SELECT "soap_endpoint" FROM "station" WHERE "id" = ?', (station_id,))
    return str(row[0] or "") if row is not None else ""


def known_stations(alarm_kind: str) -> tuple[list[tuple[str, int, int | None]], set[str]]:
    """(charge box id, station id, site id) of every station that has connected at least
    once, and the charge box ids with an active alarm of ``alarm_kind``."""
    rows = [
        (str(cbid), int(station_id), site_id)
        for cbid, station_id, site_id in rawsql.fetchall(
            'SELECT "charge_box_id", "id", "site_id" FROM "station"'
            ' WHERE "first_connected_at" IS NOT NULL',
            (),
        )
    ]
    alarmed = {
        str(cbid)
        for (cbid,) in rawsql.fetchall(
            'SELECT DISTINCT "charge_box_id" FROM "alarm"'
            ' WHERE "kind" = ? AND "cleared_at" IS NULL',
            (alarm_kind,),
        )
    }
    return rows, alarmed


def touch_last_seen(seen: Sequence[tuple[int, dt.datetime]]) -> None:
    """Batch the in-memory last-seen times of many stations into one unit of work."""
    rawsql.update_from_values(
        ("id", "t"),
        seen,
        'UPDATE "station" SET "last_seen_at" = v."t" FROM v WHERE "station"."id" = v."id"',
        'UPDATE "station" SET "last_seen_at" = ?2 WHERE "id" = ?1',
    )


def record_firmware_status(station_id: int, status: str) -> None:
    Station.update(firmware_status=status).where(Station.id == station_id).execute()


def record_diagnostics_status(station_id: int, status: str) -> None:
    Station.update(diagnostics_status=status).where(Station.id == station_id).execute()


# --- configuration ------------------------------------------------------------------


UPSERT_KEY_HEAD = (
    'INSERT INTO "configuration_key" ("station_id", "key", "value", "readonly", "updated_at")'
)
UPSERT_KEY_TAIL = (
    'ON CONFLICT ("station_id", "key") DO UPDATE SET "value" = excluded."value",'
    ' "readonly" = excluded."readonly", "updated_at" = excluded."updated_at"'
)
_UPSERT_KEY = f"{UPSERT_KEY_HEAD} VALUES (?, ?, ?, ?, ?) {UPSERT_KEY_TAIL}"


#: Write-only keys whose value is a secret (OCPP 1.6 security: the Basic auth password):
#: never kept in clear; the station's password hash lives in ``station.password_hash``.
SECRET_KEYS = frozenset({"authorizationkey"})


def _kept_value(key: str, value: Any) -> Any:
    return None if key.lower() in SECRET_KEYS else value


def configuration_rows(
    station_id: int, keys: Sequence[dict[str, Any]], now: dt.datetime
) -> list[tuple[Any, ...]]:
    """(station, key, value kept, readonly, now) per key; a key listed twice: its last entry."""
    rows: dict[str, tuple[Any, ...]] = {}
    for entry in keys:
        key = entry["key"]
        rows.pop(key, None)
        rows[key] = (
            station_id,
            key,
            _kept_value(key, entry.get("value")),
            bool(entry.get("readonly")),
            now,
        )
    return list(rows.values())


def store_configuration(
    station_id: int, keys: Sequence[dict[str, Any]], *, mark_imported: bool, now: dt.datetime
) -> int:
    """Upsert GetConfiguration's configurationKey list; returns how many keys were stored."""
    rawsql.executemany(_UPSERT_KEY, configuration_rows(station_id, keys, now))
    if mark_imported:
        rawsql.execute(
            'UPDATE "station" SET "config_imported_at" = ? WHERE "id" = ?', (now, station_id)
        )
    return len(keys)


def set_configuration_value(station_id: int, key: str, value: str, now: dt.datetime) -> None:
    """Remember a value the station accepted with ChangeConfiguration."""
    rawsql.execute(
        'INSERT INTO "configuration_key" ("station_id", "key", "value", "readonly", "updated_at")'
        " VALUES (?, ?, ?, ?, ?)"
        ' ON CONFLICT ("station_id", "key") DO UPDATE SET "value" = excluded."value",'
        ' "updated_at" = excluded."updated_at"',
        (station_id, key, _kept_value(key, value), False, now),
    )
