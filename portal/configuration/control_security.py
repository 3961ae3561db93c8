"""Control actions of the OCPP 1.6 security extension: certificates, security profile,
security and diagnostics logs, signed firmware (forms to command objects)."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from db.errors import Invalid, Unavailable
from db.ocpp.security_profiles import check_profile
from db.topology.station_files import get_firmware
from gateway.commands import (
    CertificateSigned,
    ChangeConfiguration,
    Command,
    DeleteCertificate,
    ExtendedTriggerMessage,
    GetInstalledCertificateIds,
    GetLog,
    InstallCertificate,
    SignedUpdateFirmware,
)
from gateway.commands.security import CERTIFICATE_USES, EXTENDED_TRIGGERS

if TYPE_CHECKING:
    from portal.configuration.control import ControlDeps

__all__ = ["CERTIFICATE_USES", "EXTENDED_TRIGGERS", "SECURITY_BUILDERS"]

Form = dict[str, Any]


def _field(p: Form, key: str) -> str:
    value = str(p.get(key) or "").strip()
    if not value:
        raise Invalid(f"{key} is required.", field=key)
    return value


def _request_id() -> int:
    """A request id the station echoes in its status notifications (seconds since 2020)."""
    return int(time.time()) - 1_577_836_800


async def _install(deps: ControlDeps, cbid: str, p: Form) -> Command:
    use = str(p.get("certificateType") or CERTIFICATE_USES[0])
    return InstallCertificate(certificate_type=use, certificate=_field(p, "certificate"))


async def _installed_ids(deps: ControlDeps, cbid: str, p: Form) -> Command:
    return GetInstalledCertificateIds(
        certificate_type=str(p.get("certificateType") or CERTIFICATE_USES[0])
    )


async def _delete(deps: ControlDeps, cbid: str, p: Form) -> Command:
    return DeleteCertificate(
        certificate_hash_data={
            "hashAlgorithm": str(p.get("hashAlgorithm") or "SHA256"),
            "issuerNameHash": _field(p, "issuerNameHash"),
            "issuerKeyHash": _field(p, "issuerKeyHash"),
            "serialNumber": _field(p, "serialNumber"),
        }
    )


async def _extended_trigger(deps: ControlDeps, cbid: str, p: Form) -> Command:
    message = str(p.get("requestedMessage") or "SignChargePointCertificate")
    connector = p.get("connectorId")
    chosen = None if connector in (None, "") else int(str(connector))
    return ExtendedTriggerMessage(requested_message=message, connector_id=chosen)


async def _certificate_signed(deps: ControlDeps, cbid: str, p: Form) -> Command:
    return CertificateSigned(certificate_chain=_field(p, "certificateChain"))


async def _get_log(deps: ControlDeps, cbid: str, p: Form) -> Command:
    kind = str(p.get("logType") or "SecurityLog")
    if deps.ftp_mode == "external":
        if not deps.external_ftp_url:
            raise Invalid("No external FTP server is configured (System → General).")
        location = deps.external_ftp_url
    elif deps.ftp is None:
        raise Unavailable("The embedded FTP server is not running.")
    else:
        location = deps.ftp.grant_upload(cbid)
    return GetLog(log_type=kind, request_id=_request_id(), log={"remoteLocation": location})


async def _signed_update(deps: ControlDeps, cbid: str, p: Form) -> Command:
    if not p.get("imageId"):
        raise Invalid("Choose a firmware image (System → Firmware images).", field="imageId")
    image = await deps.store.read(get_firmware, int(str(p["imageId"])))
    if str(p.get("transport") or "http") == "ftp" and deps.ftp is not None:
        location = deps.ftp.grant_download(cbid, image["filename"])
    else:
        location = f"{deps.http_base.rstrip('/')}/files/firmware/{image['filename']}"
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return SignedUpdateFirmware(
        request_id=_request_id(),
        firmware={
            "location": location,
            "retrieveDateTime": now,
            "signingCertificate": _field(p, "signingCertificate"),
            "signature": _field(p, "signature"),
        },
    )


async def _security_profile(deps: ControlDeps, cbid: str, p: Form) -> Command:
    """ChangeConfiguration SecurityProfile: the gateway sends it only upwards and only
    when the station's credentials for the new profile are in place."""
    profile = check_profile(p.get("securityProfile", p.get("value", "")))
    return ChangeConfiguration(key="SecurityProfile", value=str(profile))


#: action name -> (label, builder)
SECURITY_BUILDERS = {
    "install-certificate": ("Install certificate", _install),
    "get-installed-certificate-ids": ("Installed certificates", _installed_ids),
    "delete-certificate": ("Delete certificate", _delete),
    "extended-trigger-message": ("Extended trigger", _extended_trigger),
    "certificate-signed": ("Certificate from an external CA", _certificate_signed),
    "get-log": ("Security and diagnostics log", _get_log),
    "signed-update-firmware": ("Signed firmware update", _signed_update),
    "security-profile": ("Security profile", _security_profile),
}
