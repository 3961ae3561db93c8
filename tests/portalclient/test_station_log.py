"""A station's message log, connection log and one outlet's view, through ``portalclient``
against a real portal with simulated stations."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
import trio

from db import Store
from db.schema.models import MeterSample
from portalclient import NotFound, PortalClient
from tests.portal.conftest import simulated_station
from tests.portalclient.conftest import Portal, blocking

T = TypeVar("T")


async def until(read: Callable[[], T], ready: Callable[[T], bool]) -> T:
    """Read (a blocking client call) until ``ready``; the gateway writes its log every 0.5 s."""
    with trio.fail_after(15):
        while True:
            value = await blocking(read)
            if ready(value):
                return value
            await trio.sleep(0.1)


def _kinds(frames: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(f["direction"], f["messageType"], f["action"]) for f in frames]


async def test_the_message_log_holds_every_frame_both_ways(
    portal: Portal, nursery: trio.Nursery
) -> None:
    station = simulated_station(portal.gateway, "SOLNA-1")
    await nursery.start(station.run)
    await station.wait_online()
    support = portal.client("support")
    await blocking(support.command, "SOLNA-1", "TriggerMessage", {"requestedMessage": "Heartbeat"})
    frames = await until(
        lambda: support.messages("SOLNA-1", limit=1000),
        lambda rows: ("in", "CallResult", "TriggerMessage") in _kinds(rows),
    )
    kinds = _kinds(frames)
    assert kinds[:2] == [
        ("in", "Call", "BootNotification"),
        ("out", "CallResult", "BootNotification"),
    ]
    assert ("out", "Call", "TriggerMessage") in kinds
    boot_reply = json.loads(frames[1]["payload"])
    assert boot_reply[0] == 3
    assert boot_reply[2]["status"] == "Accepted"
    assert frames[0]["uniqueId"] == frames[1]["uniqueId"]
    older = await blocking(lambda: support.messages("SOLNA-1", limit=1, before=frames[1]["id"]))
    assert [f["id"] for f in older] == [frames[0]["id"]]
    boots = await blocking(lambda: support.messages("SOLNA-1", action="BootNotification"))
    assert {f["action"] for f in boots} == {"BootNotification"}


async def test_connections_are_listed_per_station_and_in_the_callers_scope(
    portal: Portal, nursery: trio.Nursery
) -> None:
    stations = {cbid: simulated_station(portal.gateway, cbid) for cbid in ("SOLNA-1", "KISTA-1")}
    for station in stations.values():
        await nursery.start(station.run)
        await station.wait_online()
    stations["SOLNA-1"].drop_connection(offline_for=60)
    support, solna = portal.client("support"), portal.client("solna-admin")
    events = await until(
        lambda: list(support.connections("SOLNA-1")),
        lambda rows: [r["kind"] for r in rows] == ["connected", "disconnected"],
    )
    assert events[1]["reason"].startswith("connection closed")
    everyone = await blocking(lambda: list(support.connections()))
    assert {e["chargeBoxId"] for e in everyone} == {"SOLNA-1", "KISTA-1"}
    paged = await blocking(lambda: list(support.connections(limit=1)))
    assert [e["id"] for e in paged] == [e["id"] for e in everyone]
    assert {e["chargeBoxId"] for e in await blocking(lambda: list(solna.connections()))} == {
        "SOLNA-1"
    }
    with pytest.raises(NotFound):
        await blocking(lambda: list(solna.connections("KISTA-1")))


async def test_the_outlet_view_shows_its_sessions_status_history_and_last_meter_values(
    portal: Portal, nursery: trio.Nursery, store: Store
) -> None:
    pytest.importorskip("pandas", reason="pandas comes with the [notebooks] extra")
    from portalclient import explore

    session_id = portal.world.ev_session

    def sample() -> None:
        MeterSample.create(
            session=session_id, station_id=portal.world.solna_station, connector_id=1,
            timestamp="2026-11-02 08:30:00", value="2500",
        )  # fmt: skip

    await store.write(sample)
    station = simulated_station(portal.gateway, "SOLNA-1")
    await nursery.start(station.run)
    await station.wait_online()
    await station.plug_in(1)
    client: PortalClient = portal.client("support")
    one = await until(
        lambda: explore.outlet_view(client, "SOLNA-1", 1),
        lambda view: "Preparing" in set(view["status"]["status"]),
    )
    assert list(one["sessions"]["id"]) == [session_id]
    assert list(one["meter"]["value"]) == [2500]
    assert one["status"]["time"].is_monotonic_increasing
    two = await blocking(lambda: explore.outlet_view(client, "SOLNA-1", 2))
    assert "Preparing" not in set(two["status"]["status"])
    assert two["sessions"].empty
    assert two["meter"].empty


async def test_empty_alarm_and_event_frames_keep_their_columns(portal: Portal) -> None:
    pytest.importorskip("pandas", reason="pandas comes with the [notebooks] extra")
    from portalclient import frames

    client = portal.client("support")
    history = await blocking(lambda: frames.alarms_frame(client, "cleared"))
    assert history.empty
    assert history[history["charge_box_id"] == "SOLNA-1"].empty  # a notebook's filter
    events = await blocking(lambda: frames.events_frame(client, q="nobody"))
    assert {"time", "kind", "charge_box_id"} <= set(events.columns)
