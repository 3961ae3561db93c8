"""A boot storm's writes for many stations at once: a few multi-row statements per batch.

Boots, statuses, connections and first-boot configuration imports of many stations
(``gateway.batching.BatchingStore.write_each``) are written like MeterValues: one
statement per table per batch, not per station (ADR 0015). Each function takes the
items of one batch in the order they came and returns one result per item, the same
as writing the items one after another: an item that repeats an earlier one's station
(or outlet, or key) wins, as it would have written last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from db.engine import rawsql
from db.ocpp.ocpp_records import UPSERT_KEY_HEAD, UPSERT_KEY_TAIL, configuration_rows
from db.schema.models import Outlet
from db.system.alarms import AlarmChange, clear_alarms, raise_alarm

__all__ = [
    "BOOT_COLUMNS",
    "BootIn",
    "ConfigIn",
    "ConnectIn",
    "Running",
    "StatusIn",
    "record_boots",
    "record_connections",
    "record_statuses",
    "store_configurations",
]

#: The ``station`` columns a BootNotification fills, in ``BootIn.fields`` order.
BOOT_COLUMNS = (
    "vendor",
    "model",
    "serial_number",
    "box_serial_number",
    "firmware_version",
    "iccid",
    "imsi",
    "meter_type",
    "meter_serial_number",
)

_IN_CHUNK = 500  # ids per IN (...) list


def _chunks(values: Sequence[Any]) -> Iterable[tuple[str, Sequence[Any]]]:
    """``(placeholders, values)`` for ``IN (...)`` lists of at most ``_IN_CHUNK`` values."""
    for start in range(0, len(values), _IN_CHUNK):
        yield rawsql.in_list(values[start : start + _IN_CHUNK])


def _fetch_in(template: str, values: Iterable[Any]) -> list[tuple[Any, ...]]:
    """``template`` ends with ``IN``: its rows for every value, a chunk at a time."""
    unique = list(dict.fromkeys(values))
    rows: list[tuple[Any, ...]] = []
    for placeholders, part in _chunks(unique):
        rows.extend(rawsql.fetchall(f"{template} {placeholders}", part))
    return rows


# --- boots -------------------------------------------------------------------------


class BootIn(NamedTuple):
    """One BootNotification to store, with the event-log line it adds."""

    station_id: int
    charge_box_id: str
    site_id: int | None
    fields: tuple[str, ...]  # BOOT_COLUMNS' values, in order
    now: dt.datetime
    message: str


_BOOT_SET = "".join(f', "{column}" = v."{column}"' for column in BOOT_COLUMNS)
_BOOT_FROM = (
    f'UPDATE "station" SET "last_boot_at" = v."t", "last_seen_at" = v."t"{_BOOT_SET}'
    ' FROM v WHERE "station"."id" = v."id"'
)
_BOOT_ONE = (  # SQLite before 3.33: one row at a time
    'UPDATE "station" SET "last_boot_at" = ?2, "last_seen_at" = ?2'
    + "".join(f', "{column}" = ?{n}' for n, column in enumerate(BOOT_COLUMNS, start=3))
    + ' WHERE "id" = ?1'
)
_INSERT_EVENTS = (
    'INSERT INTO "event" ("time", "kind", "station_id", "charge_box_id", "site_id",'
    ' "severity", "message")'
)


def _registration(status: str | None) -> str:
    return status if status in ("Accepted", "Pending", "Rejected") else "Accepted"


def record_boots(items: Sequence[BootIn]) -> list[str]:
    """Store the boots (station data, last boot and seen, one ``station.booted`` event
    each); return each station's registration status."""
    if not items:
        return []
    rows = {item.station_id: (item.station_id, item.now, *item.fields) for item in items}
    rawsql.update_from_values(
        ("id", "t", *BOOT_COLUMNS), list(rows.values()), _BOOT_FROM, _BOOT_ONE
    )
    registered = dict(
        _fetch_in('SELECT "id", "registration_status" FROM "station" WHERE "id" IN', rows)
    )
    rawsql.insert_rows(
        _INSERT_EVENTS,
        [
            (now, "station.booted", station, cbid, site, "info", message)
            for station, cbid, site, _, now, message in items
        ],
    )
    return [_registration(registered.get(item.station_id)) for item in items]


# --- statuses ----------------------------------------------------------------------


class StatusIn(NamedTuple):
    """One StatusNotification to store (connector 0: the station) and its alarms."""

    station_id: int
    charge_box_id: str
    site_id: int | None
    connector_id: int
    status: str
    error_code: str
    now: dt.datetime
    raise_kind: str | None = None
    alarm_message: str = ""
    clear_kinds: Sequence[str] = ()


_STATUS_FROM = (
    'UPDATE "outlet" SET "status" = v."st", "error_code" = v."e", "status_at" = v."t" FROM v'
    ' WHERE "outlet"."station_id" = v."s" AND "outlet"."connector_id" = v."c"'
)
_STATUS_ONE = (
    'UPDATE "outlet" SET "status" = ?3, "error_code" = ?4, "status_at" = ?5'
    ' WHERE "station_id" = ?1 AND "connector_id" = ?2'
)


