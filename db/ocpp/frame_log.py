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
    "delete_station_frames",
    "station_frame_ids",
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


# A station's frames are found through the index on ("id" >> BUCKET_BITS, "station_id")
# (m0022): only its newest bucket is written, so a batch of frames from thousands of
# stations dirties a few index pages instead of one per station (as ("station_id", "id")
# did). A station's frames are read bucket by bucket, newest first: one index probe per
# 65,536 frames kept (76 at 5,000 stations x 1,000 frames), a few ms for a read or a trim.
BUCKET_BITS = 16
_BUCKETS = (
    "WITH RECURSIVE b(n) AS (SELECT ? UNION ALL SELECT n - 1 FROM b WHERE n > ?) "
    f'SELECT f."id" FROM b JOIN "ocpp_frame" AS f ON (f."id" >> {BUCKET_BITS}) = b.n'
    ' WHERE f."station_id" = ? AND f."id" < ?'
)


def _id_range() -> tuple[int, int] | None:
    row = rawsql.fetchone(
        'SELECT (SELECT MIN("id") FROM "ocpp_frame"), (SELECT MAX("id") FROM "ocpp_frame")'
    )
    if row is None or row[0] is None:
        return None
    return int(row[0]), int(row[1])


def _station_ids_sql(
    station_id: int,
    before: int | None,
    tail: str,
    extra: tuple[Any, ...] = (),
    span: tuple[int, int] | None = None,
) -> tuple[str, list[Any]] | None:
    """The station's frame ids below ``before`` (bucket probes, newest bucket first);
    ``span`` is the table's (min, max) id when the caller read it already."""
    span = span or _id_range()
    if span is None:
        return None
    low, high = span
    below = high + 1 if before is None else min(before, high + 1)
    if below <= low:
        return None
    params = [(below - 1) >> BUCKET_BITS, low >> BUCKET_BITS, station_id, below, *extra]
    return f"{_BUCKETS} {tail}", params


def station_frame_ids(station_id: int, *, before: int | None = None) -> list[int]:
    """Every frame id of the station (below ``before``), newest first."""
    query = _station_ids_sql(station_id, before, 'ORDER BY f."id" DESC')
    if query is None:
        return []
    return [int(r[0]) for r in rawsql.fetchall(*query)]


def trim_stations(station_ids: Iterable[int], keep: int) -> int:
    """Delete each station's frames older than its ``keep`` newest; the number deleted."""
    deleted = 0
    span = _id_range()  # once per job: trimming only raises the lowest id (fewer buckets)
    if span is None:
        return deleted
    for station_id in station_ids:
        query = _station_ids_sql(
            station_id, None, 'ORDER BY f."id" DESC LIMIT 1000000000 OFFSET ?', (keep,), span
        )
        if query is None:
            return deleted
        cursor = rawsql.execute(f'DELETE FROM "ocpp_frame" WHERE "id" IN ({query[0]})', query[1])
        deleted += max(cursor.rowcount, 0)
    return deleted


def delete_station_frames(station_id: int) -> int:
    """Delete every frame of the station (it is being removed); the number deleted."""
    query = _station_ids_sql(station_id, None, "")
    if query is None:
        return 0
    cursor = rawsql.execute(f'DELETE FROM "ocpp_frame" WHERE "id" IN ({query[0]})', query[1])
    return max(cursor.rowcount, 0)


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
    tail = 'AND f."action" = ? ' if action is not None else ""
    query = _station_ids_sql(
        station_id,
        before,
        f'{tail}ORDER BY f."id" DESC LIMIT ?',
        (action, limit) if action is not None else (limit,),
    )
    if query is None:
        return []
    ids = [int(r[0]) for r in rawsql.fetchall(*query)]
    if not ids:
        return []
    rows = OcppFrame.select(
        OcppFrame.id,
        OcppFrame.at,
        OcppFrame.direction,
        OcppFrame.message_type,
        OcppFrame.action,
        OcppFrame.unique_id,
        OcppFrame.payload,
    ).where(OcppFrame.id.in_(ids))
    return list(rows.order_by(OcppFrame.id).dicts())


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
