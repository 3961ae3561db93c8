"""Conversions at the protocol edge: date-times and meter readings."""

from __future__ import annotations

import datetime as dt

from gateway.ocpp16 import energy_wh, format_datetime, parse_datetime, power_w


def test_offsets_become_naive_utc() -> None:
    assert parse_datetime("2024-05-01T14:00:00+02:00") == dt.datetime(2024, 5, 1, 12, 0)
    assert parse_datetime("2024-05-01T12:00:00.250Z") == dt.datetime(2024, 5, 1, 12, 0, 0, 250000)


def test_times_are_sent_with_z() -> None:
    assert format_datetime(dt.datetime(2024, 5, 1, 12, 0)) == "2024-05-01T12:00:00.000Z"


def test_energy_register_is_read_in_wh_from_wh_or_kwh() -> None:
    assert energy_wh([{"value": "1500"}]) == 1500
    assert energy_wh([{"value": "1.5", "unit": "kWh"}]) == 1500
    assert (
        energy_wh(
            [
                {"value": "10", "measurand": "Energy.Active.Import.Register", "phase": "L1"},
                {"value": "11000", "measurand": "Power.Active.Import"},
            ]
        )
        is None
    )


def test_power_is_read_in_watts() -> None:
    assert power_w([{"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"}]) == 7400
    assert power_w([{"value": "1"}]) is None
