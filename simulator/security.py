"""The OCPP 1.6 security extension in a simulated station: security profiles and their
changes, certificates, security events, GetLog and signed firmware (the whitepaper's
charge point side). Importing it registers its CALL handlers."""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import trio

from simulator import maintenance
from simulator.certstore import verify_firmware_signature
from simulator.commands import Reply, handles
from simulator.errors import CallErrorReceived, CallTimeoutError, StationOfflineError
from simulator.profiles import parse_time
from simulator.transfer import TransferError, download

if TYPE_CHECKING:
    from cryptography import x509

    from simulator.settings import StationSettings
    from simulator.station import SimulatedStation

__all__ = ["SecurityState", "change_profile", "initial_profile", "record_event"]

log = logging.getLogger("simulator.security")

_SKIP = (StationOfflineError, CallTimeoutError, CallErrorReceived)


def initial_profile(settings: StationSettings) -> int:
    """The profile a station starts with: as configured, else what its credentials allow."""
    if settings.security_profile is not None:
        return settings.security_profile
    if settings.client_cert:
        return 3
    if settings.password:
        return 2 if settings.url.startswith("wss:") else 1
    return 0


@dataclass
class SecurityState:
    """Profile in use (and the one to fall back to), the security log, transfers in flight."""

    profile: int
    previous: int | None = None  # set while a new profile is tried
    failures: int = 0  # failed connections with the new profile
    log: list[dict[str, str]] = field(default_factory=list)
    unsent: list[dict[str, str]] = field(default_factory=list)
    log_status: str = "Idle"
    log_request: int | None = None
    firmware_request: int | None = None  # a signed update waiting for its reboot


# ---------------------------------------------------------------- security events
def record_event(station: SimulatedStation, kind: str, tech_info: str = "") -> None:
    """Append to the security log and send SecurityEventNotification (now, or once online)."""
    event = {"type": kind, "timestamp": station.timestamp()}
    if tech_info:
        event["techInfo"] = tech_info[:255]
    station.security.log.append(event)
    station.security.unsent.append(event)
    station.changed()
    if station.online:
        station.spawn(send_events, station)


async def send_events(station: SimulatedStation) -> None:
    state = station.security
    while state.unsent:
        event = state.unsent[0]
        try:
            await station.call("SecurityEventNotification", event)
        except _SKIP:
            return  # sent after the next connection
        if state.unsent and state.unsent[0] is event:
            state.unsent.pop(0)
            station.changed()


# ---------------------------------------------------------------- profiles
def connected(station: SimulatedStation) -> None:
    """Connected and accepted: a profile being tried worked; unsent events go out."""
    state = station.security
    state.previous, state.failures = None, 0
    if state.unsent:
        station.spawn(send_events, station)


def connection_failed(station: SimulatedStation) -> None:
    """A connection failed: after ``profile_fallback_after`` failures with a new profile,
    return to the previous one (and say so in a security event)."""
    state = station.security
    if state.previous is None:
        return
    state.failures += 1
    if state.failures < station.settings.profile_fallback_after:
        return
    tried, state.profile = state.profile, state.previous
    state.previous, state.failures = None, 0
    station.config.set("SecurityProfile", str(state.profile))
    log.info("%s: profile %s failed, back to %s", station.charge_box_id, tried, state.profile)
    record_event(
        station,
        "ReconfigurationOfSecurityParameters",
        f"could not connect with security profile {tried}: back to {state.profile}",
    )


def _profile_ready(station: SimulatedStation, profile: int) -> bool:
    """The credentials the profile needs are in place."""
    if profile in (1, 2) and not (
        station.config.get("AuthorizationKey") or station.settings.password
    ):
        return False
    if profile >= 2 and not station.settings.url.startswith("wss:"):
        return False
    return profile < 3 or station.certificates.has_valid_certificate(station.now())


def change_profile(station: SimulatedStation, value: str) -> Reply:
    """ChangeConfiguration SecurityProfile: only upwards (TC_084_CS), only with the
    credentials in place; then reconnect with it."""
    state = station.security
    try:
        wanted = int(value.strip())
    except ValueError:
        return {"status": "Rejected"}, None
    if wanted not in (0, 1, 2, 3) or wanted < state.profile:
        return {"status": "Rejected"}, None
    if wanted == state.profile:
        return {"status": "Accepted"}, None
    if not _profile_ready(station, wanted):
        return {"status": "Rejected"}, None

    async def after() -> None:
        await trio.sleep(0.2)  # the answer first
        state.previous, state.profile, state.failures = state.profile, wanted, 0
        station.config.set("SecurityProfile", str(wanted))
        record_event(station, "ReconfigurationOfSecurityParameters", f"security profile {wanted}")
        station.drop_connection()

    return {"status": "Accepted"}, after


# ---------------------------------------------------------------- certificates
async def _sign_request(station: SimulatedStation) -> None:
    csr = station.certificates.make_csr()
    await station.call("SignCertificate", {"csr": csr})


