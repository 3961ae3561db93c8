"""Station messages of the OCPP 1.6 security extension: security events, log upload and
signed firmware status (stored and shown like diagnostics and firmware status)."""

from __future__ import annotations

from typing import Any

from db.alarms import log_event, raise_alarm
from db.ocpp_records import record_diagnostics_status, record_firmware_status
from gateway.logic.context import StationContext
from gateway.logic.station import transfer_status
from gateway.oplog import oplog

__all__ = [
    "CRITICAL_SECURITY_EVENTS",
    "SECURITY_ALARM",
    "log_status_notification",
    "security_event_notification",
    "signed_firmware_status_notification",
]

SECURITY_ALARM = "Security event"

#: The security events the 1.6 security whitepaper (appendix 1) marks critical: a
#: station pushes them at once, and the central system raises an alarm for each.
CRITICAL_SECURITY_EVENTS = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
    }
)

_LOG_FAILURES = frozenset(
    {"BadMessage", "NotSupportedOperation", "PermissionDenied", "UploadFailure"}
)
_FIRMWARE_FAILURES = frozenset(
    {"DownloadFailed", "InstallationFailed", "InstallVerificationFailed", "InvalidSignature"}
)


async def security_event_notification(
    ctx: StationContext, payload: dict[str, Any]
) -> dict[str, Any]:
    """Stored in the event log; a critical event also raises a "Security event" alarm."""
    state = ctx.state
    kind = payload["type"]
    critical = kind in CRITICAL_SECURITY_EVENTS
    text = f"{kind} {payload.get('techInfo', '')}".strip()[:500]

    def unit() -> Any:
        log_event(
            "station.security",
            ctx.charge_box_id,
            station_id=state.station_id,
            site_id=state.site_id,
            severity="error" if critical else "warning",
            message=text,
        )
        if critical:
            return raise_alarm(
                SECURITY_ALARM,
                ctx.charge_box_id,
                station_id=state.station_id,
                site_id=state.site_id,
                message=text,
            )
        return None

    change = await ctx.store.write(unit)
    ctx.publish("security.event", {"type": kind, "critical": critical})
    if change is not None and change.new:
        ctx.publish(
            "alarm.raised",
            {
                "alarmId": change.alarm_id,
                "kind": SECURITY_ALARM,
                "connectorId": 0,
                "message": change.message,
            },
        )
    oplog(ctx.charge_box_id, "security.event", type=kind, critical=critical)
    return {}


def _with_request(status: str, payload: dict[str, Any]) -> str:
    request = payload.get("requestId")
    return status if request is None else f"{status} (request {request})"


async def log_status_notification(ctx: StationContext, payload: dict[str, Any]) -> dict[str, Any]:
    """A GetLog upload's progress: the station's diagnostics status, like
    DiagnosticsStatusNotification (the security extension's diagnostics)."""
    status = payload["status"]
    return await transfer_status(
        ctx,
        status,
        record_diagnostics_status,
        "diagnostics",
        status in _LOG_FAILURES,
        message=f"log upload {_with_request(status, payload)}",
    )


async def signed_firmware_status_notification(
    ctx: StationContext, payload: dict[str, Any]
) -> dict[str, Any]:
    """A SignedUpdateFirmware's progress: the station's firmware status, like
    FirmwareStatusNotification."""
    status = payload["status"]
    return await transfer_status(
        ctx,
        status,
        record_firmware_status,
        "firmware",
        status in _FIRMWARE_FAILURES,
        message=f"signed firmware {_with_request(status, payload)}",
    )
