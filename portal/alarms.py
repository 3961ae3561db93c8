"""Alarms (SPEC §8): active alarms, alarm history and the event log, each exportable;
acknowledging an alarm, and clearing by hand the one kind nothing else clears."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any
from urllib.parse import urlencode

from quart import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound

from db.config_errors import ConfigurationError, NotFoundError
from db.schema.models import ALARM_KINDS, utcnow
from db.system.alarm_actions import acknowledge_alarm, clear_by_hand
from db.system.alarm_views import (
    LogFilter,
    iter_alarms,
    iter_events,
    list_alarms,
    list_events,
)
from portal.access import STAFF_ROLES, MenuEntry, current_principal, guard
from portal.context import get_gateway, get_store, page_number, selected_node
from portal.table_export import csv_response, xlsx_response
from portal.timefmt import display_zone, parse_local

__all__ = ["bp", "menu"]

bp = guard(Blueprint("alarms", __name__, url_prefix="/alarms"), STAFF_ROLES)
menu = MenuEntry("Alarms", "alarms.index", STAFF_ROLES, order=50, icon="⚠")

#: (key, label) of the exported/listed columns; times are naive UTC (shown in the
#: viewer's display zone).
ALARM_COLUMNS = (
    ("raised_at", "Raised"),
    ("cleared_at", "Cleared"),
    ("kind", "Alarm"),
    ("charge_box_id", "Station"),
    ("connector_id", "Outlet"),
    ("site", "Site"),
    ("message", "Message"),
    ("count", "Count"),
    ("acknowledged_at", "Acknowledged"),
    ("acknowledged_by", "Acknowledged by"),
    ("ack_comment", "Comment"),
)
EVENT_COLUMNS = (
    ("time", "Time"),
    ("severity", "Severity"),
    ("kind", "Event"),
    ("charge_box_id", "Station"),
    ("site", "Site"),
    ("message", "Message"),
)


PAGE_SIZE = 50
VIEWS = {
    "active": ("Active alarms", ALARM_COLUMNS),
    "history": ("Alarm history", ALARM_COLUMNS),
    "events": ("Event log", EVENT_COLUMNS),
}


ACK_KEYS = ("acknowledged_at", "acknowledged_by", "ack_comment")


def _page_columns(view: str, columns: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """The page's table: the acknowledgement in one column (the exports keep three), no
    Cleared column among the active alarms; the actions come first, always in view."""
    if view == "events":
        return list(columns)
    kept = [(k, v) for k, v in columns if k not in ACK_KEYS]
    if view == "active":
        kept = [(k, v) for k, v in kept if k != "cleared_at"]
    return [*kept, ("ack", "Acknowledged")]


#: columns holding a time (naive UTC), shown and exported in the display zone
TIME_KEYS = frozenset({"raised_at", "cleared_at", "time", "acknowledged_at"})
TIME_LABELS = {"from": "From", "to": "To"}


class FilterInputError(ValueError):
    """A filter the page cannot use; shown next to the filters, the rest still applies."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


