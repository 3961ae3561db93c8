"""OCPP-J framing with plain values: what the gateway makes of every kind of frame."""

from __future__ import annotations

import json

import pytest

from gateway.ocpp16 import (
    Call,
    CallError,
    CallResult,
    OcppError,
    pack_call,
    pack_call_error,
    pack_call_result,
    parse_frame,
)


def test_call_is_parsed_into_id_action_payload() -> None:
    frame = parse_frame('[2,"abc","Heartbeat",{}]')
    assert frame == Call("abc", "Heartbeat", {})


def test_call_result_and_call_error_are_parsed() -> None:
    assert parse_frame('[3,"x",{"status":"Accepted"}]') == CallResult("x", {"status": "Accepted"})
    assert parse_frame('[4,"x","NotSupported","no",{"a":1}]') == CallError(
        "x", "NotSupported", "no", {"a": 1}
    )


def test_bytes_frames_are_read_as_utf8() -> None:
    assert parse_frame(b'[2,"1","Heartbeat",{}]') == Call("1", "Heartbeat", {})


@pytest.mark.parametrize(
    ("text", "unique_id"),
    [
        ("not json", None),
        ('{"a": 1}', None),
        ("[]", None),
        ("[2]", None),
        ('[2, 5, "Heartbeat", {}]', None),
        ('[2, "id1", "Heartbeat"]', "id1"),
        ('[2, "id2", "Heartbeat", []]', "id2"),
        ('[2, "id3", 7, {}]', "id3"),
        ('[9, "id4", "Heartbeat", {}]', "id4"),
        ('["2", "id5", "Heartbeat", {}]', "id5"),
        ('[3, "id6"]', "id6"),
        ('[4, "id7", "X"]', "id7"),
        ('[2, "", "Heartbeat", {}]', ""),
    ],
)
def test_malformed_frames_are_formation_violations(text: str, unique_id: str | None) -> None:
    with pytest.raises(OcppError) as caught:
        parse_frame(text)
    assert caught.value.code == "FormationViolation"
    assert caught.value.unique_id == unique_id


def test_unique_id_longer_than_36_characters_is_refused() -> None:
    with pytest.raises(OcppError, match="FormationViolation"):
        parse_frame(json.dumps([2, "x" * 37, "Heartbeat", {}]))


def test_packed_frames_are_compact_json_in_the_ocpp_shape() -> None:
    assert pack_call("1", "Reset", {"type": "Soft"}) == '[2,"1","Reset",{"type":"Soft"}]'
    assert pack_call_result("1", {}) == '[3,"1",{}]'
    assert json.loads(pack_call_error("1", "InternalError", "boom")) == [
        4,
        "1",
        "InternalError",
        "boom",
        {},
    ]


def test_non_ascii_text_survives_a_round_trip() -> None:
    text = pack_call("é", "DataTransfer", {"vendorId": "Ström", "data": "ö"})
    assert parse_frame(text) == Call("é", "DataTransfer", {"vendorId": "Ström", "data": "ö"})


def test_unknown_error_code_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="not an OCPP-J"):
        OcppError("FormatViolation")
