"""OCPP 1.6-J protocol core, free of I/O: framing, schemas, error codes, conversions."""

from gateway.ocpp16.actions import (
    ALL_ACTIONS,
    CENTRAL_SYSTEM_INITIATED,
    STATION_INITIATED,
    TRANSACTION_ACTIONS,
)
from gateway.ocpp16.convert import energy_wh, format_datetime, parse_datetime, power_w
from gateway.ocpp16.framing import (
    ERROR_CODES,
    Call,
    CallError,
    CallResult,
    Frame,
    OcppError,
    dumps,
    pack_call,
    pack_call_error,
    pack_call_result,
    parse_frame,
)
from gateway.ocpp16.schemas import SchemaSet, schemas, violation_code

__all__ = [
    "ALL_ACTIONS",
    "CENTRAL_SYSTEM_INITIATED",
    "ERROR_CODES",
    "STATION_INITIATED",
    "TRANSACTION_ACTIONS",
    "Call",
    "CallError",
    "CallResult",
    "Frame",
    "OcppError",
    "SchemaSet",
    "dumps",
    "energy_wh",
    "format_datetime",
    "pack_call",
    "pack_call_error",
    "pack_call_result",
    "parse_datetime",
    "parse_frame",
    "power_w",
    "schemas",
    "violation_code",
]
