"""``/api/v1/stations/{cbid}/messages`` and ``/api/v1/sessions/{id}/messages`` /
``meter-values``: the kept OCPP messages and meter samples, for notebooks and scripts."""

from __future__ import annotations

from functools import partial
from typing import Any

from quart import Blueprint

from db.ocpp.message_log import station_messages
from db.sessions.session_queries import session_messages, session_meter_series
from db.system.timezones import iso_utc
from portal.access import ALL_ROLES, guard
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
    if "unique_id" in out:
        out["uniqueId"] = out.pop("unique_id")
    return out


@bp.get("/stations/<cbid>/messages")
async def station_message_log(cbid: str) -> Any:
    """The station's newest kept OCPP messages (``limit``, 1–1000, default 200), oldest
    first; the gateway keeps the StartTransaction and StopTransaction frames."""
    forbid_unless("admin", "site-admin", "support")
    station = await station_or_404(cbid)
    limit = optional_int("limit")
    limit = 200 if limit is None else limit
    if not 1 <= limit <= MAX_MESSAGES:
        raise ApiError(400, "bad-request", f"limit is 1 to {MAX_MESSAGES}", field="limit")
    rows = await get_store().read(partial(station_messages, int(station["id"]), limit))
    return {"chargeBoxId": cbid, "items": [_row(r) for r in rows]}


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
