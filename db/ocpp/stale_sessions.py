"""Stale sessions: closing a session whose StopTransaction never came, so it never blocks charging.

A station that rebooted, lost power or dropped a StopTransaction leaves its session
open. The gateway closes it when the evidence says it is over (a new StartTransaction
on the same connector, the connector idle for a grace period, a reboot with the
connector idle): the end is the last meter sample (or the moment of the evidence), the
meter stop the last known reading, and the stop reason ``STALE_STOP_REASON``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from db.engine import rawsql
from db.schema.models import MeterSample
from db.system.alarms import log_event

__all__ = ["STALE_STOP_REASON", "ClosedSession", "close_stale_sessions"]

#: The stop reason of a session closed by the central system (shown in Statistics).
STALE_STOP_REASON = "no StopTransaction received"

_to_datetime = MeterSample.timestamp.python_value  # SQLite hands back text


@dataclass(frozen=True)
class ClosedSession:
    """A session the central system closed; what the station would have reported."""

    transaction_id: int
    connector_id: int
    end_time: dt.datetime
    meter_stop: int
    energy_wh: int


def close_stale_sessions(
    station_id: int,
    charge_box_id: str,
    site_id: int | None,
    connector_id: int,
    at: dt.datetime,
    why: str,
    now: dt.datetime,
    *,
    except_id: int | None = None,
) -> list[ClosedSession]:
    """Close the sessions still open on the connector that started no later than ``at``.

    Each ends at its last meter sample (never after ``at``, never before its start) or
    at ``at`` without samples, with the last known reading as meter stop; each is
    written to the event log (warning) with ``why``.
    """
    rows = rawsql.fetchall(
        'SELECT "id", "start_time", "meter_start", "meter_last" FROM "charging_session"'
        ' WHERE "charge_box_id" = ? AND "connector_id" = ? AND "end_time" IS NULL'
        ' AND "start_time" <= ?',
        (charge_box_id, connector_id, at),
    )
    closed: list[ClosedSession] = []
    for session_id, start, meter_start, meter_last in rows:
        if session_id == except_id:
            continue
        start = _to_datetime(start)
        last = rawsql.fetchone(
            'SELECT MAX("timestamp") FROM "meter_sample" WHERE "session_id" = ?', (session_id,)
        )
        last_sample = _to_datetime(last[0]) if last is not None and last[0] is not None else None
        end = at if last_sample is None else min(at, last_sample)
        end = max(end, start)
        meter_stop = int(meter_last if meter_last is not None else meter_start)
        energy = max(0, meter_stop - int(meter_start))
        rawsql.execute(
            'UPDATE "charging_session" SET "end_time" = ?, "meter_stop" = ?, "meter_last" = ?,'
            ' "energy_wh" = ?, "stop_reason" = ?, "stopped_server_date" = ?'
            ' WHERE "id" = ? AND "end_time" IS NULL',
            (end, meter_stop, meter_stop, energy, STALE_STOP_REASON, now, session_id),
        )
        log_event(
            "session.stale_closed",
            charge_box_id,
            station_id=station_id,
            site_id=site_id,
            severity="warning",
            message=(
                f"transaction {session_id} on connector {connector_id} closed:"
                f" {STALE_STOP_REASON} ({why}); {energy} Wh"
            ),
            now=now,
        )
        closed.append(ClosedSession(session_id, connector_id, end, meter_stop, energy))
    return closed
