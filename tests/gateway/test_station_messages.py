"""End to end over real sockets: what a station sees for each message it sends."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import trio

from db import Store
from db.schema.models import (
    Alarm,
    ChargingSession,
    Event,
    MeterSample,
    OcppMessage,
    Outlet,
    Station,
    utcnow,
)
from gateway import Gateway
from tests.gateway.conftest import add_id_tag, add_station
from tests.gateway.ocpp_client import RawStation, now_iso, open_station

BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Wallbox", "firmwareVersion": "1.2"}


def meter(wh: int, *, at: str | None = None, watts: int | None = None) -> dict[str, Any]:
    sampled: list[dict[str, Any]] = [
        {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    ]
    if watts is not None:
        sampled.append({"value": str(watts), "measurand": "Power.Active.Import", "unit": "W"})
    return {"timestamp": at or now_iso(), "sampledValue": sampled}


async def test_boot_is_accepted_with_the_heartbeat_interval_and_stored(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            reply = await station.result("BootNotification", BOOT)
            heartbeat = await station.result("Heartbeat", {})
    assert reply["status"] == "Accepted"
    assert reply["interval"] == gateway.config.heartbeat_interval
    assert reply["currentTime"].endswith("Z")
    assert heartbeat["currentTime"].endswith("Z")
    row = await store.read(lambda: Station.get(Station.charge_box_id == "CP1"))
    assert (row.vendor, row.model, row.firmware_version) == ("Acme", "Wallbox", "1.2")
    assert row.last_boot_at is not None
    snapshot = gateway.snapshot("CP1")
    assert snapshot is not None
    assert snapshot.boot["chargePointModel"] == "Wallbox"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("GOOD", "Accepted"),
        ("BLOCKED", "Blocked"),
        ("OLD", "Expired"),
        ("UNKNOWN", "Invalid"),
        ("CHILD-OF-BLOCKED", "Blocked"),
        ("BUSY", "ConcurrentTx"),
    ],
)
async def test_authorize_answers_each_status(
    gateway: Gateway, port: int, db_write, tag: str, expected: str
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_station, "CP2")
    await db_write(add_id_tag, "GOOD")
    await db_write(add_id_tag, "BLOCKED", status="Blocked")
    await db_write(add_id_tag, "OLD", expiry=utcnow() - dt.timedelta(days=1))
    await db_write(add_id_tag, "CHILD-OF-BLOCKED", parent="BLOCKED")
    await db_write(add_id_tag, "BUSY")
    with trio.fail_after(10):
        async with open_station(port, "CP2") as other:
            await other.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "BUSY", "meterStart": 0, "timestamp": now_iso()},
            )
            async with open_station(port, "CP1") as station:
                reply = await station.result("Authorize", {"idTag": tag})
    assert reply["idTagInfo"]["status"] == expected


async def test_authorize_names_the_parent_tag_and_expiry(
    gateway: Gateway, port: int, db_write
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "FLEET")
    expiry = utcnow().replace(microsecond=0) + dt.timedelta(days=30)
    await db_write(add_id_tag, "CARD7", parent="FLEET", expiry=expiry)
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            reply = await station.result("Authorize", {"idTag": "CARD7"})
    info = reply["idTagInfo"]
    assert info["status"] == "Accepted"
    assert info["parentIdTag"] == "FLEET"
    assert info["expiryDate"].startswith(expiry.isoformat())


async def test_full_session_stores_samples_and_the_right_energy(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1", email="driver@example.com")
    events: list[Any] = []
    with trio.fail_after(10):
        async with gateway.events.subscribe() as feed, open_station(port, "CP1") as station:
            await station.result("BootNotification", BOOT)
            await station.result(
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"},
            )
            start = await station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "TAG1", "meterStart": 12_000, "timestamp": now_iso()},
            )
            tx = start["transactionId"]
            await station.result(
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Charging"},
            )
            for minute, wh in ((1, 12_500), (2, 13_100)):
                at = f"2030-01-01T09:0{minute}:00Z"
                await station.result(
                    "MeterValues",
                    {
                        "connectorId": 1,
                        "transactionId": tx,
                        "meterValue": [meter(wh, watts=7000, at=at)],
                    },
                )
            live = gateway.snapshot("CP1")
            assert live is not None
            assert live.connectors[1].transaction_id == tx
            assert live.connectors[1].meter_wh == 13_100
            assert live.connectors[1].power_w == 7000
            running = await store.read(lambda: ChargingSession.get_by_id(tx))
            assert running.energy_wh == 1_100
            assert running.end_time is None
            stop = await station.result(
                "StopTransaction",
                {
                    "transactionId": tx,
                    "idTag": "TAG1",
                    "meterStop": 15_250,
                    "timestamp": now_iso(),
                    "reason": "EVDisconnected",
                    "transactionData": [
                        meter(14_000, at="2030-01-01T10:00:00Z"),
                        meter(15_250, at="2030-01-01T10:05:00Z"),
                    ],
                },
            )
            while not events or events[-1].kind != "session.stopped":
                events.append(await feed.receive())
    assert stop["idTagInfo"]["status"] == "Accepted"
    session = await store.read(lambda: ChargingSession.get_by_id(tx))
    assert session.energy_wh == 3_250
    assert (session.meter_start, session.meter_stop) == (12_000, 15_250)
    assert session.authentication == 1
    assert session.user_email == "driver@example.com"
    assert session.stop_reason == "EVDisconnected"
    assert session.station_name == "Station CP1"
    samples = await store.read(
        lambda: MeterSample.select().where(MeterSample.session == tx).count()
    )
    assert samples == 2 * 2 + 2  # two MeterValues with 2 values each, 2 transactionData
    kinds = [e.kind for e in events]
    assert "session.started" in kinds
    assert "session.stopped" in kinds
    stopped = next(e for e in events if e.kind == "session.stopped")
    assert stopped.data["energyWh"] == 3_250
    kept = await store.read(
        lambda: [m.action for m in OcppMessage.select().where(OcppMessage.session == tx)]
    )
    assert sorted(kept) == ["StartTransaction", "StopTransaction"]


async def test_open_outlet_charges_anonymously_without_a_known_tag(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1", mode="OPEN")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            start = await station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "ANYONE", "meterStart": 0, "timestamp": now_iso()},
            )
    assert start["idTagInfo"]["status"] == "Accepted"
    session = await store.read(lambda: ChargingSession.get_by_id(start["transactionId"]))
    assert session.authentication == 0
    assert session.user_email == ""


async def test_rfid_outlet_refuses_an_unknown_tag_but_keeps_the_session_record(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1", mode="RFID")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            start = await station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "NOBODY", "meterStart": 0, "timestamp": now_iso()},
            )
    assert start["idTagInfo"]["status"] == "Invalid"
    assert await store.read(lambda: ChargingSession.select().count()) == 1


async def test_resent_transaction_messages_create_no_duplicates(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1")
    start_payload = {"connectorId": 2, "idTag": "TAG1", "meterStart": 100, "timestamp": now_iso()}
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            first = await station.result("StartTransaction", start_payload)
            tx = first["transactionId"]
            values = {"connectorId": 2, "transactionId": tx, "meterValue": [meter(600)]}
            await station.result("MeterValues", values)
        # the connection dropped before the station saw the answers: it sends again
        async with open_station(port, "CP1") as station:
            again = await station.result("StartTransaction", start_payload)
            await station.result("MeterValues", values)
            stop = {"transactionId": tx, "meterStop": 900, "timestamp": now_iso()}
            await station.result("StopTransaction", stop)
            await station.result("StopTransaction", stop)
    assert again["transactionId"] == tx
    assert again["idTagInfo"]["status"] == "Accepted"  # not ConcurrentTx with itself
    assert await store.read(lambda: ChargingSession.select().count()) == 1
    assert await store.read(lambda: MeterSample.select().count()) == 1
    session = await store.read(lambda: ChargingSession.get_by_id(tx))
    assert session.energy_wh == 800


async def test_a_station_cannot_stop_or_meter_another_stations_session(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "OWNER")
    await db_write(add_station, "INTRUDER")
    await db_write(add_id_tag, "TAG1")
    with trio.fail_after(10):
        async with open_station(port, "OWNER") as owner:
            start = await owner.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": now_iso()},
            )
        tx = start["transactionId"]
        async with open_station(port, "INTRUDER") as intruder:
            await intruder.result(
                "StopTransaction",
                {"transactionId": tx, "meterStop": 99_999, "timestamp": now_iso()},
            )
            metered = await intruder.call(
                "MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [meter(5)]}
            )
    assert metered[0] == 4
    logged = await store.read(
        lambda: [e.kind for e in Event.select().where(Event.charge_box_id == "INTRUDER")]
    )
    assert "station.unknown_transaction" in logged
    assert metered[2] == "GenericError"
    session = await store.read(lambda: ChargingSession.get_by_id(tx))
    assert session.end_time is None
    assert session.meter_stop is None
    assert session.energy_wh == 0


@pytest.mark.parametrize(
    ("error_code", "alarm"),
    [
        ("HighTemperature", "Temperature"),
        ("GroundFailure", "Fuse"),
        ("OverCurrentFailure", "Fuse"),
        ("PowerMeterFailure", "Hardware fault"),
        ("InternalError", "Hardware fault"),
    ],
)
async def test_status_error_codes_raise_and_clear_alarms(
    gateway: Gateway, port: int, db_write, store: Store, error_code: str, alarm: str
) -> None:
    await db_write(add_station, "CP1")

    def active() -> list[tuple[str, int]]:
        rows = Alarm.select().where(Alarm.cleared_at.is_null())
        return [(a.kind, a.connector_id) for a in rows]

    with trio.fail_after(10):
        async with gateway.events.subscribe() as feed, open_station(port, "CP1") as station:
            await station.result(
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
            )
            await station.result(
                "StatusNotification",
                {"connectorId": 1, "errorCode": error_code, "status": "Faulted"},
            )
            assert await store.read(active) == [(alarm, 1)]
            outlet = await store.read(lambda: Outlet.get(Outlet.connector_id == 1))
            assert (outlet.status, outlet.error_code) == ("Faulted", error_code)
            await station.result(
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
            )
            assert await store.read(active) == []
            seen = set()
            while not {"alarm.raised", "alarm.cleared"} <= seen:
                seen.add((await feed.receive()).kind)


async def test_station_wide_status_on_connector_zero(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result(
                "StatusNotification",
                {"connectorId": 0, "errorCode": "OverCurrentFailure", "status": "Faulted"},
            )
    snapshot = gateway.snapshot("CP1")
    assert snapshot is not None
    assert snapshot.status == "Faulted"
    alarms = await store.read(lambda: [(a.kind, a.connector_id) for a in Alarm.select()])
    assert alarms == [("Fuse", 0)]


async def test_data_transfer_firmware_and_diagnostics_notifications(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            transfer = await station.result("DataTransfer", {"vendorId": "com.acme", "data": "x"})
            await station.result("FirmwareStatusNotification", {"status": "Installed"})
            await station.result("DiagnosticsStatusNotification", {"status": "Uploaded"})
    assert transfer["status"] == "UnknownVendorId"
    row = await store.read(lambda: Station.get(Station.charge_box_id == "CP1"))
    assert (row.firmware_status, row.diagnostics_status) == ("Installed", "Uploaded")
    kinds = await store.read(lambda: {e.kind for e in Event.select()})
    assert {"station.firmware", "station.diagnostics", "station.data_transfer"} <= kinds


async def assert_error(station: RawStation, frame: str, code: str, unique_id: str) -> None:
    await station.send_raw(frame)
    reply = await station.receive()
    assert reply[0] == 4, reply
    assert reply[1] == unique_id
    assert reply[2] == code, reply
    assert isinstance(reply[3], str)
    assert isinstance(reply[4], dict)


async def test_every_call_error_code_and_the_connection_stays_open(
    gateway: Gateway, port: int, db_write
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_station, "CP2")
    await db_write(add_id_tag, "TAG1")
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    with trio.fail_after(10):
        async with open_station(port, "CP2") as other:
            foreign = await other.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": now_iso()},
            )
        async with open_station(port, "CP1") as station:
            cases = [
                ("not json at all", "FormationViolation", "-1"),
                ('[2,"f1","Heartbeat",[]]', "FormationViolation", "f1"),
                (
                    '[2,"f2","StatusNotification",{"connectorId":1,"status":"Available"}]',
                    "ProtocolError",
                    "f2",
                ),
                (
                    json.dumps([2, "f3", "StatusNotification", {**status, "connectorId": "1"}]),
                    "TypeConstraintViolation",
                    "f3",
                ),
                (
                    json.dumps([2, "f4", "StatusNotification", {**status, "errorCode": "Broken"}]),
                    "PropertyConstraintViolation",
                    "f4",
                ),
                (
                    json.dumps([2, "f5", "MeterValues", {"connectorId": 1, "meterValue": []}]),
                    "OccurenceConstraintViolation",
                    "f5",
                ),
                ('[2,"f6","FlyToTheMoon",{}]', "NotImplemented", "f6"),
                ('[2,"f7","Reset",{"type":"Soft"}]', "NotSupported", "f7"),
                (
                    json.dumps(
                        [
                            2,
                            "f8",
                            "StartTransaction",
                            {
                                "connectorId": 1,
                                "idTag": "TAG1",
                                "meterStart": 2**70,
                                "timestamp": now_iso(),
                            },
                        ]
                    ),
                    "PropertyConstraintViolation",
                    "f8",
                ),
                (
                    json.dumps(
                        [
                            2,
                            "f9",
                            "MeterValues",
                            {
                                "connectorId": 1,
                                "transactionId": foreign["transactionId"],
                                "meterValue": [meter(1)],
                            },
                        ]
                    ),
                    "GenericError",
                    "f9",
                ),
            ]
            for frame, code, unique_id in cases:
                await assert_error(station, frame, code, unique_id)
            assert (await station.result("Heartbeat", {}))["currentTime"]
    assert gateway.is_online("CP1") is False


async def test_live_meter_events_are_throttled_but_the_snapshot_is_current(
    gateway: Gateway, port: int, db_write
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1")
    meters = []
    with trio.fail_after(10):
        async with gateway.events.subscribe() as feed, open_station(port, "CP1") as station:
            start = await station.result(
                "StartTransaction",
                {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": now_iso()},
            )
            for second, wh in enumerate((100, 200, 300)):
                at = f"2030-01-01T09:00:0{second}Z"
                await station.result(
                    "MeterValues",
                    {
                        "connectorId": 1,
                        "transactionId": start["transactionId"],
                        "meterValue": [meter(wh, at=at)],
                    },
                )
            await station.result("Heartbeat", {})
            while True:
                with trio.move_on_after(0.2):
                    event = await feed.receive()
                    if event.kind == "session.meter":
                        meters.append(event.data["meterWh"])
                    continue
                break
    assert meters == [100]  # one per connector within meter_event_interval
    live = gateway.snapshot("CP1")
    assert live is not None
    assert live.connectors[1].meter_wh == 300
