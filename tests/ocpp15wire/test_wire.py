"""The shared OCPP 1.5 wire package: what one side writes, the other reads back, and it
stays a library (no part of the project, no I/O)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import ocpp15wire
from gateway.ocpp16.actions import CENTRAL_SYSTEM_INITIATED, STATION_INITIATED
from ocpp15wire import convert
from ocpp15wire.codec import decode, encode
from ocpp15wire.envelope import (
    Fault,
    answer_envelope,
    fault,
    fault_of,
    parse_envelope,
    request_envelope,
)
from ocpp15wire.schema import CP_NS, CS_NS, SchemaError, element_name, operation_of, validate
from tests.imports import imported_packages

PROJECT = {"gateway", "portal", "db", "simulator", "chargeportal", "filestore", "benchmarks"}
IO = {"trio", "httpx", "spyne", "hypercorn", "quart", "socket", "peewee"}


def test_the_package_imports_no_part_of_the_project_and_does_no_io() -> None:
    for path, package in imported_packages(Path(ocpp15wire.__file__).parent):
        assert package not in PROJECT | IO, (path, package)


def test_the_operations_are_the_wsdl_s_and_exist_in_ocpp_16() -> None:
    from ocpp15wire.schema import COMMANDS_15, REQUESTS_15

    assert "BootNotification" in REQUESTS_15
    assert "Reset" in COMMANDS_15
    assert REQUESTS_15 <= STATION_INITIATED
    assert COMMANDS_15 <= CENTRAL_SYSTEM_INITIATED
    assert "TriggerMessage" not in COMMANDS_15  # 1.6 only


def _on_the_wire(namespace: str, operation: str, suffix: str, data: dict) -> dict[str, Any]:
    """``data`` written as the body element, checked against the schema and read back."""
    element = encode(namespace, element_name(operation, suffix), data)
    validate(element)
    return decode(namespace, element)


def test_a_status_a_station_sends_in_15_reaches_the_logic_as_it_was_meant() -> None:
    sent = {"connectorId": 1, "status": "Charging", "errorCode": "EVCommunicationError"}
    shaped = convert.request_to_15("StatusNotification", sent)
    wire = _on_the_wire(CS_NS, "StatusNotification", "Request", shaped)
    assert wire["status"] == "Occupied"
    assert wire["errorCode"] == "Mode3Error"
    assert convert.request_to_16("StatusNotification", wire) == sent


def test_meter_values_keep_their_units_across_15() -> None:
    sample = {"value": "16", "measurand": "Current.Import", "unit": "A"}
    sent = {
        "connectorId": 1,
        "meterValue": [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [sample]}],
    }
    wire = _on_the_wire(CS_NS, "MeterValues", "Request", convert.request_to_15("MeterValues", sent))
    assert wire["values"][0]["value"][0]["unit"] == "Amp"
    assert convert.request_to_16("MeterValues", wire)["meterValue"][0]["sampledValue"] == [sample]


def test_a_boot_reply_carries_the_interval_both_ways() -> None:
    reply = {"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z", "interval": 300}
    wire = _on_the_wire(
        CS_NS, "BootNotification", "Response", convert.reply_to_15("BootNotification", reply)
    )
    assert wire["heartbeatInterval"] == 300
    assert convert.reply_to_16("BootNotification", wire)["interval"] == 300


def test_a_local_list_arrives_whole_and_its_hash_checks() -> None:
    entries = [{"idTag": "TAG1", "idTagInfo": {"status": "Accepted"}}]
    sent = {"listVersion": 3, "updateType": "Full", "localAuthorizationList": entries}
    shaped = convert.command_to_15("SendLocalList", sent)
    wire = _on_the_wire(CP_NS, "SendLocalList", "Request", shaped)
    assert wire["hash"] == convert.list_hash(wire["localAuthorisationList"])
    assert convert.command_to_16("SendLocalList", wire) == sent


def test_an_unlock_answer_means_the_same_on_both_sides() -> None:
    for status in ("Unlocked", "UnlockFailed"):
        shaped = convert.answer_to_15("UnlockConnector", {"status": status})
        wire = _on_the_wire(CP_NS, "UnlockConnector", "Response", shaped)
        assert convert.answer_to_16("UnlockConnector", wire) == {"status": status}


def test_a_request_envelope_is_read_back_with_its_addressing() -> None:
    data = request_envelope(
        CS_NS,
        to="http://cs/",
        charge_box_id="CP15",
        action="Heartbeat",
        body=encode(CS_NS, "heartbeatRequest", {}),
        message_id="urn:uuid:7",
        reply_to="http://cp/",
    )
    envelope = parse_envelope(data, CS_NS)
    assert envelope.charge_box_id == "CP15"
    assert envelope.action == "/Heartbeat"
    assert envelope.message_id == "urn:uuid:7"
    assert envelope.reply_from == "http://cp/"
    assert operation_of(envelope.body, CS_NS) == "Heartbeat"
    assert operation_of(envelope.body, CP_NS) is None
    assert fault_of(envelope.body) is None


def test_an_answer_relates_to_its_request() -> None:
    body = encode(CP_NS, "clearCacheResponse", {"status": "Accepted"})
    data = answer_envelope(CP_NS, "ClearCache", "urn:uuid:9", body)
    envelope = parse_envelope(data, CP_NS)
    assert envelope.action == "/ClearCacheResponse"
    assert b"urn:uuid:9</a:RelatesTo>" in data
    assert decode(CP_NS, envelope.body) == {"status": "Accepted"}


@pytest.mark.parametrize(
    ("service_ns", "written"), [(CS_NS, b">cs:SecurityError<"), (None, b">SecurityError<")]
)
def test_a_fault_is_read_back_with_its_subcode_and_reason(
    service_ns: str | None, written: bytes
) -> None:
    data = fault("Sender", "SecurityError", "wrong password", service_ns=service_ns)
    assert written in data
    assert fault_of(parse_envelope(data).body) == Fault("SecurityError", "wrong password")


def test_a_body_the_schema_rejects_is_named() -> None:
    element = encode(CS_NS, "statusNotificationRequest", {"connectorId": 1, "status": "Bogus"})
    with pytest.raises(SchemaError, match="status"):
        validate(element)
