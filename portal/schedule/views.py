"""Schedule pages: schedules of the selected node, editor, push, and the composite chart."""

from __future__ import annotations

from typing import Any

from quart import Response, flash, redirect, render_template, request, url_for

from db.config_errors import ConfigurationError, NotFoundError
from db.errors import DomainError
from db.schema.models import utcnow
from db.system.schedules import (
    PURPOSES,
    RATE_UNITS,
    delete_schedule,
    get_schedule,
    save_schedule,
    schedule_site,
    schedule_view,
    schedule_zone,
    schedules_for,
    schedules_in_scope,
    site_zone,
)
from db.topology.topology import NodeRef
from gateway.commands.profiles import (
    asked_steps,
    clocks_changed_since,
    composite_steps,
    weekly_periods,
)
from portal.access import current_principal
from portal.configuration.deps import check_site, control_deps
from portal.configuration.pages import current_node, not_found_page
from portal.context import get_gateway, get_store
from portal.errors import REFUSALS, page_error
from portal.live import station_state
from portal.schedule import bp
from portal.schedule.chart import Series, step_chart
from portal.schedule.push import composite_schedule, push_schedule, schedule_start

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EDITOR_ROWS = 6


bp.register_error_handler(NotFoundError, not_found_page)


def editor_rows(periods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored periods (one per weekday) grouped back into editor rows with several days."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for p in periods:
        key = (p["start"], p["end"], p["limit"], p["available"])
        rows.setdefault(key, {**p, "days": []})["days"].append(p["weekday"])
    return list(rows.values())


def day_ranges(days: list[int]) -> str:
    """[0, 1, 2, 4] → "Mon–Wed, Fri"."""
    days = sorted(set(days))
    parts: list[str] = []
    start = prev = None
    for day in [*days, None]:
        if day is not None and prev is not None and day == prev + 1:
            prev = day
            continue
        if start is not None and prev is not None:
            parts.append(
                WEEKDAYS[start] if start == prev else f"{WEEKDAYS[start]}–{WEEKDAYS[prev]}"
            )
        start = prev = day
    return ", ".join(parts)


def summary(schedule: dict[str, Any]) -> list[str]:
    """One readable line per editor row: "Mon–Fri 17:00–21:00 3680 W" or "… unavailable"."""
    lines = []
    for row in editor_rows(schedule["periods"]):
        what = (
            "unavailable" if not row["available"] else f"{row['limit']:g} {schedule['rate_unit']}"
        )
        lines.append(f"{day_ranges(row['days'])} {row['start']}–{row['end']} {what}")
    return lines


def _target_of(node: NodeRef) -> dict[str, int | None]:
    if node.kind == "site":
        return {"site_id": node.id}
    if node.kind == "station":
        return {"station_id": node.id}
    if node.kind == "outlet":
        return {"outlet_id": node.id}
    return {}


async def _listing(node: NodeRef) -> list[dict[str, Any]]:
    principal = current_principal()
    assert principal is not None
    store = get_store()
    if node.kind in ("system", "site"):
        site = node.id if node.kind == "site" else principal.site_scope
        return await store.read(schedules_in_scope, site)
    return await store.read(lambda: schedules_for(**_target_of(node)))


async def _page(
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    editing: dict[str, Any] | None = None,
    status: int = 200,
    notice: str | None = None,
    results: list[dict[str, Any]] | None = None,
) -> Any:
    node = current_node()
    schedules = await _listing(node)
    now = utcnow()
    for schedule in schedules:
        schedule["summary"] = summary(schedule)
        if schedule["pushed_at"] is not None:
            zone = await get_store().read(schedule_zone, schedule["id"])
            schedule["push_again"] = clocks_changed_since(schedule["pushed_at"], now, zone)
    state = None
    outlets: list[dict[str, Any]] = []
    if node.kind == "station" and node.id is not None:
        from db.topology.station_settings import station_outlets

        outlets = await get_store().read(station_outlets, node.id)
    if node.charge_box_id:
        state = station_state(get_gateway(), node.charge_box_id)
    zone = await get_store().read(site_zone, node.site_id)
    html = await render_template(
        "schedule/index.html",
        schedule_zone=zone,
        schedules=schedules,
        target=_target_of(node),
        errors=errors or {},
        form=form or {},
        editing=editing,
        weekdays=WEEKDAYS,
        rows=EDITOR_ROWS,
        purposes=PURPOSES,
        units=RATE_UNITS,
        state=state,
        notice=notice,
        results=results or [],
        outlets=outlets,
    )
    return Response(html, status=status, mimetype="text/html")


@bp.get("/")
async def index() -> Any:
    editing = None
    edit_id = request.args.get("edit", type=int)
    if edit_id:
        editing = schedule_view(await get_store().read(get_schedule, edit_id))
        check_site(await get_store().read(schedule_site, edit_id))
        editing["rows"] = editor_rows(editing["periods"])
    return await _page(editing=editing)


def periods_from_form(form: dict[str, Any], days: dict[int, list[int]]) -> list[dict[str, Any]]:
    """Editor rows → periods (empty rows skipped): p{i}_days, _start, _end, _limit, _off."""
    periods = []
    for i in range(EDITOR_ROWS):
        start, end = str(form.get(f"p{i}_start", "")), str(form.get(f"p{i}_end", ""))
        if not (start or end) or not days.get(i):
            continue
        off = form.get(f"p{i}_off") == "1"
        periods.append(
            {
                "days": days[i],
                "start": start,
                "end": end,
                "limit": form.get(f"p{i}_limit", ""),
                "available": not off,
            }
        )
    return periods


async def _save(schedule_id: int | None) -> Any:
    node = current_node()
    raw = await request.form
    form = dict(raw)
    days = {
        i: [int(d) for d in raw.getlist(f"p{i}_days") if d.isdigit()] for i in range(EDITOR_ROWS)
    }
    target = _target_of(node)
    if schedule_id is not None:
        existing = schedule_view(await get_store().read(get_schedule, schedule_id))
        check_site(await get_store().read(schedule_site, schedule_id))
        target = {k: existing[k] for k in ("site_id", "station_id", "outlet_id") if existing[k]}
    elif not target:
        return await _page(
            status=400,
            notice="Select a site, a station or an outlet in the Navigator first.",
            form=form,
        )
    try:
        periods = periods_from_form(form, days)
        if not periods:
            raise ConfigurationError("Add at least one period (days, start, end).", field="periods")
        new_id = await get_store().write(
            lambda: save_schedule(
                name=str(form.get("name", "")),
                periods=periods,
                purpose=str(form.get("purpose", "TxDefaultProfile")),
                rate_unit=str(form.get("rate_unit", "W")),
                stack_level=int(form.get("stack_level") or 0),
                schedule_id=schedule_id,
                **target,
            )
        )
    except (DomainError, ValueError) as exc:
        message = exc.message if isinstance(exc, DomainError) else str(exc)
        field = getattr(exc, "field", None) or "periods"
        return await _page(errors={field: message}, form=form, status=400)
    await flash("Schedule saved. Push it to send it to the stations.")
    return redirect(url_for("schedule.index", node=node.key, edit=new_id))


@bp.post("/")
async def create() -> Any:
    return await _save(None)


@bp.post("/<int:schedule_id>")
async def update(schedule_id: int) -> Any:
    return await _save(schedule_id)


@bp.post("/<int:schedule_id>/delete")
async def delete(schedule_id: int) -> Any:
    check_site(await get_store().read(schedule_site, schedule_id))
    await get_store().write(delete_schedule, schedule_id)
    await flash("Schedule deleted (profiles already on stations stay until replaced).")
    return redirect(url_for("schedule.index", node=current_node().key))


@bp.post("/<int:schedule_id>/push")
async def push(schedule_id: int) -> Any:
    check_site(await get_store().read(schedule_site, schedule_id))
    deps = await control_deps()
    try:
        results = await push_schedule(deps, schedule_id)
    except REFUSALS as exc:
        status, message = page_error(exc)
        return await _page(notice=message, status=status)
    return await _page(results=results)


@bp.get("/composite")
async def composite() -> Any:
    """The composite schedule the station reports, drawn beside the schedules asked."""
    node = current_node()
    if node.kind not in ("station", "outlet") or not node.charge_box_id:
        return Response("Select a station or an outlet.", status=400)
    duration = max(3600, min(request.args.get("duration", 86400, type=int) or 86400, 7 * 86400))
    unit = request.args.get("unit", "W")
    unit = unit if unit in RATE_UNITS else "W"
    connector = max(0, request.args.get("connectorId", 0, type=int) or 0)
    if node.kind == "outlet":
        from db.topology.station_settings import get_outlet

        connector = int((await get_store().read(get_outlet, node.id)).connector_id)
    deps = await control_deps()
    try:
        answer = await composite_schedule(
            deps, node.charge_box_id, connector_id=connector, duration=duration, rate_unit=unit
        )
    except REFUSALS as exc:
        status, message = page_error(exc)
        html = await render_template("schedule/_composite.html", error=message)
        return Response(html, status=200 if request.headers.get("HX-Request") else status)
    start = schedule_start(answer)
    zone = await get_store().read(site_zone, node.site_id)
    series = []
    colours = ("#1d4ed8", "#7c3aed", "#0f766e", "#b45309")
    if start is not None:
        for index, schedule in enumerate(await _listing(node)):
            if schedule["rate_unit"] != unit:
                continue
            week = weekly_periods(schedule["periods"], rate_unit=unit)
            series.append(
                Series(
                    f"asked: {schedule['name']}",
                    colours[index % len(colours)],
                    asked_steps(week, start=start, duration=duration, zone=zone),
                    dashed=True,
                )
            )
    reported = composite_steps(answer)
    series.append(Series("reported by the station", "#dc2626", reported))
    chart = step_chart(series, duration=duration, unit=unit)
    html = await render_template(
        "schedule/_composite.html", answer=answer, chart=chart, series=series, error=None
    )
    return Response(html, mimetype="text/html")
