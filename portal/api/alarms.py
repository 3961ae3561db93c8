"""``/api/v1/alarms`` and ``/api/v1/events`` (SPEC §8) and ``/api/v1/news``, read-only."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from quart import Blueprint, request

from db.alarm_views import LogFilter, list_alarms, list_events
from db.news import latest_news
from portal.access import ALL_ROLES, STAFF_ROLES, guard
from portal.api.common import ApiError, forbid_unless, me, page_json, paging
from portal.context import get_store, selected_node

__all__ = ["bp"]

bp = guard(Blueprint("alarms", __name__), ALL_ROLES)


def _time(name: str) -> dt.datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "bad-request", f"{name} is an ISO 8601 date-time", field=name) from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _filter() -> LogFilter:
    node = selected_node()
    return LogFilter(
        site_scope=me().site_scope,
        node_kind=node.kind,
        node_id=node.id,
        station_id=node.station_id,
        kind=request.args.get("kind", ""),
        q=request.args.get("q", ""),
        since=_time("from"),
        until=_time("to"),
    )


def _json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (value.isoformat() + "Z" if isinstance(value, dt.datetime) else value)
        for key, value in row.items()
    }


@bp.get("/alarms")
async def alarms_list() -> Any:
    """Alarms: ``state=active`` (default) or ``cleared``; filters node, kind, q, from, to."""
    forbid_unless(*STAFF_ROLES)
    limit, offset = paging()
    state = request.args.get("state", "active")
    if state not in ("active", "cleared"):
        raise ApiError(400, "bad-request", "state is active or cleared", field="state")
    query = partial(list_alarms, _filter(), active=state == "active", limit=limit, offset=offset)
    rows, total = await get_store().read(query)
    return page_json([_json(r) for r in rows], total, limit, offset)


@bp.get("/events")
async def events_list() -> Any:
    """The event log, latest first; filters node, kind, q, from, to."""
    forbid_unless(*STAFF_ROLES)
    limit, offset = paging()
    rows, total = await get_store().read(
        partial(list_events, _filter(), limit=limit, offset=offset)
    )
    return page_json([_json(r) for r in rows], total, limit, offset)


@bp.get("/news")
async def news_list() -> Any:
    """Portal news, latest first (everyone logged in)."""
    items = await get_store().read(latest_news, 50)
    return {"items": [item.public() for item in items]}
