"""Commands, presence and live events between nodes sharing one PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest
import trio

from db import Store
from db.schema.models import Station
from gateway.commands import GetConfiguration, Reset, TriggerMessage
from gateway.errors import (
    CallErrorReply,
    CommandTimeoutError,
    StationOfflineError,
    UnknownStationError,
)
from tests.gateway.cluster.rig import start_node, wait_until
from tests.gateway.conftest import add_station
from tests.gateway.ocpp_client import RawStation, open_station

pytestmark = pytest.mark.postgres

BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}


async def boot(station: RawStation) -> None:
    answer = await station.call("BootNotification", BOOT)
    assert answer[2]["status"] == "Accepted"


async def answer_next(station: RawStation, payload: dict, into: list) -> None:
    call = await station.next_call()
    into.append(call)
    await station.answer(call, payload)


async def test_a_portal_node_reaches_stations_on_either_gateway_node(store: Store, nursery):
    await store.write(lambda: [add_station(cbid) for cbid in ("A-1", "B-1", "IDLE")])
    a = await start_node(nursery, store, "node-a")
    b = await start_node(nursery, store, "node-b")
    portal = await start_node(nursery, store, "portal", gateway=False)
    assert a.port is not None
    assert b.port is not None
    async with (
        open_station(a.port, "A-1") as on_a,
        open_station(b.port, "B-1") as on_b,
    ):
        await boot(on_a)
        await boot(on_b)
        await wait_until(lambda: {"A-1", "B-1"} <= set(portal.api.online_stations()))
        assert portal.cluster.holder("A-1") == "node-a"
        assert portal.cluster.holder("B-1") == "node-b"
        seen: list = []
        async with trio.open_nursery() as answers:
            answers.start_soon(answer_next, on_a, {"status": "Accepted"}, seen)
            result = await portal.api.send("A-1", Reset(type="Hard"), timeout=5)
        assert result.ok
        assert result.answer == {"status": "Accepted"}
        assert seen[0][2] == "Reset"
        assert seen[0][3] == {"type": "Hard"}
        async with trio.open_nursery() as answers:
            answers.start_soon(
                answer_next, on_b, {"configurationKey": [], "unknownKey": ["X"]}, seen
            )
            # from a gateway node, for a station on the other node
            result = await a.api.send("B-1", GetConfiguration(key=("X",)), timeout=5)
        assert result.answer == {"configurationKey": [], "unknownKey": ["X"]}
        assert seen[1][2] == "GetConfiguration"
        async with trio.open_nursery() as answers:

            async def refuse() -> None:
                call = await on_b.next_call()
                await on_b.answer_error(call, "NotSupported", "no")

            answers.start_soon(refuse)
            with pytest.raises(CallErrorReply) as refused:
                await portal.api.send(
                    "B-1", TriggerMessage(requested_message="Heartbeat"), timeout=5
                )
        assert refused.value.code == "NotSupported"
        with pytest.raises(StationOfflineError, match="offline"):
            await portal.api.send("IDLE", Reset(type="Soft"), timeout=5)
        with pytest.raises(UnknownStationError):
            await portal.api.send("NOBODY", Reset(type="Soft"), timeout=5)
        started = trio.current_time()
        with pytest.raises(CommandTimeoutError) as late:
            await portal.api.send("A-1", Reset(type="Soft"), timeout=1)  # never answered
        assert late.value.sent is True
        assert trio.current_time() - started < 3


async def test_live_events_and_state_reach_the_portal_node(store: Store, nursery):
    await store.write(lambda: add_station("LIVE-1"))
    a = await start_node(nursery, store, "node-a")
    portal = await start_node(nursery, store, "portal", gateway=False)
    assert a.port is not None
    async with portal.api.events.subscribe() as events:
        async with open_station(a.port, "LIVE-1") as station:
            await boot(station)
            await station.call(
                "StatusNotification",
                {"connectorId": 1, "status": "Charging", "errorCode": "NoError"},
            )
            kinds = []
            with trio.fail_after(5):
                async for event in events:
                    assert event.charge_box_id == "LIVE-1"
                    kinds.append(event.kind)
                    if event.kind == "connector.status":
                        break
            assert kinds[0] == "station.online"
            snapshot = portal.api.snapshot("LIVE-1")
            assert snapshot is not None
            assert snapshot.online
            assert snapshot.connectors[1].status == "Charging"
        with trio.fail_after(5):
            async for event in events:
                if event.kind == "station.offline":
                    break
        await wait_until(lambda: not portal.api.is_online("LIVE-1"))
        snapshot = portal.api.snapshot("LIVE-1")
        assert snapshot is not None
        assert not snapshot.online


async def test_a_station_taken_over_by_another_node_is_closed_on_the_first(store: Store, nursery):
    await store.write(lambda: add_station("MOVER"))
    a = await start_node(nursery, store, "node-a")
    b = await start_node(nursery, store, "node-b")
    portal = await start_node(nursery, store, "portal", gateway=False)
    assert a.port is not None
    assert b.port is not None
    async with open_station(a.port, "MOVER") as first:
        await boot(first)
        await wait_until(lambda: portal.cluster.holder("MOVER") == "node-a")
        async with open_station(b.port, "MOVER") as second:
            await boot(second)
            with trio.fail_after(5):  # node A closes its socket: the first client sees it
                while True:
                    try:
                        await first.receive()
                    except Exception:
                        break
            await wait_until(lambda: portal.cluster.holder("MOVER") == "node-b")
            assert a.gateway is not None
            assert not a.gateway.is_online("MOVER")
            seen: list = []
            async with trio.open_nursery() as answers:
                answers.start_soon(answer_next, second, {"status": "Accepted"}, seen)
                result = await portal.api.send("MOVER", Reset(type="Soft"), timeout=5)
            assert result.ok


async def test_a_dead_nodes_stations_and_commands_are_released(store: Store, nursery):
    await store.write(lambda: add_station("ORPHAN"))
    a = await start_node(nursery, store, "node-a", lease=1.0)
    b = await start_node(nursery, store, "node-b", lease=1.0)
    portal = await start_node(nursery, store, "portal", gateway=False, lease=1.0)
    assert a.port is not None
    async with open_station(a.port, "ORPHAN") as station:
        await boot(station)
        await wait_until(lambda: portal.api.is_online("ORPHAN"))
        a.stop()  # its lease is no longer renewed; its queued commands will not run
        with pytest.raises(StationOfflineError):
            await portal.api.send("ORPHAN", Reset(type="Soft"), timeout=5)
        await wait_until(lambda: not portal.api.is_online("ORPHAN"), timeout=5)
    assert b.api.leads_cluster()  # the leader released A's stations; a portal never leads
    assert not portal.api.leads_cluster()
    rows = await store.read(lambda: Station.select().count())
    assert rows == 1


async def test_a_node_dying_with_a_command_in_flight_is_a_timeout_that_may_have_reached_it(
    store: Store, nursery
):
    await store.write(lambda: add_station("INFLIGHT"))
    a = await start_node(nursery, store, "node-a", lease=1.0)
    portal = await start_node(nursery, store, "portal", gateway=False, lease=1.0)
    assert a.port is not None
    async with open_station(a.port, "INFLIGHT") as station:
        await boot(station)
        await wait_until(lambda: portal.api.is_online("INFLIGHT"))
        async with trio.open_nursery() as inner:

            async def kill_once_received() -> None:
                await station.next_call()  # node A sent it: the station has it
                a.stop()  # ... and node A dies before any answer

            inner.start_soon(kill_once_received)
            with pytest.raises(CommandTimeoutError, match="may have received it") as lost:
                await portal.api.send("INFLIGHT", Reset(type="Soft"), timeout=5)
    assert lost.value.sent is True
    states = await store.read(
        lambda: [r[0] for r in Station._meta.database.execute_sql(
            'SELECT "state" FROM "cluster_command"').fetchall()]
    )  # fmt: skip
    assert states == ["lost"]


def _set_holder(charge_box_id: str, node_id: str) -> None:
    Station._meta.database.execute_sql(
        'UPDATE "station_presence" SET "node_id" = %s WHERE "charge_box_id" = %s',
        (node_id, charge_box_id),
    )


async def test_a_command_routed_to_a_node_the_station_left_is_routed_again(store: Store, nursery):
    await store.write(lambda: add_station("MOVED"))
    a = await start_node(nursery, store, "node-a")
    b = await start_node(nursery, store, "node-b")
    portal = await start_node(nursery, store, "portal", gateway=False)
    assert b.port is not None
    assert a.cluster.executor is not None
    async with open_station(b.port, "MOVED") as station:
        await boot(station)
        await wait_until(lambda: portal.cluster.holder("MOVED") == "node-b")
        await store.write(_set_holder, "MOVED", "node-a")  # as if it had just left A
        seen: list = []
        async with trio.open_nursery() as inner:
            inner.start_soon(answer_next, station, {"status": "Accepted"}, seen)

            async def back_to_b() -> None:
                await wait_until(lambda: a.cluster.executor.moved >= 1)  # A sent nothing
                await store.write(_set_holder, "MOVED", "node-b")

            inner.start_soon(back_to_b)
            result = await portal.api.send("MOVED", Reset(type="Soft"), timeout=5)
    assert result.ok
    assert len(seen) == 1  # the station got it once, from node B
    assert portal.api.rerouted >= 1


async def test_what_one_portal_publishes_reaches_the_other_portals(store: Store, nursery):
    from gateway.events import LiveEvent

    first = await start_node(nursery, store, "portal-1", gateway=False)
    second = await start_node(nursery, store, "portal-2", gateway=False)
    async with second.api.events.subscribe() as events:
        first.api.events.publish(LiveEvent("alarm.cleared", "CP9", {"alarmId": 7}, site_id=2))
        with trio.fail_after(5):
            event = await events.receive()
    assert (event.kind, event.charge_box_id, event.data, event.site_id) == (
        "alarm.cleared",
        "CP9",
        {"alarmId": 7},
        2,
    )


def _terminate(prefix: str) -> int:
    """Have the server end this database's backends whose application_name starts with
    ``prefix`` (other tests' databases on the same server are left alone)."""
    rows = Station._meta.database.execute_sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name LIKE %s",
        (prefix + "%",),
    ).fetchall()
    return len(rows)


