"""A plausible energy meter and EV: power under a limit, Wh accumulating, OCPP sampled values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "PHASES",
    "VOLTAGE",
    "Ev",
    "Meter",
    "amps_to_watts",
    "iso",
    "sampled_values",
    "watts_to_amps",
]

VOLTAGE = 230.0
PHASES = 3


def amps_to_watts(amps: float, phases: int = PHASES) -> float:
    return amps * VOLTAGE * phases


def watts_to_amps(watts: float, phases: int = PHASES) -> float:
    return watts / (VOLTAGE * phases)


def iso(moment: datetime) -> str:
    """OCPP timestamp: UTC with milliseconds and a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(slots=True)
class Ev:
    """The car on the cable: how fast it can charge and how much energy it wants."""

    max_power_w: float = 11_000.0
    wanted_wh: float = 20_000.0
    capacity_wh: float = 60_000.0
    delivered_wh: float = 0.0

    @property
    def full(self) -> bool:
        return self.delivered_wh >= self.wanted_wh

    @property
    def soc(self) -> int:
        start = max(0.0, self.capacity_wh - self.wanted_wh)
        return min(100, round(100 * (start + self.delivered_wh) / self.capacity_wh))


@dataclass(slots=True)
class Meter:
    """One outlet's meter: register in Wh, present power in W, integrated on ``advance``."""

    energy_wh: float = 0.0
    power_w: float = 0.0
    max_power_w: float = 22_000.0
    updated_at: float = 0.0  # trio clock seconds of the last advance

    def advance(self, now: float, ev: Ev | None, *, limit_w: float, drawing: bool) -> None:
        """Integrate energy up to ``now`` at the present power, then set the new power."""
        elapsed = max(0.0, now - self.updated_at)
        self.updated_at = now
        if self.power_w > 0 and elapsed > 0:
            delta = self.power_w * elapsed / 3600.0
            if ev is not None:
                delta = min(delta, max(0.0, ev.wanted_wh - ev.delivered_wh))
                ev.delivered_wh += delta
            self.energy_wh += delta
        if drawing and ev is not None and not ev.full:
            self.power_w = max(0.0, min(ev.max_power_w, limit_w, self.max_power_w))
        else:
            self.power_w = 0.0

    def seconds_until_full(self, ev: Ev | None) -> float | None:
        """When the EV will be satisfied at the present power (None: never)."""
        if ev is None or self.power_w <= 0:
            return None
        return max(0.0, (ev.wanted_wh - ev.delivered_wh) * 3600.0 / self.power_w)

    @property
    def register_wh(self) -> int:
        return int(self.energy_wh)


def sampled_values(
    meter: Meter,
    ev: Ev | None,
    measurands: list[str],
    *,
    context: str,
    limit_w: float,
) -> list[dict[str, Any]]:
    """The ``sampledValue`` list of one MeterValue for the configured measurands."""
    values: list[dict[str, Any]] = []
    for measurand in measurands:
        if measurand == "Energy.Active.Import.Register":
            value, unit = str(meter.register_wh), "Wh"
        elif measurand == "Power.Active.Import":
            value, unit = f"{meter.power_w:.1f}", "W"
        elif measurand == "Power.Offered":
            value, unit = f"{min(limit_w, meter.max_power_w):.1f}", "W"
        elif measurand == "Current.Import":
            value, unit = f"{watts_to_amps(meter.power_w):.1f}", "A"
        elif measurand == "Current.Offered":
            value, unit = f"{watts_to_amps(min(limit_w, meter.max_power_w)):.1f}", "A"
        elif measurand == "Voltage":
            value, unit = f"{VOLTAGE:.1f}", "V"
        elif measurand == "SoC":
            if ev is None:
                continue
            value, unit = str(ev.soc), "Percent"
        elif measurand == "Temperature":
            value, unit = "24.0", "Celsius"
        elif measurand == "Frequency":
            values.append({"value": "50.0", "context": context, "measurand": measurand})
            continue
        else:
            continue
        entry = {"value": value, "context": context, "measurand": measurand, "unit": unit}
        if measurand != "SoC":
            entry["location"] = "Outlet"
        else:
            entry["location"] = "EV"
        values.append(entry)
    return values
