"""``/api/v1/sessions``: charging sessions with the Statistics filters (issue 6 extends this
module with exports); scoped like the Statistics page (EV users: their own)."""

from __future__ import annotations

import os
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from quart import Blueprint, current_app, request
from quart.wrappers import Response

from db.sessions.session_export_rows import export_chunks
from db.sessions.session_filters import FilterError, SessionFilter
from db.sessions.session_queries import count_sessions, page_sessions, session_detail
from db.system.timezones import iso_utc
from portal.access import ALL_ROLES, guard
from portal.api.common import ApiError, me
from portal.context import get_store, scope_node
from portal.export_jobs import MEDIA_TYPES, export_filename, stream_csv, stream_file
from portal.session_export import EXCEL_MAX_DATA_ROWS, EXPORT_COLUMNS, write_xlsx_chunks
from portal.session_params import COLUMNS, parse_filter
from portal.statistics import cached_count

__all__ = ["bp"]

bp = guard(Blueprint("sessions", __name__), ALL_ROLES)


def _json_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return iso_utc(value)  # stored UTC: ISO 8601 with Z
    if value is not None and type(value).__name__ == "Decimal":
        return float(value)
    return value


@bp.get("/sessions")
async def sessions_list() -> Any:
    """Every Statistics column filters (``station=…``, ``start_from=…``, ``energy_min=…``),
    ``sort=-start``, ``limit``, and ``after=`` (the ``next`` cursor) for the next page."""
    params = {k: v for k, v in request.args.items() if k != "node"}
    try:
        flt = parse_filter(params)
    except FilterError as exc:
        raise ApiError(400, "bad-filter", str(exc), field=exc.param) from None
    viewer, node = me().viewer(), scope_node()  # ``?node=site:3`` scopes like the page
    page = await get_store().read(partial(page_sessions, flt, viewer, node))
    total = await cached_count(flt, viewer, node)
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


def _export_filter() -> SessionFilter:
    params = {k: v for k, v in request.args.items() if k not in ("node", "columns", "after")}
    try:
        return parse_filter(params)
    except FilterError as exc:
        raise ApiError(400, "bad-filter", str(exc), field=exc.param) from None


def _export_columns() -> list[str]:
    chosen = [c for c in request.args.get("columns", "").split(",") if c in COLUMNS]
    return chosen or list(EXPORT_COLUMNS)


@bp.get("/sessions/export.xlsx")
async def sessions_export_xlsx() -> Any:
    """The filtered sessions as an Excel workbook (a new sheet every 1,048,575 rows).

    The workbook is written to a temporary file in a worker thread (memory stays
    flat), then streamed; ``X-Total-Count`` tells how many rows it holds."""
    flt, viewer, node = _export_filter(), me().viewer(), scope_node()
    columns = _export_columns()
    sheet_rows = int(current_app.config.get("PORTAL_EXPORT_SHEET_ROWS", EXCEL_MAX_DATA_ROWS))
    handle, name = tempfile.mkstemp(prefix="sessions-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)

    def work() -> tuple[int, int]:
        try:
            chunks = export_chunks(flt, viewer, node, columns, prefetch=True)
            total = write_xlsx_chunks(chunks, path, columns=columns, sheet_rows=sheet_rows)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return total, path.stat().st_size

    total, size = await get_store().read(work)
    response = Response(stream_file(path, delete=True), mimetype=MEDIA_TYPES["xlsx"])
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename("xlsx")}"'
    response.headers["Content-Length"] = str(size)
    response.headers["X-Total-Count"] = str(total)
    return response


@bp.get("/sessions/export.csv")
async def sessions_export_csv() -> Any:
    """The filtered sessions as CSV, streamed while it is read (``X-Total-Count`` first)."""
    flt, viewer, node = _export_filter(), me().viewer(), scope_node()
    total = await get_store().read(partial(count_sessions, flt, viewer, node))
    body = stream_csv(get_store(), flt, viewer, node, columns=_export_columns())
    response = Response(body, mimetype=MEDIA_TYPES["csv"])
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename("csv")}"'
    response.headers["X-Total-Count"] = str(total)
    return response