async def test_lost_listen_and_leader_connections_come_back(store: Store, nursery):
    await store.write(lambda: add_station("SURVIVOR"))
    a = await start_node(nursery, store, "node-a", lease=1.0)
    portal = await start_node(nursery, store, "portal", gateway=False, lease=1.0)
    assert a.port is not None
    async with open_station(a.port, "SURVIVOR") as station:
        await boot(station)
        await wait_until(lambda: portal.api.is_online("SURVIVOR"))
        await wait_until(lambda: a.cluster.is_leader)
        assert await store.read(_terminate, "cp-listen ") == 2  # both nodes' LISTEN
        assert await store.read(_terminate, "cp-leader node-a") == 1
        await wait_until(lambda: not a.cluster.is_leader)  # it noticed its lock went
        seen: list = []
        async with trio.open_nursery() as inner:
            inner.start_soon(answer_next, station, {"status": "Accepted"}, seen)
            result = await portal.api.send("SURVIVOR", Reset(type="Soft"), timeout=10)
        assert result.ok
        assert len(seen) == 1
        await wait_until(lambda: a.cluster.is_leader)  # and took it again


async def test_a_sender_waiting_past_the_grace_for_a_live_node_polls_once_a_second(
    store: Store, nursery
):
    """A node that took a command and is slow to finish it (alive, renewing its lease):
    the sender keeps waiting without hammering the database, then gives the row up."""
    import os
    import socket

    from db.system.cluster import claim_commands, register_node, renew_node

    await store.write(lambda: add_station("SLOWNODE"))
    portal = await start_node(nursery, store, "portal", gateway=False)
    host = socket.gethostname()
    await store.write(register_node, "slow", "gateway", host, os.getpid())
    await store.write(renew_node, "slow", ["SLOWNODE"])  # it holds the station
    await wait_until(lambda: portal.cluster.holder("SLOWNODE") == "slow")
    api = portal.api
    api.node.config = dataclasses.replace(api.node.config, answer_grace=0.2, lost_after=2.5)

    async def slow_node() -> None:  # claims, renews its lease, never finishes
        while True:  # the row, as soon as the sender wrote it
            if await store.write(claim_commands, "slow"):
                break
            await trio.sleep(0.05)
        while True:
            await store.write(renew_node, "slow", ["SLOWNODE"])
            await trio.sleep(0.3)

    async with trio.open_nursery() as inner:
        inner.start_soon(slow_node)
        with pytest.raises(CommandTimeoutError, match="stopped answering") as gave_up:
            await api.send("SLOWNODE", Reset(type="Soft"), timeout=0.5)
        inner.cancel_scope.cancel()
    assert gave_up.value.sent is True
    assert api.polls <= 8  # ~3 s of waiting: about one read a second, not a busy loop


async def test_a_node_stopping_cleanly_releases_its_stations_at_once(store: Store, nursery):
    await store.write(lambda: add_station("LEAVING"))
    a = await start_node(nursery, store, "node-a", lease=30.0)  # a lease that outlives the test
    portal = await start_node(nursery, store, "portal", gateway=False, lease=30.0)
    assert a.port is not None
    async with open_station(a.port, "LEAVING") as station:
        await boot(station)
        await wait_until(lambda: portal.cluster.holder("LEAVING") == "node-a")
        a.stop(crash=False)
        with trio.fail_after(5):  # not 30 s: nothing waits for the lease
            while True:
                try:
                    await portal.api.send("LEAVING", Reset(type="Soft"), timeout=10)
                except StationOfflineError:
                    break
                await trio.sleep(0.1)
    nodes = await store.read(
        lambda: [r[0] for r in Station._meta.database.execute_sql(
            'SELECT "node_id" FROM "cluster_node"').fetchall()]
    )  # fmt: skip
    assert nodes == ["portal"]
