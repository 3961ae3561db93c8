"""Many stations' connections and configuration imports in one unit: what one at a time stores."""

from __future__ import annotations

import datetime as dt
from typing import Any

from db import Store
from db.ocpp.ocpp_records import store_configuration
from db.ocpp.station_batches import (
    ConfigIn,
    ConnectIn,
    record_connections,
    store_configurations,
)
from db.schema.models import ChargingSession, ConfigurationKey, Station, utcnow
from tests.gateway.conftest import add_station


def _keys(i: int) -> list[dict[str, Any]]:
    return [
        {"key": "HeartbeatInterval", "readonly": False, "value": str(60 + i)},
        {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
        {"key": "AuthorizationKey", "readonly": False, "value": "secret"},  # never kept
        {"key": "MeterValueSampleInterval", "value": "10"},
        {"key": "MeterValueSampleInterval", "readonly": True, "value": f"{i}"},  # twice: last
        {"key": "Empty"},
    ]


def _stored(prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for station in Station.select().where(Station.charge_box_id.startswith(prefix)):
        keys = sorted(
            (k.key, k.value, k.readonly)
            for k in ConfigurationKey.select().where(ConfigurationKey.station == station.id)
        )
        out[station.charge_box_id[len(prefix) :]] = (keys, station.config_imported_at)
    return out


async def test_configuration_imports_of_many_stations_store_what_each_alone_stores(
    store: Store,
) -> None:
    now = utcnow().replace(microsecond=0)
    alone = [await store.write(add_station, f"ONE{i}") for i in range(5)]
    shared = [await store.write(add_station, f"ALL{i}") for i in range(5)]
    for i, station_id in enumerate(alone):
        await store.write(
            lambda s=station_id, i=i: store_configuration(
                s, _keys(i), mark_imported=i != 2, now=now
            )
        )
    items = [ConfigIn(s, _keys(i), i != 2, now) for i, s in enumerate(shared)]
    counts = await store.write(store_configurations, items)
    assert counts == [6] * 5
    assert await store.read(_stored, "ALL") == await store.read(_stored, "ONE")
    keys, imported = (await store.read(_stored, "ALL"))["1"]
    assert ("AuthorizationKey", None, False) in keys
    assert ("MeterValueSampleInterval", "1", True) in keys
    assert imported == now
    assert (await store.read(_stored, "ALL"))["2"][1] is None  # a partial read: not imported


async def test_a_station_imported_twice_in_one_unit_keeps_its_later_answer(store: Store) -> None:
    station_id = await store.write(add_station, "CP1")
    now = utcnow()
    first = ConfigIn(station_id, [{"key": "HeartbeatInterval", "value": "60"}], True, now)
    later = ConfigIn(station_id, [{"key": "HeartbeatInterval", "value": "90"}], True, now)
    await store.write(store_configurations, [first, later])
    keys, _ = (await store.read(_stored, "CP"))["1"]
    assert keys == [("HeartbeatInterval", "90", False)]


async def test_connections_of_many_stations_mark_them_seen_and_return_their_open_sessions(
    store: Store,
) -> None:
    ids = [await store.write(add_station, f"CP{i}") for i in range(4)]
    early = utcnow().replace(microsecond=0) - dt.timedelta(days=3)

    def sessions() -> None:
        Station.update(first_connected_at=early, protocol="1.5").where(
            Station.id == ids[0]
        ).execute()
        for connector, start, end in ((1, 100, None), (2, 200, None), (1, 50, early)):
            ChargingSession.create(
                station=ids[0],
                charge_box_id="CP0",
                connector_id=connector,
                id_tag="TAG",
                start_time=early,
                meter_start=start,
                end_time=end,
            )

    await store.write(sessions)
    t1 = utcnow().replace(microsecond=0)
    t2 = t1 + dt.timedelta(seconds=1)
    items = [
        ConnectIn(ids[0], "CP0", "1.6", t1, True),
        ConnectIn(ids[1], "CP1", "1.6", t1, True),
        ConnectIn(ids[2], "CP2", "1.5", t1, False),
        ConnectIn(ids[2], "CP2", "1.5", t2, True),  # the same station again, later
        ConnectIn(ids[0], "CP0", "1.6", t1, False),
    ]
    running = await store.write(record_connections, items)
    assert sorted(r[1:4] for r in running[0]) == [(1, 100, None), (2, 200, None)]
    assert running[1:] == [[], [], [], []]

    def seen() -> list[tuple[Any, ...]]:
        return [
            (s.charge_box_id, s.protocol, s.last_seen_at, s.first_connected_at)
            for s in Station.select().order_by(Station.charge_box_id)
        ]

    assert await store.read(seen) == [
        ("CP0", "1.6", t1, early),  # connected before: first connection kept
        ("CP1", "1.6", t1, t1),
        ("CP2", "1.5", t2, t1),  # seen last at its later connection, first at the earlier
        ("CP3", "1.6", None, None),
    ]
