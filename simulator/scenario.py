"""Declarative TOML scenarios: fleet, session arrivals and distributions, tags, faults."""

from __future__ import annotations

import math
import random
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.outlet import FAULTS

__all__ = [
    "Distribution",
    "FaultPlan",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
]

STATION_FAULTS = frozenset({"drop", "offline", "silence", "slow", "lost", "malformed"})
FAULT_KINDS = frozenset(FAULTS) | STATION_FAULTS


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message says where."""


@dataclass(frozen=True, slots=True)
class Distribution:
    """A number drawn per session: fixed, uniform, normal (clipped), exponential or a choice."""

    kind: str = "fixed"
    mean: float = 0.0
    sd: float = 0.0
    low: float = -math.inf
    high: float = math.inf
    choices: tuple[float, ...] = ()

    def sample(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            value = self.mean
        elif self.kind == "choice":
            value = rng.choice(self.choices)
        elif self.kind == "uniform":
            value = rng.uniform(self.low, self.high)
        elif self.kind == "exponential":
            value = rng.expovariate(1.0 / self.mean) if self.mean > 0 else 0.0
        else:
            value = rng.gauss(self.mean, self.sd)
        return min(self.high, max(self.low, value))

    @classmethod
    def parse(cls, value: Any, where: str) -> Distribution:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return cls("fixed", float(value))
        if isinstance(value, list) and value and all(isinstance(v, int | float) for v in value):
            return cls("choice", choices=tuple(float(v) for v in value))
        if not isinstance(value, dict):
            raise ScenarioError(f"{where}: a number, a list of numbers or a table")
        kind = value.get("dist", "normal" if "sd" in value else "fixed")
        if kind not in ("fixed", "uniform", "normal", "exponential"):
            raise ScenarioError(f"{where}: unknown dist {kind!r}")
        try:
            low = float(value.get("min", -math.inf))
            high = float(value.get("max", math.inf))
            mean = float(value.get("mean", (low + high) / 2 if kind == "uniform" else 0.0))
            sd = float(value.get("sd", 0.0))
        except (TypeError, ValueError):
            raise ScenarioError(f"{where}: numbers expected") from None
        if kind == "uniform" and not (math.isfinite(low) and math.isfinite(high)):
            raise ScenarioError(f"{where}: uniform needs min and max")
        if low > high:
            raise ScenarioError(f"{where}: min is above max")
        return cls(kind, mean, sd, low, high)


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Inject ``kind`` at ``at`` seconds into the run on some stations, for ``duration``."""

    kind: str
    at: float
    duration: float = 0.0  # 0: until the end of the run
    stations: tuple[str, ...] = ()  # ids; empty: pick ``count`` / ``share`` at random
    count: int = 1
    share: float = 0.0
    connector: int = 1
    delay: float = 5.0  # for "slow"


@dataclass(slots=True)
class Scenario:
    """Everything a fleet run needs besides the URL."""

    stations: int = 1
    outlets: int = 2
    id_prefix: str = "SIM"
    first_index: int = 1
    id_width: int = 4
    ids: tuple[str, ...] = ()  # explicit charge box ids (then ``stations`` is their number)
    password: str | None = None
    url: str | None = None
    duration: float | None = None
    ramp_seconds: float = 0.0  # spread the connects over this long
    arrival_per_hour: float = 1.0  # sessions per outlet per hour (Poisson)
    session_minutes: Distribution = field(default_factory=lambda: Distribution("fixed", 60))
    energy_kwh: Distribution = field(default_factory=lambda: Distribution("fixed", 10))
    ev_power_kw: Distribution = field(default_factory=lambda: Distribution("fixed", 11))
    handling_seconds: Distribution = field(
        default_factory=lambda: Distribution("uniform", 8.5, 0.0, 2.0, 15.0)
    )  # between badge and plug (or plug and badge)
    rfid_share: float = 1.0
    tag_first_share: float = 0.5  # of RFID sessions: badge before plug
    tags: tuple[str, ...] = ("TAG0001",)
    config: dict[str, str] = field(default_factory=dict)
    faults: list[FaultPlan] = field(default_factory=list)
    seed: int | None = None

    def station_ids(self) -> list[str]:
        """``ids`` if given, else PREFIX0001, PREFIX0002, ... (zero-padded to ``id_width``)."""
        if self.ids:
            return list(self.ids)
        last = self.first_index + self.stations
        return [f"{self.id_prefix}{i:0{self.id_width}d}" for i in range(self.first_index, last)]


