"""Station messages of the OCPP 1.6 security extension: security events, log upload and
signed firmware status (stored and shown like diagnostics and firmware status)."""

from __future__ import annotations

import logging
import shlex
from typing import Any

import trio

from db.ocpp.certificate_requests import record_certificate_request, set_certificate_request_status
from db.ocpp.ocpp_records import record_diagnostics_status, record_firmware_status
from db.ocpp.security_profiles import record_station_certificate
from db.schema.models import utcnow
from db.system.alarms import log_event, raise_alarm
from gateway.certificates import (
    InvalidCsrError,
    check_csr,
    check_signed_chain,
    leaf_of,
    sign_csr,
)
from gateway.errors import GatewayError
from gateway.logic.context import StationContext
from gateway.logic.station import transfer_status
from gateway.oplog import oplog

__all__ = [
    "CRITICAL_SECURITY_EVENTS",
    "SECURITY_ALARM",
    "log_status_notification",
    "security_event_notification",
    "sign_certificate",
    "signed_firmware_status_notification",
]

log = logging.getLogger(__name__)

SECURITY_ALARM = "Security event"
SIGN_COMMAND_TIMEOUT = 30.0  # seconds an external signing command may take

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


async def sign_certificate(ctx: StationContext, payload: dict[str, Any]) -> dict[str, Any]:
    """A readable CSR is Accepted and stored: signed with the configured CA and sent
    with CertificateSigned, or left Pending for an external CA (the portal shows which)."""
    csr = payload["csr"]
    state = ctx.state
    try:
        subject = await trio.to_thread.run_sync(check_csr, csr, ctx.charge_box_id)
    except InvalidCsrError as exc:
        status, detail = "Rejected", str(exc)
    else:
        if ctx.config.ca_sign_command:
            status, detail = "Signing", f"{subject}: signing with the external signing command"
        elif ctx.config.ca_cert_file and ctx.config.ca_key_file:
            status, detail = "Signing", f"{subject}: signing with the configured CA"
        else:
            status, detail = (
                "Pending",
                (
                    f"{subject}: waiting for an external CA; send its certificate with the"
                    " certificate-signed command"
                ),
            )
    now = utcnow()

    def unit() -> int:
        log_event(
            "station.certificate",
            ctx.charge_box_id,
            station_id=state.station_id,
            site_id=state.site_id,
            severity="warning" if status == "Rejected" else "info",
            message=f"SignCertificate {status}: {detail}"[:500],
            now=now,
        )
        return record_certificate_request(
            state.station_id, ctx.charge_box_id, csr, status, detail, now
        )

    request_id = await ctx.store.write(unit)
    oplog(ctx.charge_box_id, "certificate.requested", status=status, request=request_id)
    ctx.publish("certificate.status", {"requestId": request_id, "status": status})
    if status == "Signing":
        ctx.start_soon(lambda: _sign_and_send(ctx, request_id, csr))
    return {"status": "Rejected" if status == "Rejected" else "Accepted"}


async def _sign_and_send(ctx: StationContext, request_id: int, csr: str) -> None:
    """Sign with the CA, send CertificateSigned, record the outcome (never raises)."""
    config = ctx.config
    try:
        if config.ca_sign_command:
            chain = await _run_signing_command(config.ca_sign_command, csr)
        else:
            chain = await trio.to_thread.run_sync(
                lambda: sign_csr(
                    csr,
                    config.ca_cert_file,
                    config.ca_key_file,
                    days=config.certificate_days,
                    now=utcnow(),
                )
            )
    except (OSError, ValueError, trio.TooSlowError) as exc:
        await _outcome(ctx, request_id, "Failed", f"signing failed: {exc}")
        return
    try:
        answer = await ctx.call("CertificateSigned", {"certificateChain": chain})
    except GatewayError as exc:
        await _outcome(ctx, request_id, "Failed", f"CertificateSigned not delivered: {exc}")
        return
    if answer.get("status") == "Accepted":
        await _outcome(
            ctx, request_id, "Installed", "signed by the configured CA and installed", chain
        )
    else:
        await _outcome(ctx, request_id, "Rejected", "the station rejected the signed certificate")


async def _run_signing_command(command: str, csr: str) -> str:
    """The operator's CA outside this process (``serve --csr-sign-command``): the CSR on
    its standard input, the PEM chain on its standard output; its key never reaches us."""
    with trio.fail_after(SIGN_COMMAND_TIMEOUT):
        done = await trio.run_process(
            shlex.split(command),
            stdin=csr.encode(),
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip()[-200:]
        raise ValueError(f"the signing command exited with {done.returncode}: {reason}")
    chain = done.stdout.decode(errors="replace")
    check_signed_chain(csr, chain)
    return chain


async def _outcome(
    ctx: StationContext, request_id: int, status: str, detail: str, chain: str = ""
) -> None:
    state = ctx.state
    leaf = leaf_of(chain) if chain else None
    try:

        def unit() -> None:
            set_certificate_request_status(request_id, status, detail)
            if leaf is not None:  # the station's certificate now: expiry shown, alarmed
                record_station_certificate(state.station_id, *leaf)
            log_event(
                "station.certificate",
                ctx.charge_box_id,
                station_id=state.station_id,
                site_id=state.site_id,
                severity="info" if status == "Installed" else "warning",
                message=f"certificate request {request_id} {status}: {detail}"[:500],
            )

        await ctx.store.write(unit)
    except Exception:
        log.exception("%s: recording certificate request %s failed", ctx.charge_box_id, request_id)
        return
    ctx.publish("certificate.status", {"requestId": request_id, "status": status})
    oplog(ctx.charge_box_id, "certificate.outcome", request=request_id, status=status)
