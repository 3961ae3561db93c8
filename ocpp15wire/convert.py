"""OCPP 1.5 ↔ 1.6 message shapes, both ways: both sides' logic speaks 1.6; the 1.5 link
converts at its edge (field names, enumerations, meter values, the local list's hash).

Words: a *request* goes from a station to the central system, which sends its *reply*; a
*command* goes from the central system to a station, which sends its *answer*.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = [
    "LOCAL_ONLY",
    "answer_to_15",
    "answer_to_16",
    "command_to_15",
    "command_to_16",
    "list_hash",
    "reply_to_15",
    "reply_to_16",
    "request_to_15",
    "request_to_16",
]

# ----------------------------------------------------------------------- tables
#: 1.5 connector status -> 1.6 (1.5's "Occupied" is a connector in use) ...
_STATUS_TO_16 = {"Occupied": "Charging"}
#: ... and the 1.6 statuses of a connector in use -> 1.5.
_STATUS_TO_15 = {
    "Preparing": "Occupied",
    "Charging": "Occupied",
    "SuspendedEV": "Occupied",
    "SuspendedEVSE": "Occupied",
    "Finishing": "Occupied",
}
#: 1.5 error codes renamed in 1.6.
_ERROR_TO_16 = {"Mode3Error": "EVCommunicationError"}
_ERROR_TO_15 = {v: k for k, v in _ERROR_TO_16.items()}
_ERRORS_15 = frozenset(
    {
        "ConnectorLockFailure",
        "HighTemperature",
        "Mode3Error",
        "NoError",
        "PowerMeterFailure",
        "PowerSwitchFailure",
        "ReaderFailure",
        "ResetFailure",
        "GroundFailure",
        "OverCurrentFailure",
        "UnderVoltage",
        "WeakSignal",
        "OtherError",
    }
)
#: 1.5 units of measure renamed in 1.6; the others are spelt alike.
_UNIT_TO_16 = {"Amp": "A", "Volt": "V"}
_UNIT_TO_15 = {
    **{unit: unit for unit in ("Wh", "kWh", "varh", "kvarh", "W", "kW", "var", "kvar")},
    "Celsius": "Celsius",
    **{v: k for k, v in _UNIT_TO_16.items()},
}
_MEASURANDS_15 = frozenset(
    {
        "Energy.Active.Export.Register",
        "Energy.Active.Import.Register",
        "Energy.Reactive.Export.Register",
        "Energy.Reactive.Import.Register",
        "Energy.Active.Export.Interval",
        "Energy.Active.Import.Interval",
        "Energy.Reactive.Export.Interval",
        "Energy.Reactive.Import.Interval",
        "Power.Active.Export",
        "Power.Active.Import",
        "Power.Reactive.Export",
        "Power.Reactive.Import",
        "Current.Export",
        "Current.Import",
        "Voltage",
        "Temperature",
    }
)
_CONTEXTS_15 = frozenset(
    {
        "Interruption.Begin",
        "Interruption.End",
        "Sample.Clock",
        "Sample.Periodic",
        "Transaction.Begin",
        "Transaction.End",
    }
)
_LOCATIONS_15 = frozenset({"Inlet", "Outlet", "Body"})
#: 1.6 answers with no 1.5 counterpart -> the nearest 1.5 value.
_BOOT_STATUS_TO_15 = {"Pending": "Rejected"}
#: Notifications whose 1.6 status has no 1.5 counterpart: kept on the station, not sent.
LOCAL_ONLY = {
    "FirmwareStatusNotification": frozenset({"Idle", "Downloading", "Installing"}),
    "DiagnosticsStatusNotification": frozenset({"Idle", "Uploading"}),
}
_UNLOCK_TO_16 = {"Accepted": "Unlocked", "Rejected": "UnlockFailed"}
_UNLOCK_TO_15 = {"Unlocked": "Accepted"}  # anything else: "Rejected"
_LIST_STATUS_TO_16 = {"HashError": "Failed"}


# ----------------------------------------------------------------------- meter values
def _sampled_16(value: dict[str, Any]) -> dict[str, Any]:
    sampled = {k: v for k, v in value.items() if v is not None}
    sampled["value"] = str(sampled.get("value", ""))
    if "unit" in sampled:
        sampled["unit"] = _UNIT_TO_16.get(sampled["unit"], sampled["unit"])
    return sampled


def _meter_values_16(values: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """1.5 ``values`` (MeterValue with ``value`` elements) -> 1.6 ``meterValue``."""
    return [
        {
            "timestamp": mv["timestamp"],
            "sampledValue": [_sampled_16(v) for v in mv.get("value", [])],
        }
        for mv in values or []
    ]


def _value_15(sample: dict[str, Any]) -> dict[str, Any] | None:
    """A 1.6 sampledValue as a 1.5 ``value`` (text and attributes); None: 1.5 has no such."""
    measurand = sample.get("measurand", "Energy.Active.Import.Register")
    if measurand not in _MEASURANDS_15:
        return None
    unit = sample.get("unit")
    if unit is not None and unit not in _UNIT_TO_15:
        return None
    return {
        "value": sample["value"],
        "context": sample.get("context") if sample.get("context") in _CONTEXTS_15 else None,
        "format": sample.get("format"),
        "measurand": measurand,
        "location": sample.get("location") if sample.get("location") in _LOCATIONS_15 else None,
        "unit": _UNIT_TO_15.get(unit) if unit else None,
    }


def _meter_values_15(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """1.6 ``meterValue`` -> 1.5 ``values``, leaving out what 1.5 cannot say."""
    out = []
    for meter_value in values:
        converted = [v for v in map(_value_15, meter_value.get("sampledValue", [])) if v]
        if converted:  # 1.5 needs at least one value per MeterValue
            out.append({"timestamp": meter_value["timestamp"], "value": converted})
    return out


# ----------------------------------------------------------------------- requests, replies
def request_to_16(operation: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A 1.5 request (as a dict of its elements) in the shape of its 1.6 counterpart."""
    out = dict(payload)
    if operation == "StatusNotification":
        out["status"] = _STATUS_TO_16.get(out["status"], out["status"])
        out["errorCode"] = _ERROR_TO_16.get(out["errorCode"], out["errorCode"])
    elif operation == "MeterValues":
        out["meterValue"] = _meter_values_16(out.pop("values", None))
    elif operation == "StopTransaction":
        data = out.pop("transactionData", None) or []
        flat = [mv for block in data for mv in block.get("values", []) or []]
        if flat:
            out["transactionData"] = _meter_values_16(flat)
    return out


