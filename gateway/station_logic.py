"""Station logic, written once: what the central system does for each station message.

Handlers take the station context and an OCPP 1.6-shaped payload (other protocol
adapters convert to this shape at their edge) and return the reply payload. Anything
a station must not lose is committed (``await ctx.store.write``) before returning.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import trio

from db import Store
from db.alarms import log_event
from db.authorization import TagAuthorization, authorize_id_tag
from db.models import utcnow
from db.ocpp_records import (
    MeterIn,
    MeterResult,
    SampleIn,
    record_boot,
    record_diagnostics_status,
    record_firmware_status,
    record_start_transaction,
    record_status,
    record_stop_transaction,
)
from gateway.batching import WriteBatcher
from gateway.config import GatewayConfig
from gateway.ocpp16.convert import energy_wh, format_datetime, parse_datetime, power_w
from gateway.ocpp16.framing import OcppError
from gateway.state import StationState

__all__ = [
    "ALARM_FOR_ERROR",
    "HANDLERS",
    "STATUS_ALARM_KINDS",
    "StationContext",
    "flatten_meter_values",
    "id_tag_info",
]

log = logging.getLogger(__name__)

#: StatusNotification errorCode -> SPEC §8 alarm kind (codes not listed raise none).
ALARM_FOR_ERROR: dict[str, str] = {
    "GroundFailure": "Temperature",
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
#: Alarm kinds a StatusNotification raises, and so also clears.
STATUS_ALARM_KINDS: tuple[str, ...] = tuple(sorted(set(ALARM_FOR_ERROR.values())))

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


class StationContext(Protocol):
    """What a handler may use: provided by the station's actor."""

    charge_box_id: str
    state: StationState
    store: Store
    meter_writer: WriteBatcher[MeterIn, MeterResult]
    config: GatewayConfig
    unique_id: str  # of the CALL being handled
    raw: str  # the CALL as received (kept for transaction messages)
    config_imported: bool

    def publish(self, kind: str, data: dict[str, Any]) -> None: ...

    def import_configuration_soon(self) -> None: ...


Handler = Callable[[StationContext, dict[str, Any]], Awaitable[dict[str, Any]]]


def id_tag_info(auth: TagAuthorization) -> dict[str, Any]:
    info: dict[str, Any] = {"status": auth.status}
    if auth.expiry_date is not None:
        info["expiryDate"] = format_datetime(auth.expiry_date)
    if auth.parent_id_tag:
        info["parentIdTag"] = auth.parent_id_tag
    return info


def flatten_meter_values(meter_values: list[dict[str, Any]]) -> list[SampleIn]:
    """meterValue[].sampledValue[] as rows (timestamps naive UTC)."""
    rows = []
    for meter_value in meter_values:
        timestamp = parse_datetime(meter_value["timestamp"])
        for sample in meter_value["sampledValue"]:
            rows.append(
                SampleIn(
                    timestamp,
                    sample["value"],
                    sample.get("measurand", "Energy.Active.Import.Register"),
                    sample.get("unit", "Wh"),
                    sample.get("context", "Sample.Periodic"),
                    sample.get("phase", ""),
                    sample.get("location", ""),
                    sample.get("format", "Raw"),
                )
            )
    return rows


def _latest_readings(meter_values: list[dict[str, Any]]) -> tuple[int | None, float | None]:
    """The newest energy register (Wh) and power (W) readings in a meterValue list."""
    if len(meter_values) > 1:
        meter_values = sorted(meter_values, key=lambda mv: parse_datetime(mv["timestamp"]))
    reading: int | None = None
    power: float | None = None
    for meter_value in meter_values:
        energy = energy_wh(meter_value["sampledValue"])
        if energy is not None:
            reading = energy
        watts = power_w(meter_value["sampledValue"])
        if watts is not None:
            power = watts
    return reading, power


def _timestamp(value: str) -> dt.datetime:
    try:
        return parse_datetime(value)
    except ValueError:
        raise OcppError("PropertyConstraintViolation", f"not a date-time: {value!r}") from None


# --- handlers ----------------------------------------------------------------------


