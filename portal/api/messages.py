"""``/api/v1/stations/{cbid}/messages`` (the station's OCPP-J frames), ``/connections``
(its connections opened and closed), ``/api/v1/sessions/{id}/messages`` / ``meter-values``:
the kept OCPP messages, connection log and meter samples, for notebooks and scripts."""

from __future__ import annotations

from functools import partial
from typing import Any

from quart import Blueprint, request

from db.ocpp.frame_log import connection_events, station_frames
from db.sessions.session_queries import session_messages, session_meter_series
from db.system.timezones import iso_utc
from portal.access import ALL_ROLES, STAFF_ROLES, guard
from portal.api.alarms import _time
from portal.api.common import ApiError, forbid_unless, me, optional_int
from portal.api.stations import station_or_404
from portal.context import get_store

__all__ = ["bp"]

bp = guard(Blueprint("messages", __name__), ALL_ROLES)

MAX_MESSAGES = 1000


def _row(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: iso_utc(v) if hasattr(v, "isoformat") else v for k, v in row.items()}
    if "received_at" in out:
        out["receivedAt"] = out.pop("received_at")
    for name, camel in (
        ("unique_id", "uniqueId"),
        ("message_type", "messageType"),
        ("charge_box_id", "chargeBoxId"),
    ):
        if name in out:
            out[camel] = out.pop(name)
    return out


@bp.get("/stations/<cbid>/messages")
async def station_message_log(cbid: str) -> Any:
    """The station's newest OCPP-J frames, both ways (``limit``, 1–1000, default 200), oldest
    first; ``before`` (a frame id) pages to older ones, ``action`` keeps one action's Calls
    and their replies. ``payload`` is the frame as on the wire. The gateway keeps the newest
    frames per station up to a count and an age (its ``frame_log_*`` settings)."""
    forbid_unless("admin", "site-admin", "support")
    station = await station_or_404(cbid)
    limit = optional_int("limit")
    limit = 200 if limit is None else limit
    if not 1 <= limit <= MAX_MESSAGES:
        raise ApiError(400, "bad-request", f"limit is 1 to {MAX_MESSAGES}", field="limit")
    action = request.args.get("action") or None
    query = partial(station_frames, int(station["id"]), limit, before=optional_int("before"))
    rows = await get_store().read(partial(query, action=action))
    items = []
    for row in rows:
        item = _row(row)
        item["receivedAt"] = item.pop("at")
        items.append(item)
    return {"chargeBoxId": cbid, "items": items}


def _connections(rows: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    items = [_row(r) for r in rows]
    return {"items": items, "next": items[-1]["id"] if len(items) == limit else None}


def _limit() -> int:
    limit = optional_int("limit")
    limit = MAX_MESSAGES if limit is None else limit
    if not 1 <= limit <= MAX_MESSAGES:
        raise ApiError(400, "bad-request", f"limit is 1 to {MAX_MESSAGES}", field="limit")
    return limit


@bp.get("/stations/<cbid>/connections")
async def station_connections(cbid: str) -> Any:
    """The station's connections opened and closed (``from``/``to``, ``after`` an event id,
    ``limit``), in order; ``next`` is the ``after`` of the next page (null: no more)."""
    forbid_unless("admin", "site-admin", "support")
    station = await station_or_404(cbid)
    limit = _limit()
    rows = await get_store().read(
        partial(
            connection_events,
            station_id=int(station["id"]),
            since=_time("from"),
            until=_time("to"),
            after=optional_int("after"),
            limit=limit,
        )
    )
    return {"chargeBoxId": cbid, **_connections(rows, limit)}


@bp.get("/connections")
async def all_connections() -> Any:
    """Every station's connection events in the caller's scope (a site administrator: his
    site), ``from``/``to``, ``site`` (an id), paged with ``after``/``limit`` like above."""
    forbid_unless(*STAFF_ROLES)
    scope = me().site_scope
    site = optional_int("site")
    if scope is not None and site is not None and site != scope:
        return {"items": [], "next": None}  # other sites do not exist for him
    limit = _limit()
    rows = await get_store().read(
        partial(
            connection_events,
            site_id=scope if scope is not None else site,
            since=_time("from"),
            until=_time("to"),
            after=optional_int("after"),
            limit=limit,
        )
    )
    return _connections(rows, limit)


@bp.get("/sessions/<int:session_id>/messages")
async def session_message_log(session_id: int) -> Any:
    """Every kept OCPP message of one session, in order (scoped like the session)."""
    rows = await get_store().read(session_messages, session_id, me().viewer())
    if rows is None:
        raise ApiError(404, "not-found", f"no session {session_id}")
    return {"items": [_row(r) for r in rows]}


@bp.get("/sessions/<int:session_id>/meter-values")
async def session_meter_values(session_id: int) -> Any:
    """The session's sampled values over time (measurand, value, unit, phase)."""
    rows = await get_store().read(session_meter_series, session_id, me().viewer())
    if rows is None:
        raise ApiError(404, "not-found", f"no session {session_id}")
    return {"items": [_row(r) for r in rows]}
