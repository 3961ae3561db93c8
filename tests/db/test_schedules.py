"""Schedules: periods are checked, targets resolved to OCPP 1.6 stations."""

from __future__ import annotations

import pytest

from db import Store
from db.config_errors import ConfigurationError
from db.schema.models import Outlet
from db.system.schedules import normalise_periods, push_targets, save_schedule, schedules_for
from db.topology.nodes import create_site, create_station


def test_periods_expand_days_and_sort() -> None:
    periods = normalise_periods(
        [
            {"days": [2, 0], "start": "18:00", "end": "24:00", "limit": 3680},
            {"weekday": 0, "start": "00:00", "end": "06:00", "available": False},
        ]
    )
    assert [(p["weekday"], p["start"], p["limit"], p["available"]) for p in periods] == [
        (0, "00:00", None, False),
        (0, "18:00", 3680.0, True),
        (2, "18:00", 3680.0, True),
    ]


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ({"weekday": 0, "start": "10:00", "end": "09:00", "limit": 1}, "ends after it starts"),
        ({"weekday": 7, "start": "10:00", "end": "11:00", "limit": 1}, "weekday"),
        ({"weekday": 0, "start": "25:00", "end": "26:00", "limit": 1}, "time of day"),
        ({"weekday": 0, "start": "10:00", "end": "11:00", "limit": -5}, "negative"),
        ({"weekday": 0, "start": "10:00", "end": "11:00"}, "limits power"),
    ],
)
def test_bad_periods_are_refused_with_a_reason(period: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        normalise_periods([period])


def test_overlapping_periods_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="overlap"):
        normalise_periods(
            [
                {"weekday": 1, "start": "08:00", "end": "12:00", "limit": 1000},
                {"weekday": 1, "start": "11:00", "end": "13:00", "limit": 2000},
            ]
        )


async def test_a_site_schedule_goes_to_its_16_stations(store: Store) -> None:
    def build() -> tuple[int, int]:
        site = create_site("Solna")
        create_station("CP1", site_id=site)
        create_station("CP2", site_id=site, protocol="1.5")
        create_station("NC1", site_id=site, node_type="controller")
        station = create_station("CP3", site_id=site, outlets=2)
        return site, station

    site, station = await store.write(build)
    periods = [{"weekday": 0, "start": "08:00", "end": "17:00", "limit": 7400}]
    sid = await store.write(lambda: save_schedule(name="Day", periods=periods, site_id=site))
    assert await store.read(push_targets, sid) == [("CP1", 0), ("CP3", 0)]
    outlet = await store.read(
        lambda: Outlet.get((Outlet.station == station) & (Outlet.connector_id == 2)).id
    )
    oid = await store.write(lambda: save_schedule(name="Out", periods=periods, outlet_id=outlet))
    assert await store.read(push_targets, oid) == [("CP3", 2)]
    names = [s["name"] for s in await store.read(lambda: schedules_for(outlet_id=outlet))]
    assert names == ["Day", "Out"]
    with pytest.raises(ConfigurationError, match="whole station"):
        await store.write(
            lambda: save_schedule(
                name="X", periods=periods, outlet_id=outlet, purpose="ChargePointMaxProfile"
            )
        )
