"""Values the schemas allow but storage cannot hold get the right CallError, never InternalError."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import trio

from db import Store
from db.schema.models import ChargingSession, MeterSample
from gateway import Gateway
from tests.gateway.conftest import add_id_tag, add_station
from tests.gateway.ocpp_client import RawStation, now_iso, open_station

HUGE = 2**64 + 1


def sample(value: str) -> dict[str, Any]:
    return {"timestamp": now_iso(), "sampledValue": [{"value": value}]}


def signed_sample(value: str) -> dict[str, Any]:
    return {
        "timestamp": now_iso(),
        "sampledValue": [{"value": value, "format": "SignedData", "context": "Transaction.End"}],
    }


#: an OCMF signed reading as eichrecht meters send it: far longer than any plain number
OCMF = (
    "OCMF|"
    + json.dumps(
        {
            "FV": "1.0",
            "GI": "SIMULATED METER",
            "GS": "0815",
            "PG": "T1",
            "RD": [
                {"TM": "2026-12-03T10:00:00,000+0000 S", "TX": "E", "RV": 12.345, "RI": "1-b:1.8.0"}
            ],
        }
    )
    + '|{"SA":"ECDSA-secp256r1-SHA256","SD":"'
    + "3045022100"
    + "ab" * 70
    + '"}'
)


def start(**overrides: Any) -> dict[str, Any]:
    return {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": now_iso()} | overrides


def status(**overrides: Any) -> dict[str, Any]:
    return {"connectorId": 1, "errorCode": "NoError", "status": "Available"} | overrides


def stop(**overrides: Any) -> dict[str, Any]:
    return {"transactionId": 1, "meterStop": 10, "timestamp": now_iso()} | overrides


CASES: list[tuple[str, str, dict[str, Any] | str, str, str]] = [
    # (case id, action, payload or raw payload text, expected code, field named)
    ("huge connectorId", "StatusNotification", status(connectorId=HUGE), "Property", "connectorId"),
    ("huge meterStart", "StartTransaction", start(meterStart=HUGE), "Property", "meterStart"),
    (
        "negative meterStart",
        "StartTransaction",
        start(meterStart=-(2**63) - 5),
        "Property",
        "meterStart",
    ),
    (
        "huge reservationId",
        "StartTransaction",
        start(reservationId=HUGE),
        "Property",
        "reservationId",
    ),
    (
        "huge transactionId",
        "StopTransaction",
        stop(transactionId=HUGE),
        "Property",
        "transactionId",
    ),
    ("huge meterStop", "StopTransaction", stop(meterStop=HUGE), "Property", "meterStop"),
    (
        "huge MeterValues transactionId",
        "MeterValues",
        {"connectorId": 1, "transactionId": HUGE, "meterValue": [sample("1")]},
        "Property",
        "transactionId",
    ),
    ("surrogate idTag", "Authorize", '{"idTag":"AB\\ud800"}', "Type", "idTag"),
    ("NUL in idTag", "Authorize", '{"idTag":"AB\\u0000C"}', "Property", "idTag"),
    (
        "surrogate vendor",
        "BootNotification",
        '{"chargePointVendor":"\\udfff","chargePointModel":"M"}',
        "Type",
        "chargePointVendor",
    ),
    (
        "surrogate info",
        "StatusNotification",
        '{"connectorId":1,"errorCode":"NoError","status":"Available","info":"x\\ud800y"}',
        "Type",
        "info",
    ),
    (
        "timestamp past year 9999",
        "StartTransaction",
        start(timestamp="9999-12-31T23:59:59-14:00"),
        "Property",
        "timestamp",
    ),
    (
        "timestamp before year 1",
        "StatusNotification",
        status(timestamp="0001-01-01T00:00:00+01:00"),
        "Property",
        "timestamp",
    ),
    (
        "meter timestamp out of range",
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [
                {"timestamp": "9999-12-31T23:59:59-14:00", "sampledValue": [{"value": "1"}]}
            ],
        },
        "Property",
        "meterValue[0].timestamp",
    ),
    (
        "stop transaction data timestamp",
        "StopTransaction",
        stop(
            transactionData=[
                {"timestamp": "0001-01-01T00:00:00+01:00", "sampledValue": [{"value": "1"}]}
            ]
        ),
        "Property",
        "transactionData[0].timestamp",
    ),
    (
        "meter value 1e309",
        "MeterValues",
        {"connectorId": 1, "meterValue": [sample("1e309")]},
        "Property",
        "meterValue[0].sampledValue[0].value",
    ),
    (
        "meter value NaN",
        "MeterValues",
        {"connectorId": 1, "meterValue": [sample("NaN")]},
        "Property",
        "value",
    ),
    (
        "meter value inf",
        "MeterValues",
        {"connectorId": 1, "meterValue": [sample("-inf")]},
        "Property",
        "value",
    ),
    (
        "meter value 1e30",
        "MeterValues",
        {"connectorId": 1, "meterValue": [sample("1e30")]},
        "Property",
        "value",
    ),
    (
        "meter value too long to store",
        "MeterValues",
        {"connectorId": 1, "meterValue": [sample("1" * 65)]},
        "Property",
        "value",
    ),
    (
        "signed meter value too long to store",
        "MeterValues",
        {"connectorId": 1, "meterValue": [signed_sample("O" * 4097)]},
        "Property",
        "value",
    ),
    (
        "JSON NaN literal",
        "StatusNotification",
        '{"connectorId":NaN,"errorCode":"NoError","status":"Available"}',
        "Formation",
        "",
    ),
    (
        "JSON number 1e309",
        "StatusNotification",
        '{"connectorId":1e309,"errorCode":"NoError","status":"Available"}',
        "Formation",
        "",
    ),
]


async def assert_refused(
    station: RawStation, action: str, payload: dict[str, Any] | str, code: str, field: str
) -> None:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    await station.send_raw(f'[2,"h1","{action}",{text}]')
    frame = await station.reply_to("h1")
    assert frame[0] == 4, frame
    assert frame[2].startswith(code), frame
    assert frame[2].endswith("Violation"), frame
    assert field in frame[3], frame


@pytest.mark.parametrize(
    ("action", "payload", "code", "field"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_out_of_range_values_are_answered_with_the_right_code_and_no_traceback(
    gateway: Gateway,
    port: int,
    db_write,
    caplog: pytest.LogCaptureFixture,
    action: str,
    payload: dict[str, Any] | str,
    code: str,
    field: str,
) -> None:
    await db_write(add_station, "CP1")
    await db_write(add_id_tag, "TAG1")
    caplog.set_level(logging.INFO)
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await assert_refused(station, action, payload, code, field)
            assert (await station.result("Heartbeat", {}))["currentTime"]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


async def test_a_lone_surrogate_in_the_unique_id_is_refused_without_breaking_the_connection(
    gateway: Gateway, port: int, db_write
) -> None:
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.send_raw('[2,"a\\ud800","Heartbeat",{}]')
            frame = await station.receive()
            assert frame[0] == 4
            assert frame[2] == "FormationViolation"
            assert (await station.result("Heartbeat", {}))["currentTime"]


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("StatusNotification", status(connectorId=3)),
        ("StartTransaction", start(connectorId=99)),
        ("MeterValues", {"connectorId": 3, "meterValue": [sample("5")]}),
    ],
)
async def test_a_connector_beyond_the_stations_outlets_is_refused(
    gateway: Gateway, port: int, db_write, store: Store, action: str, payload: dict[str, Any]
) -> None:
    await db_write(add_station, "CP1", outlets=2)
    await db_write(add_id_tag, "TAG1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await assert_refused(station, action, payload, "Property", "connectorId")
            # connectors 0 (where OCPP allows it) and 1..2 stay valid
            await station.result("StatusNotification", status(connectorId=0))
            await station.result("StatusNotification", status(connectorId=2))
            await station.result("MeterValues", {"connectorId": 0, "meterValue": [sample("5")]})
    assert await store.read(lambda: ChargingSession.select().count()) == 0
    connectors = await store.read(lambda: {s.connector_id for s in MeterSample.select()})
    assert connectors == {0}
    snapshot = gateway.snapshot("CP1")
    assert snapshot is not None
    assert set(snapshot.connectors) == {2}


async def test_an_outlet_added_while_connected_is_accepted_without_reconnecting(
    gateway: Gateway, port: int, db_write
) -> None:
    from db.schema.models import Outlet, Station

    await db_write(add_station, "CP1", outlets=1)
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await assert_refused(
                station, "StatusNotification", status(connectorId=2), "Property", "connectorId"
            )
            await db_write(
                lambda: Outlet.create(
                    station=Station.get(Station.charge_box_id == "CP1"), connector_id=2
                )
            )
            await station.result("StatusNotification", status(connectorId=2))


async def test_a_station_refused_again_and_again_is_answered_ever_later(
    gateway: Gateway, port: int, db_write
) -> None:
    await db_write(add_station, "CP1", outlets=2)
    bad = status(connectorId=99)
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            started = trio.current_time()
            for _ in range(8):
                await assert_refused(station, "StatusNotification", bad, "Property", "connectorId")
            waited = trio.current_time() - started
            actor = gateway.registry.actor("CP1")
            assert actor is not None
            # refusals 4..8 waited 10, 20, 40, 80 and 160 ms before their answer
            assert actor.refusals_delayed == 5
            assert waited >= 0.31
            # one accepted CALL ends the streak: the next refusal is answered at once
            await station.result("Heartbeat", {})
            await assert_refused(station, "StatusNotification", bad, "Property", "connectorId")
            assert actor.refusals_delayed == 5


async def test_a_signed_meter_value_is_stored_whole(
    gateway: Gateway, port: int, db_write, store: Store
) -> None:
    """Eichrecht stations send OCMF readings of several hundred characters (format SignedData)."""
    assert 300 < len(OCMF) < 4096
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(port, "CP1") as station:
            await station.result(
                "MeterValues", {"connectorId": 1, "meterValue": [signed_sample(OCMF)]}
            )
    stored = await store.read(lambda: [(s.format, s.value) for s in MeterSample.select()])
    assert stored == [("SignedData", OCMF)]
