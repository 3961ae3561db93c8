"""A 1.5 station has no socket: online while heard from within heartbeat × the liveness
multiple, offline with a No network alarm after; the protocol it last spoke is stored."""

from __future__ import annotations

import dataclasses

import trio

from db import Store
from db.schema.models import Alarm, Station
from tests.gateway.conftest import TEST_CONFIG, add_station
from tests.gateway.ocpp15_rig import envelope, post, running

HEARTBEAT = "<cs:heartbeatRequest/>"


async def test_a_silent_15_station_goes_offline_with_no_network_and_comes_back(
    store: Store,
) -> None:
    await store.write(lambda: add_station("CP15"))
    config = dataclasses.replace(TEST_CONFIG, heartbeat_interval=1, no_network_factor=3.0)
    async with running(store, config) as rig:
        assert (await post(rig.url, envelope(HEARTBEAT))).status_code == 200
        await rig.gateway.supervisor.tick()
        assert rig.gateway.is_online("CP15")  # just heard: within 3 s
        await trio.sleep(3.5)
        await rig.gateway.supervisor.tick()
        assert not rig.gateway.is_online("CP15")
        snapshot = rig.gateway.snapshot("CP15")
        assert snapshot is not None
        assert not snapshot.online
        raised = await store.read(
            lambda: [a.kind for a in Alarm.select().where(Alarm.cleared_at.is_null())]
        )
        assert raised == ["No network"]
        assert (await post(rig.url, envelope(HEARTBEAT))).status_code == 200
        await rig.gateway.supervisor.tick()
        assert rig.gateway.is_online("CP15")
        open_alarms = await store.read(
            lambda: Alarm.select().where(Alarm.cleared_at.is_null()).count()
        )
        assert open_alarms == 0


async def test_the_protocol_a_station_last_spoke_is_stored(store: Store) -> None:
    await store.write(lambda: add_station("CP15"))  # created as an OCPP 1.6 station
    async with running(store) as rig:
        assert (await post(rig.url, envelope(HEARTBEAT))).status_code == 200
    protocol = await store.read(lambda: Station.get(Station.charge_box_id == "CP15").protocol)
    assert protocol == "1.5"