def request_to_15(operation: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A request built in the 1.6 shape, in the shape of its 1.5 counterpart."""
    out = dict(payload)
    if operation == "StatusNotification":
        out["status"] = _STATUS_TO_15.get(out["status"], out["status"])
        code = _ERROR_TO_15.get(out["errorCode"], out["errorCode"])
        out["errorCode"] = code if code in _ERRORS_15 else "OtherError"
    elif operation == "MeterValues":
        out["values"] = _meter_values_15(out.pop("meterValue", []))
    elif operation == "StopTransaction":
        out.pop("reason", None)
        data = _meter_values_15(out.pop("transactionData", None) or [])
        if data:
            out["transactionData"] = [{"values": data}]
    return out


def reply_to_15(operation: str, reply: dict[str, Any]) -> dict[str, Any]:
    """The central system's 1.6 reply in the 1.5 shape of ``operation``'s response."""
    out = dict(reply)
    if operation == "BootNotification":
        out["heartbeatInterval"] = out.pop("interval")
        out["status"] = _BOOT_STATUS_TO_15.get(out["status"], out["status"])
    return out


def reply_to_16(operation: str, reply: dict[str, Any]) -> dict[str, Any]:
    """The central system's 1.5 reply in the 1.6 shape the station logic reads."""
    out = dict(reply)
    if operation == "BootNotification":
        out["interval"] = out.pop("heartbeatInterval", 0)
    return out


# ----------------------------------------------------------------------- commands, answers
def list_hash(entries: list[dict[str, Any]]) -> str:
    """SendLocalList's 1.5 ``hash``: SHA-1 (hex) of the list as sent, one line per entry in
    order, ``idTag|status|expiryDate|parentIdTag`` (absent parts empty). The central system
    computes it over the list it sends; the station checks it (HashError when they differ)."""
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


def command_to_16(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A 1.5 command's data in the 1.6 shape of the station's command handlers."""
    out = dict(payload)
    if action == "SendLocalList":
        out.pop("hash", None)
        entries = out.pop("localAuthorisationList", None)
        if entries is not None:
            out["localAuthorizationList"] = entries
    return out


def answer_to_15(action: str, answer: dict[str, Any]) -> dict[str, Any]:
    """The station's 1.6 answer in the 1.5 shape of the command's response."""
    out = dict(answer)
    if action == "UnlockConnector":
        out["status"] = _UNLOCK_TO_15.get(out["status"], "Rejected")
    elif action == "ChangeConfiguration" and out.get("status") == "RebootRequired":
        out["status"] = "Accepted"
    return out


def answer_to_16(action: str, answer: dict[str, Any]) -> dict[str, Any]:
    """A 1.5 station's answer in the 1.6 shape the command objects record."""
    out = dict(answer)
    if action == "UnlockConnector":
        out["status"] = _UNLOCK_TO_16.get(out.get("status", ""), out.get("status"))
    elif action == "SendLocalList":
        out.pop("hash", None)
        out["status"] = _LIST_STATUS_TO_16.get(out.get("status", ""), out.get("status"))
    return out