def _number(table: dict, key: str, default: float, where: str, *, low: float = 0.0) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
        raise ScenarioError(f"{where}.{key}: a number >= {low} expected")
    return float(value)


def parse_scenario(data: dict[str, Any]) -> Scenario:
    """Build a Scenario from parsed TOML, with clear errors."""
    fleet = data.get("fleet", {})
    sessions = data.get("sessions", {})
    scenario = Scenario()
    scenario.stations = int(_number(fleet, "stations", 1, "fleet", low=1))
    scenario.outlets = int(_number(fleet, "outlets", 2, "fleet", low=1))
    if scenario.outlets > 4:
        raise ScenarioError("fleet.outlets: 1 to 4")
    scenario.id_prefix = str(fleet.get("id_prefix", "SIM"))
    scenario.first_index = int(_number(fleet, "first_index", 1, "fleet"))
    scenario.id_width = int(_number(fleet, "id_width", 4, "fleet", low=1))
    ids = fleet.get("ids")
    if ids is not None:
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise ScenarioError("fleet.ids: a non-empty list of charge box ids")
        scenario.ids = tuple(ids)
        scenario.stations = len(ids)
    scenario.password = fleet.get("password")
    scenario.url = fleet.get("url")
    if "duration" in fleet:
        scenario.duration = _number(fleet, "duration", 0, "fleet")
    scenario.ramp_seconds = _number(fleet, "ramp_seconds", 0, "fleet")
    scenario.seed = fleet.get("seed")
    scenario.arrival_per_hour = _number(sessions, "arrival_per_hour", 1.0, "sessions")
    scenario.session_minutes = Distribution.parse(sessions.get("minutes", 60), "sessions.minutes")
    scenario.energy_kwh = Distribution.parse(sessions.get("energy_kwh", 10), "sessions.energy_kwh")
    scenario.ev_power_kw = Distribution.parse(
        sessions.get("ev_power_kw", 11), "sessions.ev_power_kw"
    )
    if "handling_seconds" in sessions:
        scenario.handling_seconds = Distribution.parse(
            sessions["handling_seconds"], "sessions.handling_seconds"
        )
    scenario.rfid_share = _number(sessions, "rfid_share", 1.0, "sessions")
    scenario.tag_first_share = _number(sessions, "tag_first_share", 0.5, "sessions")
    if scenario.rfid_share > 1 or scenario.tag_first_share > 1:
        raise ScenarioError("sessions: shares are between 0 and 1")
    tags = sessions.get("tags")
    pool = sessions.get("tag_pool")
    if tags is not None:
        if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
            raise ScenarioError("sessions.tags: a non-empty list of strings")
        scenario.tags = tuple(tags)
    elif pool is not None:
        prefix = str(pool.get("prefix", "TAG"))
        count = int(_number(pool, "count", 10, "sessions.tag_pool", low=1))
        scenario.tags = tuple(f"{prefix}{i:04d}" for i in range(1, count + 1))
    if any(len(t) > 20 for t in scenario.tags):
        raise ScenarioError("sessions: an idTag has at most 20 characters")
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise ScenarioError("config: a table of OCPP keys")
    scenario.config = {
        str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in config.items()
    }
    for index, fault in enumerate(data.get("faults", [])):
        where = f"faults[{index}]"
        kind = fault.get("kind")
        if kind not in FAULT_KINDS:
            raise ScenarioError(f"{where}.kind: one of {', '.join(sorted(FAULT_KINDS))}")
        stations = fault.get("stations", ())
        if isinstance(stations, str):
            stations = (stations,)
        scenario.faults.append(
            FaultPlan(
                kind=kind,
                at=_number(fault, "at", 0, where),
                duration=_number(fault, "duration", 0, where),
                stations=tuple(stations),
                count=int(_number(fault, "count", 1, where)),
                share=_number(fault, "share", 0, where),
                connector=int(_number(fault, "connector", 1, where, low=0)),
                delay=_number(fault, "delay", 5, where),
            )
        )
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    return parse_scenario(data)
