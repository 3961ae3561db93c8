"""The OCPP 1.6 security extension's central-system operations: certificates, logs,
signed firmware, extended triggers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from db.errors import Invalid
from db.ocpp.certificate_requests import settle_pending_request
from db.ocpp.installed_certificates import forget_certificate, mark_installed, record_installed
from db.ocpp.security_profiles import record_station_certificate
from db.schema.models import utcnow
from gateway.certificates import leaf_of
from gateway.commands.base import Command, Outcome, Target, describe
from gateway.commands.core import at_least, one_of, text

__all__ = [
    "CertificateSigned",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetInstalledCertificateIds",
    "GetLog",
    "InstallCertificate",
    "SignedUpdateFirmware",
]

CERTIFICATE_USES = ("CentralSystemRootCertificate", "ManufacturerRootCertificate")
EXTENDED_TRIGGERS = (
    "BootNotification",
    "LogStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "SignChargePointCertificate",
    "StatusNotification",
)


def _object(value: Any, name: str, *keys: str) -> None:
    if not isinstance(value, dict) or any(key not in value for key in keys):
        raise Invalid(f"{name} is an object with {', '.join(keys)}.", field=name)


@dataclass(frozen=True)
class InstallCertificate(Command):
    action = "InstallCertificate"
    certificate_type: str
    certificate: str

    def check(self) -> None:
        one_of(self.certificate_type, CERTIFICATE_USES, "certificateType")
        text(self.certificate, "certificate", 5500)

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        if answer.get("status") == "Accepted":  # the list read before lacks it now
            mark_installed(target.station_id, self.certificate_type, utcnow())
        return describe(answer)


@dataclass(frozen=True)
class GetInstalledCertificateIds(Command):
    action = "GetInstalledCertificateIds"
    certificate_type: str

    def check(self) -> None:
        one_of(self.certificate_type, CERTIFICATE_USES, "certificateType")

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        """The list is kept (the portal offers a Delete for each entry); NotFound is an
        empty list, not a refusal."""
        if answer.get("status") not in ("Accepted", "NotFound"):
            return describe(answer)
        found = list(answer.get("certificateHashData") or [])
        record_installed(target.station_id, self.certificate_type, found, utcnow())
        count = f"{len(found)} {'certificate' if len(found) == 1 else 'certificates'}"
        return Outcome(
            f"The station has {count if found else 'no certificate'} of the kind"
            f" {self.certificate_type}.",
            True,
        )


#: DeleteCertificate's answers in words.
DELETE_ANSWERS = {
    "Accepted": "The station deleted the certificate.",
    "Failed": "The station could not delete the certificate (Failed); a station may keep a"
    " root its own certificate or connection depends on.",
    "NotFound": "The station has no such certificate (NotFound): it was deleted before.",
}


@dataclass(frozen=True)
class DeleteCertificate(Command):
    action = "DeleteCertificate"
    certificate_hash_data: dict[str, Any]

    def check(self) -> None:
        _object(
            self.certificate_hash_data,
            "certificateHashData",
            "hashAlgorithm",
            "issuerNameHash",
            "issuerKeyHash",
            "serialNumber",
        )

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        status = str(answer.get("status", ""))
        if status in ("Accepted", "NotFound"):  # the station does not have it (any more)
            forget_certificate(target.station_id, self.certificate_hash_data)
        message = DELETE_ANSWERS.get(status)
        if message is None:
            return describe(answer)
        return Outcome(message, status == "Accepted")


@dataclass(frozen=True)
class CertificateSigned(Command):
    """An external CA's certificate for the station's pending SignCertificate request:
    the request is Installed or Rejected by the answer."""

    action = "CertificateSigned"
    certificate_chain: str

    def check(self) -> None:
        text(self.certificate_chain, "certificateChain", 10000)

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        accepted = answer.get("status") == "Accepted"
        settle_pending_request(target.station_id, accepted)
        leaf = leaf_of(self.certificate_chain) if accepted else None
        if leaf is not None:  # the station's certificate now: expiry shown, alarmed
            record_station_certificate(target.station_id, *leaf)
        return describe(answer)


@dataclass(frozen=True)
class ExtendedTriggerMessage(Command):
    action = "ExtendedTriggerMessage"
    requested_message: str
    connector_id: int | None = None

    def check(self) -> None:
        one_of(self.requested_message, EXTENDED_TRIGGERS, "requestedMessage")
        at_least(self.connector_id, 1, "connectorId")


@dataclass(frozen=True)
class GetLog(Command):
    action = "GetLog"
    log_type: str
    request_id: int
    log: dict[str, Any]
    retries: int | None = None
    retry_interval: int | None = None

    def check(self) -> None:
        one_of(self.log_type, ("DiagnosticsLog", "SecurityLog"), "logType")
        at_least(self.request_id, 0, "requestId")
        _object(self.log, "log", "remoteLocation")
        at_least(self.retries, 0, "retries")
        at_least(self.retry_interval, 0, "retryInterval")


@dataclass(frozen=True)
class SignedUpdateFirmware(Command):
    action = "SignedUpdateFirmware"
    request_id: int
    firmware: dict[str, Any]
    retries: int | None = None
    retry_interval: int | None = None

    def check(self) -> None:
        at_least(self.request_id, 0, "requestId")
        _object(
            self.firmware,
            "firmware",
            "location",
            "retrieveDateTime",
            "signingCertificate",
            "signature",
        )
        at_least(self.retries, 0, "retries")
        at_least(self.retry_interval, 0, "retryInterval")
