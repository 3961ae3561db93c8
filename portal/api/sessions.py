"""``/api/v1/sessions``: charging sessions with the Statistics filters (issue 6 extends this
module with exports); scoped like the Statistics page (EV users: their own)."""

from __future__ import annotations

from functools import partial
from typing import Any

from quart import Blueprint, request

from db.session_filters import FilterError, SessionFilter
from db.session_queries import count_sessions, page_sessions, session_detail
from portal.access import ALL_ROLES, guard
from portal.api.common import ApiError, me
from portal.context import get_store

__all__ = ["bp"]

bp = guard(Blueprint("sessions", __name__), ALL_ROLES)


def _json_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is not None and type(value).__name__ == "Decimal":
        return float(value)
    return value


@bp.get("/sessions")
async def sessions_list() -> Any:
    """Every Statistics column filters (``station=…``, ``start_from=…``, ``energy_min=…``),
    ``sort=-start``, ``limit``, and ``after=`` (the ``next`` cursor) for the next page."""
    params = {k: v for k, v in request.args.items() if k != "node"}
    try:
        flt = SessionFilter.from_params(params)
    except FilterError as exc:
        raise ApiError(400, "bad-filter", str(exc), field=exc.param) from None
    viewer = me().viewer()
    page = await get_store().read(partial(page_sessions, flt, viewer))
    total = await get_store().read(partial(count_sessions, flt, viewer))
    return {
        "items": [{k: _json_value(v) for k, v in row.items()} for row in page.rows],
        "total": total,
        "limit": flt.limit,
        "next": page.next_cursor,
    }


@bp.get("/sessions/<int:session_id>")
async def session_read(session_id: int) -> Any:
    found = await get_store().read(session_detail, session_id, me().viewer())
    if found is None:
        raise ApiError(404, "not-found", f"no session {session_id}")
    return {k: _json_value(v) for k, v in found.items()}