def _store_outlets(items: Sequence[StatusIn]) -> None:
    """Every outlet's last status in the batch; outlets not configured yet are added."""
    last = {(i.station_id, i.connector_id): i for i in items if i.connector_id > 0}
    if not last:
        return
    existing = {
        (row[0], row[1])
        for row in _fetch_in(
            'SELECT "station_id", "connector_id" FROM "outlet" WHERE "station_id" IN',
            (station for station, _ in last),
        )
    }
    new = [i for key, i in last.items() if key not in existing]
    if new:
        Outlet.insert_many(
            [
                {
                    "station": i.station_id,
                    "connector_id": i.connector_id,
                    "status": i.status,
                    "error_code": i.error_code,
                    "status_at": i.now,
                }
                for i in new
            ]
        ).execute()
    rawsql.update_from_values(
        ("s", "c", "st", "e", "t"),
        [
            (i.station_id, i.connector_id, i.status, i.error_code, i.now)
            for key, i in last.items()
            if key in existing
        ],
        _STATUS_FROM,
        _STATUS_ONE,
    )


def record_statuses(items: Sequence[StatusIn]) -> list[list[AlarmChange]]:
    """Store the statuses; raise and clear their alarms (in order); each item's changes."""
    _store_outlets(items)
    wanted = {i.charge_box_id for i in items if i.clear_kinds}
    # connectors with an active alarm: only there can a status clear one
    active = (
        {
            (row[0], row[1])
            for row in _fetch_in(
                'SELECT DISTINCT "charge_box_id", "connector_id" FROM "alarm"'
                ' WHERE "cleared_at" IS NULL AND "charge_box_id" IN',
                sorted(wanted),
            )
        }
        if wanted
        else set()
    )
    results: list[list[AlarmChange]] = []
    for i in items:
        key = (i.charge_box_id, i.connector_id)
        changes: list[AlarmChange] = []
        if i.clear_kinds and key in active:
            changes = clear_alarms(
                i.charge_box_id, list(i.clear_kinds), connector_id=i.connector_id, now=i.now
            )
        if i.raise_kind is not None:
            changes.append(
                raise_alarm(
                    i.raise_kind,
                    i.charge_box_id,
                    station_id=i.station_id,
                    site_id=i.site_id,
                    connector_id=i.connector_id,
                    message=i.alarm_message,
                    now=i.now,
                )
            )
            active.add(key)  # a later item of the batch may clear it
        results.append(changes)
    return results


# --- connections -------------------------------------------------------------------


class ConnectIn(NamedTuple):
    """A station's connection: last seen, first connected, the protocol it speaks."""

    station_id: int
    charge_box_id: str
    protocol: str  # "1.5" | "1.6"
    now: dt.datetime
    running: bool  # also read its open sessions (first sight since the gateway started)


Running = tuple[int, int, int, int | None, str]

_CONNECT_FROM = (
    'UPDATE "station" SET "last_seen_at" = v."t",'
    ' "first_connected_at" = COALESCE("station"."first_connected_at", v."f"),'
    ' "protocol" = v."p" FROM v WHERE "station"."id" = v."id"'
)
_CONNECT_ONE = (
    'UPDATE "station" SET "last_seen_at" = ?2, "first_connected_at" ='
    ' COALESCE("first_connected_at", ?3), "protocol" = ?4 WHERE "id" = ?1'
)


def record_connections(items: Sequence[ConnectIn]) -> list[list[Running]]:
    """Store the connections; each item's open sessions (transaction id, connector, meter
    start, meter last, id tag) when it asked for them, else []."""
    rows: dict[int, tuple[Any, ...]] = {}
    for i in items:
        first = rows[i.station_id][2] if i.station_id in rows else i.now
        rows[i.station_id] = (i.station_id, i.now, first, i.protocol)
    rawsql.update_from_values(
        ("id", "t", "f", "p"), list(rows.values()), _CONNECT_FROM, _CONNECT_ONE
    )
    sessions: dict[str, list[Running]] = {}
    wanted = [i.charge_box_id for i in items if i.running]
    if wanted:
        for row in _fetch_in(
            'SELECT "charge_box_id", "id", "connector_id", "meter_start", "meter_last", "id_tag"'
            ' FROM "charging_session" WHERE "end_time" IS NULL AND "charge_box_id" IN',
            wanted,
        ):
            sessions.setdefault(row[0], []).append((row[1], row[2], row[3], row[4], row[5]))
    return [list(sessions.get(i.charge_box_id, ())) if i.running else [] for i in items]


# --- configuration imports -----------------------------------------------------------


class ConfigIn(NamedTuple):
    """A station's GetConfiguration answer (its configurationKey list) to store."""

    station_id: int
    keys: Sequence[dict[str, Any]]
    mark_imported: bool  # the whole configuration: the station's import is done
    now: dt.datetime


_IMPORTED_FROM = (
    'UPDATE "station" SET "config_imported_at" = v."t" FROM v WHERE "station"."id" = v."id"'
)
_IMPORTED_ONE = 'UPDATE "station" SET "config_imported_at" = ?2 WHERE "id" = ?1'


def store_configurations(items: Sequence[ConfigIn]) -> list[int]:
    """Upsert every station's keys; mark full imports done; how many keys each stored."""
    rows: dict[tuple[int, str], tuple[Any, ...]] = {}
    for i in items:
        for row in configuration_rows(i.station_id, i.keys, i.now):
            rows.pop((i.station_id, row[1]), None)  # written later: its value wins
            rows[(i.station_id, row[1])] = row
    rawsql.insert_rows(UPSERT_KEY_HEAD, list(rows.values()), UPSERT_KEY_TAIL)
    done = {i.station_id: (i.station_id, i.now) for i in items if i.mark_imported}
    rawsql.update_from_values(("id", "t"), list(done.values()), _IMPORTED_FROM, _IMPORTED_ONE)
    return [len(i.keys) for i in items]
