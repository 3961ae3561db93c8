"""Value conversions at the protocol edge: OCPP date-times and meter readings."""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["energy_wh", "format_datetime", "parse_datetime", "power_w"]


def parse_datetime(value: str) -> dt.datetime:
    """An OCPP (RFC 3339) date-time as a naive UTC datetime, the form the database stores."""
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:  # 9999-12-31T23:59:59-14:00 is in year 10000 UTC
            raise ValueError(f"{value!r} is out of range in UTC") from None
    return parsed


def format_datetime(value: dt.datetime) -> str:
    """A naive UTC datetime as OCPP expects it: ``2024-05-01T12:00:00.000Z``."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


_ENERGY = "Energy.Active.Import.Register"
_POWER = "Power.Active.Import"


def _number(sample: dict[str, Any]) -> float | None:
    try:
        return float(sample["value"])
    except (KeyError, TypeError, ValueError):
        return None


def energy_wh(sampled_values: list[dict[str, Any]]) -> int | None:
    """The total (phase-less) active import register in Wh from one meterValue, if present."""
    for sample in sampled_values:
        if sample.get("measurand", _ENERGY) != _ENERGY or sample.get("phase"):
            continue
        if sample.get("format") == "SignedData":
            continue
        number = _number(sample)
        if number is None:
            continue
        if sample.get("unit") == "kWh":
            number *= 1000
        return round(number)
    return None


def power_w(sampled_values: list[dict[str, Any]]) -> float | None:
    """The total active import power in W from one meterValue, if present."""
    for sample in sampled_values:
        if sample.get("measurand") != _POWER or sample.get("phase"):
            continue
        number = _number(sample)
        if number is None:
            continue
        return number * 1000 if sample.get("unit") == "kW" else number
    return None
