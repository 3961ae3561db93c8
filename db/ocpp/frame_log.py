"""The station message log: every OCPP-J frame (``ocpp_frame``) and connection event
(``connection_event``), written in batches, read newest first, trimmed per station and by age."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from db.engine import rawsql
from db.schema.models import ConnectionEvent, OcppFrame, Station

__all__ = [
    "ConnectionRow",
    "FrameRow",
    "connection_events",
    "delete_older_than",
    "station_frames",
    "stations_over",
    "trim_stations",
    "write_log",
]

# (station_id, charge_box_id, at, direction, message_type, unique_id, action, payload)
FrameRow = tuple[int, str, dt.datetime, str, str, str, str, str]
# (station_id, charge_box_id, at, kind, reason, remote)
ConnectionRow = tuple[int, str, dt.datetime, str, str, str]

_INSERT_FRAMES = (
    'INSERT INTO "ocpp_frame" ("station_id", "charge_box_id", "at", "direction",'
    ' "message_type", "unique_id", "action", "payload")'
)
_INSERT_CONNECTIONS = (
    'INSERT INTO "connection_event" ("station_id", "charge_box_id", "at", "kind", "reason",'
    ' "remote")'
)


def write_log(frames: Sequence[FrameRow], connections: Sequence[ConnectionRow]) -> None:
    """Insert a batch of frames and connection events (a few multi-row statements)."""
    rawsql.insert_rows(_INSERT_FRAMES, frames)
    rawsql.insert_rows(_INSERT_CONNECTIONS, connections)


def trim_stations(station_ids: Iterable[int], keep: int) -> int:
    """Delete each station's frames older than its ``keep`` newest; the number deleted."""
    deleted = 0
    for station_id in station_ids:
        edge = rawsql.fetchone(
            'SELECT "id" FROM "ocpp_frame" WHERE "station_id" = ?'
            ' ORDER BY "id" DESC LIMIT 1 OFFSET ?',
            (station_id, keep - 1),
        )
        if edge is not None:
            cursor = rawsql.execute(
                'DELETE FROM "ocpp_frame" WHERE "station_id" = ? AND "id" < ?',
                (station_id, edge[0]),
            )
            deleted += max(cursor.rowcount, 0)
    return deleted


def stations_over(keep: int) -> list[int]:
    """Stations holding more than ``keep`` frames (one pass over the station index)."""
    rows = rawsql.fetchall(
        'SELECT "station_id" FROM "ocpp_frame" GROUP BY "station_id" HAVING COUNT(*) > ?',
        (keep,),
    )
    return [int(r[0]) for r in rows]


def delete_older_than(cutoff: dt.datetime, limit: int = 50_000) -> int:
    """Delete up to ``limit`` frames and connection events older than ``cutoff`` (oldest
    first, so a big backlog goes in several short jobs); the number of frames deleted."""
    cursor = rawsql.execute(
        'DELETE FROM "ocpp_frame" WHERE "id" IN'
        ' (SELECT "id" FROM "ocpp_frame" WHERE "at" < ? ORDER BY "at" LIMIT ?)',
        (cutoff, limit),
    )
    rawsql.execute(
        'DELETE FROM "connection_event" WHERE "id" IN'
        ' (SELECT "id" FROM "connection_event" WHERE "at" < ? ORDER BY "at" LIMIT ?)',
        (cutoff, limit),
    )
    return max(cursor.rowcount, 0)


def station_frames(
    station_id: int, limit: int, *, before: int | None = None, action: str | None = None
) -> list[dict[str, Any]]:
    """The station's ``limit`` newest frames (older than frame id ``before``; of one
    ``action`` only), oldest first."""
    query = OcppFrame.select(
        OcppFrame.id,
        OcppFrame.at,
        OcppFrame.direction,
        OcppFrame.message_type,
        OcppFrame.action,
        OcppFrame.unique_id,
        OcppFrame.payload,
    ).where(OcppFrame.station_id == station_id)
    if before is not None:
        query = query.where(OcppFrame.id < before)
    if action is not None:
        query = query.where(OcppFrame.action == action)
    rows = query.order_by(OcppFrame.id.desc()).limit(limit).dicts()
    return list(reversed(list(rows)))


def connection_events(
    *,
    station_id: int | None = None,
    site_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    after: int | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Connection events in the order written (of one station, or of one site's stations;
    else all), ``limit`` of them with an id above ``after``."""
    query = ConnectionEvent.select(
        ConnectionEvent.id,
        ConnectionEvent.at,
        ConnectionEvent.charge_box_id,
        ConnectionEvent.kind,
        ConnectionEvent.reason,
        ConnectionEvent.remote,
    )
    if station_id is not None:
        query = query.where(ConnectionEvent.station_id == station_id)
    if site_id is not None:
        of_site = Station.select(Station.id).where(Station.site == site_id)
        query = query.where(ConnectionEvent.station_id.in_(of_site))
    if since is not None:
        query = query.where(ConnectionEvent.at >= since)
    if until is not None:
        query = query.where(ConnectionEvent.at < until)
    if after is not None:
        query = query.where(ConnectionEvent.id > after)
    return list(query.order_by(ConnectionEvent.id).limit(limit).dicts())
