"""End to end: the station messages of the OCPP 1.6 security extension are answered,
stored and shown like their Core counterparts."""

from __future__ import annotations

import trio

from db import Store
from db.schema.models import Alarm, Event, Station
from gateway import Gateway
from tests.gateway.conftest import add_station
from tests.gateway.ocpp_client import now_iso, open_station


def events(kind: str) -> list[tuple[str, str]]:
    query = Event.select().where(Event.kind == kind).order_by(Event.id)
    return [(e.severity, e.message) for e in query]


def active_alarms() -> list[tuple[str, str]]:
    query = Alarm.select().where(Alarm.cleared_at.is_null())
    return [(a.kind, a.message) for a in query]


async def test_security_events_are_logged_and_critical_ones_raise_an_alarm(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    seen: list[str] = []
    with trio.fail_after(10):
        async with gateway.events.subscribe() as feed, open_station(port, "CP1") as station:
            mild = await station.call(
                "SecurityEventNotification",
                {"type": "InvalidMessages", "timestamp": now_iso(), "techInfo": "bad frame"},
            )
            assert await store.read(active_alarms) == []
            critical = await station.call(
                "SecurityEventNotification",
                {"type": "TamperDetectionActivated", "timestamp": now_iso(), "techInfo": "lid"},
            )
            while "alarm.raised" not in seen:
                seen.append((await feed.receive()).kind)
    assert mild[0] == 3
    assert critical[0] == 3
    logged = await store.read(events, "station.security")
    assert logged == [
        ("warning", "InvalidMessages bad frame"),
        ("error", "TamperDetectionActivated lid"),
    ]
    assert await store.read(active_alarms) == [("Security event", "TamperDetectionActivated lid")]


async def test_log_and_signed_firmware_status_are_stored_like_diagnostics_and_firmware(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            uploading = await station.call(
                "LogStatusNotification", {"status": "Uploading", "requestId": 3}
            )
            uploaded = await station.call(
                "LogStatusNotification", {"status": "Uploaded", "requestId": 3}
            )
            firmware = await station.call(
                "SignedFirmwareStatusNotification", {"status": "InvalidSignature", "requestId": 4}
            )
    assert [uploading[0], uploaded[0], firmware[0]] == [3, 3, 3]
    row = await store.read(lambda: Station.get(Station.charge_box_id == "CP1"))
    assert row.diagnostics_status == "Uploaded"
    assert row.firmware_status == "InvalidSignature"
    assert await store.read(events, "station.diagnostics") == [
        ("info", "log upload Uploading (request 3)"),
        ("info", "log upload Uploaded (request 3)"),
    ]
    assert await store.read(events, "station.firmware") == [
        ("warning", "signed firmware InvalidSignature (request 4)")
    ]
