"""Station Control actions (SPEC §9.4): build each command, call the gateway, record the outcome.

Independent of Quart: the pages and the JSON API both call ``run_action``. An offline
station is refused before anything is sent (``StationOffline``), every answer of the
station comes back as ``ActionResult.answer``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from db.config_errors import ConfigurationError
from db.config_keys import is_readonly
from db.local_list import set_known_version
from db.passwords import hash_station_password
from db.station_control import (
    create_reservation,
    remote_start_refusal,
    running_transactions,
    set_reservation_status,
)
from db.station_files import get_firmware
from db.station_settings import check_station_password, set_password_hash_of
from db.store import Store
from db.timezones import local_to_utc
from filestore.ftp_server import FtpServer
from filestore.storage import FileStore

STAFF = ("admin", "support", "site-admin")
FIRMWARE_ROLES = ("admin", "support")
TRIGGERS = (
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
)


PASSWORD_KEY = "AuthorizationKey"


class ControlError(Exception):
    """An action that cannot be sent or failed; ``http_status`` for the API."""

    http_status = 400

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if http_status is not None:
            self.http_status = http_status


@dataclass
class ControlDeps:
    """What actions reach: the database, the gateway, files and the FTP server, settings."""

    store: Store
    gateway: Any
    files: FileStore
    ftp: FtpServer | None = None
    http_base: str = "http://127.0.0.1:8000"
    ftp_mode: str = "embedded"
    external_ftp_url: str = ""
    zone: str | None = None  # naive times in params are wall-clock times of it (None: UTC)


@dataclass
class ActionResult:
    action: str
    ocpp_action: str
    request: dict[str, Any]
    answer: dict[str, Any]
    message: str
    ok: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "ocppAction": self.ocpp_action,
            "request": self.request,
            "answer": self.answer,
            "message": self.message,
            "ok": self.ok,
            **self.extra,
        }


Builder = Callable[[ControlDeps, str, dict[str, Any]], Awaitable[tuple[str, dict[str, Any], Any]]]
Runner = Callable[[ControlDeps, str, dict[str, Any]], Awaitable[ActionResult]]


@dataclass(frozen=True)
class ActionSpec:
    """One action: ``build`` makes its one OCPP call, or ``run`` does all of it (several
    calls, e.g. a local list in chunks)."""

    name: str
    label: str
    roles: tuple[str, ...]
    build: Builder | None = None
    run: Runner | None = None


def _int(params: dict[str, Any], key: str, *, default: int | None = None, low: int = 0) -> int:
    raw = params.get(key, default)
    try:
        value = int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ControlError(f"{key} must be a whole number.") from None
    if value < low:
        raise ControlError(f"{key} must be at least {low}.")
    return value


def _choice(params: dict[str, Any], key: str, options: tuple[str, ...], default: str) -> str:
    value = str(params.get(key) or default)
    if value not in options:
        raise ControlError(f"{key} is one of {', '.join(options)}.")
    return value


def _text(params: dict[str, Any], key: str, *, limit: int = 20) -> str:
    value = str(params.get(key) or "").strip()
    if not value:
        raise ControlError(f"{key} is required.")
    if len(value) > limit:
        raise ControlError(f"{key} has at most {limit} characters.")
    return value


def _iso(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(raw: Any, key: str, zone: str | None = None) -> dt.datetime:
    """Naive UTC; a time without ``Z``/offset is a wall-clock time of ``zone`` (None: UTC)."""
    text = str(raw or "").strip()
    if not text:
        raise ControlError(f"{key} is required.")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ControlError(f"{key} is a date and time (YYYY-MM-DDTHH:MM).") from None
    return local_to_utc(moment, zone)


# --- builders: (OCPP action, payload, context for after()) -----------------------


async def _reset(deps: ControlDeps, cbid: str, p: dict[str, Any]) -> tuple[str, dict, Any]:
    return "Reset", {"type": _choice(p, "type", ("Soft", "Hard"), "Soft")}, None


async def _availability(deps: ControlDeps, cbid: str, p: dict[str, Any]) -> tuple[str, dict, Any]:
    return (
        "ChangeAvailability",
        {
            "connectorId": _int(p, "connectorId", default=0),
            "type": _choice(p, "type", ("Operative", "Inoperative"), "Operative"),
        },
        None,
    )


async def _unlock(deps: ControlDeps, cbid: str, p: dict[str, Any]) -> tuple[str, dict, Any]:
    return "UnlockConnector", {"connectorId": _int(p, "connectorId", default=1, low=1)}, None


async def _remote_start(deps: ControlDeps, cbid: str, p: dict[str, Any]) -> tuple[str, dict, Any]:
    payload: dict[str, Any] = {"idTag": _text(p, "idTag")}
    if p.get("connectorId") not in (None, "", 0, "0"):
        payload["connectorId"] = _int(p, "connectorId", low=1)
    refused = await deps.store.read(
        remote_start_refusal, cbid, payload.get("connectorId"), payload["idTag"]
    )
    if refused is not None:
        raise ControlError(
            f"The badge {payload['idTag']} is {refused}: the station would stop at once, "
            "so nothing was sent.",
            http_status=409,
        )
    return "RemoteStartTransaction", payload, None


async def _remote_stop(deps: ControlDeps, cbid: str, p: dict[str, Any]) -> tuple[str, dict, Any]:
    running = await deps.store.read(running_transactions, cbid)
    if p.get("transactionId") not in (None, ""):
        tx = _int(p, "transactionId")
    else:
        connector = p.get("connectorId")
        matching = [
            r
            for r in running
            if connector in (None, "") or r["connector_id"] == _int(p, "connectorId")
        ]
        if not matching:
            raise ControlError("No charging session is running there.", http_status=409)
        tx = matching[0]["transaction_id"]
    return "RemoteStopTransaction", {"transactionId": tx}, None


async def _clear_cache(deps: ControlDeps, cbid: str, p: dict[str, Any]) -> tuple[str, dict, Any]:
    return "ClearCache", {}, None


async def _trigger(deps: ControlDeps, cbid: str, p: dict[str, Any]) -> tuple[str, dict, Any]:
    payload: dict[str, Any] = {
        "requestedMessage": _choice(p, "requestedMessage", TRIGGERS, "StatusNotification")
    }
    if p.get("connectorId") not in (None, ""):
        payload["connectorId"] = _int(p, "connectorId", low=1)
    return "TriggerMessage", payload, None


async def _reserve(deps: ControlDeps, cbid: str, p: dict[str, Any]) -> tuple[str, dict, Any]:
    connector = _int(p, "connectorId", default=1)
    id_tag = _text(p, "idTag")
    expiry = _parse_time(p.get("expiryDate"), "expiryDate", deps.zone)
    if expiry <= dt.datetime.now(dt.UTC).replace(tzinfo=None):
        raise ControlError("That time is already past: a reservation ends in the future.")
    reservation = await deps.store.write(create_reservation, cbid, connector, id_tag, expiry)
    payload = {
        "connectorId": connector,
        "expiryDate": _iso(expiry),
        "idTag": id_tag,
        "reservationId": reservation,
    }
    return "ReserveNow", payload, reservation


async def _cancel_reservation(
    deps: ControlDeps, cbid: str, p: dict[str, Any]
) -> tuple[str, dict, Any]:
    reservation = _int(p, "reservationId")
    return "CancelReservation", {"reservationId": reservation}, reservation


async def _data_transfer(deps: ControlDeps, cbid: str, p: dict[str, Any]) -> tuple[str, dict, Any]:
    payload = {"vendorId": _text(p, "vendorId", limit=255)}
    if p.get("messageId"):
        payload["messageId"] = str(p["messageId"])[:50]
    if p.get("data") not in (None, ""):
        payload["data"] = str(p["data"])
    return "DataTransfer", payload, None


async def _update_firmware(
    deps: ControlDeps, cbid: str, p: dict[str, Any]
) -> tuple[str, dict, Any]:
    if p.get("imageId") in (None, ""):
        raise ControlError("Choose a firmware image (upload one under System → Firmware images).")
    try:
        image = await deps.store.read(get_firmware, _int(p, "imageId"))
    except ConfigurationError as exc:
        raise ControlError(exc.message, http_status=404) from None
    transport = _choice(p, "transport", ("http", "ftp"), "http")
    if transport == "ftp":
        if deps.ftp is None:
            raise ControlError("The embedded FTP server is not running; use HTTP.")
        location = deps.ftp.grant_download(cbid, image["filename"])
    else:
        location = f"{deps.http_base.rstrip('/')}/files/firmware/{image['filename']}"
    retrieve = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if p.get("retrieveDate"):
        retrieve = _parse_time(p["retrieveDate"], "retrieveDate", deps.zone)
    payload: dict[str, Any] = {"location": location, "retrieveDate": _iso(retrieve)}
    if p.get("retries") not in (None, ""):
        payload["retries"] = _int(p, "retries")
    return "UpdateFirmware", payload, image


async def _get_diagnostics(
    deps: ControlDeps, cbid: str, p: dict[str, Any]
) -> tuple[str, dict, Any]:
    if deps.ftp_mode == "external":
        if not deps.external_ftp_url:
            raise ControlError("No external FTP server is configured (System → General).")
        location = deps.external_ftp_url
    elif deps.ftp is None:
        raise ControlError("The embedded FTP server is not running.", http_status=503)
    else:
        location = deps.ftp.grant_upload(cbid)
    return "GetDiagnostics", {"location": location}, None


async def _send_local_list(deps: ControlDeps, cbid: str, p: dict[str, Any]) -> ActionResult:
    from portal.configuration.local_list import download_local_list

    return await download_local_list(deps, cbid, p)


async def _local_list_version(
    deps: ControlDeps, cbid: str, p: dict[str, Any]
) -> tuple[str, dict, Any]:
    return "GetLocalListVersion", {}, None


async def _get_configuration(
    deps: ControlDeps, cbid: str, p: dict[str, Any]
) -> tuple[str, dict, Any]:
    return "GetConfiguration", {}, None


async def _change_configuration(
    deps: ControlDeps, cbid: str, p: dict[str, Any]
) -> tuple[str, dict, Any]:
    value = str(p.get("value", ""))
    if len(value) > 500:
        raise ControlError("A configuration value has at most 500 characters.")
    key = _text(p, "key", limit=50)
    if await deps.store.read(is_readonly, cbid, key):
        raise ControlError(f"{key} is read-only.")
    password_hash = None
    if is_password_key(key):
        try:
            check_station_password(value)
        except ConfigurationError as exc:
            raise ControlError(exc.message) from None
        # hashed before sending, so that it is stored the moment the station accepts
        # (it reconnects with the new password right after answering)
        password_hash = await trio.to_thread.run_sync(hash_station_password, value)
    return "ChangeConfiguration", {"key": key, "value": value}, password_hash


#: What the station General tab's password form can do.
PASSWORD_DOINGS = ("send", "generate-send", "database", "generate-database", "clear")


async def send_station_password(
    deps: ControlDeps, charge_box_id: str, password: str, *, role: str
) -> ActionResult:
    """Push a new OCPP password to the connected station; stored only if it accepts
    (``result.extra["passwordStored"]``)."""
    try:
        check_station_password(password)
    except ConfigurationError as exc:
        raise ControlError(exc.message) from None
    params = {"key": PASSWORD_KEY, "value": password}
    try:
        return await run_action(deps, charge_box_id, "change-configuration", params, role=role)
    except ControlError as exc:
        if exc.http_status == 409:
            exc.message += (
                " The password was not changed; for a station not installed yet, set it in"
                " the database only."
            )
        raise


def is_password_key(key: str) -> bool:
    """OCPP 1.6 security's AuthorizationKey: the station's Basic auth password."""
    return key.lower() == PASSWORD_KEY.lower()


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec("reset", "Reset", STAFF, _reset),
        ActionSpec("change-availability", "Change availability", STAFF, _availability),
        ActionSpec("unlock-connector", "Unlock connector", STAFF, _unlock),
        ActionSpec("remote-start", "Remote start", STAFF, _remote_start),
        ActionSpec("remote-stop", "Remote stop", STAFF, _remote_stop),
        ActionSpec("clear-cache", "Clear authorization cache", STAFF, _clear_cache),
        ActionSpec("trigger-message", "Trigger message", STAFF, _trigger),
        ActionSpec("reserve-now", "Reserve", STAFF, _reserve),
        ActionSpec("cancel-reservation", "Cancel reservation", STAFF, _cancel_reservation),
        ActionSpec("data-transfer", "Data transfer", STAFF, _data_transfer),
        ActionSpec("update-firmware", "Firmware update", FIRMWARE_ROLES, _update_firmware),
        ActionSpec("get-diagnostics", "Log upload", STAFF, _get_diagnostics),
        ActionSpec("send-local-list", "Download RFID badges", STAFF, run=_send_local_list),
        ActionSpec("get-local-list-version", "Local list version", STAFF, _local_list_version),
        ActionSpec("get-configuration", "Upload configuration", STAFF, _get_configuration),
        ActionSpec("change-configuration", "Change configuration", STAFF, _change_configuration),
    )
}


def _describe(action: str, answer: dict[str, Any]) -> tuple[str, bool]:
    status = answer.get("status")
    if action == "GetDiagnostics":
        name = answer.get("fileName")
        return (f"The station will upload {name}." if name else "No file to upload."), True
    if action == "UpdateFirmware":
        return "The station accepted the request; progress follows below.", True
    if action == "GetLocalListVersion":
        version = answer.get("listVersion")
        return f"The station's list version is {version}.", True
    if action == "GetConfiguration":
        count = len(answer.get("configurationKey") or [])
        return f"{count} keys read from the station.", True
    if status is None:
        return "The station answered.", True
    ok = status in ("Accepted", "Unlocked", "Scheduled", "RebootRequired")
    return f"The station answered {status}.", ok


async def call_station(
    deps: ControlDeps, charge_box_id: str, ocpp_action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """One OCPP call through the gateway; its failures as ControlError."""
    from gateway.errors import (
        CallErrorReply,
        CommandTimeoutError,
        GatewayError,
        StationOfflineError,
    )

    try:
        answer: dict[str, Any] = await deps.gateway.call(charge_box_id, ocpp_action, payload)
    except StationOfflineError:
        raise ControlError(f"{charge_box_id} went offline.", http_status=409) from None
    except CommandTimeoutError:
        raise ControlError(f"{charge_box_id} did not answer in time.", http_status=504) from None
    except CallErrorReply as exc:
        raise ControlError(f"The station refused: {exc}", http_status=502) from None
    except GatewayError as exc:
        raise ControlError(str(exc), http_status=exc.http_status) from None
    return answer


async def run_action(
    deps: ControlDeps, charge_box_id: str, action: str, params: dict[str, Any], *, role: str
) -> ActionResult:
    """Send one Control action to a station; raise ControlError when it cannot be done."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise ControlError(f"Unknown action {action!r}.", http_status=404)
    if role not in spec.roles:
        raise ControlError(f"The role {role} may not use {spec.label}.", http_status=403)
    if not deps.gateway.is_online(charge_box_id):
        raise ControlError(f"{charge_box_id} is offline: nothing was sent.", http_status=409)
    if spec.run is not None:
        return await spec.run(deps, charge_box_id, params)
    assert spec.build is not None
    ocpp_action, payload, context = await spec.build(deps, charge_box_id, params)
    answer = await call_station(deps, charge_box_id, ocpp_action, payload)
    message, ok = _describe(ocpp_action, answer)
    extra: dict[str, Any] = {}
    status = answer.get("status")
    if ocpp_action == "GetLocalListVersion":
        from db.station_settings import station_by_cbid

        station = await deps.store.read(station_by_cbid, charge_box_id)
        await deps.store.write(set_known_version, station.id, int(answer.get("listVersion", 0)))
        extra = {"listVersion": answer.get("listVersion")}
    elif ocpp_action in ("ReserveNow", "CancelReservation"):
        if ocpp_action == "ReserveNow":
            new_status = status or "Rejected"
        else:
            new_status = "Cancelled" if status == "Accepted" else None
        if new_status:
            await deps.store.write(set_reservation_status, context, new_status)
        extra = {"reservationId": context}
    elif ocpp_action == "UpdateFirmware":
        extra = {"image": context["filename"], "version": context["version"]}
    elif ocpp_action == "ChangeConfiguration" and is_password_key(payload["key"]):
        stored = status in ("Accepted", "RebootRequired")
        if stored:
            await deps.store.write(set_password_hash_of, charge_box_id, context)
            message = (
                f"The station answered {status}; the new OCPP password is stored and the "
                "station reconnects with it."
            )
        else:
            message += " The OCPP password was not changed."
        extra = {"passwordStored": stored}
    return ActionResult(action, ocpp_action, payload, answer, message, ok, extra)
