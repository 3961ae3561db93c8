"""``/api/v1/schedules``: weekly power limits (SPEC §10), pushed as charging profiles."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, request

from db.system.schedules import (
    delete_schedule,
    get_schedule,
    save_schedule,
    schedule_site,
    schedule_view,
    schedules_in_scope,
    target_site,
)
from db.system.timezones import iso_utc
from portal.access import STAFF_ROLES, guard
from portal.api.common import ApiError, json_body, me, optional_int
from portal.api.stations import station_or_404
from portal.configuration.deps import control_deps
from portal.context import get_store
from portal.schedule.push import composite_schedule, push_schedule

__all__ = ["bp"]

bp = guard(Blueprint("schedules_api", __name__), STAFF_ROLES)

TARGETS = ("siteId", "stationId", "outletId")


def _json(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": view["id"],
        "name": view["name"],
        "siteId": view["site_id"],
        "stationId": view["station_id"],
        "outletId": view["outlet_id"],
        "purpose": view["purpose"],
        "stackLevel": view["stack_level"],
        "rateUnit": view["rate_unit"],
        "periods": view["periods"],
        "pushedAt": iso_utc(view["pushed_at"]),
    }


async def _in_scope(schedule_id: int) -> None:
    scope = me().site_scope
    if scope is not None and await get_store().read(schedule_site, schedule_id) != scope:
        raise ApiError(404, "not-found", f"no schedule {schedule_id}")


async def _target_site(body: dict[str, Any]) -> None:
    """A site administrator creates schedules only for his site's nodes."""
    scope = me().site_scope
    if scope is None:
        return
    try:
        ids = [None if body.get(k) is None else int(body[k]) for k in TARGETS]
    except (TypeError, ValueError):
        raise ApiError(400, "bad-request", "siteId, stationId, outletId are integers") from None
    if not any(v is not None for v in ids):
        return  # save_schedule says that a target is missing
    if await get_store().read(target_site, *ids) != scope:
        raise ApiError(404, "not-found", "no such site, station or outlet")


@bp.get("/schedules")
async def schedules_list() -> Any:
    """Schedules (optionally of one site: on it, its stations or their outlets)."""
    scope = me().site_scope
    site = optional_int("siteId")
    if scope is not None and site not in (None, scope):
        raise ApiError(404, "not-found", f"no site {site}")
    items = await get_store().read(schedules_in_scope, scope if scope is not None else site)
    return {"items": [_json(v) for v in items]}


async def _save(body: dict[str, Any], schedule_id: int | None) -> int:
    await _target_site(body)
    try:
        target = {
            "site_id": body.get("siteId"),
            "station_id": body.get("stationId"),
            "outlet_id": body.get("outletId"),
        }
        stack = int(body.get("stackLevel", 0))
    except (TypeError, ValueError):
        raise ApiError(400, "bad-request", "ids and stackLevel are integers") from None
    return await get_store().write(
        lambda: save_schedule(
            name=str(body.get("name", "")),
            periods=body.get("periods", []),
            purpose=str(body.get("purpose", "TxDefaultProfile")),
            rate_unit=str(body.get("rateUnit", "W")),
            stack_level=stack,
            schedule_id=schedule_id,
            **target,
        )
    )


@bp.post("/schedules")
async def schedules_create() -> Any:
    """Create a schedule: name, one of siteId/stationId/outletId, purpose, rateUnit,
    periods ``[{"days": [0..6], "start": "HH:MM", "end": "HH:MM", "limit": n,
    "available": true}]`` (wall-clock times of the site's zone, else the system zone)."""
    body = await json_body()
    schedule_id = await _save(body, None)
    return _json(await get_store().read(lambda: schedule_view(get_schedule(schedule_id)))), 201


@bp.get("/schedules/<int:schedule_id>")
async def schedule_read(schedule_id: int) -> Any:
    """One schedule."""
    await _in_scope(schedule_id)
    return _json(await get_store().read(lambda: schedule_view(get_schedule(schedule_id))))


@bp.put("/schedules/<int:schedule_id>")
async def schedule_write(schedule_id: int) -> Any:
    """Replace a schedule (same fields as create)."""
    await _in_scope(schedule_id)
    body = await json_body()
    await _save(body, schedule_id)
    return _json(await get_store().read(lambda: schedule_view(get_schedule(schedule_id))))


@bp.delete("/schedules/<int:schedule_id>")
async def schedule_delete(schedule_id: int) -> Any:
    """Delete a schedule (profiles already on stations stay until replaced)."""
    await _in_scope(schedule_id)
    await get_store().write(delete_schedule, schedule_id)
    return {"deleted": schedule_id}


@bp.post("/schedules/<int:schedule_id>/push")
async def schedule_push(schedule_id: int) -> Any:
    """SetChargingProfile to every OCPP 1.6 station the schedule covers; one result each
    (``Offline`` when the station is not connected: nothing sent)."""
    await _in_scope(schedule_id)
    results = await push_schedule(await control_deps(), schedule_id)
    return {"items": results}


@bp.get("/stations/<cbid>/composite-schedule")
async def station_composite(cbid: str) -> Any:
    """GetCompositeSchedule: ``?connectorId=0&duration=86400&unit=W``."""
    await station_or_404(cbid)
    connector = optional_int("connectorId") or 0
    duration = optional_int("duration") or 86400
    unit = request.args.get("unit", "W")
    if unit not in ("W", "A"):
        raise ApiError(400, "bad-request", "unit is W or A", field="unit")
    return await composite_schedule(
        await control_deps(), cbid, connector_id=connector, duration=duration, rate_unit=unit
    )
