"""Station Control actions (SPEC §9.4): turn a form's fields into a command object and send it.

Independent of Quart: the pages and the JSON API both call ``run_action``. What a command
sends, checks against the database and records of the answer is the command's own
business (``gateway.commands``); here are the forms' names, their parsing and who may
use which action. An offline station is refused before anything is prepared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from db.engine.store import Store
from db.errors import Conflict, Invalid, NotAllowed, NotFound, Unavailable
from db.ocpp.station_control import running_transactions
from db.system.timezones import local_to_utc
from db.topology.station_files import get_firmware
from filestore.ftp_server import FtpServer
from filestore.storage import FileStore
from gateway.api import GatewayAPI
from gateway.commands import (
    PASSWORD_KEY,
    TRIGGERS,
    CancelReservation,
    ChangeAvailability,
    ChangeConfiguration,
    ClearCache,
    Command,
    CommandResult,
    DataTransfer,
    GetConfiguration,
    GetDiagnostics,
    GetLocalListVersion,
    RemoteStartTransaction,
    RemoteStopTransaction,
    ReserveNow,
    Reset,
    TriggerMessage,
    UnlockConnector,
    UpdateFirmware,
    is_password_key,
)
from gateway.errors import StationOfflineError
from portal.configuration.control_security import SECURITY_BUILDERS

__all__ = [
    "ACTIONS",
    "OCPP16_ONLY",
    "PASSWORD_DOINGS",
    "PASSWORD_KEY",
    "TRIGGERS",
    "ActionResult",
    "ControlDeps",
    "is_password_key",
    "run_action",
    "send_station_password",
]

STAFF = ("admin", "support", "site-admin")
FIRMWARE_ROLES = ("admin", "support")


@dataclass
class ControlDeps:
    """What actions reach: the database, the gateway, files and the FTP server, settings."""

    store: Store
    gateway: GatewayAPI
    files: FileStore
    ftp: FtpServer | None = None
    http_base: str = "http://127.0.0.1:8000"
    ftp_mode: str = "embedded"
    external_ftp_url: str = ""
    zone: str | None = None  # naive times in params are wall-clock times of it (None: UTC)


@dataclass(frozen=True)
class ActionResult(CommandResult):
    """A Control-tab action's outcome: the gateway's command result under the
    portal's action name (``download-local-list`` may send several SendLocalList)."""

    portal_action: str = ""

    @property
    def ocpp_action(self) -> str:
        return self.action

    @classmethod
    def of(cls, portal_action: str, result: CommandResult) -> ActionResult:
        return cls(
            result.action, result.request, result.answer, result.message, result.ok,
            result.extra, portal_action,
        )  # fmt: skip

    def public(self) -> dict[str, Any]:
        return {"action": self.portal_action, **super().public()}


Form = dict[str, Any]
Builder = Callable[[ControlDeps, str, Form], Awaitable[Command]]
Runner = Callable[[ControlDeps, str, Form], Awaitable["ActionResult"]]


@dataclass(frozen=True)
class ActionSpec:
    """One action: ``build`` turns the form into its one command, or ``run`` does all of
    it (several commands, e.g. a local list in messages the station can take)."""

    name: str
    label: str
    roles: tuple[str, ...]
    build: Builder | None = None
    run: Runner | None = None


# --- a form's fields ------------------------------------------------------------------


def _int(params: Form, key: str, *, default: int | None = None, low: int = 0) -> int:
    raw = params.get(key, default)
    try:
        value = int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Invalid(f"{key} must be a whole number.", field=key) from None
    if value < low:
        raise Invalid(f"{key} must be at least {low}.", field=key)
    return value


def _given(params: Form, key: str) -> bool:
    return params.get(key) not in (None, "")


def _choice(params: Form, key: str, options: tuple[str, ...], default: str) -> str:
    value = str(params.get(key) or default)
    if value not in options:
        raise Invalid(f"{key} is one of {', '.join(options)}.", field=key)
    return value


