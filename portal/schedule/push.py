"""Pushing a schedule to its stations (SetChargingProfile) and reading back GetCompositeSchedule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import trio

from db.errors import DomainError, Invalid
from db.schema.models import utcnow
from db.system.schedules import get_schedule, push_targets, schedule_view, schedule_zone
from gateway.commands import GetCompositeSchedule, SetChargingProfile
from gateway.commands.profiles import build_profile
from gateway.errors import GatewayError, StationOfflineError
from portal.configuration.control import ControlDeps


async def push_schedule(
    deps: ControlDeps, schedule_id: int, *, concurrency: int = 16
) -> list[dict[str, Any]]:
    """Send the schedule's profile to every OCPP 1.6 station it covers; one row per station,
    in the targets' order, at most ``concurrency`` stations at a time.

    Offline stations are listed as such (nothing sent); push again once they are back.
    """
    schedule = schedule_view(await deps.store.read(get_schedule, schedule_id))
    targets = await deps.store.read(push_targets, schedule_id)
    if not targets:
        raise Invalid("No OCPP 1.6 station is covered by this schedule.")
    zone = await deps.store.read(schedule_zone, schedule_id)  # the stations' wall clock
    now = utcnow()
    results: list[dict[str, Any]] = [{} for _ in targets]
    limiter = trio.CapacityLimiter(concurrency)

    async def push_one(index: int, cbid: str, connector: int) -> None:
        async with limiter:
            results[index] = await _push_to(deps, schedule, cbid, connector, now, zone)

    async with trio.open_nursery() as nursery:
        for index, (cbid, connector) in enumerate(targets):
            nursery.start_soon(push_one, index, cbid, connector)
    return results


async def _push_to(
    deps: ControlDeps,
    schedule: dict[str, Any],
    cbid: str,
    connector: int,
    now: dt.datetime,
    zone: str | None = None,
) -> dict[str, Any]:
    profile = build_profile(
        schedule_id=schedule["id"],
        periods=schedule["periods"],
        purpose=schedule["purpose"],
        stack_level=schedule["stack_level"],
        rate_unit=schedule["rate_unit"],
        connector_id=connector,
        now=now,
        zone=zone,
    )
    row: dict[str, Any] = {"chargeBoxId": cbid, "connectorId": connector}
    command = SetChargingProfile(
        connector_id=connector,
        cs_charging_profiles=profile["csChargingProfiles"],
        schedule_id=schedule["id"],
    )
    if not deps.gateway.is_online(cbid):
        return {**row, "status": "Offline", "message": f"{cbid} is offline: nothing was sent."}
    try:
        result = await deps.gateway.send(cbid, command)  # records the push with its answer
    except DomainError as exc:  # the station's keys say it cannot take this profile
        return {**row, "status": "NotSent", "message": exc.message}
    except GatewayError as exc:
        return {**row, "status": "Error", "message": str(exc)}
    status = str(result.answer.get("status", ""))
    return {**row, "status": status, "message": f"The station answered {status}."}


async def composite_schedule(
    deps: ControlDeps,
    charge_box_id: str,
    *,
    connector_id: int = 0,
    duration: int = 86400,
    rate_unit: str = "W",
) -> dict[str, Any]:
    """GetCompositeSchedule from the station (what it will actually apply)."""
    if not deps.gateway.is_online(charge_box_id):
        raise StationOfflineError(f"{charge_box_id} is offline: nothing was asked.")
    command = GetCompositeSchedule(
        connector_id=connector_id, duration=duration, charging_rate_unit=rate_unit
    )
    answer = dict((await deps.gateway.send(charge_box_id, command)).answer)
    answer.setdefault("requestedAt", utcnow().replace(microsecond=0).isoformat() + "Z")
    return answer


def schedule_start(answer: dict[str, Any]) -> dt.datetime | None:
    text = answer.get("scheduleStart") or (answer.get("chargingSchedule") or {}).get(
        "startSchedule"
    )
    if not text:
        return None
    moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment.astimezone(dt.UTC).replace(tzinfo=None)
