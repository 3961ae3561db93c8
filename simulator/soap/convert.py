"""OCPP 1.6 ↔ 1.5 at the simulator's edge: the station logic speaks 1.6 shapes; its SOAP
link converts requests and answers both ways (as the gateway does on its side)."""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = [
    "COMMANDS_15",
    "LOCAL_ONLY",
    "answer_to_15",
    "command_to_16",
    "list_hash",
    "reply_to_16",
    "request_to_15",
]

#: Station -> central system operations OCPP 1.5 has.
REQUESTS_15 = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    }
)
#: Central system -> station operations OCPP 1.5 has (the rest are 1.6-only).
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
#: Notifications whose 1.6 status has no 1.5 counterpart: kept on the station, not sent.
LOCAL_ONLY = {
    "FirmwareStatusNotification": frozenset({"Idle", "Downloading", "Installing"}),
    "DiagnosticsStatusNotification": frozenset({"Idle", "Uploading"}),
}

_STATUS = {
    "Preparing": "Occupied",
    "Charging": "Occupied",
    "SuspendedEV": "Occupied",
    "SuspendedEVSE": "Occupied",
    "Finishing": "Occupied",
}
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
_UNITS_15 = {
    "Wh": "Wh",
    "kWh": "kWh",
    "varh": "varh",
    "kvarh": "kvarh",
    "W": "W",
    "kW": "kW",
    "var": "var",
    "kvar": "kvar",
    "A": "Amp",
    "V": "Volt",
    "Celsius": "Celsius",
}
_LOCATIONS_15 = frozenset({"Inlet", "Outlet", "Body"})


def _value_15(sample: dict[str, Any]) -> dict[str, Any] | None:
    """A 1.6 sampledValue as a 1.5 ``value`` (text and attributes); None: 1.5 has no such."""
    measurand = sample.get("measurand", "Energy.Active.Import.Register")
    if measurand not in _MEASURANDS_15:
        return None
    unit = sample.get("unit")
    if unit is not None and unit not in _UNITS_15:
        return None
    return {
        "value": sample["value"],
        "context": sample.get("context") if sample.get("context") in _CONTEXTS_15 else None,
        "format": sample.get("format"),
        "measurand": measurand,
        "location": sample.get("location") if sample.get("location") in _LOCATIONS_15 else None,
        "unit": _UNITS_15.get(unit) if unit else None,
    }


def _meter_values(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for meter_value in values:
        converted = [v for v in map(_value_15, meter_value.get("sampledValue", [])) if v]
        if converted:  # 1.5 needs at least one value per MeterValue
            out.append({"timestamp": meter_value["timestamp"], "value": converted})
    return out


def request_to_15(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A station request built in the 1.6 shape, in the shape of its 1.5 counterpart."""
    out = dict(payload)
    if action == "StatusNotification":
        out["status"] = _STATUS.get(out["status"], out["status"])
        code = out["errorCode"]
        out["errorCode"] = "Mode3Error" if code == "EVCommunicationError" else code
        if out["errorCode"] not in _ERRORS_15:
            out["errorCode"] = "OtherError"
    elif action == "MeterValues":
        out["values"] = _meter_values(out.pop("meterValue", []))
    elif action == "StopTransaction":
        out.pop("reason", None)
        data = _meter_values(out.pop("transactionData", None) or [])
        if data:
            out["transactionData"] = [{"values": data}]
    return out


def reply_to_16(action: str, answer: dict[str, Any]) -> dict[str, Any]:
    """The central system's 1.5 answer in the 1.6 shape the station logic reads."""
    out = dict(answer)
    if action == "BootNotification":
        out["interval"] = out.pop("heartbeatInterval", 0)
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


_UNLOCK = {"Unlocked": "Accepted"}


def answer_to_15(action: str, answer: dict[str, Any]) -> dict[str, Any]:
    """The station's 1.6 answer in the 1.5 shape of the command's response."""
    out = dict(answer)
    if action == "UnlockConnector":
        out["status"] = _UNLOCK.get(out["status"], "Rejected")
    elif action == "ChangeConfiguration" and out.get("status") == "RebootRequired":
        out["status"] = "Accepted"
    return out


def list_hash(entries: list[dict[str, Any]]) -> str:
    """SHA-1 (hex) of a local authorisation list as sent: one line per entry, in order,
    ``idTag|status|expiryDate|parentIdTag`` (absent parts empty). The central system
    computes the same over the list it sends; the station checks it (HashError)."""
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
