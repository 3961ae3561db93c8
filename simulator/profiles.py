"""Smart charging on the station side: installed charging profiles, the limit now, composite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.meter import amps_to_watts, watts_to_amps

__all__ = ["ChargingProfiles", "Profile", "parse_time"]

_RECUR = {"Daily": 86_400, "Weekly": 7 * 86_400}
MAX_STACK_LEVEL = 10
MAX_PERIODS = 24
MAX_PROFILES = 20


def parse_time(text: str | None) -> datetime | None:
    """An OCPP timestamp as an aware UTC datetime (None stays None)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(slots=True)
class Profile:
    """One installed csChargingProfiles, times parsed, limits in watts."""

    profile_id: int
    connector_id: int
    stack_level: int
    purpose: str
    kind: str
    recurrency: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    start: datetime | None
    duration: int | None
    periods: list[tuple[int, float]]  # (startPeriod s, limit W)
    transaction_id: int | None

    @classmethod
    def from_ocpp(cls, connector_id: int, data: dict[str, Any]) -> Profile:
        schedule = data["chargingSchedule"]
        unit = schedule["chargingRateUnit"]
        periods = []
        for period in schedule["chargingSchedulePeriod"]:
            limit = float(period["limit"])
            if unit == "A":
                limit = amps_to_watts(limit, period.get("numberPhases", 3))
            periods.append((int(period["startPeriod"]), limit))
        periods.sort()
        return cls(
            profile_id=data["chargingProfileId"],
            connector_id=connector_id,
            stack_level=data["stackLevel"],
            purpose=data["chargingProfilePurpose"],
            kind=data["chargingProfileKind"],
            recurrency=data.get("recurrencyKind"),
            valid_from=parse_time(data.get("validFrom")),
            valid_to=parse_time(data.get("validTo")),
            start=parse_time(schedule.get("startSchedule")),
            duration=schedule.get("duration"),
            periods=periods,
            transaction_id=data.get("transactionId"),
        )

    def limit_at(self, moment: datetime, tx_start: datetime | None) -> float | None:
        """The limit this profile sets at ``moment`` (None: not in force then)."""
        if self.valid_from and moment < self.valid_from:
            return None
        if self.valid_to and moment >= self.valid_to:
            return None
        offset = self.offset(moment, tx_start)
        if offset is None or offset < 0:
            return None
        if self.duration is not None and offset >= self.duration:
            return None
        limit = None
        for start, value in self.periods:
            if start <= offset:
                limit = value
        return limit

    def offset(self, moment: datetime, tx_start: datetime | None) -> float | None:
        """Seconds since this profile's schedule started, at ``moment``."""
        if self.kind == "Relative":
            origin = tx_start or moment
        else:
            origin = self.start or self.valid_from or moment
        seconds = (moment - origin).total_seconds()
        if self.kind == "Recurring" and self.recurrency in _RECUR and seconds >= 0:
            seconds %= _RECUR[self.recurrency]
        return seconds

    def breakpoints(self, begin: datetime, end: datetime, tx_start: datetime | None) -> set[float]:
        """Offsets from ``begin`` (seconds) where this profile may change the limit."""
        points: set[float] = set()
        for moment in (self.valid_from, self.valid_to):
            if moment and begin <= moment < end:
                points.add((moment - begin).total_seconds())
        origin = tx_start if self.kind == "Relative" else (self.start or self.valid_from)
        if origin is None:
            origin = begin
        step = _RECUR.get(self.recurrency or "", 0) if self.kind == "Recurring" else 0
        if step:
            cycles = int((begin - origin).total_seconds() // step)
            origin = origin + timedelta(seconds=cycles * step)
        span = (end - begin).total_seconds()
        while True:
            starts = [s for s, _ in self.periods]
            if self.duration is not None:
                starts.append(self.duration)
            for start in starts:
                at = (origin - begin).total_seconds() + start
                if 0 <= at < span:
                    points.add(at)
            if not step:
                break
            origin += timedelta(seconds=step)
            if origin >= end:
                break
        return points


class ChargingProfiles:
    """The profiles installed on a station and what they allow per outlet."""

    __slots__ = ("_profiles", "max_power_w")

    def __init__(self, max_power_w: float = 22_000.0) -> None:
        self._profiles: list[Profile] = []
        self.max_power_w = max_power_w

    def __len__(self) -> int:
        return len(self._profiles)

    def install(self, connector_id: int, data: dict[str, Any], active_tx: int | None) -> str:
        """SetChargingProfile: Accepted or Rejected, replacing same id / same stack slot."""
        try:
            profile = Profile.from_ocpp(connector_id, data)
        except (KeyError, TypeError, ValueError):
            return "Rejected"
        if profile.stack_level > MAX_STACK_LEVEL or len(profile.periods) > MAX_PERIODS:
            return "Rejected"
        if profile.purpose == "ChargePointMaxProfile" and connector_id != 0:
            return "Rejected"
        if profile.purpose == "TxProfile":
            if connector_id == 0 or active_tx is None:
                return "Rejected"
            if profile.transaction_id is not None and profile.transaction_id != active_tx:
                return "Rejected"
            profile.transaction_id = active_tx
        self._profiles = [
            p
            for p in self._profiles
            if p.profile_id != profile.profile_id
            and not (
                p.connector_id == connector_id
                and p.purpose == profile.purpose
                and p.stack_level == profile.stack_level
            )
        ]
        if len(self._profiles) >= MAX_PROFILES:
            return "Rejected"
        self._profiles.append(profile)
        return "Accepted"

    def clear(
        self,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> bool:
        """ClearChargingProfile: True when at least one profile went away."""

        def matches(p: Profile) -> bool:
            if profile_id is not None:
                return p.profile_id == profile_id
            return (
                (connector_id is None or p.connector_id == connector_id)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        kept = [p for p in self._profiles if not matches(p)]
        removed = len(kept) != len(self._profiles)
        self._profiles = kept
        return removed

    def end_transaction(self, transaction_id: int | None) -> None:
        """TxProfiles die with their transaction."""
        self._profiles = [
            p
            for p in self._profiles
            if not (p.purpose == "TxProfile" and p.transaction_id == transaction_id)
        ]

    def _best(
        self, purpose: str, connectors: tuple[int, ...], moment: datetime, tx_start, tx_id
    ) -> float | None:
        candidates = sorted(
            (p for p in self._profiles if p.purpose == purpose and p.connector_id in connectors),
            key=lambda p: (p.connector_id != 0, p.stack_level),
            reverse=True,
        )
        for profile in candidates:
            if purpose == "TxProfile" and profile.transaction_id != tx_id:
                continue
            limit = profile.limit_at(moment, tx_start)
            if limit is not None:
                return limit
        return None

    def limit_w(
        self,
        connector_id: int,
        moment: datetime,
        *,
        tx_start: datetime | None = None,
        tx_id: int | None = None,
    ) -> float:
        """The power an outlet may draw at ``moment`` (its own maximum when no profile)."""
        limit = self.max_power_w
        if not self._profiles:
            return limit
        tx_limit = None
        if tx_id is not None:
            tx_limit = self._best("TxProfile", (connector_id,), moment, tx_start, tx_id)
        if tx_limit is None:
            tx_limit = self._best("TxDefaultProfile", (connector_id, 0), moment, tx_start, tx_id)
        if tx_limit is not None:
            limit = min(limit, tx_limit)
        station = self._best("ChargePointMaxProfile", (0,), moment, tx_start, tx_id)
        if station is not None:
            limit = min(limit, station)
        return limit

    def next_change(self, moment: datetime, tx_starts: list[datetime | None]) -> float | None:
        """Seconds until a profile may change a limit (within the next hour), None: never."""
        end = moment + timedelta(hours=1)
        soonest = None
        for profile in self._profiles:
            for tx_start in tx_starts or [None]:
                for point in profile.breakpoints(moment, end, tx_start):
                    if point > 0.001 and (soonest is None or point < soonest):
                        soonest = point
        return soonest

    def composite(
        self,
        connector_id: int,
        duration: int,
        unit: str | None,
        moment: datetime,
        *,
        tx_start: datetime | None = None,
        tx_id: int | None = None,
    ) -> dict[str, Any]:
        """GetCompositeSchedule's chargingSchedule from ``moment`` for ``duration`` seconds."""
        end = moment + timedelta(seconds=duration)
        points = {0.0}
        for profile in self._profiles:
            points |= profile.breakpoints(moment, end, tx_start)
        periods: list[dict[str, Any]] = []
        last = None
        for offset in sorted(points):
            at = moment + timedelta(seconds=offset)
            if connector_id == 0:
                value = self._best("ChargePointMaxProfile", (0,), at, tx_start, tx_id)
                value = self.max_power_w if value is None else value
            else:
                value = self.limit_w(connector_id, at, tx_start=tx_start, tx_id=tx_id)
            if unit == "A":
                value = watts_to_amps(value)
            value = round(value, 1)
            if value != last:
                periods.append({"startPeriod": int(offset), "limit": value})
                last = value
        return {
            "duration": duration,
            "startSchedule": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "chargingRateUnit": unit or "W",
            "chargingSchedulePeriod": periods,
        }