def _text(params: Form, key: str, *, limit: int = 20) -> str:
    value = str(params.get(key) or "").strip()
    if not value:
        raise Invalid(f"{key} is required.", field=key)
    if len(value) > limit:
        raise Invalid(f"{key} has at most {limit} characters.", field=key)
    return value


def _parse_time(raw: Any, key: str, zone: str | None = None) -> dt.datetime:
    """Naive UTC; a time without ``Z``/offset is a wall-clock time of ``zone`` (None: UTC)."""
    text = str(raw or "").strip()
    if not text:
        raise Invalid(f"{key} is required.", field=key)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{key} is a date and time (YYYY-MM-DDTHH:MM).", field=key) from None
    return local_to_utc(moment, zone)


# --- forms to commands ------------------------------------------------------------------


async def _reset(deps: ControlDeps, cbid: str, p: Form) -> Command:
    return Reset(type=_choice(p, "type", ("Soft", "Hard"), "Soft"))


async def _availability(deps: ControlDeps, cbid: str, p: Form) -> Command:
    kind = _choice(p, "type", ("Operative", "Inoperative"), "Operative")
    return ChangeAvailability(connector_id=_int(p, "connectorId", default=0), type=kind)


async def _unlock(deps: ControlDeps, cbid: str, p: Form) -> Command:
    return UnlockConnector(connector_id=_int(p, "connectorId", default=1, low=1))


async def _remote_start(deps: ControlDeps, cbid: str, p: Form) -> Command:
    connector = p.get("connectorId")
    chosen = None if connector in (None, "", 0, "0") else _int(p, "connectorId", low=1)
    return RemoteStartTransaction(id_tag=_text(p, "idTag"), connector_id=chosen)


async def _remote_stop(deps: ControlDeps, cbid: str, p: Form) -> Command:
    if _given(p, "transactionId"):
        return RemoteStopTransaction(transaction_id=_int(p, "transactionId"))
    running = await deps.store.read(running_transactions, cbid)
    if _given(p, "connectorId"):
        wanted = _int(p, "connectorId")
        running = [r for r in running if r["connector_id"] == wanted]
    if not running:
        raise Conflict("No charging session is running there.")
    return RemoteStopTransaction(transaction_id=running[0]["transaction_id"])


async def _clear_cache(deps: ControlDeps, cbid: str, p: Form) -> Command:
    return ClearCache()


async def _trigger(deps: ControlDeps, cbid: str, p: Form) -> Command:
    message = _choice(p, "requestedMessage", TRIGGERS, "StatusNotification")
    connector = _int(p, "connectorId", low=1) if _given(p, "connectorId") else None
    return TriggerMessage(requested_message=message, connector_id=connector)


async def _reserve(deps: ControlDeps, cbid: str, p: Form) -> Command:
    return ReserveNow(
        connector_id=_int(p, "connectorId", default=1),
        expiry_date=_parse_time(p.get("expiryDate"), "expiryDate", deps.zone),
        id_tag=_text(p, "idTag"),
    )


async def _cancel_reservation(deps: ControlDeps, cbid: str, p: Form) -> Command:
    return CancelReservation(reservation_id=_int(p, "reservationId"))


async def _data_transfer(deps: ControlDeps, cbid: str, p: Form) -> Command:
    return DataTransfer(
        vendor_id=_text(p, "vendorId", limit=255),
        message_id=str(p["messageId"])[:50] if p.get("messageId") else None,
        data=str(p["data"]) if _given(p, "data") else None,
    )


