"""Alarms (SPEC §8) and the event log: raise, clear, record. Sync units of work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from db.schema.models import Alarm, Event, utcnow

__all__ = ["AlarmChange", "active_alarms", "clear_alarms", "log_event", "raise_alarm"]


@dataclass(frozen=True)
class AlarmChange:
    """What a raise or clear did, for the live event the caller publishes."""

    alarm_id: int
    kind: str
    connector_id: int
    new: bool  # raise: a new active alarm (not a repeat); clear: always True
    message: str = ""
    raised: bool = True  # False: this change cleared the alarm


def raise_alarm(
    kind: str,
    charge_box_id: str,
    *,
    station_id: int | None = None,
    site_id: int | None = None,
    connector_id: int = 0,
    message: str = "",
    now: dt.datetime | None = None,
    count: int = 1,
) -> AlarmChange:
    """Raise ``kind`` for the station/connector; a repeat of an active alarm counts up
    (by ``count``: occurrences counted elsewhere and written at once)."""
    now = now or utcnow()
    active = (
        Alarm.select()
        .where(
            (Alarm.charge_box_id == charge_box_id)
            & (Alarm.kind == kind)
            & (Alarm.connector_id == connector_id)
            & Alarm.cleared_at.is_null()
        )
        .first()
    )
    if active is not None:
        Alarm.update(count=Alarm.count + count, message=message or active.message).where(
            Alarm.id == active.id
        ).execute()
        return AlarmChange(active.id, kind, connector_id, new=False, message=message)
    alarm = Alarm.create(
        kind=kind,
        station=station_id,
        charge_box_id=charge_box_id,
        site=site_id,
        connector_id=connector_id,
        message=message,
        raised_at=now,
        count=count,
    )
    Event.create(
        time=now,
        kind="alarm.raised",
        station=station_id,
        charge_box_id=charge_box_id,
        site=site_id,
        severity="error" if kind != "No network" else "warning",
        message=f"{kind}"
        + (f" (connector {connector_id})" if connector_id else "")
        + (f": {message}" if message else ""),
    )
    return AlarmChange(alarm.id, kind, connector_id, new=True, message=message)


def clear_alarms(
    charge_box_id: str,
    kinds: Iterable[str],
    *,
    connector_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[AlarmChange]:
    """Clear the active alarms of ``kinds`` (on one connector, or all when None)."""
    now = now or utcnow()
    kinds = list(kinds)
    if not kinds:
        return []
    query = Alarm.select().where(
        (Alarm.charge_box_id == charge_box_id) & Alarm.kind.in_(kinds) & Alarm.cleared_at.is_null()
    )
    if connector_id is not None:
        query = query.where(Alarm.connector_id == connector_id)
    changes = []
    for alarm in query:
        Alarm.update(cleared_at=now).where(Alarm.id == alarm.id).execute()
        Event.create(
            time=now,
            kind="alarm.cleared",
            station=alarm.station_id,
            charge_box_id=charge_box_id,
            site=alarm.site_id,
            severity="info",
            message=f"{alarm.kind} cleared"
            + (f" (connector {alarm.connector_id})" if alarm.connector_id else ""),
        )
        changes.append(
            AlarmChange(alarm.id, alarm.kind, alarm.connector_id, new=True, raised=False)
        )
    return changes


def active_alarms(charge_box_id: str | None = None) -> list[Alarm]:
    query = Alarm.select().where(Alarm.cleared_at.is_null()).order_by(Alarm.raised_at)
    if charge_box_id is not None:
        query = query.where(Alarm.charge_box_id == charge_box_id)
    return list(query)


def log_event(
    kind: str,
    charge_box_id: str = "",
    *,
    station_id: int | None = None,
    site_id: int | None = None,
    severity: str = "info",
    message: str = "",
    now: dt.datetime | None = None,
) -> int:
    """Append one entry to the event log (SPEC §8)."""
    event = Event.create(
        time=now or utcnow(),
        kind=kind,
        station=station_id,
        charge_box_id=charge_box_id,
        site=site_id,
        severity=severity,
        message=message,
    )
    return int(event.id)
