"""Alarms and the event log as the portal lists and exports them (SPEC §8), scoped by site
and Navigator node. Raising and clearing alarms is the gateway's (``db.system.alarms``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import peewee as pw

from db.schema.models import Alarm, Event, Station

__all__ = [
    "LogFilter",
    "alarm_counts",
    "iter_alarms",
    "iter_events",
    "list_alarms",
    "list_events",
]


@dataclass(frozen=True)
class LogFilter:
    """Who looks (``site_scope``), at which node, and what he filters on."""

    site_scope: int | None = None
    node_kind: str = "system"
    node_id: int | None = None
    station_id: int | None = None  # for station/outlet nodes
    kind: str = ""
    q: str = ""  # station id or message contains
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _site_names() -> dict[int, str]:
    from db.schema.models import Site

    return {s.id: s.name for s in Site.select(Site.id, Site.name)}


def _scoped(query: pw.ModelSelect, model: Any, flt: LogFilter) -> pw.ModelSelect:
    if flt.site_scope is not None:
        query = query.where(model.site == flt.site_scope)
    if flt.node_kind == "site":
        query = query.where(model.site == flt.node_id)
    elif flt.node_kind == "floor":
        in_floor = Station.select(Station.id).where(Station.floor == flt.node_id)
        query = query.where(model.station.in_(in_floor))
    elif flt.node_kind in ("station", "outlet"):
        query = query.where(model.station == flt.station_id)
    if flt.kind:
        query = query.where(model.kind == flt.kind)
    if flt.q:
        like = f"%{flt.q}%"
        query = query.where((model.charge_box_id**like) | (model.message**like))
    return query


def _alarm_query(flt: LogFilter, active: bool) -> pw.ModelSelect:
    query = Alarm.select()
    query = query.where(Alarm.cleared_at.is_null() if active else Alarm.cleared_at.is_null(False))
    if flt.node_kind == "outlet" and flt.node_id is not None:
        from db.schema.models import Outlet

        outlet = Outlet.get_or_none(Outlet.id == flt.node_id)
        if outlet is not None:
            query = query.where(Alarm.connector_id.in_([0, outlet.connector_id]))
    if flt.since is not None:
        query = query.where(Alarm.raised_at >= flt.since)
    if flt.until is not None:
        query = query.where(Alarm.raised_at < flt.until)
    return _scoped(query, Alarm, flt)


def _alarm_row(a: Any, sites: dict[int, str]) -> dict[str, Any]:
    return {
        "id": a.id,
        "raised_at": a.raised_at,
        "cleared_at": a.cleared_at,
        "kind": a.kind,
        "charge_box_id": a.charge_box_id,
        "connector_id": a.connector_id,
        "site": sites.get(a.site_id, ""),
        "message": a.message,
        "count": a.count,
        "acknowledged_at": a.acknowledged_at,
        "acknowledged_by": a.acknowledged_by,
        "ack_comment": a.ack_comment,
    }


def list_alarms(
    flt: LogFilter, *, active: bool, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Active alarms (oldest first) or the history (latest cleared first); (page, total)."""
    query = _alarm_query(flt, active)
    total = query.count()
    order = (Alarm.raised_at.asc(), Alarm.id) if active else (Alarm.cleared_at.desc(), Alarm.id)
    sites = _site_names()
    rows = [_alarm_row(a, sites) for a in query.order_by(*order).limit(limit).offset(offset)]
    _mark_clearable(rows)
    return rows, total


def _mark_clearable(rows: list[dict[str, Any]]) -> None:
    """``clearable``: an active alarm nothing will clear but a person
    (``db.system.alarm_actions``)."""
    from db.system.alarm_actions import can_clear_by_hand

    ids = {r["charge_box_id"] for r in rows if r["cleared_at"] is None}
    configured = {
        s.charge_box_id
        for s in Station.select(Station.charge_box_id).where(Station.charge_box_id.in_(ids))
    }
    for row in rows:
        row["clearable"] = row["cleared_at"] is None and can_clear_by_hand(
            row["kind"], row["charge_box_id"], configured=row["charge_box_id"] in configured
        )


def iter_alarms(flt: LogFilter, *, active: bool, chunk: int = 5000) -> Iterator[dict[str, Any]]:
    """Every alarm the filter selects, fetched ``chunk`` rows at a time by id."""
    sites = _site_names()
    last = 0
    while True:
        query = _alarm_query(flt, active).where(Alarm.id > last).order_by(Alarm.id).limit(chunk)
        batch: list[Any] = list(query)
        for alarm in batch:
            yield _alarm_row(alarm, sites)
        if len(batch) < chunk:
            return
        last = batch[-1].id


def _event_query(flt: LogFilter) -> pw.ModelSelect:
    query = Event.select()
    if flt.since is not None:
        query = query.where(Event.time >= flt.since)
    if flt.until is not None:
        query = query.where(Event.time < flt.until)
    return _scoped(query, Event, flt)


def _event_row(e: Any, sites: dict[int, str]) -> dict[str, Any]:
    return {
        "id": e.id,
        "time": e.time,
        "severity": e.severity,
        "kind": e.kind,
        "charge_box_id": e.charge_box_id,
        "site": sites.get(e.site_id, ""),
        "message": e.message,
    }


def list_events(
    flt: LogFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """The event log, latest first; (page, total)."""
    query = _event_query(flt)
    total = query.count()
    sites = _site_names()
    page = query.order_by(Event.time.desc(), Event.id.desc()).limit(limit).offset(offset)
    return [_event_row(e, sites) for e in page], total


def iter_events(flt: LogFilter, *, chunk: int = 5000) -> Iterator[dict[str, Any]]:
    sites = _site_names()
    last = 0
    while True:
        batch: list[Any] = list(
            _event_query(flt).where(Event.id > last).order_by(Event.id).limit(chunk)
        )
        for event in batch:
            yield _event_row(event, sites)
        if len(batch) < chunk:
            return
        last = batch[-1].id


def alarm_counts(site_scope: int | None = None) -> dict[str, int]:
    """Active alarms per kind (for the dashboard panel and the menu badge)."""
    query = Alarm.select(Alarm.kind, pw.fn.COUNT(Alarm.id).alias("n")).where(
        Alarm.cleared_at.is_null()
    )
    if site_scope is not None:
        query = query.where(Alarm.site == site_scope)
    return {row.kind: row.n for row in query.group_by(Alarm.kind)}