async def _update_firmware(deps: ControlDeps, cbid: str, p: Form) -> Command:
    if not _given(p, "imageId"):
        raise Invalid(
            "Choose a firmware image (upload one under System → Firmware images).",
            field="imageId",
        )
    image = await deps.store.read(get_firmware, _int(p, "imageId"))
    if _choice(p, "transport", ("http", "ftp"), "http") == "ftp":
        if deps.ftp is None:
            raise Invalid("The embedded FTP server is not running; use HTTP.", field="transport")
        location = deps.ftp.grant_download(cbid, image["filename"])
    else:
        location = f"{deps.http_base.rstrip('/')}/files/firmware/{image['filename']}"
    retrieve = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if p.get("retrieveDate"):
        retrieve = _parse_time(p["retrieveDate"], "retrieveDate", deps.zone)
    retries = _int(p, "retries") if _given(p, "retries") else None
    return UpdateFirmware(
        location=location, retrieve_date=retrieve, retries=retries, image=dict(image)
    )


async def _get_diagnostics(deps: ControlDeps, cbid: str, p: Form) -> Command:
    if deps.ftp_mode == "external":
        if not deps.external_ftp_url:
            raise Invalid("No external FTP server is configured (System → General).")
        return GetDiagnostics(location=deps.external_ftp_url)
    if deps.ftp is None:
        raise Unavailable("The embedded FTP server is not running.")
    return GetDiagnostics(location=deps.ftp.grant_upload(cbid))


async def _send_local_list(deps: ControlDeps, cbid: str, p: Form) -> ActionResult:
    from portal.configuration.local_list import download_local_list

    return await download_local_list(deps, cbid, p)


async def _local_list_version(deps: ControlDeps, cbid: str, p: Form) -> Command:
    return GetLocalListVersion()


async def _get_configuration(deps: ControlDeps, cbid: str, p: Form) -> Command:
    return GetConfiguration()


async def _change_configuration(deps: ControlDeps, cbid: str, p: Form) -> Command:
    return ChangeConfiguration(key=_text(p, "key", limit=50), value=str(p.get("value", "")))


#: What the station General tab's password form can do.
PASSWORD_DOINGS = ("send", "generate-send", "database", "generate-database", "clear")


async def send_station_password(
    deps: ControlDeps, charge_box_id: str, password: str, *, role: str
) -> ActionResult:
    """Push a new OCPP password to the connected station; stored only if it accepts
    (``result.extra["passwordStored"]``)."""
    ChangeConfiguration(key=PASSWORD_KEY, value=password)  # a bad password: 400 first
    params = {"key": PASSWORD_KEY, "value": password}
    try:
        return await run_action(deps, charge_box_id, "change-configuration", params, role=role)
    except StationOfflineError as exc:
        raise StationOfflineError(
            f"{exc} The password was not changed; for a station not installed yet, set it in"
            " the database only."
        ) from None


#: Actions whose command OCPP 1.5 does not have (refused for 1.5 stations by the gateway).
OCPP16_ONLY: frozenset[str] = frozenset({"trigger-message", *SECURITY_BUILDERS})

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
        *(
            ActionSpec(name, label, FIRMWARE_ROLES, build)
            for name, (label, build) in SECURITY_BUILDERS.items()
        ),
    )
}


async def run_action(
    deps: ControlDeps, charge_box_id: str, action: str, params: Form, *, role: str
) -> ActionResult:
    """Send one Control action to a station; a DomainError or GatewayError says why not."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise NotFound(f"Unknown action {action!r}.")
    if role not in spec.roles:
        raise NotAllowed(f"The role {role} may not use {spec.label}.")
    if spec.run is not None:
        if not deps.gateway.is_online(charge_box_id):
            raise StationOfflineError(f"{charge_box_id} is offline: nothing was sent.")
        return await spec.run(deps, charge_box_id, params)
    assert spec.build is not None
    # the form's values are checked first: a wrong one is named even while the station is
    # offline (the command checks them as it is built)
    command = await spec.build(deps, charge_box_id, params)
    if not deps.gateway.is_online(charge_box_id):
        raise StationOfflineError(f"{charge_box_id} is offline: nothing was sent.")
    result = await deps.gateway.send(charge_box_id, command)
    return ActionResult.of(action, result)
