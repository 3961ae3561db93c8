"""What people and the watchdog do to alarms beyond raise/clear: acknowledge, clear by hand,
and "Not registered" for a configured station that never connected (SPEC §8)."""

from __future__ import annotations

import datetime as dt

from db.config_errors import ConfigurationError, NotFoundError
from db.schema.models import Alarm, Station, utcnow
from db.system.alarms import AlarmChange, clear_alarms, log_event, raise_alarm
from db.system.settings import get_setting

__all__ = [
    "NOT_REGISTERED",
    "AlarmRefusedError",
    "acknowledge_alarm",
    "can_clear_by_hand",
    "check_registrations",
    "clear_by_hand",
    "never_connected_after",
]

NOT_REGISTERED = "Not registered"
COMMENT_MAX = 500


class AlarmRefusedError(ConfigurationError):
    """The alarm is there but this cannot be done to it (already cleared, clears itself)."""


def can_clear_by_hand(kind: str, charge_box_id: str, *, configured: bool) -> bool:
    """Only a "Not registered" of an id no station has: nothing will ever clear it. Every
    other alarm clears itself when its condition ends (a configured station that never
    connected: when it connects)."""
    return kind == NOT_REGISTERED and not configured


def _alarm_in_scope(alarm_id: int, site_scope: int | None) -> Alarm:
    query = Alarm.select().where(Alarm.id == alarm_id)
    if site_scope is not None:
        query = query.where(Alarm.site == site_scope)
    alarm = query.first()
    if alarm is None:
        raise NotFoundError("No such alarm.")
    return alarm


def _comment(comment: str) -> str:
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ConfigurationError(
            f"A comment has at most {COMMENT_MAX} characters.", field="comment"
        )
    return comment


def acknowledge_alarm(
    alarm_id: int,
    *,
    by: str,
    comment: str = "",
    site_scope: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[str, int | None]:
    """``by`` (an e-mail) saw the active alarm: who, when and his comment are kept.
    Returns the alarm's (charge box id, site id) for the live event."""
    now = now or utcnow()
    alarm = _alarm_in_scope(alarm_id, site_scope)  # first: 404 before any other answer
    text = _comment(comment)
    if alarm.cleared_at is not None:
        raise AlarmRefusedError("This alarm is already cleared.")
    Alarm.update(acknowledged_at=now, acknowledged_by=by, ack_comment=text).where(
        Alarm.id == alarm.id
    ).execute()
    log_event(
        "alarm.acknowledged",
        alarm.charge_box_id,
        station_id=alarm.station_id,
        site_id=alarm.site_id,
        message=f"{alarm.kind} acknowledged by {by}" + (f": {text}" if text else ""),
        now=now,
    )
    return alarm.charge_box_id, alarm.site_id


def clear_by_hand(
    alarm_id: int,
    *,
    by: str,
    comment: str = "",
    site_scope: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[str, int | None]:
    """Clear an alarm whose condition cannot clear itself (``can_clear_by_hand``).
    Returns the alarm's (charge box id, site id) for the live event."""
    now = now or utcnow()
    alarm = _alarm_in_scope(alarm_id, site_scope)  # first: 404 before any other answer
    text = _comment(comment)
    if alarm.cleared_at is not None:
        raise AlarmRefusedError("This alarm is already cleared.")
    configured = Station.select().where(Station.charge_box_id == alarm.charge_box_id).exists()
    if not can_clear_by_hand(alarm.kind, alarm.charge_box_id, configured=configured):
        raise AlarmRefusedError(
            f"{alarm.kind} clears itself when its cause ends"
            + (" (when the station connects)." if alarm.kind == NOT_REGISTERED else ".")
            + " Acknowledge it instead."
        )
    if not alarm.acknowledged_at:
        Alarm.update(acknowledged_at=now, acknowledged_by=by, ack_comment=text).where(
            Alarm.id == alarm.id
        ).execute()
    # one active alarm per (id, kind, connector): raise_alarm counts repeats up
    clear_alarms(alarm.charge_box_id, [alarm.kind], connector_id=alarm.connector_id, now=now)
    log_event(
        "alarm.cleared_by_hand",
        alarm.charge_box_id,
        site_id=alarm.site_id,
        message=f"{alarm.kind} cleared by {by}" + (f": {text}" if text else ""),
        now=now,
    )
    return alarm.charge_box_id, alarm.site_id


def never_connected_after() -> dt.timedelta | None:
    """The system setting: how long a configured station may stay unconnected before
    "Not registered" (None: never)."""
    raw = get_setting("alarms.not_registered_hours")
    try:
        hours = float(raw)
    except ValueError:
        return None
    return dt.timedelta(hours=hours) if hours > 0 else None


def check_registrations(
    online: set[str], *, now: dt.datetime | None = None
) -> list[tuple[str, int | None, AlarmChange]]:
    """One watchdog pass: raise "Not registered" for stations configured longer ago than
    the setting that never connected; clear it for stations now online.
    Returns (charge box id, site id, change) for the live events."""
    now = now or utcnow()
    changes: list[tuple[str, int | None, AlarmChange]] = []
    active = {
        a.charge_box_id: a
        for a in Alarm.select(Alarm.charge_box_id, Alarm.site).where(
            (Alarm.kind == NOT_REGISTERED) & Alarm.cleared_at.is_null()
        )
    }
    for cbid in sorted(set(active) & online):
        site_id = active[cbid].site_id
        changes.extend((cbid, site_id, c) for c in clear_alarms(cbid, [NOT_REGISTERED], now=now))
    after = never_connected_after()
    if after is None:
        return changes
    waiting = Station.select(
        Station.id, Station.charge_box_id, Station.site, Station.created_at
    ).where(Station.first_connected_at.is_null() & (Station.created_at <= now - after))
    for station in waiting:
        if station.charge_box_id in active or station.charge_box_id in online:
            continue
        change = raise_alarm(
            NOT_REGISTERED,
            station.charge_box_id,
            station_id=station.id,
            site_id=station.site_id,
            message=(
                f"configured {station.created_at:%Y-%m-%d %H:%M} UTC and never connected "
                f"(more than {after.total_seconds() / 3600:g} h)"
            ),
            now=now,
        )
        changes.append((station.charge_box_id, station.site_id, change))
    return changes
