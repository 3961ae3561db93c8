"""Live colours: the SPEC §4 colour rules and the SSE stream's site scoping."""

from __future__ import annotations

import json

import pytest
import trio

from gateway import Gateway, LiveEvent
from portal.live import connector_colour, sse_station_stream, station_colour


@pytest.mark.parametrize(
    ("online", "connector", "colour"),
    [
        (False, {"status": "Charging"}, "grey"),
        (True, {"status": "Available", "errorCode": "NoError"}, "black"),
        (True, {"status": "Charging", "transactionId": 7}, "blue"),
        (True, {"status": "SuspendedEV"}, "blue"),
        (True, {"status": "Faulted", "errorCode": "GroundFailure"}, "red"),
        (True, {"status": "Available", "errorCode": "HighTemperature"}, "red"),
        (True, {"status": "Preparing"}, "black"),
    ],
)
def test_connector_colour_follows_spec(online: bool, connector: dict, colour: str) -> None:
    assert connector_colour(online, connector) == colour


def test_a_fault_wins_over_charging_for_the_station() -> None:
    connectors = {1: {"status": "Charging"}, 2: {"status": "Faulted"}}
    assert station_colour(True, connectors) == "red"
    assert station_colour(True, {1: {"status": "Charging"}, 2: {"status": "Available"}}) == "blue"
    assert station_colour(True, {}) == "black"


def _events(chunk: bytes) -> list[tuple[str, dict]]:
    """The SSE events in one chunk of the stream (a chunk may carry several)."""
    found = []
    for block in chunk.decode().split("\n\n"):
        if block.startswith("event: "):
            kind = block.split("\n", 1)[0][len("event: ") :]
            found.append((kind, json.loads(block.split("data: ", 1)[1])))
    return found


async def _collect(gateway: Gateway, site_id: int | None, all_sites: bool) -> list[dict]:
    received: list[dict] = []
    stream = sse_station_stream(gateway, site_id, keepalive=1.0, max_seconds=5, all_sites=all_sites)
    async for chunk in stream:
        received += [data for kind, data in _events(chunk) if kind == "station"]
    return received


async def test_a_site_administrators_stream_carries_only_his_sites_stations(
    gateway: Gateway, autojump_clock: trio.abc.Clock
) -> None:
    results: dict[str, list[dict]] = {}

    async def listen(name: str, site_id: int | None, all_sites: bool) -> None:
        results[name] = await _collect(gateway, site_id, all_sites)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(listen, "site-admin", 1, False)
        nursery.start_soon(listen, "admin", None, True)
        await trio.sleep(0.5)
        for cbid, site in (("SOLNA-1", 1), ("KISTA-1", 2)):
            gateway.events.publish(
                LiveEvent("connector.status", cbid, {"connectorId": 1}, site_id=site)
            )
        gateway.events.publish(LiveEvent("session.meter", "SOLNA-1", {}, site_id=1))
    assert [e["station"] for e in results["site-admin"]] == ["SOLNA-1"]
    assert [e["station"] for e in results["admin"]] == ["SOLNA-1", "KISTA-1"]
    assert results["admin"][0]["colour"] == "grey"  # never connected: offline


async def test_the_frame_stream_carries_firmware_and_log_progress_of_the_viewers_site(
    gateway: Gateway, autojump_clock: trio.abc.Clock
) -> None:
    """One stream per browser tab: the Control tab's progress rides on the frame's."""
    seen: dict[str, list[tuple[str, dict]]] = {"site-admin": [], "admin": []}

    async def listen(name: str, site_id: int | None, all_sites: bool) -> None:
        stream = sse_station_stream(
            gateway, site_id, keepalive=1.0, max_seconds=5, all_sites=all_sites
        )
        async for chunk in stream:
            seen[name] += _events(chunk)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(listen, "site-admin", 1, False)
        nursery.start_soon(listen, "admin", None, True)
        await trio.sleep(0.5)
        gateway.events.publish(
            LiveEvent("firmware.status", "SOLNA-1", {"status": "Installing"}, site_id=1)
        )
        gateway.events.publish(
            LiveEvent("diagnostics.status", "KISTA-1", {"status": "Uploaded"}, site_id=2)
        )
        gateway.events.publish(
            LiveEvent("station.booted", "SOLNA-1", {"firmwareVersion": "2.0.0"}, site_id=1)
        )
    assert seen["site-admin"] == [
        ("progress", {"station": "SOLNA-1", "kind": "firmware", "status": "Installing"}),
        ("station", {**seen["site-admin"][1][1], "firmwareVersion": "2.0.0"}),
    ]
    assert seen["site-admin"][1][1]["station"] == "SOLNA-1"
    assert (
        "progress",
        {"station": "KISTA-1", "kind": "diagnostics", "status": "Uploaded"},
    ) in seen["admin"]


async def test_a_burst_of_changes_reaches_the_browser_at_once_one_state_per_station(
    gateway: Gateway, autojump_clock: trio.abc.Clock
) -> None:
    chunks: list[list[tuple[str, dict]]] = []

    async def listen() -> None:
        stream = sse_station_stream(gateway, None, keepalive=1.0, max_seconds=5, all_sites=True)
        async for chunk in stream:
            if events := _events(chunk):
                chunks.append(events)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(listen)
        await trio.sleep(0.5)
        for i in range(500):  # published without a checkpoint: one burst
            gateway.events.publish(
                LiveEvent("connector.status", f"CP{i % 3}", {"connectorId": 1}, site_id=1)
            )
        gateway.events.publish(LiveEvent("alarm.raised", "CP1", {"kind": "Fuse"}, site_id=1))
    (burst,) = chunks
    assert sorted(data["station"] for kind, data in burst if kind == "station") == [
        "CP0",
        "CP1",
        "CP2",
    ]
    assert [data for kind, data in burst if kind == "alarm"] == [
        {"station": "CP1", "kind": "alarm.raised"}
    ]


async def test_the_stream_asks_at_least_every_minute_whether_its_viewer_may_still_listen(
    gateway: Gateway, autojump_clock: trio.abc.Clock
) -> None:
    asked: list[float] = []
    allowed = True

    async def still_allowed() -> bool:
        asked.append(trio.current_time())
        return allowed

    start = trio.current_time()
    ended_at: list[float] = []

    async def listen() -> None:
        stream = sse_station_stream(
            gateway,
            None,
            keepalive=15.0,
            max_seconds=3600,
            all_sites=True,
            still_allowed=still_allowed,
        )
        async for _chunk in stream:
            pass
        ended_at.append(trio.current_time() - start)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(listen)
        await trio.sleep(150)
        allowed = False  # e.g. the account was deleted now
    gaps = [b - a for a, b in zip([start, *asked], asked, strict=False)]
    assert gaps
    assert max(gaps) <= 60
    assert ended_at
    assert ended_at[0] <= 150 + 60
