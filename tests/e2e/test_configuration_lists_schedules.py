"""RFID badges downloaded to a station work offline; a pushed schedule lowers the power."""

from __future__ import annotations

from pathlib import Path

import trio

from db import Store
from db.ocpp.config_keys import key_value
from db.schema.models import IdTag, Station
from db.system.schedules import save_schedule
from portal.schedule.push import composite_schedule, push_schedule
from tests.e2e.config_rig import open_rig, seed, wait_until, wait_until_async


async def _go_offline(station, gateway, seconds: float) -> None:
    station.drop_connection(offline_for=seconds)
    await wait_until(lambda: not station.online and not gateway.is_online(station.charge_box_id))


async def test_a_downloaded_local_list_lets_an_offline_station_accept_the_badge(
    store: Store, tmp_path: Path
) -> None:
    ids = await store.write(seed)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            station = await rig.station("SIM-1", config={"AuthorizationCacheEnabled": "false"})
            await _go_offline(station, rig.gateway, 0.5)
            assert await station.present_tag(1, "1001") == "Invalid"
            await wait_until(lambda: rig.gateway.is_online("SIM-1"))

            full = await rig.act("SIM-1", "send-local-list", updateType="Full")
            assert full.answer == {"status": "Accepted"}
            assert (full.extra["listVersion"], full.extra["entries"]) == (1, 1)
            assert station.local_auth.version == 1
            await _go_offline(station, rig.gateway, 0.5)
            assert await station.present_tag(1, "1001") == "Accepted"
            await wait_until(lambda: rig.gateway.is_online("SIM-1"))

            await store.write(lambda: IdTag.create(id_tag="1007"))
            diff = await rig.act("SIM-1", "send-local-list", updateType="Differential")
            assert diff.answer == {"status": "Accepted"}
            assert (diff.extra["listVersion"], diff.extra["entries"]) == (2, 1)
            assert set(station.local_auth.local_list) == {"1001", "1007"}
            version = await rig.act("SIM-1", "get-local-list-version")
            assert version.answer == {"listVersion": 2}
            assert await store.read(lambda: Station.get_by_id(ids["SIM-1"]).local_list_version) == 2


async def test_a_pushed_schedule_lowers_the_simulated_power(store: Store, tmp_path: Path) -> None:
    ids = await store.write(seed)
    periods = [{"days": list(range(7)), "start": "00:00", "end": "24:00", "limit": 3680}]
    schedule = await store.write(
        lambda: save_schedule(name="Cap", periods=periods, station_id=ids["SIM-1"])
    )
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            station = await rig.station("SIM-1")
            await station.plug_in(1)
            await rig.act("SIM-1", "remote-start", connectorId=1, idTag="1001")
            outlet = station.outlet(1)
            await wait_until(lambda: outlet.meter.power_w > 5000)
            results = await push_schedule(rig.deps, schedule)
            assert [(r["chargeBoxId"], r["status"]) for r in results] == [("SIM-1", "Accepted")]
            await wait_until(lambda: 0 < outlet.meter.power_w <= 3680)
            answer = await composite_schedule(rig.deps, "SIM-1", connector_id=1, duration=3600)
            assert answer["status"] == "Accepted"
            limits = [p["limit"] for p in answer["chargingSchedule"]["chargingSchedulePeriod"]]
            assert limits[0] == 3680


async def test_a_schedule_the_station_cannot_hold_is_not_sent(store: Store, tmp_path: Path) -> None:
    ids = await store.write(seed)
    windows = [
        {"days": list(range(7)), "start": start, "end": end, "limit": 4000}
        for start, end in (("06:00", "09:00"), ("16:00", "20:00"))
    ]
    schedule = await store.write(
        lambda: save_schedule(name="Busy", periods=windows, station_id=ids["SIM-1"])
    )
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            await rig.station("SIM-1")
            await wait_until_async(
                lambda: store.read(key_value, "SIM-1", "ChargingScheduleMaxPeriods")
            )
            results = await push_schedule(rig.deps, schedule)
            assert results[0]["status"] == "NotSent"
            assert (
                "29 periods do not fit SIM-1 (ChargingScheduleMaxPeriods 24)"
                in results[0]["message"]
            )
            assert rig.gateway.statistics()["commands"] == 0  # nothing was sent


async def test_a_site_schedule_reaches_every_online_station_of_the_site(
    store: Store, tmp_path: Path
) -> None:
    ids = await store.write(lambda: seed(stations=("SIM-1", "SIM-2", "SIM-3")))
    periods = [{"days": [0, 1, 2, 3, 4], "start": "07:00", "end": "19:00", "limit": 7400}]
    schedule = await store.write(
        lambda: save_schedule(name="Site", periods=periods, site_id=ids["site"])
    )
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            one = await rig.station("SIM-1")
            three = await rig.station("SIM-3")
            results = await push_schedule(rig.deps, schedule)
            assert [(r["chargeBoxId"], r["status"]) for r in results] == [
                ("SIM-1", "Accepted"),
                ("SIM-2", "Offline"),
                ("SIM-3", "Accepted"),
            ]
            assert len(one.profiles) == len(three.profiles) == 1
