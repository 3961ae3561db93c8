"""Station messages other than charging: boot, heartbeat, status and alarms, authorize,
data transfer, firmware/diagnostics/security notifications."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from db.ocpp.authorization import authorize_id_tag
from db.ocpp.ocpp_records import record_diagnostics_status, record_firmware_status
from db.ocpp.station_batches import BOOT_COLUMNS, BootIn, StatusIn, record_boots, record_statuses
from db.schema.models import utcnow
from db.system.alarms import log_event
from gateway.logic.context import StationContext, id_tag_info
from gateway.logic.stale import connector_status_seen, station_booted
from gateway.ocpp16.convert import format_datetime
from gateway.ocpp16.framing import OcppError
from gateway.oplog import oplog

__all__ = [
    "ALARM_FOR_ERROR",
    "ALARM_FOR_VENDOR_CODE",
    "STATUS_ALARM_KINDS",
    "alarm_kind",
    "authorize",
    "boot_notification",
    "data_transfer",
    "diagnostics_status_notification",
    "firmware_status_notification",
    "heartbeat",
    "status_notification",
    "transfer_status",
]

log = logging.getLogger(__name__)

#: StatusNotification errorCode -> SPEC §8 alarm kind (codes not listed raise none).
ALARM_FOR_ERROR: dict[str, str] = {
    "GroundFailure": "Fuse",  # the residual-current protection tripped
    "HighTemperature": "Temperature",
    "OverCurrentFailure": "Fuse",
    "ConnectorLockFailure": "Hardware fault",
    "InternalError": "Hardware fault",
    "OtherError": "Hardware fault",
    "OverVoltage": "Hardware fault",
    "PowerMeterFailure": "Hardware fault",
    "PowerSwitchFailure": "Hardware fault",
    "ReaderFailure": "Hardware fault",
    "ResetFailure": "Hardware fault",
    "UnderVoltage": "Hardware fault",
    "LocalListConflict": "Configuration mismatch",
}
#: What an ``OtherError`` names in its vendorErrorCode (normalised) -> SPEC §8 alarm kind.
ALARM_FOR_VENDOR_CODE: dict[str, str] = {
    "configurationmismatch": "Configuration mismatch",
    "configmismatch": "Configuration mismatch",
    "fuse": "Fuse",
    "temperature": "Temperature",
    "overtemperature": "Temperature",
}
#: Alarm kinds a StatusNotification raises, and so also clears.
STATUS_ALARM_KINDS: tuple[str, ...] = tuple(
    sorted(set(ALARM_FOR_ERROR.values()) | set(ALARM_FOR_VENDOR_CODE.values()))
)


def alarm_kind(error_code: str, vendor_error_code: str = "") -> str | None:
    """The SPEC §8 alarm a connector error raises (``OtherError`` refined by its vendor code)."""
    if error_code == "OtherError" and vendor_error_code:
        key = "".join(ch for ch in vendor_error_code.lower() if ch.isalnum())
        if key in ALARM_FOR_VENDOR_CODE:
            return ALARM_FOR_VENDOR_CODE[key]
    return ALARM_FOR_ERROR.get(error_code)


_BOOT_FIELDS = (
    ("chargePointVendor", "vendor"),
    ("chargePointModel", "model"),
    ("chargePointSerialNumber", "serial_number"),
    ("chargeBoxSerialNumber", "box_serial_number"),
    ("firmwareVersion", "firmware_version"),
    ("iccid", "iccid"),
    ("imsi", "imsi"),
    ("meterType", "meter_type"),
    ("meterSerialNumber", "meter_serial_number"),
)


async def boot_notification(ctx: StationContext, payload: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    boot = {field: str(payload.get(key, ""))[:64] for key, field in _BOOT_FIELDS}
    state = ctx.state
    message = f"{boot['vendor']} {boot['model']} firmware {boot['firmware_version'] or '?'}"

    # stored with the other boots of the moment, and a station.booted event for each
    fields = tuple(boot[column] for column in BOOT_COLUMNS)
    status = await ctx.store.write_each(
        record_boots,
        BootIn(state.station_id, ctx.charge_box_id, state.site_id, fields, now, message),
    )
    oplog(
        ctx.charge_box_id,
        "station.booted",
        status=status,
        vendor=boot["vendor"],
        model=boot["model"],
        firmware=boot["firmware_version"] or None,
    )
    station_booted(ctx)
    state.booted_at = now
    state.boot = {key: payload[key] for key, _ in _BOOT_FIELDS if key in payload}
    ctx.publish("station.booted", {"status": status, **state.boot})
    if status == "Accepted" and not ctx.config_imported and ctx.config.import_configuration:
        ctx.import_configuration_soon()
    return {
        "status": status,
        "currentTime": format_datetime(now),
        "interval": ctx.config.heartbeat_interval,
    }


async def heartbeat(ctx: StationContext, payload: dict[str, Any]) -> dict[str, Any]:
    # last-seen is kept in memory by the actor and flushed in batches by the supervisor
    return {"currentTime": format_datetime(utcnow())}


async def status_notification(ctx: StationContext, payload: dict[str, Any]) -> dict[str, Any]:
    state = ctx.state
    connector_id: int = payload["connectorId"]
    status: str = payload["status"]
    error_code: str = payload["errorCode"]
    if connector_id < 0:
        raise OcppError("PropertyConstraintViolation", "connectorId must be >= 0")
    if connector_id == 0:
        previous_error: str | None = state.error_code if state.status != "Unknown" else None
    else:
        known = state.connectors.get(connector_id)
        previous_error = (
            known.error_code if known is not None and known.status != "Unknown" else None
        )
    kind = alarm_kind(error_code, payload.get("vendorErrorCode", ""))
    if previous_error is None or kind is None:
        # state unknown, or no fault any more: no status alarm of another kind stays active
        clear = [k for k in STATUS_ALARM_KINDS if k != kind]
    elif previous_error != error_code:
        old = ALARM_FOR_ERROR.get(previous_error)
        clear = [old] if old is not None and old != kind else []
    else:
        clear = []
    raise_kind = kind if kind is not None and previous_error != error_code else None
    detail = " ".join(
        part
        for part in (error_code, payload.get("vendorErrorCode", ""), payload.get("info", ""))
        if part
    )
    now = utcnow()
    changes = await ctx.store.write_each(
        record_statuses,
        StatusIn(
            state.station_id,
            ctx.charge_box_id,
            state.site_id,
            connector_id,
            status,
            error_code,
            now,
            raise_kind=raise_kind,
            alarm_message=detail,
            clear_kinds=tuple(clear),
        ),
    )
    if connector_id == 0:
        state.status, state.error_code = status, error_code
    else:
        connector = state.connector(connector_id)
        connector.status, connector.error_code = status, error_code
        await connector_status_seen(ctx, connector_id, status)
    ctx.publish(
        "connector.status",
        {
            "connectorId": connector_id,
            "status": status,
            "errorCode": error_code,
            "info": payload.get("info", ""),
            "vendorErrorCode": payload.get("vendorErrorCode", ""),
        },
    )
    for change in changes:
        if change.new:
            ctx.publish(
                "alarm.raised" if change.raised else "alarm.cleared",
                {
                    "alarmId": change.alarm_id,
                    "kind": change.kind,
                    "connectorId": change.connector_id,
                    "message": change.message,
                },
            )
    return {}


async def authorize(ctx: StationContext, payload: dict[str, Any]) -> dict[str, Any]:
    auth = await ctx.store.read(authorize_id_tag, payload["idTag"], ctx.charge_box_id)
    return {"idTagInfo": id_tag_info(auth)}


async def data_transfer(ctx: StationContext, payload: dict[str, Any]) -> dict[str, Any]:
    ctx.publish("data.transfer", dict(payload))
    state = ctx.state
    await ctx.store.write(
        lambda: log_event(
            "station.data_transfer",
            ctx.charge_box_id,
            station_id=state.station_id,
            site_id=state.site_id,
            message=f"vendor {payload['vendorId']} message {payload.get('messageId', '')}"[:500],
        )
    )
    return {"status": "UnknownVendorId"}


async def transfer_status(
    ctx: StationContext,
    status: str,
    record: Callable[[int, str], None],
    subject: str,
    failed: bool,
    *,
    message: str = "",
) -> dict[str, Any]:
    """Store a diagnostics/firmware transfer status, log it, and tell the portal."""
    state = ctx.state

    def unit() -> None:
        record(state.station_id, status)
        log_event(
            f"station.{subject}",
            ctx.charge_box_id,
            station_id=state.station_id,
            site_id=state.site_id,
            severity="warning" if failed else "info",
            message=message or f"{subject} {status}",
        )

    await ctx.store.write(unit)
    ctx.publish(f"{subject}.status", {"status": status})
    oplog(ctx.charge_box_id, f"{subject}.status", status=status, failed=failed)
    return {}


async def diagnostics_status_notification(
    ctx: StationContext, payload: dict[str, Any]
) -> dict[str, Any]:
    status = payload["status"]
    return await transfer_status(
        ctx, status, record_diagnostics_status, "diagnostics", status == "UploadFailed"
    )


async def firmware_status_notification(
    ctx: StationContext, payload: dict[str, Any]
) -> dict[str, Any]:
    status = payload["status"]
    return await transfer_status(
        ctx, status, record_firmware_status, "firmware", status.endswith("Failed")
    )
