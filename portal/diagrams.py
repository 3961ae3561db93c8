"""Diagrams (SPEC §5): predefined charts for the selected node, with a timeline for the range.

The page holds the chart menu, a canvas and the timeline; the browser fetches the
chart (``/diagrams/data``) and the timeline's overview (``/diagrams/timeline``) as
JSON. Every number is aggregated in SQL (``db.sessions.session_aggregates``). Days, weeks,
months, hours and weekdays are those of the display zone (``portal.timefmt``): the range
in the URL is local dates, the queries get its UTC bounds and the zone.
"""

from __future__ import annotations

import datetime as dt
import time
from functools import partial
from typing import Any

from quart import Blueprint, current_app, jsonify, render_template, request, url_for

from db.schema.models import utcnow
from db.sessions.session_aggregates import (
    CHARTS,
    auth_share,
    by_hour,
    by_weekday,
    data_span,
    energy_by_station,
    energy_per,
    occupancy,
    peak_power,
    sessions_per_day,
)
from db.system.timezones import local_to_utc
from db.topology.scope import Node, Viewer
from portal.access import STAFF_ROLES, MenuEntry, current_principal, guard
from portal.context import get_store, scope_node, selected_node
from portal.timefmt import display_zone, to_local

__all__ = ["bp", "menu"]

bp = guard(Blueprint("diagrams", __name__, url_prefix="/diagrams"), STAFF_ROLES)
menu = MenuEntry("Diagrams", "diagrams.index", STAFF_ROLES, order=20, icon="◔")

DEFAULT_DAYS = 30
TIMELINE_DAYS = 2 * 366
_TIMELINE_TTL = 120.0
#: a chart is computed once a minute per viewer, node and range (a year of a large
#: system takes seconds; moving back to a range seen a moment ago should not)
CHART_TTL = 60.0


class RangeError(ValueError):
    pass


def _viewer() -> Viewer:
    principal = current_principal()
    assert principal is not None
    return principal.viewer()


def _day(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.strip().replace("T", " "))
    except ValueError:
        raise RangeError(f"not a date: {text!r} (YYYY-MM-DD)") from None


async def _range(viewer: Viewer, node: Node) -> tuple[dt.datetime, dt.datetime]:
    """``[from, to)`` from the URL as local wall-clock times of the display zone; by
    default the last 30 (local) days that have data."""
    start, end = _day(request.args.get("from")), _day(request.args.get("to"))
    if start is not None and end == start:
        end = start + dt.timedelta(days=1)  # one day: from=to=that day
    if end is None:
        if start is not None:
            end = start + dt.timedelta(days=DEFAULT_DAYS)
        else:
            _, last = await get_store().read(data_span, viewer, node)
            latest = to_local(min(last or utcnow(), utcnow()))
            end = dt.datetime.combine(latest.date() + dt.timedelta(days=1), dt.time())
    if start is None:
        start = end - dt.timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise RangeError("the range must start before it ends")
    return start, end


@bp.get("/")
async def index() -> Any:
    chart = request.args.get("chart", "energy-day")
    if chart not in CHARTS:
        chart = "energy-day"
    viewer, node = _viewer(), scope_node()
    error = ""
    try:
        start, end = await _range(viewer, node)
    except RangeError as exc:
        error = str(exc)
        end = dt.datetime.combine(to_local(utcnow()).date() + dt.timedelta(days=1), dt.time())
        start = end - dt.timedelta(days=DEFAULT_DAYS)
    node_key = request.args.get("node", "")
    base: dict[str, Any] = {"node": node_key} if node_key else {}
    return await render_template(
        "diagrams/index.html",
        charts=CHARTS,
        chart=chart,
        start=start,
        end=end,
        last_day=(end - dt.timedelta(microseconds=1)).date(),
        error=error,
        chart_url=lambda key: url_for(
            "diagrams.index",
            chart=key,
            **(base | {"from": start.date().isoformat(), "to": end.date().isoformat()}),
        ),
        data_url=url_for("diagrams.data", **base),
        timeline_url=url_for("diagrams.timeline", **base),
        node_key=node_key,
        selected=selected_node(),
    )