async def boot_notification(ctx: StationContext, payload: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    boot = {field: str(payload.get(key, ""))[:64] for key, field in _BOOT_FIELDS}
    state = ctx.state
    message = f"{boot['vendor']} {boot['model']} firmware {boot['firmware_version'] or '?'}"

    def unit() -> str:
        status = record_boot(state.station_id, boot, now)
        log_event(
            "station.booted",
            ctx.charge_box_id,
            station_id=state.station_id,
            site_id=state.site_id,
            message=message,
            now=now,
        )
        return status

    status = await ctx.store.write(unit)
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
    kind = ALARM_FOR_ERROR.get(error_code)
    if previous_error is None:
        clear = [k for k in STATUS_ALARM_KINDS if k != kind]  # state unknown: tidy up
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
    changes = await ctx.store.write(
        lambda: record_status(
            state.station_id,
            ctx.charge_box_id,
            state.site_id,
            connector_id,
            status,
            error_code,
            now,
            raise_kind=raise_kind,
            alarm_message=detail,
            clear_kinds=clear,
        )
    )
    if connector_id == 0:
        state.status, state.error_code = status, error_code
    else:
        connector = state.connector(connector_id)
        connector.status, connector.error_code = status, error_code
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


async def start_transaction(ctx: StationContext, payload: dict[str, Any]) -> dict[str, Any]:
    state = ctx.state
    connector_id: int = payload["connectorId"]
    if connector_id < 1:
        raise OcppError("PropertyConstraintViolation", "connectorId must be >= 1")
    timestamp = _timestamp(payload["timestamp"])
    result = await ctx.store.write(
        lambda: record_start_transaction(
            state.station_id,
            ctx.charge_box_id,
            connector_id,
            payload["idTag"],
            payload["meterStart"],
            timestamp,
            payload.get("reservationId"),
            utcnow(),
            unique_id=ctx.unique_id,
            raw=ctx.raw if ctx.config.keep_transaction_messages else "",
        )
    )
    connector = state.connector(connector_id)
    connector.transaction_id = result.transaction_id
    connector.meter_start = result.meter_start
    if connector.meter_wh is None or not result.resent:
        connector.meter_wh = result.meter_start
    connector.power_w = None
    if not result.resent:
        ctx.publish(
            "session.started",
            {
                "transactionId": result.transaction_id,
                "connectorId": connector_id,
                "idTag": payload["idTag"],
                "meterStart": payload["meterStart"],
                "authentication": result.authentication,
                "status": result.authorization.status,
            },
        )
    return {
        "transactionId": result.transaction_id,
        "idTagInfo": id_tag_info(result.authorization),
    }


async def stop_transaction(ctx: StationContext, payload: dict[str, Any]) -> dict[str, Any]:
    state = ctx.state
    transaction_id: int = payload["transactionId"]
    samples = flatten_meter_values(payload.get("transactionData", []))
    timestamp = _timestamp(payload["timestamp"])
    result = await ctx.store.write(
        lambda: record_stop_transaction(
            state.station_id,
            ctx.charge_box_id,
            transaction_id,
            payload["meterStop"],
            timestamp,
            payload.get("reason", ""),
            payload.get("idTag", ""),
            samples,
            utcnow(),
            unique_id=ctx.unique_id,
            raw=ctx.raw if ctx.config.keep_transaction_messages else "",
        )
    )
    if not result.found:
        # Not ours (or unknown): acknowledge so the station stops re-sending, touch nothing.
        log.warning(
            "%s: StopTransaction for unknown transaction %s", ctx.charge_box_id, transaction_id
        )
    else:
        connector = state.connectors.get(result.connector_id)
        if connector is not None and connector.transaction_id == transaction_id:
            connector.transaction_id = None
            connector.meter_wh = payload["meterStop"]
            connector.power_w = None
        if not result.resent:
            ctx.publish(
                "session.stopped",
                {
                    "transactionId": transaction_id,
                    "connectorId": result.connector_id,
                    "meterStop": payload["meterStop"],
                    "energyWh": result.energy_wh,
                    "reason": payload.get("reason", "Local"),
                },
            )
    reply: dict[str, Any] = {}
    if result.authorization is not None:
        reply["idTagInfo"] = id_tag_info(result.authorization)
    return reply


async def meter_values(ctx: StationContext, payload: dict[str, Any]) -> dict[str, Any]:
    state = ctx.state
    connector_id: int = payload["connectorId"]
    transaction_id: int | None = payload.get("transactionId")
    try:
        samples = flatten_meter_values(payload["meterValue"])
        reading, power = _latest_readings(payload["meterValue"])
    except ValueError:
        raise OcppError("PropertyConstraintViolation", "a timestamp is not a date-time") from None
    connector = state.connectors.get(connector_id) if connector_id > 0 else None
    known = (
        transaction_id is not None
        and connector is not None
        and connector.transaction_id == transaction_id
    )
    result = await ctx.meter_writer.submit(
        MeterIn(
            state.station_id,
            ctx.charge_box_id,
            connector_id,
            transaction_id,
            samples,
            reading,
            known,
        )
    )
    if result.foreign:
        raise OcppError(
            "GenericError",
            f"transaction {transaction_id} does not belong to this station",
            {"transactionId": transaction_id},
        )
    if connector_id > 0:
        connector = state.connector(connector_id)
        if reading is not None and (connector.meter_wh is None or reading > connector.meter_wh):
            connector.meter_wh = reading
        if power is not None:
            connector.power_w = power
        if result.session_id is not None and connector.transaction_id is None:
            connector.transaction_id = result.session_id
            connector.meter_start = (
                result.meter_last - result.energy_wh
                if result.meter_last is not None and result.energy_wh is not None
                else None
            )
        now = trio.current_time()
        if now - connector.meter_event_at >= ctx.config.meter_event_interval:
            # live energy for the portal, throttled per connector; snapshot() is always current
            connector.meter_event_at = now
            energy = None
            if connector.transaction_id is not None and connector.meter_start is not None:
                energy = max(0, (connector.meter_wh or 0) - connector.meter_start)
            ctx.publish(
                "session.meter",
                {
                    "connectorId": connector_id,
                    "transactionId": result.session_id,
                    "meterWh": connector.meter_wh,
                    "powerW": connector.power_w,
                    "energyWh": energy,
                },
            )
    return {}


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


async def diagnostics_status_notification(
    ctx: StationContext, payload: dict[str, Any]
) -> dict[str, Any]:
    state = ctx.state
    status = payload["status"]

    def unit() -> None:
        record_diagnostics_status(state.station_id, status)
        log_event(
            "station.diagnostics",
            ctx.charge_box_id,
            station_id=state.station_id,
            site_id=state.site_id,
            severity="warning" if status == "UploadFailed" else "info",
            message=f"diagnostics {status}",
        )

    await ctx.store.write(unit)
    ctx.publish("diagnostics.status", {"status": status})
    return {}


async def firmware_status_notification(
    ctx: StationContext, payload: dict[str, Any]
) -> dict[str, Any]:
    state = ctx.state
    status = payload["status"]

    def unit() -> None:
        record_firmware_status(state.station_id, status)
        log_event(
            "station.firmware",
            ctx.charge_box_id,
            station_id=state.station_id,
            site_id=state.site_id,
            severity="warning" if status.endswith("Failed") else "info",
            message=f"firmware {status}",
        )

    await ctx.store.write(unit)
    ctx.publish("firmware.status", {"status": status})
    return {}


async def security_event_notification(
    ctx: StationContext, payload: dict[str, Any]
) -> dict[str, Any]:
    state = ctx.state
    text = f"{payload['type']} {payload.get('techInfo', '')}".strip()[:500]
    await ctx.store.write(
        lambda: log_event(
            "station.security",
            ctx.charge_box_id,
            station_id=state.station_id,
            site_id=state.site_id,
            severity="warning",
            message=text,
        )
    )
    ctx.publish("security.event", {"type": payload["type"]})
    return {}


#: The routing table: station-initiated action -> handler. A known action missing here
#: is answered NotSupported; an unknown one NotImplemented.
HANDLERS: dict[str, Handler] = {
    "Authorize": authorize,
    "BootNotification": boot_notification,
    "DataTransfer": data_transfer,
    "DiagnosticsStatusNotification": diagnostics_status_notification,
    "FirmwareStatusNotification": firmware_status_notification,
    "Heartbeat": heartbeat,
    "MeterValues": meter_values,
    "SecurityEventNotification": security_event_notification,
    "StartTransaction": start_transaction,
    "StatusNotification": status_notification,
    "StopTransaction": stop_transaction,
}