def _time_arg(name: str) -> dt.datetime | None:
    """A filter bound typed in the display zone (or with ``Z``/an offset) as naive UTC."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_local(raw)
    except ValueError:
        raise FilterInputError(
            name,
            f"{TIME_LABELS[name]}: {raw!r} is not a date or date-time "
            "(YYYY-MM-DD or YYYY-MM-DDTHH:MM); this filter is left out.",
        ) from None


def _zoned(columns: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """Export headers naming the zone of their times: ``Raised (Europe/Stockholm)``."""
    zone = display_zone()
    return [(key, f"{label} ({zone})" if key in TIME_KEYS else label) for key, label in columns]


def _filter() -> tuple[LogFilter, list[FilterInputError]]:
    """The filter of this request, and what in it could not be used (left out)."""
    principal = current_principal()
    assert principal is not None
    node = selected_node()
    errors: list[FilterInputError] = []
    bounds: dict[str, dt.datetime | None] = {}
    for name in ("from", "to"):
        try:
            bounds[name] = _time_arg(name)
        except FilterInputError as exc:
            errors.append(exc)
            bounds[name] = None
    flt = LogFilter(
        site_scope=principal.site_scope,
        node_kind=node.kind,
        node_id=node.id,
        station_id=node.station_id,
        kind=request.args.get("kind", ""),
        q=request.args.get("q", "").strip(),
        since=bounds["from"],
        until=bounds["to"],
    )
    return flt, errors


async def _render(view: str, *, notice: str = "", status: int = 200) -> Any:
    flt, errors = _filter()
    page = page_number()
    offset = (page - 1) * PAGE_SIZE
    store = get_store()
    if view == "events":
        rows, total = await store.read(partial(list_events, flt, limit=PAGE_SIZE, offset=offset))
    else:
        query = partial(list_alarms, flt, active=view == "active", limit=PAGE_SIZE, offset=offset)
        rows, total = await store.read(query)
    title, columns = VIEWS[view]
    args = {k: v for k, v in request.args.items() if k != "page"}
    bad = {e.param for e in errors}
    export_args = {k: v for k, v in args.items() if k not in bad}
    html = await render_template(
        "alarms/index.html",
        view=view,
        title=title,
        columns=_page_columns(view, columns),
        rows=rows,
        total=total,
        page=page,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        kinds=ALARM_KINDS if view != "events" else (),
        args=args,
        query=urlencode(export_args),
        page_query=lambda n: urlencode({**args, "page": n}),
        filter_errors=errors,
        notice=notice,
        here=request.full_path.rstrip("?"),
        me=current_principal(),
    )
    return html, status


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
    flt, _bad = _filter()  # the page's export links leave out what the page could not use
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


# --- acknowledge, clear by hand ---------------------------------------------------------


def publish_hand_action(kind: str, alarm_id: int, charge_box_id: str, site_id: int | None) -> None:
    """A person's acknowledgement or clearing as a live event: the Alarms pages open in
    the site's other tabs offer a reload."""
    from gateway.events import LiveEvent

    data = {"alarmId": alarm_id, "byHand": True}
    get_gateway().events.publish(LiveEvent(kind, charge_box_id, data, utcnow(), site_id))


def _back() -> str:
    """The Alarms page the form was sent from (a path of this blueprint only)."""
    back = request.args.get("back", "")
    base = url_for("alarms.index")
    return back if back.startswith(base) and not back.startswith("//") else base


async def _alarm_action(alarm_id: int, action: Any, done: str, event: str) -> Any:
    principal = current_principal()
    assert principal is not None
    form = await request.form
    try:
        charge_box_id, site_id = await get_store().write(
            partial(
                action,
                alarm_id,
                by=principal.email,
                comment=str(form.get("comment", "")),
                site_scope=principal.site_scope,
            )
        )
    except NotFoundError:
        raise NotFound("no such alarm") from None
    except ConfigurationError as exc:
        status = 400 if exc.field == "comment" else 409
        return await _render("active", notice=exc.message, status=status)
    publish_hand_action(event, alarm_id, charge_box_id, site_id)
    await flash(done)
    return redirect(_back(), 303)


@bp.post("/<int:alarm_id>/acknowledge")
async def acknowledge(alarm_id: int) -> Any:
    """Someone saw the alarm: who, when and his comment stay with it (it stays active)."""
    return await _alarm_action(
        alarm_id, acknowledge_alarm, "Alarm acknowledged.", "alarm.acknowledged"
    )


@bp.post("/<int:alarm_id>/clear")
async def clear(alarm_id: int) -> Any:
    """Clear by hand an alarm nothing else will clear (a Not registered of an unknown id)."""
    return await _alarm_action(alarm_id, clear_by_hand, "Alarm cleared.", "alarm.cleared")
