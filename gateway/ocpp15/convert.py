"""OCPP 1.5 ↔ 1.6 at the edge: station messages into the 1.6 shapes the logic takes, and
the logic's 1.6 answers back into 1.5 (field names, enumerations, meter values)."""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = [
    "COMMANDS_15",
    "answer_to_15",
    "answer_to_16",
    "command_to_15",
    "list_hash",
    "request_to_16",
]

#: 1.5 connector status -> 1.6 (1.5's "Occupied" is a connector in use).
_STATUS = {"Occupied": "Charging"}
#: 1.5 error codes renamed in 1.6.
_ERROR = {"Mode3Error": "EVCommunicationError"}
#: 1.5 units of measure renamed in 1.6.
_UNIT = {"Amp": "A", "Volt": "V"}
#: 1.6 answers with no 1.5 counterpart -> the nearest 1.5 value.
_BOOT_STATUS = {"Pending": "Rejected"}


def _sampled(value: dict[str, Any]) -> dict[str, Any]:
    sampled = {k: v for k, v in value.items() if v is not None}
    sampled["value"] = str(sampled.get("value", ""))
    if "unit" in sampled:
        sampled["unit"] = _UNIT.get(sampled["unit"], sampled["unit"])
    return sampled


def _meter_values(values: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """1.5 ``values`` (MeterValue with ``value`` elements) -> 1.6 ``meterValue``."""
    return [
        {"timestamp": mv["timestamp"], "sampledValue": [_sampled(v) for v in mv.get("value", [])]}
        for mv in values or []
    ]


def request_to_16(operation: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A 1.5 request (as a dict of its elements) in the shape of its 1.6 counterpart."""
    out = dict(payload)
    if operation == "StatusNotification":
        out["status"] = _STATUS.get(out["status"], out["status"])
        out["errorCode"] = _ERROR.get(out["errorCode"], out["errorCode"])
    elif operation == "MeterValues":
        out["meterValue"] = _meter_values(out.pop("values", None))
    elif operation == "StopTransaction":
        data = out.pop("transactionData", None) or []
        flat = [mv for block in data for mv in block.get("values", []) or []]
        if flat:
            out["transactionData"] = _meter_values(flat)
    return out


def answer_to_15(operation: str, answer: dict[str, Any]) -> dict[str, Any]:
    """The logic's 1.6 answer in the 1.5 shape of ``operation``'s response."""
    out = dict(answer)
    if operation == "BootNotification":
        out["heartbeatInterval"] = out.pop("interval")
        out["status"] = _BOOT_STATUS.get(out["status"], out["status"])
    return out


#: Central-system operations OCPP 1.5 has (ChargePointService); the rest are 1.6-only.
COMMANDS_15 = frozenset(
    {
        "CancelReservation",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "DataTransfer",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "UnlockConnector",
        "UpdateFirmware",
    }
)
_UNLOCK = {"Accepted": "Unlocked", "Rejected": "UnlockFailed"}
_LIST_STATUS = {"HashError": "Failed"}


def list_hash(entries: list[dict[str, Any]]) -> str:
    """SendLocalList's 1.5 ``hash``: SHA-1 (hex) of the list as sent, one line per entry in
    order, ``idTag|status|expiryDate|parentIdTag`` (absent parts empty). The simulator's
    1.5 station computes the same and answers HashError when they differ."""
    lines = []
    for entry in entries:
        info = entry.get("idTagInfo") or {}
        parts = (
            entry.get("idTag", ""),
            info.get("status", ""),
            info.get("expiryDate", ""),
            info.get("parentIdTag", ""),
        )
        lines.append("|".join(str(p) for p in parts))
    return hashlib.sha1("\n".join(lines).encode()).hexdigest()


def command_to_15(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A command's 1.6 payload in the 1.5 shape (the schema check follows)."""
    out = dict(payload)
    if action == "SendLocalList":
        entries = out.pop("localAuthorizationList", None) or []
        if entries:
            out["localAuthorisationList"] = entries
        out["hash"] = list_hash(entries)
    return out


def answer_to_16(action: str, answer: dict[str, Any]) -> dict[str, Any]:
    """A 1.5 station's answer in the 1.6 shape the command objects record."""
    out = dict(answer)
    if action == "UnlockConnector":
        out["status"] = _UNLOCK.get(out.get("status", ""), out.get("status"))
    elif action == "SendLocalList":
        out.pop("hash", None)
        out["status"] = _LIST_STATUS.get(out.get("status", ""), out.get("status"))
    return out
