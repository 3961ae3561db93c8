"""Schema validation (fastjsonschema, compiled once) and the OCPP-J 1.6 error codes."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.ocpp16 import OcppError, schemas
from gateway.ocpp16.actions import CENTRAL_SYSTEM_INITIATED, STATION_INITIATED

STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}


def code_of(action: str, payload: dict[str, Any], *, response: bool = False) -> str | None:
    try:
        if response:
            schemas().validate_response(action, payload)
        else:
            schemas().validate_request(action, payload)
    except OcppError as exc:
        return exc.code
    return None


def test_schemas_are_compiled_once_per_process() -> None:
    assert schemas() is schemas()


def test_every_16_action_has_request_and_response_schemas() -> None:
    for action in STATION_INITIATED | CENTRAL_SYSTEM_INITIATED:
        assert action in schemas().actions
        assert code_of(action, {}, response=True) in (None, "ProtocolError")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (STATUS, None),
        ({"connectorId": 1, "status": "Available"}, "ProtocolError"),
        ({**STATUS, "connectorId": "1"}, "TypeConstraintViolation"),
        ({**STATUS, "errorCode": "Broken"}, "PropertyConstraintViolation"),
        ({**STATUS, "timestamp": "yesterday"}, "PropertyConstraintViolation"),
        ({**STATUS, "info": "x" * 51}, "TypeConstraintViolation"),
        ({**STATUS, "colour": "red"}, "FormationViolation"),
    ],
)
def test_status_notification_violations_get_their_codes(
    payload: dict[str, Any], code: str | None
) -> None:
    assert code_of("StatusNotification", payload) == code


def test_empty_meter_value_list_is_an_occurence_violation() -> None:
    assert (
        code_of("MeterValues", {"connectorId": 1, "meterValue": []})
        == "OccurenceConstraintViolation"
    )


def test_date_times_are_checked() -> None:
    good = {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": "2024-01-01T10:00:00Z"}
    assert code_of("StartTransaction", good) is None
    assert code_of("StartTransaction", {**good, "timestamp": "10:00"}) is not None


def test_decimal_limits_of_charging_profiles_validate_without_float_noise() -> None:
    payload = {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.1}],
            },
        },
    }
    assert code_of("SetChargingProfile", payload) is None


def test_error_descriptions_name_the_field() -> None:
    with pytest.raises(OcppError) as caught:
        schemas().validate_request("Authorize", {"idTag": 5})
    assert caught.value.details == {"field": "idTag"}
    assert "idTag" in caught.value.description
