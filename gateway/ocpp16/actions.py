"""Which OCPP 1.6 actions exist, and which side of the link may initiate each."""

from __future__ import annotations

__all__ = [
    "ALL_ACTIONS",
    "CENTRAL_SYSTEM_INITIATED",
    "STATION_INITIATED",
    "TRANSACTION_ACTIONS",
]

#: Sent by a charge point, received by the central system (Core, Firmware, Security).
STATION_INITIATED: frozenset[str] = frozenset(
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
        # security extension (whitepaper for 1.6)
        "LogStatusNotification",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
    }
)

#: Sent by the central system: Core, Firmware Management, Local Auth List, Reservation,
#: Smart Charging, Remote Trigger (and DataTransfer, which goes both ways).
CENTRAL_SYSTEM_INITIATED: frozenset[str] = frozenset(
    {
        "CancelReservation",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
    }
)

#: Security-extension operations a central system may also send (known, schemas shipped).
SECURITY_CENTRAL_INITIATED: frozenset[str] = frozenset(
    {
        "CertificateSigned",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetInstalledCertificateIds",
        "GetLog",
        "InstallCertificate",
        "SignedUpdateFirmware",
    }
)

ALL_ACTIONS: frozenset[str] = (
    STATION_INITIATED | CENTRAL_SYSTEM_INITIATED | SECURITY_CENTRAL_INITIATED
)

#: Messages a station re-sends until answered; answered only after they are committed.
TRANSACTION_ACTIONS: frozenset[str] = frozenset(
    {"StartTransaction", "StopTransaction", "MeterValues"}
)
