""" "No network" with several nodes: a station held by another node is not offline; a
station nobody holds any more is, once, raised by the leader."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest
import trio

from db import Store
from db.schema.models import Alarm
from tests.gateway.cluster.rig import NODE_CONFIG, start_node, wait_until
from tests.gateway.conftest import add_station
from tests.gateway.ocpp_client import open_station

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[3]
WATCHFUL = dataclasses.replace(NODE_CONFIG, supervisor_interval=0.2, offline_grace=0.5)


def no_network_alarms() -> list[str]:
    return [
        a.charge_box_id
        for a in Alarm.select().where(Alarm.kind == "No network", Alarm.cleared_at.is_null())
    ]


async def test_only_stations_no_node_holds_get_no_network(store: Store, nursery) -> None:
    await store.write(lambda: [add_station(cbid) for cbid in ("HELD", "NEVER")])
    a = await start_node(nursery, store, "node-a", lease=1.0, config=WATCHFUL)
    b = await start_node(nursery, store, "node-b", lease=1.0, config=WATCHFUL)
    assert b.port is not None
    async with open_station(b.port, "HELD") as station:
        await station.result(
            "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}
        )
        await wait_until(lambda: a.cluster.holder("HELD") == "node-b")
        await trio.sleep(1.5)  # several supervisor ticks past the grace on both nodes
        alarmed = await store.read(no_network_alarms)
        assert "HELD" not in alarmed  # node A does not hold it, node B does: not offline
        assert alarmed.count("NEVER") <= 1
    b.stop()  # B dies: nobody holds HELD any more
    with trio.fail_after(10):
        while True:  # the leader's next ticks, once B's lease has expired
            if "HELD" in await store.read(no_network_alarms):
                break
            await trio.sleep(0.1)
    assert a.cluster.is_leader
    alarmed = await store.read(no_network_alarms)
    assert alarmed.count("HELD") == 1


async def test_cluster_status_names_the_nodes_their_stations_and_the_leader(
    store: Store, nursery, db_url: str
) -> None:
    await store.write(lambda: add_station("COUNTED"))
    a = await start_node(nursery, store, "node-a")
    await start_node(nursery, store, "portal-x", gateway=False)
    assert a.port is not None
    async with open_station(a.port, "COUNTED") as station:
        await station.result(
            "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}
        )
        await wait_until(lambda: a.cluster.holder("COUNTED") == "node-a")
        await wait_until(lambda: a.cluster.is_leader)
        shown = await trio.run_process(
            [sys.executable, "-m", "chargeportal", "cluster", "status", "--db", db_url],
            capture_stdout=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    out = shown.stdout.decode().splitlines()
    assert out[0] == "2 node(s)"
    node_a = next(line for line in out if "node-a" in line)
    assert "gateway" in node_a
    assert "1 station(s)" in node_a
    assert node_a.endswith("[leader]")
    portal = next(line for line in out if "portal-x" in line)
    assert "0 station(s)" in portal
    assert "leader" not in portal
    assert out[-1].startswith("commands in the last 60 min:")


async def test_a_restarted_process_takes_over_the_lease_of_its_dead_predecessor(
    store: Store,
) -> None:
    """A worker restarted after kill -9 under the same node id (same host, old pid gone)
    gets its node back at once; a live process under that id is refused."""
    import socket

    from db.system.cluster import NodeIdInUseError, register_node
    from gateway.cluster.node import ClusterConfig, ClusterNode

    host = socket.gethostname()
    dead_pid = 999_999_999  # above any pid_max: no such process
    await store.write(register_node, "w0", "gateway", host, dead_pid)
    node = ClusterNode(store, ClusterConfig("w0", "portal"))
    async with trio.open_nursery() as nursery:
        await nursery.start(node.run)  # not refused: its predecessor is gone
        nursery.cancel_scope.cancel()
    await store.write(register_node, "w1", "gateway", host, os.getppid())  # alive
    with pytest.RaisesGroup(
        pytest.RaisesExc(NodeIdInUseError, match="'w1' is in use"), flatten_subgroups=True
    ):
        async with trio.open_nursery() as nursery:
            await nursery.start(ClusterNode(store, ClusterConfig("w1", "portal")).run)
