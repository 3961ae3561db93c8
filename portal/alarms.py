"""Alarms (SPEC §8): active alarms, alarm history and the event log, each exportable."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any
from urllib.parse import urlencode

from quart import Blueprint, render_template, request
from werkzeug.exceptions import BadRequest, NotFound

from db.alarm_views import (
    ALARM_COLUMNS,
    EVENT_COLUMNS,
    LogFilter,
    iter_alarms,
    iter_events,
    list_alarms,
    list_events,
)
from db.models import ALARM_KINDS
from portal.access import STAFF_ROLES, MenuEntry, current_principal, guard
from portal.context import get_store, selected_node
from portal.table_export import csv_response, xlsx_response
from portal.timefmt import display_zone, parse_local

__all__ = ["bp", "menu"]

bp = guard(Blueprint("alarms", __name__, url_prefix="/alarms"), STAFF_ROLES)
menu = MenuEntry("Alarms", "alarms.index", STAFF_ROLES, order=50, icon="⚠")

PAGE_SIZE = 50
VIEWS = {
    "active": ("Active alarms", ALARM_COLUMNS),
    "history": ("Alarm history", ALARM_COLUMNS),
    "events": ("Event log", EVENT_COLUMNS),
}


#: columns holding a time (naive UTC), shown and exported in the display zone
TIME_KEYS = frozenset({"raised_at", "cleared_at", "time"})


def _time_arg(name: str) -> dt.datetime | None:
    """A filter bound typed in the display zone (or with ``Z``/an offset) as naive UTC."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_local(raw)
    except ValueError:
        raise BadRequest(f"{name}: not a date or date-time ({raw!r})") from None


def _zoned(columns: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """Export headers naming the zone of their times: ``Raised (Europe/Stockholm)``."""
    zone = display_zone()
    return [(key, f"{label} ({zone})" if key in TIME_KEYS else label) for key, label in columns]


def _filter() -> LogFilter:
    principal = current_principal()
    assert principal is not None
    node = selected_node()
    return LogFilter(
        site_scope=principal.site_scope,
        node_kind=node.kind,
        node_id=node.id,
        station_id=node.station_id,
        kind=request.args.get("kind", ""),
        q=request.args.get("q", "").strip(),
        since=_time_arg("from"),
        until=_time_arg("to"),
    )


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


async def _render(view: str) -> Any:
    flt = _filter()
    page = _page_number()
    offset = (page - 1) * PAGE_SIZE
    store = get_store()
    if view == "events":
        rows, total = await store.read(partial(list_events, flt, limit=PAGE_SIZE, offset=offset))
    else:
        query = partial(list_alarms, flt, active=view == "active", limit=PAGE_SIZE, offset=offset)
        rows, total = await store.read(query)
    title, columns = VIEWS[view]
    args = {k: v for k, v in request.args.items() if k != "page"}
    return await render_template(
        "alarms/index.html",
        view=view,
        title=title,
        columns=columns,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        kinds=ALARM_KINDS if view != "events" else (),
        args=args,
        query=urlencode(args),
        page_query=lambda n: urlencode({**args, "page": n}),
    )


@bp.get("/")
async def index() -> Any:
    """Active alarms, oldest first."""
    return await _render("active")


@bp.get("/history")
async def history() -> Any:
    """Cleared alarms, latest first."""
    return await _render("history")


@bp.get("/events")
async def events() -> Any:
    """The event log, latest first."""
    return await _render("events")


@bp.get("/<view>/export.<fmt>")
async def export(view: str, fmt: str) -> Any:
    """The filtered table as .xlsx or .csv."""
    if view not in VIEWS or fmt not in ("xlsx", "csv"):
        raise NotFound("no such export")
    flt = _filter()
    title, columns = VIEWS[view]
    if view == "events":
        rows = partial(iter_events, flt)
    else:
        rows = partial(iter_alarms, flt, active=view == "active")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    filename = f"{view}-{stamp}.{fmt}"
    zone, headers = display_zone(), _zoned(columns)
    if fmt == "xlsx":
        return await xlsx_response(
            get_store(), rows, headers, title=title, filename=filename, zone=zone
        )
    return await csv_response(get_store(), rows, headers, filename=filename, zone=zone)
