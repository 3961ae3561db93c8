"""The command API: one small typed object per central-system operation.

Each command validates its input when built, prepares what needs the database before
sending (``prepare``), builds its payload per protocol version (``payload``) and records
the station's answer in one unit of work (``apply``): the one place that remembers what a
command changed. Send one with ``GatewayAPI.send(charge_box_id, command, deadline=...)``.
"""

from __future__ import annotations

from typing import Any

from gateway.commands.base import (
    Command,
    CommandResult,
    Outcome,
    Prepare,
    Target,
    kebab,
)
from gateway.commands.checks import COMMAND_ACTIONS, check_command
from gateway.commands.core import (
    PASSWORD_KEY,
    ChangeAvailability,
    ChangeConfiguration,
    ClearCache,
    DataTransfer,
    GetConfiguration,
    RemoteStartTransaction,
    RemoteStopTransaction,
    Reset,
    TagRefused,
    UnlockConnector,
    is_password_key,
)
from gateway.commands.firmware import GetDiagnostics, UpdateFirmware
from gateway.commands.local_list import GetLocalListVersion, SendLocalList
from gateway.commands.reservation import CancelReservation, ReserveNow
from gateway.commands.security import (
    CertificateSigned,
    DeleteCertificate,
    ExtendedTriggerMessage,
    GetInstalledCertificateIds,
    GetLog,
    InstallCertificate,
    SignedUpdateFirmware,
)
from gateway.commands.smart_charging import (
    ClearChargingProfile,
    GetCompositeSchedule,
    SetChargingProfile,
)
from gateway.commands.trigger import TRIGGERS, TriggerMessage
from gateway.errors import PayloadValidationError, UnknownActionError

__all__ = [
    "BY_ACTION",
    "BY_KEBAB",
    "COMMAND_ACTIONS",
    "PASSWORD_KEY",
    "TRIGGERS",
    "CancelReservation",
    "CertificateSigned",
    "ChangeAvailability",
    "ChangeConfiguration",
    "ClearCache",
    "ClearChargingProfile",
    "Command",
    "CommandResult",
    "DataTransfer",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetCompositeSchedule",
    "GetConfiguration",
    "GetDiagnostics",
    "GetInstalledCertificateIds",
    "GetLocalListVersion",
    "GetLog",
    "InstallCertificate",
    "Outcome",
    "Prepare",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "SignedUpdateFirmware",
    "TagRefused",
    "Target",
    "TriggerMessage",
    "UnlockConnector",
    "UpdateFirmware",
    "check_command",
    "command_from_ocpp",
    "is_password_key",
]

_ALL: tuple[type[Command], ...] = (
    CancelReservation,
    CertificateSigned,
    ChangeAvailability,
    ChangeConfiguration,
    ClearCache,
    ClearChargingProfile,
    DataTransfer,
    DeleteCertificate,
    ExtendedTriggerMessage,
    GetCompositeSchedule,
    GetConfiguration,
    GetDiagnostics,
    GetInstalledCertificateIds,
    GetLocalListVersion,
    GetLog,
    InstallCertificate,
    RemoteStartTransaction,
    RemoteStopTransaction,
    ReserveNow,
    Reset,
    SendLocalList,
    SetChargingProfile,
    SignedUpdateFirmware,
    TriggerMessage,
    UnlockConnector,
    UpdateFirmware,
)

#: Every command class by its OCPP action, and by the action in kebab case (the URL's).
BY_ACTION: dict[str, type[Command]] = {cls.action: cls for cls in _ALL}
BY_KEBAB: dict[str, type[Command]] = {kebab(cls.action): cls for cls in _ALL}
assert set(BY_ACTION) == COMMAND_ACTIONS, "one command class per central-system operation"


def command_from_ocpp(action: str, payload: Any) -> Command:
    """The command for an OCPP 1.6 action and its payload as on the wire."""
    cls = BY_ACTION.get(action)
    if cls is None:
        raise UnknownActionError(f"{action!r} is not a central-system-initiated OCPP 1.6 action")
    if not isinstance(payload, dict):
        raise PayloadValidationError(["payload must be a JSON object"])
    return cls.from_ocpp(payload)
