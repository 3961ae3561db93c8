"""``/api/v1/alarms`` and ``/api/v1/events`` (SPEC §8) and ``/api/v1/news``; an alarm is
acknowledged, or cleared by hand where nothing else clears it, as on the Alarms page."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from quart import Blueprint, request

from db.config_errors import ConfigurationError, NotFoundError
from db.system.alarm_actions import acknowledge_alarm, clear_by_hand
from db.system.alarm_views import LogFilter, list_alarms, list_events
from db.system.news import latest_news
from portal.access import ALL_ROLES, STAFF_ROLES, guard
from portal.api.common import ApiError, forbid_unless, json_body, me, page_json, paging
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


async def _alarm_action(alarm_id: int, action: Any, event: str) -> Any:
    principal = forbid_unless(*STAFF_ROLES)
    body = await json_body()
    who = principal.email or f"API token {principal.name}".strip()
    try:
        charge_box_id, site_id = await get_store().write(
            partial(
                action,
                alarm_id,
                by=who,
                comment=str(body.get("comment") or ""),
                site_scope=principal.site_scope,
            )
        )
    except NotFoundError:
        raise ApiError(404, "not-found", "no such alarm") from None
    except ConfigurationError as exc:
        if exc.field == "comment":
            raise ApiError(400, "invalid", exc.message, field="comment") from None
        raise ApiError(409, "conflict", exc.message) from None
    from portal.alarms import publish_hand_action

    publish_hand_action(event, alarm_id, charge_box_id, site_id)
    return {"id": alarm_id, "acknowledgedBy": who}


@bp.post("/alarms/<int:alarm_id>/acknowledge")
async def alarm_acknowledge(alarm_id: int) -> Any:
    """``{"comment": "…"}`` (optional, at most 500 characters): who, when and why stay
    with the alarm, which stays active. 404 outside one's scope, 409 once cleared."""
    return await _alarm_action(alarm_id, acknowledge_alarm, "alarm.acknowledged")


@bp.post("/alarms/<int:alarm_id>/clear")
async def alarm_clear(alarm_id: int) -> Any:
    """Clear by hand a Not registered of an id no station has; 409 for any alarm that
    clears itself when its cause ends."""
    return await _alarm_action(alarm_id, clear_by_hand, "alarm.cleared")


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
