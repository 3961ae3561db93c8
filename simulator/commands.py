"""Answers to central-system CALLs: one small handler per action, with state effects after."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import trio

from simulator import maintenance
from simulator.profiles import parse_time
from simulator.protocol import Call, CallError, CallResult
from simulator.schemas import SchemaViolationError, known_action, validate

if TYPE_CHECKING:
    from simulator.station import SimulatedStation

__all__ = ["HANDLERS", "dispatch"]

log = logging.getLogger("simulator.commands")

After = Callable[[], Awaitable[None]] | None
Reply = tuple[dict[str, Any], After]
Handler = Callable[["SimulatedStation", dict[str, Any]], Reply]

HANDLERS: dict[str, Handler] = {}
VENDOR_ID = "ChargePortal"


def handles(action: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[action] = fn
        return fn

    return register


def dispatch(station: SimulatedStation, call: Call) -> tuple[CallResult | CallError, After]:
    """The answer to ``call`` and what to do once it is sent (the one place errors map)."""
    if not known_action(call.action):
        return CallError(call.unique_id, "NotImplemented", f"unknown action {call.action}"), None
    handler = HANDLERS.get(call.action)
    if handler is None:
        text = f"{call.action} is not sent to a charge point"
        return CallError(call.unique_id, "NotSupported", text), None
    try:
        validate(call.action, call.payload)
    except SchemaViolationError as exc:
        return CallError(call.unique_id, exc.code, exc.description), None
    try:
        payload, after = handler(station, call.payload)
    except Exception as exc:
        log.exception("%s: %s failed", station.charge_box_id, call.action)
        return CallError(call.unique_id, "InternalError", repr(exc)), None
    return CallResult(call.unique_id, payload), after


def _connector_ok(station: SimulatedStation, connector_id: int, *, zero: bool = True) -> bool:
    return (0 if zero else 1) <= connector_id <= len(station.outlets)


@handles("Reset")
def _reset(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    kind = payload["type"]

    async def after() -> None:
        if kind == "Soft":
            station.end_all_transactions("SoftReset")
            with trio.move_on_after(10):
                await station.wait_for(lambda: len(station.txq) == 0)
        else:
            station.end_all_transactions("HardReset")
        station.request_reboot(kind)

    return {"status": "Accepted"}, after


@handles("RemoteStartTransaction")
def _remote_start(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    connector_id = payload.get("connectorId")
    profile = payload.get("chargingProfile")
    if profile is not None and profile.get("chargingProfilePurpose") != "TxProfile":
        return {"status": "Rejected"}, None
    if connector_id is None:
        free = [o for o in station.outlets if o.status in ("Available", "Preparing")]
        free.sort(key=lambda o: not o.plugged)
        if not free:
            return {"status": "Rejected"}, None
        outlet = free[0]
    elif not _connector_ok(station, connector_id, zero=False):
        return {"status": "Rejected"}, None
    else:
        outlet = station.outlet(connector_id)
        if outlet.status not in ("Available", "Preparing", "Finishing", "Reserved"):
            return {"status": "Rejected"}, None
    id_tag = payload["idTag"]
    if outlet.status == "Reserved" and outlet.reservation and outlet.reservation.id_tag != id_tag:
        return {"status": "Rejected"}, None

    async def after() -> None:
        if station.config.get_bool("AuthorizeRemoteTxRequests"):
            info = await station.authorize(id_tag)
            if info.get("status") != "Accepted":
                return
        if profile is not None:
            station.pending_profiles[outlet.connector_id] = profile
        station.accept_tag(outlet, id_tag)

    return {"status": "Accepted"}, after


@handles("RemoteStopTransaction")
def _remote_stop(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    for outlet in station.outlets:
        tx = outlet.transaction
        if tx is not None and tx.transaction_id == payload["transactionId"]:

            async def after(outlet=outlet) -> None:
                station.stop_transaction(outlet, "Remote")
                station.changed()

            return {"status": "Accepted"}, after
    return {"status": "Rejected"}, None


@handles("UnlockConnector")
def _unlock(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    connector_id = payload["connectorId"]
    if not _connector_ok(station, connector_id, zero=False):
        return {"status": "NotSupported"}, None
    outlet = station.outlet(connector_id)
    if outlet.locked_cable:
        return {"status": "NotSupported"}, None
    if station.faults.unlock_fails:
        return {"status": "UnlockFailed"}, None
    if outlet.transaction is not None:
        station.stop_transaction(outlet, "UnlockCommand")
    station.changed()
    return {"status": "Unlocked"}, None


@handles("ChangeAvailability")
def _change_availability(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    connector_id = payload["connectorId"]
    if not _connector_ok(station, connector_id):
        return {"status": "Rejected"}, None
    operative = payload["type"] == "Operative"
    targets = station.outlets if connector_id == 0 else [station.outlet(connector_id)]
    scheduled = False
    for outlet in targets:
        if operative:
            outlet.operative = True
            outlet.inoperative_scheduled = False
        elif outlet.busy:
            outlet.inoperative_scheduled = True
            scheduled = True
        else:
            outlet.operative = False
    if connector_id == 0:
        station.connector0.operative = operative
    station.changed()
    return {"status": "Scheduled" if scheduled else "Accepted"}, None


@handles("GetConfiguration")
def _get_configuration(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    return station.config.report(payload.get("key")), None


@handles("ChangeConfiguration")
def _change_configuration(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    key, value = payload["key"], payload["value"]
    if key.lower() == "securityprofile":
        from simulator.security import change_profile  # it imports this module

        return change_profile(station, value)
    status = station.config.change(key, value)
    after: After = None
    if status in ("Accepted", "RebootRequired"):
        if key == "HeartbeatInterval":
            station.set_heartbeat_interval(float(station.config.get_int(key)))
        elif key == "AuthorizationKey":

            async def after() -> None:
                await trio.sleep(0.2)
                station.drop_connection()

        station.changed()
    return {"status": status}, after


@handles("ClearCache")
def _clear_cache(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    station.local_auth.clear_cache()
    return {"status": "Accepted"}, None


@handles("DataTransfer")
def _data_transfer(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    if payload["vendorId"] != VENDOR_ID:
        return {"status": "UnknownVendorId"}, None
    if payload.get("messageId") not in (None, "Echo"):
        return {"status": "UnknownMessageId"}, None
    answer: dict[str, Any] = {"status": "Accepted"}
    if "data" in payload:
        answer["data"] = payload["data"]
    return answer, None


@handles("GetLocalListVersion")
def _get_local_list_version(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    if not station.config.get_bool("LocalAuthListEnabled"):
        return {"listVersion": -1}, None
    return {"listVersion": station.local_auth.version}, None


@handles("SendLocalList")
def _send_local_list(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    if not station.config.get_bool("LocalAuthListEnabled"):
        return {"status": "NotSupported"}, None
    entries = payload.get("localAuthorizationList") or []
    if len(entries) > station.config.get_int("SendLocalListMaxLength"):
        return {"status": "Failed"}, None
    status = station.local_auth.send_local_list(
        payload["listVersion"], payload["updateType"], entries
    )
    return {"status": status}, None


@handles("ReserveNow")
def _reserve_now(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    connector_id = payload["connectorId"]
    if not _connector_ok(station, connector_id):
        return {"status": "Rejected"}, None
    expiry = parse_time(payload["expiryDate"])
    assert expiry is not None
    seconds = (expiry - station.now()).total_seconds()
    if seconds <= 0:
        return {"status": "Rejected"}, None
    status = station.reserve(
        connector_id,
        payload["reservationId"],
        payload["idTag"],
        payload.get("parentIdTag"),
        trio.current_time() + seconds,
    )
    return {"status": status}, None


@handles("CancelReservation")
def _cancel_reservation(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    return {"status": station.cancel_reservation(payload["reservationId"])}, None


@handles("SetChargingProfile")
def _set_charging_profile(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    connector_id = payload["connectorId"]
    if not _connector_ok(station, connector_id):
        return {"status": "Rejected"}, None
    tx_id = None
    if connector_id > 0:
        tx = station.outlet(connector_id).transaction
        tx_id = tx.transaction_id if tx else None
    status = station.profiles.install(connector_id, payload["csChargingProfiles"], tx_id)
    station.changed()
    return {"status": status}, None


@handles("ClearChargingProfile")
def _clear_charging_profile(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    removed = station.profiles.clear(
        profile_id=payload.get("id"),
        connector_id=payload.get("connectorId"),
        purpose=payload.get("chargingProfilePurpose"),
        stack_level=payload.get("stackLevel"),
    )
    station.changed()
    return {"status": "Accepted" if removed else "Unknown"}, None


@handles("GetCompositeSchedule")
def _get_composite_schedule(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    connector_id = payload["connectorId"]
    if not _connector_ok(station, connector_id):
        return {"status": "Rejected"}, None
    tx_start, tx_id = None, None
    if connector_id > 0:
        tx = station.outlet(connector_id).transaction
        if tx is not None:
            tx_start, tx_id = parse_time(tx.started_at), tx.transaction_id
    schedule = station.profiles.composite(
        connector_id,
        payload["duration"],
        payload.get("chargingRateUnit"),
        station.now(),
        tx_start=tx_start,
        tx_id=tx_id,
    )
    answer = {
        "status": "Accepted",
        "connectorId": connector_id,
        "scheduleStart": schedule["startSchedule"],
        "chargingSchedule": schedule,
    }
    return answer, None


@handles("TriggerMessage")
def _trigger_message(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    what = payload["requestedMessage"]
    connector_id = payload.get("connectorId")
    if connector_id is not None and not _connector_ok(station, connector_id):
        return {"status": "Rejected"}, None
    sender = maintenance.TRIGGERS.get(what)
    if sender is None:
        return {"status": "NotImplemented"}, None

    async def after() -> None:
        await sender(station, connector_id)

    return {"status": "Accepted"}, after


@handles("UpdateFirmware")
def _update_firmware(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    async def after() -> None:
        await maintenance.update_firmware(
            station,
            payload["location"],
            parse_time(payload["retrieveDate"]),
            payload.get("retries", 1),
            payload.get("retryInterval", 5),
        )

    return {}, after


@handles("GetDiagnostics")
def _get_diagnostics(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    name = maintenance.diagnostics_file_name(station)

    async def after() -> None:
        await maintenance.upload_diagnostics(
            station,
            payload["location"],
            name,
            payload.get("retries", 1),
            payload.get("retryInterval", 5),
        )

    return {"fileName": name}, after