def _chart(
    kind: str, title: str, labels: list[Any], datasets: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {"type": kind, "title": title, "labels": labels, "datasets": datasets, **extra}


@bp.get("/data")
async def data() -> Any:
    """One chart as JSON: ``{type, title, labels, datasets, from, to}``."""
    chart = request.args.get("chart", "energy-day")
    if chart not in CHARTS:
        return jsonify(error="unknown-chart", message=f"charts: {', '.join(CHARTS)}"), 400
    viewer, node = _viewer(), scope_node()
    try:
        start, end = await _range(viewer, node)
    except RangeError as exc:
        return jsonify(error="bad-range", message=str(exc)), 400
    cache: dict[Any, tuple[float, dict[str, Any]]] = current_app.extensions.setdefault(
        "chargeportal_charts", {}
    )
    zone = display_zone()
    key = (viewer, node, chart, start, end, zone)
    hit = cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CHART_TTL:
        return jsonify(hit[1])
    body = await _chart_body(chart, viewer, node, start, end, zone)
    if len(cache) > 500:
        cache.clear()
    cache[key] = (time.monotonic(), body)
    return jsonify(body)


async def _chart_body(
    chart: str,
    viewer: Viewer,
    node: Node,
    local_start: dt.datetime,
    local_end: dt.datetime,
    zone: str,
) -> dict[str, Any]:
    """The chart over local ``[local_start, local_end)`` with buckets of ``zone``."""
    read = get_store().read
    title = CHARTS[chart]
    start, end = local_to_utc(local_start, zone), local_to_utc(local_end, zone)
    if chart.startswith("energy-") or chart == "sessions-day":
        unit = "day" if chart == "sessions-day" else chart.split("-")[1]
        rows = await read(partial(energy_per, unit, viewer, node, start, end, zone=zone))
        labels = [r["bucket"] for r in rows]
        energy = {"label": "Energy (kWh)", "data": [r["energy_kwh"] for r in rows], "axis": "y"}
        sessions = {
            "label": "Sessions",
            "data": [r["sessions"] for r in rows],
            "axis": "y1",
            "type": "line",
        }
        sets = [sessions] if chart == "sessions-day" else [energy, sessions]
        if chart == "sessions-day":
            sessions.update(axis="y", type="bar")
        body = _chart("bar", title, labels, sets)
    elif chart == "occupancy":
        rows = await read(partial(occupancy, viewer, node, start, end, zone=zone))
        body = _chart(
            "line",
            title,
            [r["bucket"][:16] for r in rows],
            [
                {
                    "label": "Outlets in use (%)",
                    "data": [round(r["occupancy"] * 100, 2) for r in rows],
                    "axis": "y",
                }
            ],
            outlets=rows[0]["outlets"] if rows else 0,
        )
    elif chart == "by-hour":
        rows = await read(partial(by_hour, viewer, node, start, end, zone=zone))
        body = _chart(
            "bar",
            title,
            [f"{r['hour']:02d}:00" for r in rows],
            [{"label": "Sessions", "data": [r["sessions"] for r in rows], "axis": "y"}],
        )
    elif chart == "by-weekday":
        rows = await read(partial(by_weekday, viewer, node, start, end, zone=zone))
        body = _chart(
            "bar",
            title,
            [r["name"] for r in rows],
            [{"label": "Sessions", "data": [r["sessions"] for r in rows], "axis": "y"}],
        )
    elif chart == "by-station":
        rows = await read(energy_by_station, viewer, node, start, end)
        body = _chart(
            "bar",
            title,
            [
                f"{r['station']} ({r['node']})" if r["station"] != r["node"] else r["node"]
                for r in rows
            ],
            [{"label": "Energy (kWh)", "data": [r["energy_kwh"] for r in rows], "axis": "x"}],
            horizontal=True,
        )
    elif chart == "auth-share":
        rows = await read(auth_share, viewer, node, start, end)
        body = _chart(
            "doughnut",
            title,
            [r["auth"] for r in rows],
            [{"label": "Sessions", "data": [r["sessions"] for r in rows]}],
            energy_kwh=[r["energy_kwh"] for r in rows],
        )
    else:  # peak-power
        rows = await read(partial(peak_power, "day", viewer, node, start, end, zone=zone))
        body = _chart(
            "line",
            title,
            [r["bucket"] for r in rows],
            [
                {
                    "label": "Highest session average (kW)",
                    "data": [r["session_kw"] for r in rows],
                    "axis": "y",
                },
                {
                    "label": "Highest sampled power (kW)",
                    "data": [r["sample_kw"] for r in rows],
                    "axis": "y",
                },
            ],
        )
    body.update(
        {
            "chart": chart,
            "from": local_start.isoformat(sep=" "),
            "to": local_end.isoformat(sep=" "),
            "zone": zone,
        }
    )
    return body


@bp.get("/timeline")
async def timeline() -> Any:
    """Sessions per day over the data's whole span (up to two years): the timeline's overview."""
    viewer, node, zone = _viewer(), scope_node(), display_zone()
    key = (viewer, node, zone)
    _timeline_cache: dict[Any, tuple[float, dict[str, Any]]] = current_app.extensions.setdefault(
        "chargeportal_timeline", {}
    )
    cached = _timeline_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < _TIMELINE_TTL:
        return jsonify(cached[1])
    first, last = await get_store().read(data_span, viewer, node)
    if first is None or last is None:
        body: dict[str, Any] = {"days": [], "first": None, "last": None}
    else:
        first, last = to_local(first), to_local(last)  # local days
        end = dt.datetime.combine(last.date() + dt.timedelta(days=1), dt.time())
        start = max(
            dt.datetime.combine(first.date(), dt.time()), end - dt.timedelta(days=TIMELINE_DAYS)
        )
        days = await get_store().read(
            partial(
                sessions_per_day,
                viewer,
                node,
                local_to_utc(start, zone),
                local_to_utc(end, zone),
                zone=zone,
            )
        )
        body = {
            "days": [[day, count] for day, count in days],
            "first": start.date().isoformat(),
            "last": end.date().isoformat(),
        }
    if len(_timeline_cache) > 500:
        _timeline_cache.clear()
    _timeline_cache[key] = (time.monotonic(), body)
    return jsonify(body)
