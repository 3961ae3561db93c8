"""Pushing a schedule to its stations (SetChargingProfile) and reading back GetCompositeSchedule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from db.config_keys import key_value
from db.models import utcnow
from db.schedules import get_schedule, push_targets, record_push, schedule_view
from portal.configuration.control import ControlDeps, ControlError
from portal.schedule.profiles import build_profile


async def push_schedule(deps: ControlDeps, schedule_id: int) -> list[dict[str, Any]]:
    """Send the schedule's profile to every OCPP 1.6 station it covers; one row per station.

    Offline stations are listed as such (nothing sent); push again once they are back.
    """
    from gateway.errors import GatewayError

    schedule = schedule_view(await deps.store.read(get_schedule, schedule_id))
    targets = await deps.store.read(push_targets, schedule_id)
    if not targets:
        raise ControlError("No OCPP 1.6 station is covered by this schedule.")
    results = []
    for cbid, connector in targets:
        profile = build_profile(
            schedule_id=schedule_id,
            periods=schedule["periods"],
            purpose=schedule["purpose"],
            stack_level=schedule["stack_level"],
            rate_unit=schedule["rate_unit"],
            connector_id=connector,
            now=utcnow(),
        )
        row: dict[str, Any] = {"chargeBoxId": cbid, "connectorId": connector}
        refusal = await deps.store.read(_unsupported, cbid, profile)
        if refusal:
            row.update(status="NotSent", message=refusal)
            results.append(row)
            continue
        if not deps.gateway.is_online(cbid):
            row.update(status="Offline", message=f"{cbid} is offline: nothing was sent.")
            results.append(row)
            continue
        try:
            answer = await deps.gateway.call(cbid, "SetChargingProfile", profile)
        except GatewayError as exc:
            row.update(status="Error", message=str(exc))
        else:
            status = str(answer.get("status", ""))
            row.update(status=status, message=f"The station answered {status}.")
            await deps.store.write(record_push, schedule_id, cbid, connector, profile, status)
        results.append(row)
    return results


def _unsupported(charge_box_id: str, profile: dict[str, Any]) -> str | None:
    """Why the station cannot take this profile, from its configuration keys (None: fine)."""
    schedule = profile["csChargingProfiles"]["chargingSchedule"]
    periods = len(schedule["chargingSchedulePeriod"])
    limit = key_value(charge_box_id, "ChargingScheduleMaxPeriods")
    if limit and limit.strip().isdigit() and periods > int(limit):
        return (
            f"{periods} periods do not fit {charge_box_id} "
            f"(ChargingScheduleMaxPeriods {limit}): nothing was sent."
        )
    units = key_value(charge_box_id, "ChargingScheduleAllowedChargingRateUnit")
    wanted = "Power" if schedule["chargingRateUnit"] == "W" else "Current"
    if units and wanted.lower() not in units.lower():
        return f"{charge_box_id} takes limits in {units} only: nothing was sent."
    return None


async def composite_schedule(
    deps: ControlDeps,
    charge_box_id: str,
    *,
    connector_id: int = 0,
    duration: int = 86400,
    rate_unit: str = "W",
) -> dict[str, Any]:
    """GetCompositeSchedule from the station (what it will actually apply)."""
    from gateway.errors import GatewayError

    if not deps.gateway.is_online(charge_box_id):
        raise ControlError(f"{charge_box_id} is offline: nothing was asked.", http_status=409)
    payload = {"connectorId": connector_id, "duration": duration, "chargingRateUnit": rate_unit}
    try:
        answer = await deps.gateway.call(charge_box_id, "GetCompositeSchedule", payload)
    except GatewayError as exc:
        raise ControlError(str(exc), http_status=exc.http_status) from None
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
