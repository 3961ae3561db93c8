"""OCPP 1.6 Smart Charging: set and clear charging profiles, read the composite schedule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

from db.engine import rawsql
from db.errors import Invalid
from db.ocpp.config_keys import key_value
from db.system.schedules import record_push
from gateway.commands.base import Command, Outcome, Prepare, Target, describe
from gateway.commands.core import at_least, one_of

__all__ = ["ClearChargingProfile", "GetCompositeSchedule", "SetChargingProfile"]

PURPOSES = ("ChargePointMaxProfile", "TxDefaultProfile", "TxProfile")


@dataclass(frozen=True)
class SetChargingProfile(Command):
    """Install a profile; its answer is remembered with it (and, for a schedule's push,
    the schedule's profile row and push time: ``db.system.schedules.record_push``)."""

    action = "SetChargingProfile"
    connector_id: int
    cs_charging_profiles: dict[str, Any]
    schedule_id: int | None = field(default=None, metadata={"wire": False})

    def check(self) -> None:
        at_least(self.connector_id, 0, "connectorId")
        profile = self.cs_charging_profiles
        if not isinstance(profile, dict) or "chargingProfileId" not in profile:
            raise Invalid(
                "csChargingProfiles needs a chargingProfileId.", field="csChargingProfiles"
            )

    async def prepare(self, ctx: Prepare) -> Self:
        refusal = await ctx.read(unsupported, ctx.target.charge_box_id, self.cs_charging_profiles)
        if refusal:
            raise Invalid(refusal, field="csChargingProfiles")
        return self

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        status = str(answer.get("status", ""))
        if self.schedule_id is not None:
            record_push(
                self.schedule_id, target.charge_box_id, self.connector_id, self.ocpp16(), status
            )
        else:
            rawsql.execute(
                'UPDATE "charging_profile" SET "status" = ?'
                ' WHERE "station_id" = ? AND "profile_id" = ?',
                (status, target.station_id, self.cs_charging_profiles["chargingProfileId"]),
            )
        return describe(answer)


def unsupported(charge_box_id: str, profile: dict[str, Any]) -> str | None:
    """Why the station cannot take this profile, from its configuration keys (None: fine)."""
    schedule = profile.get("chargingSchedule") or {}
    periods = len(schedule.get("chargingSchedulePeriod") or [])
    limit = key_value(charge_box_id, "ChargingScheduleMaxPeriods")
    if limit and limit.strip().isdigit() and periods > int(limit):
        return (
            f"{periods} periods do not fit {charge_box_id} "
            f"(ChargingScheduleMaxPeriods {limit}): nothing was sent."
        )
    units = key_value(charge_box_id, "ChargingScheduleAllowedChargingRateUnit")
    wanted = "Power" if schedule.get("chargingRateUnit") == "W" else "Current"
    if units and wanted.lower() not in units.lower():
        return f"{charge_box_id} takes limits in {units} only: nothing was sent."
    return None


@dataclass(frozen=True)
class ClearChargingProfile(Command):
    action = "ClearChargingProfile"
    id: int | None = None
    connector_id: int | None = None
    charging_profile_purpose: str | None = None
    stack_level: int | None = None

    def check(self) -> None:
        at_least(self.connector_id, 0, "connectorId")
        at_least(self.stack_level, 0, "stackLevel")
        if self.charging_profile_purpose is not None:
            one_of(self.charging_profile_purpose, PURPOSES, "chargingProfilePurpose")


@dataclass(frozen=True)
class GetCompositeSchedule(Command):
    """What the station will apply over ``duration`` seconds on a connector (0: all)."""

    action = "GetCompositeSchedule"
    connector_id: int = 0
    duration: int = 86400
    charging_rate_unit: str | None = None

    def check(self) -> None:
        at_least(self.connector_id, 0, "connectorId")
        at_least(self.duration, 1, "duration")
        if self.charging_rate_unit is not None:
            one_of(self.charging_rate_unit, ("W", "A"), "chargingRateUnit")
