"""What the gateway stores about charging: sessions (transactions) and meter samples.

Every function is one synchronous unit of work run by ``Store.write``. A re-sent
StartTransaction, StopTransaction or MeterValues is recognised by the unique indexes on
``ChargingSession`` and ``MeterSample``: no duplicate session, no double-counted energy.
Transaction ids are scoped to the station that owns them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from db.engine import rawsql
from db.ocpp.authorization import TagAuthorization, authorize_id_tag, tag_authorization
from db.ocpp.stale_sessions import STALE_STOP_REASON, ClosedSession, close_stale_sessions
from db.schema.models import AUTH_ANONYMOUS, AUTH_REFUSED, AUTH_RFID

__all__ = [
    "MeterIn",
    "MeterResult",
    "SampleIn",
    "StartResult",
    "StopResult",
    "record_meter_batch",
    "record_meter_values",
    "record_start_transaction",
    "record_stop_transaction",
    "running_sessions",
]


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
    authentication: int  # 0 Anonymous, 1 RFID, 2 Refused
    resent: bool
    meter_start: int
    closed: tuple[ClosedSession, ...] = ()  # stale sessions this start closed

    @property
    def refused(self) -> bool:
        """The station was told not to charge: kept for audit, never a running session."""
        return self.authentication == AUTH_REFUSED


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


# --- transactions -----------------------------------------------------------------


_INSERT_SAMPLES = (
    'INSERT INTO "meter_sample" ("session_id", "station_id", "connector_id", "timestamp",'
    ' "value", "measurand", "unit", "context", "phase", "location", "format")'
)


def _insert_samples(
    station_id: int, connector_id: int, session_id: int | None, samples: Iterable[SampleIn]
) -> None:
    rows = [(session_id, station_id, connector_id, *sample) for sample in samples]
    rawsql.insert_rows(_INSERT_SAMPLES, rows, "ON CONFLICT DO NOTHING")


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
    ' "energy_wh", "stop_reason", "stop_id_tag", "server_date", "end_time", "meter_stop")'
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', '', ?, ?, ?)"
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

    Sessions still open on the connector are stale (the station would not start a new
    one otherwise): they are closed first (``db.ocpp.stale_sessions``). The tag follows the
    Authorize rule (``authorize_id_tag``). An outlet in OPEN mode charges anyone: an
    unknown or refused tag is accepted as Anonymous (0); a valid badge is RFID (1) with
    its user's e-mail. Elsewhere a refused tag's session is kept for audit, marked
    Refused (2) and closed at once: it never runs, never blocks, never counts.
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
    auth = authorize_id_tag(id_tag, charge_box_id, now=now)
    if auth.accepted:
        authentication = AUTH_RFID
    elif open_mode:
        authentication = AUTH_ANONYMOUS
        auth = TagAuthorization("Accepted")
    else:
        authentication = AUTH_REFUSED
    if existing is not None:
        return StartResult(existing[0], auth, existing[1], True, meter_start)
    station = rawsql.fetchone(
        'SELECT s."name", s."site_id", t."name" FROM "station" s'
        ' LEFT OUTER JOIN "site" t ON t."id" = s."site_id" WHERE s."id" = ?',
        (station_id,),
    )
    name, site_id, site_name = station if station is not None else ("", None, "")
    closed = close_stale_sessions(
        station_id,
        charge_box_id,
        site_id,
        connector_id,
        timestamp,
        "a new StartTransaction on the connector",
        now,
    )
    known_user = authentication == AUTH_RFID
    refused = authentication == AUTH_REFUSED
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
            timestamp if refused else None,
            meter_start if refused else None,
        ),
    )
    assert row is not None
    session_id = int(row[0])
    if reservation_id is not None and not refused:
        rawsql.execute(
            'UPDATE "reservation" SET "status" = ?, "session_id" = ?'
            ' WHERE "id" = ? AND "station_id" = ?',
            ("Used", session_id, reservation_id, station_id),
        )
    _keep_message(station_id, charge_box_id, session_id, "StartTransaction", unique_id, raw, now)
    return StartResult(session_id, auth, authentication, False, meter_start, tuple(closed))


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
    """Close the station's own session ``transaction_id``; a re-sent stop changes nothing.

    A session the central system closed itself (stale, or refused at its start) takes
    the station's own stop when it comes after all: the station knows better.
    """
    auth = tag_authorization(id_tag, now=now) if id_tag else None
    session = rawsql.fetchone(
        'SELECT "id", "connector_id", "meter_start", "end_time", "energy_wh", "stop_reason"'
        ' FROM "charging_session" WHERE "id" = ? AND "charge_box_id" = ?',
        (transaction_id, charge_box_id),
    )
    if session is None:
        return StopResult(False, transaction_id, authorization=auth)
    session_id, connector_id, meter_start, end_time, energy_wh, stop_reason = session
    _insert_samples(station_id, connector_id, session_id, samples)
    if end_time is not None and stop_reason not in ("", STALE_STOP_REASON):
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


_UPDATE_LIVE_ENERGY_FROM = (
    'UPDATE "charging_session" SET "meter_last" = v."r",'
    ' "energy_wh" = v."r" - "charging_session"."meter_start" FROM v'
    ' WHERE "charging_session"."id" = v."id" AND "charging_session"."end_time" IS NULL'
    ' AND ("charging_session"."meter_last" IS NULL OR "charging_session"."meter_last" < v."r")'
)
_UPDATE_LIVE_ENERGY = (  # one row at a time, for SQLite before 3.33
    'UPDATE "charging_session" SET "meter_last" = ?2, "energy_wh" = ?2 - "meter_start"'
    ' WHERE "id" = ?1 AND "end_time" IS NULL AND ("meter_last" IS NULL OR "meter_last" < ?2)'
)


def record_meter_batch(messages: Sequence[MeterIn]) -> list[MeterResult]:
    """Store many MeterValues in one unit of work: one insert and one update statement.

    A re-sent message adds no sample (unique index) and never lowers the live energy.
    ``known_session``: the caller already knows the transaction is this station's
    session (it answered its StartTransaction), so the ownership check is skipped.
    """
    results: list[MeterResult] = []
    rows: list[tuple[Any, ...]] = []
    latest: dict[int, int] = {}  # session -> newest reading in this batch
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
        if (
            session_id is not None
            and m.reading_wh is not None
            and m.reading_wh > latest.get(session_id, -1)
        ):
            latest[session_id] = m.reading_wh
        results.append(MeterResult(session_id, False))
    rawsql.insert_rows(_INSERT_SAMPLES, rows, "ON CONFLICT DO NOTHING")
    rawsql.update_from_values(
        ("id", "r"),
        [(session_id, wh) for session_id, wh in latest.items()],
        _UPDATE_LIVE_ENERGY_FROM,
        _UPDATE_LIVE_ENERGY,
    )
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
