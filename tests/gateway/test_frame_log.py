"""The station message log over real sockets: every frame both ways (OCPP-J and 1.5 SOAP),
connection events with their reason, retention per station and by age, and the switch
that turns it off."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import trio

from db import Store
from db.ocpp.frame_log import connection_events, station_frames, write_log
from db.schema.models import utcnow
from gateway import Gateway
from gateway.commands import Reset
from gateway.frame_log import FrameLog
from tests.gateway.conftest import TEST_CONFIG, add_station
from tests.gateway.ocpp15_rig import envelope, post, running
from tests.gateway.ocpp_client import open_station
from tests.gateway.soap_station import SoapStation

BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Wallbox"}


async def gone(gateway: Gateway, charge_box_id: str) -> None:
    """Until the gateway has marked the station offline (its disconnection logged)."""
    for _ in range(500):
        if not gateway.is_online(charge_box_id):
            return
        await trio.sleep(0.01)
    raise AssertionError(f"{charge_box_id} never went offline")


async def frames_of(gateway: Gateway, store: Store, station_id: int) -> list[dict[str, Any]]:
    await gateway.frame_log.flush()
    return await store.read(station_frames, station_id, 100)


async def test_every_frame_of_a_station_is_kept_both_ways_in_order(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    station_id = await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result("BootNotification", BOOT)
            await station.send_raw("[2, no json")  # refused: FormationViolation
            await station.receive()
            await station.call("Dance", {})  # an action nobody knows: NotImplemented
            async with trio.open_nursery() as nursery:
                nursery.start_soon(
                    lambda: gateway.call("CP1", "ChangeAvailability", _availability())
                )
                call = await station.next_call()
                await station.answer(call, {"status": "Accepted"})
    rows = await frames_of(gateway, store, station_id)
    seen = [(r["direction"], r["message_type"], r["action"]) for r in rows]
    assert seen == [
        ("in", "Call", "BootNotification"),
        ("out", "CallResult", "BootNotification"),
        ("in", "Malformed", ""),
        ("out", "CallError", ""),
        ("in", "Call", "Dance"),
        ("out", "CallError", "Dance"),
        ("out", "Call", "ChangeAvailability"),
        ("in", "CallResult", "ChangeAvailability"),
    ]
    assert rows[2]["payload"] == "[2, no json"
    assert json.loads(rows[5]["payload"])[2] == "NotImplemented"
    assert json.loads(rows[7]["payload"]) == [3, call[1], {"status": "Accepted"}]
    assert rows[6]["unique_id"] == rows[7]["unique_id"] == call[1]
    assert all(r["at"] <= utcnow() for r in rows)


def _availability() -> dict[str, Any]:
    return {"connectorId": 0, "type": "Inoperative"}


async def test_connections_are_logged_with_why_they_ended(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    station_id = await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result("BootNotification", BOOT)
            async with open_station(port, "CP1") as newer:  # takes over: still online
                await newer.result("Heartbeat", {})
        await gone(gateway, "CP1")
    await gateway.frame_log.flush()
    rows = await store.read(lambda: connection_events(station_id=station_id))
    assert [(r["kind"], r["reason"]) for r in rows] == [
        ("connected", ""),
        ("connected", "replaced the previous connection"),
        ("disconnected", "connection closed (1000 NORMAL_CLOSURE)"),
    ]
    assert rows[0]["charge_box_id"] == "CP1"
    assert rows[0]["remote"].startswith("127.0.0.1")


async def test_with_the_log_off_no_frame_is_kept_but_connections_are(
    store: Store, nursery: trio.Nursery
) -> None:
    gateway = Gateway(store, config=dataclasses.replace(TEST_CONFIG, frame_log=False))
    port = await nursery.start(gateway.serve, "127.0.0.1", 0)
    station_id = await store.write(lambda: add_station("CP1"))
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result("BootNotification", BOOT)
        await gone(gateway, "CP1")
    assert await frames_of(gateway, store, station_id) == []
    rows = await store.read(lambda: connection_events(station_id=station_id))
    assert [r["kind"] for r in rows] == ["connected", "disconnected"]


def _rows(station_id: int, count: int, at: dt.datetime) -> list[Any]:
    return [
        (station_id, f"CP{station_id}", at, "in", "Call", f"u{i}", "Heartbeat", f"[{i}]")
        for i in range(count)
    ]


async def test_the_cleaner_keeps_each_stations_newest_frames_and_nothing_too_old(
    store: Store,
) -> None:
    now = utcnow()
    month_ago = now - dt.timedelta(days=30)
    await store.write(write_log, _rows(1, 30, now) + _rows(2, 3, now) + _rows(3, 4, month_ago), [])
    await store.write(
        write_log,
        [],
        [(3, "CP3", month_ago, "connected", "", ""), (2, "CP2", now, "connected", "", "")],
    )
    config = dataclasses.replace(TEST_CONFIG, frame_log_per_station=10, frame_log_days=14)
    cleaner = FrameLog(store, config)  # a new gateway: it has counted nothing yet
    await cleaner.clean()
    kept = {sid: await store.read(station_frames, sid, 100) for sid in (1, 2, 3)}
    assert [r["payload"] for r in kept[1]] == [f"[{i}]" for i in range(20, 30)]
    assert len(kept[2]) == 3
    assert kept[3] == []
    events = await store.read(lambda: connection_events())
    assert [e["charge_box_id"] for e in events] == ["CP2"]
    assert (cleaner.trimmed, cleaner.aged_out) == (20, 4)


async def test_the_cleaner_trims_stations_that_wrote_enough_since_and_runs_at_its_interval(
    store: Store,
) -> None:
    config = dataclasses.replace(
        TEST_CONFIG, frame_log_per_station=10, frame_log_clean_interval=300
    )
    log = FrameLog(store, config)
    await log.clean()  # the first sweep: nothing there yet
    for i in range(25):
        log.frame(7, "CP7", "in", "Call", f"u{i}", "Heartbeat", f"[{i}]")
    await log.flush()
    await log.clean()  # not due yet
    assert len(await store.read(station_frames, 7, 100)) == 25
    await log.clean(force=True)
    kept = await store.read(station_frames, 7, 100)
    assert [r["payload"] for r in kept] == [f"[{i}]" for i in range(15, 25)]


async def test_frames_beyond_the_buffer_are_dropped_and_counted(store: Store) -> None:
    log = FrameLog(store, dataclasses.replace(TEST_CONFIG, frame_log_max_buffered=3))
    for i in range(5):
        log.frame(1, "CP1", "in", "Call", f"u{i}", "Heartbeat", "[]")
    await log.flush()
    assert (log.written, log.dropped) == (3, 2)
    assert len(await store.read(station_frames, 1, 100)) == 3


async def test_an_ocpp15_stations_requests_answers_and_commands_are_kept(
    store: Store, nursery: trio.Nursery
) -> None:
    """SOAP requests and our answers as sent (XML); our commands in their 1.6-J shapes."""
    station_id = await store.write(lambda: add_station("CP15", outlets=1))
    station = SoapStation()
    await nursery.start(station.run)
    heartbeat = envelope("<cs:heartbeatRequest/>").replace(
        b"http://127.0.0.1:1/cp", station.url.encode()
    )
    beyond = envelope(
        "<cs:statusNotificationRequest><cs:connectorId>3</cs:connectorId>"
        "<cs:status>Available</cs:status><cs:errorCode>NoError</cs:errorCode>"
        "</cs:statusNotificationRequest>",
        message_id="urn:uuid:2",
    ).replace(b"http://127.0.0.1:1/cp", station.url.encode())
    async with running(store) as rig:
        assert (await post(rig.url, heartbeat)).status_code == 200
        assert (await post(rig.url, beyond)).status_code == 400
        await rig.gateway.send("CP15", Reset(type="Soft"), timeout=5)
        rows = await frames_of(rig.gateway, store, station_id)
    seen = [(r["direction"], r["message_type"], r["action"]) for r in rows]
    assert seen == [
        ("in", "Call", "Heartbeat"),
        ("out", "CallResult", "Heartbeat"),
        ("in", "Call", "StatusNotification"),
        ("out", "CallError", "StatusNotification"),
        ("out", "Call", "Reset"),
        ("in", "CallResult", "Reset"),
    ]
    assert "heartbeatRequest" in rows[0]["payload"]
    assert "heartbeatResponse" in rows[1]["payload"]
    assert "Fault" in rows[3]["payload"]
    assert rows[2]["unique_id"] == "urn:uuid:2"
    assert json.loads(rows[4]["payload"])[2:] == ["Reset", {"type": "Soft"}]
    assert json.loads(rows[5]["payload"])[2] == {"status": "Accepted"}