@handles("ExtendedTriggerMessage")
def _extended_trigger(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    what = payload["requestedMessage"]
    connector_id = payload.get("connectorId")
    if connector_id is not None and not 0 <= connector_id <= len(station.outlets):
        return {"status": "Rejected"}, None
    if what == "SignChargePointCertificate":
        return {"status": "Accepted"}, lambda: _sign_request(station)
    if what == "LogStatusNotification":
        return {"status": "Accepted"}, lambda: _log_status(station, station.security.log_status)
    if what == "FirmwareStatusNotification":
        status = station.firmware_status if station.firmware_status != "Installed" else "Idle"
        return {"status": "Accepted"}, lambda: _firmware_status(station, status)
    sender = maintenance.TRIGGERS.get(what)
    if sender is None:
        return {"status": "NotImplemented"}, None
    return {"status": "Accepted"}, lambda: sender(station, connector_id)


@handles("CertificateSigned")
def _certificate_signed(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    status = station.certificates.install_signed(payload["certificateChain"], station.now())
    if status != "Accepted":
        record_event(station, "InvalidChargePointCertificate", "CertificateSigned refused")
    station.changed()
    return {"status": status}, None


@handles("InstallCertificate")
def _install_certificate(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    status = station.certificates.install_root(payload["certificateType"], payload["certificate"])
    return {"status": status}, None


@handles("GetInstalledCertificateIds")
def _installed_ids(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    ids = station.certificates.installed_ids(payload["certificateType"])
    if not ids:
        return {"status": "NotFound"}, None
    return {"status": "Accepted", "certificateHashData": ids}, None


@handles("DeleteCertificate")
def _delete_certificate(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    return {"status": station.certificates.delete(payload["certificateHashData"])}, None


# ---------------------------------------------------------------- GetLog
async def _log_status(station: SimulatedStation, status: str) -> None:
    state = station.security
    state.log_status = status
    payload: dict[str, Any] = {"status": status}
    if state.log_request is not None:
        payload["requestId"] = state.log_request
    station.changed()
    try:
        await station.call("LogStatusNotification", payload)
    except _SKIP:
        pass


def _security_log(station: SimulatedStation) -> bytes:
    lines = [f"# security log of {station.charge_box_id} at {station.timestamp()}"]
    lines += [
        f"{e['timestamp']} {e['type']} {e.get('techInfo', '')}".rstrip()
        for e in station.security.log
    ]
    return ("\n".join(lines) + "\n").encode()


@handles("GetLog")
def _get_log(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    kind = payload["logType"]
    name = f"{station.charge_box_id}-{kind}-{station.now():%Y%m%d%H%M%S}.log"
    location = payload["log"]["remoteLocation"]
    retries, interval = payload.get("retries", 1), payload.get("retryInterval", 5)

    async def after() -> None:
        station.security.log_request = payload["requestId"]
        await _log_status(station, "Uploading")
        data = (
            _security_log(station)
            if kind == "SecurityLog"
            else maintenance.diagnostics_log(station)
        )
        done = await maintenance.upload_with_retries(
            station, location, name, data, retries, interval
        )
        await _log_status(station, "Uploaded" if done else "UploadFailure")

    return {"status": "Accepted", "filename": name}, after


# ---------------------------------------------------------------- signed firmware
async def _firmware_status(station: SimulatedStation, status: str) -> None:
    station.firmware_status = status
    payload: dict[str, Any] = {"status": status}
    if station.security.firmware_request is not None:
        payload["requestId"] = station.security.firmware_request
    station.changed()
    try:
        await station.call("SignedFirmwareStatusNotification", payload)
    except _SKIP:
        pass


async def _signed_update(
    station: SimulatedStation,
    firmware: dict[str, Any],
    signer: x509.Certificate,
    retries: int,
    interval: int,
) -> None:
    """Download, verify the signature (InvalidSignature ends it), install, reboot."""
    retrieve = parse_time(firmware["retrieveDateTime"])
    if retrieve is not None and (wait := (retrieve - station.now()).total_seconds()) > 0:
        await trio.sleep(wait)
    await _firmware_status(station, "Downloading")
    image = None
    for attempt in range(max(1, retries + 1)):
        try:
            if station.faults.download_fails:
                raise TransferError("download failure injected")
            image = await download(firmware["location"])
            break
        except TransferError:
            if attempt < retries:
                await trio.sleep(interval)
    if image is None:
        await _firmware_status(station, "DownloadFailed")
        station.firmware_status = "Idle"
        return
    await _firmware_status(station, "Downloaded")
    try:
        signature = base64.b64decode(firmware["signature"], validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if not verify_firmware_signature(signer, image, signature):
        await _firmware_status(station, "InvalidSignature")
        record_event(station, "InvalidFirmwareSignature", firmware["location"][:200])
        station.firmware_status = "Idle"
        station.security.firmware_request = None
        return
    await _firmware_status(station, "SignatureVerified")
    await station.wait_for(lambda: not any(o.transaction for o in station.outlets))
    await _firmware_status(station, "Installing")
    if station.faults.install_fails:
        await _firmware_status(station, "InstallationFailed")
        station.firmware_status = "Idle"
        station.security.firmware_request = None
        return
    station.config.set(
        "FirmwareVersion", maintenance.firmware_version_of(firmware["location"], image)
    )
    station.firmware_status = "Installing"  # Installed is sent after the reboot's boot
    station.request_reboot("Hard")


def after_boot(station: SimulatedStation) -> bool:
    """A signed update's reboot is over: Installed (and FirmwareUpdated); True if it was one."""
    if station.security.firmware_request is None or station.firmware_status != "Installing":
        return False

    async def installed() -> None:
        await _firmware_status(station, "Installed")
        station.security.firmware_request = None
        record_event(station, "FirmwareUpdated", station.config.get("FirmwareVersion"))

    station.firmware_status = "Installed"
    station.spawn(installed)
    return True


@handles("SignedUpdateFirmware")
def _signed_update_firmware(station: SimulatedStation, payload: dict[str, Any]) -> Reply:
    firmware = payload["firmware"]
    signer = station.certificates.firmware_signer(firmware["signingCertificate"], station.now())
    if signer is None:
        record_event(station, "InvalidFirmwareSigningCertificate", "not from a manufacturer root")
        return {"status": "InvalidCertificate"}, None
    station.security.firmware_request = payload["requestId"]
    retries, interval = payload.get("retries", 1), payload.get("retryInterval", 5)
    return {"status": "Accepted"}, lambda: _signed_update(
        station, firmware, signer, retries, interval
    )
