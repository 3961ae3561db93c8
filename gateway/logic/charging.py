"""Charging: StartTransaction, StopTransaction and MeterValues (persisted before the reply)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import trio

from db.ocpp.ocpp_transactions import (
    MeterIn,
    SampleIn,
    record_start_transaction,
    record_stop_transaction,
)
from db.ocpp.stale_sessions import STALE_STOP_REASON, ClosedSession
from db.schema.models import utcnow
from db.system.alarms import log_event
from gateway.logic.context import StationContext, id_tag_info
from gateway.ocpp16.convert import energy_wh, parse_datetime, power_w
from gateway.ocpp16.framing import OcppError
from gateway.oplog import oplog

__all__ = [
    "flatten_meter_values",
    "meter_values",
    "sessions_closed",
    "start_transaction",
    "stop_transaction",
]

log = logging.getLogger(__name__)


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
    sessions_closed(ctx, result.closed, "a new StartTransaction")
    connector = state.connector(connector_id)
    status = result.authorization.status
    if result.refused:
        # kept for audit; the station stops it (DeAuthorized): nothing runs here
        if not result.resent:
            ctx.publish(
                "session.refused",
                {
                    "transactionId": result.transaction_id,
                    "connectorId": connector_id,
                    "idTag": payload["idTag"],
                    "status": status,
                },
            )
            oplog(
                ctx.charge_box_id,
                "transaction.refused",
                connector=connector_id,
                transactionId=result.transaction_id,
                idTag=payload["idTag"],
                status=status,
            )
        return {
            "transactionId": result.transaction_id,
            "idTagInfo": id_tag_info(result.authorization),
        }
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
                "status": status,
            },
        )
        oplog(
            ctx.charge_box_id,
            "transaction.started",
            connector=connector_id,
            transactionId=result.transaction_id,
            idTag=payload["idTag"],
            meterStart=payload["meterStart"],
            status=status,
        )
    return {
        "transactionId": result.transaction_id,
        "idTagInfo": id_tag_info(result.authorization),
    }


def sessions_closed(ctx: StationContext, closed: tuple[ClosedSession, ...], why: str) -> None:
    """Forget stale sessions the database closed, and tell the portal and the log."""
    for session in closed:
        connector = ctx.state.connectors.get(session.connector_id)
        if connector is not None and connector.transaction_id == session.transaction_id:
            connector.transaction_id = None
            connector.meter_wh = session.meter_stop
            connector.power_w = None
        ctx.publish(
            "session.stopped",
            {
                "transactionId": session.transaction_id,
                "connectorId": session.connector_id,
                "meterStop": session.meter_stop,
                "energyWh": session.energy_wh,
                "reason": STALE_STOP_REASON,
            },
        )
        oplog(
            ctx.charge_box_id,
            "transaction.stale_closed",
            logging.WARNING,
            connector=session.connector_id,
            transactionId=session.transaction_id,
            meterStop=session.meter_stop,
            energyWh=session.energy_wh,
            why=why,
        )


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
        await ctx.store.write(
            lambda: log_event(
                "station.unknown_transaction",
                ctx.charge_box_id,
                station_id=state.station_id,
                site_id=state.site_id,
                severity="warning",
                message=f"StopTransaction for transaction {transaction_id}, not this station's",
            )
        )
    else:
        connector = state.connectors.get(result.connector_id)
        if connector is not None and connector.transaction_id == transaction_id:
            connector.transaction_id = None
            connector.meter_wh = payload["meterStop"]
            connector.power_w = None
        if not result.resent:
            oplog(
                ctx.charge_box_id,
                "transaction.stopped",
                connector=result.connector_id,
                transactionId=transaction_id,
                meterStop=payload["meterStop"],
                energyWh=result.energy_wh,
                reason=payload.get("reason", "Local"),
            )
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
