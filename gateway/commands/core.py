"""OCPP 1.6 Core profile: reset, availability, unlock, cache, data, configuration, remote
start and stop."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Self

from db.accounts.passwords import hash_station_password
from db.errors import Conflict, Invalid
from db.ocpp.config_keys import check_key_value, is_readonly
from db.ocpp.ocpp_records import set_configuration_value, store_configuration
from db.ocpp.security_profiles import check_profile, check_profile_change, set_pending_profile
from db.ocpp.station_control import remote_start_refusal
from db.schema.models import utcnow
from db.topology.station_settings import check_station_password, set_password_hash_of
from gateway.commands.base import ACCEPTED, Command, Outcome, Prepare, Target, describe

__all__ = [
    "PASSWORD_KEY",
    "ChangeAvailability",
    "ChangeConfiguration",
    "ClearCache",
    "DataTransfer",
    "GetConfiguration",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "Reset",
    "TagRefused",
    "UnlockConnector",
    "is_password_key",
]

#: OCPP 1.6 security's AuthorizationKey: the station's Basic auth password.
PASSWORD_KEY = "AuthorizationKey"


def is_password_key(key: str) -> bool:
    return key.lower() == PASSWORD_KEY.lower()


def is_profile_key(key: str) -> bool:
    """OCPP 1.6 security's SecurityProfile: changed only upwards, credentials first."""
    return key.lower() == "securityprofile"


def profile_outcome(station_id: int, wanted: int, status: Any, accepted: bool) -> Outcome:
    """An accepted SecurityProfile is pending until the station reconnects with it."""
    if not accepted:
        return Outcome(f"The station answered {status}: its security profile is unchanged.", False)
    set_pending_profile(station_id, wanted)
    return Outcome(
        f"The station accepted security profile {wanted} and reconnects with it; it is"
        " stored once the station has (if the station cannot, it falls back and the upgrade"
        " is dropped).",
        True,
        {"securityProfilePending": wanted},
    )


def one_of(value: str, options: tuple[str, ...], name: str) -> None:
    if value not in options:
        raise Invalid(f"{name} is one of {', '.join(options)}.", field=name)


def at_least(value: int | None, low: int, name: str) -> None:
    if value is not None and (not isinstance(value, int) or value < low):
        raise Invalid(f"{name} is a whole number, at least {low}.", field=name)


def text(value: str, name: str, limit: int) -> None:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"{name} is required.", field=name)
    if len(value) > limit:
        raise Invalid(f"{name} has at most {limit} characters.", field=name)


@dataclass(frozen=True)
class Reset(Command):
    action = "Reset"
    type: str = "Soft"

    def check(self) -> None:
        one_of(self.type, ("Soft", "Hard"), "type")


@dataclass(frozen=True)
class ChangeAvailability(Command):
    action = "ChangeAvailability"
    connector_id: int = 0
    type: str = "Operative"

    def check(self) -> None:
        at_least(self.connector_id, 0, "connectorId")
        one_of(self.type, ("Operative", "Inoperative"), "type")


@dataclass(frozen=True)
class UnlockConnector(Command):
    action = "UnlockConnector"
    connector_id: int = 1

    def check(self) -> None:
        at_least(self.connector_id, 1, "connectorId")


@dataclass(frozen=True)
class ClearCache(Command):
    action = "ClearCache"


@dataclass(frozen=True)
class DataTransfer(Command):
    action = "DataTransfer"
    vendor_id: str
    message_id: str | None = None
    data: str | None = None

    def check(self) -> None:
        text(self.vendor_id, "vendorId", 255)
        if self.message_id is not None:
            text(self.message_id, "messageId", 50)


@dataclass(frozen=True)
class GetConfiguration(Command):
    """Read keys (all when ``key`` is empty); stored as the station's configuration."""

    action = "GetConfiguration"
    key: tuple[str, ...] | list[str] | None = None

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        keys = answer.get("configurationKey") or []
        store_configuration(target.station_id, keys, mark_imported=not self.key, now=utcnow())
        unknown = answer.get("unknownKey") or []
        extra = {"unknownKeys": unknown} if unknown else {}
        return Outcome(f"{len(keys)} keys read from the station.", True, extra)


@dataclass(frozen=True)
class ChangeConfiguration(Command):
    """Set a key; stored once the station accepts. AuthorizationKey is the station's
    password: hashed before sending and stored the moment the station accepts (it
    reconnects with the new password right after answering)."""

    action = "ChangeConfiguration"
    key: str
    value: str
    password_hash: str | None = field(default=None, metadata={"wire": False})

    def check(self) -> None:
        text(self.key, "key", 50)
        if not isinstance(self.value, str) or len(self.value) > 500:
            raise Invalid("A configuration value has at most 500 characters.", field="value")
        if is_password_key(self.key):
            check_station_password(self.value)
            return
        if is_profile_key(self.key):
            check_profile(self.value)
        try:  # an integer or boolean key gets a value of its type, or the station is not asked
            value = check_key_value(self.key, self.value)
        except ValueError as exc:
            raise Invalid(str(exc), field="value") from None
        object.__setattr__(self, "value", value)  # frozen: normalised once, as constructed

    async def prepare(self, ctx: Prepare) -> Self:
        if await ctx.read(is_readonly, ctx.target.charge_box_id, self.key):
            raise Invalid(f"{self.key} is read-only.", field="key")
        if is_profile_key(self.key):
            wanted = check_profile(self.value)
            cbid = ctx.target.charge_box_id
            await ctx.read(check_profile_change, cbid, wanted, ctx.profiles, utcnow())
        if not is_password_key(self.key) or self.password_hash is not None:
            return self
        hashed = await ctx.in_thread(hash_station_password, self.value)
        return dataclasses.replace(self, password_hash=hashed)

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        status = answer.get("status")
        stored = status in ("Accepted", "RebootRequired")
        if stored:
            set_configuration_value(target.station_id, self.key, self.value, utcnow())
        if is_profile_key(self.key):
            return profile_outcome(target.station_id, int(self.value), status, stored)
        if not is_password_key(self.key):
            return describe(answer)
        if stored and self.password_hash is not None:
            set_password_hash_of(target.charge_box_id, self.password_hash)
            message = (
                f"The station answered {status}; the new OCPP password is stored and the "
                "station reconnects with it."
            )
            return Outcome(message, True, {"passwordStored": True})
        message = f"The station answered {status}. The OCPP password was not changed."
        return Outcome(message, False, {"passwordStored": False})


class TagRefused(Conflict):
    """A remote start whose badge the gateway would refuse at StartTransaction."""

    def __init__(self, id_tag: str, status: str) -> None:
        super().__init__(
            f"The badge {id_tag} is {status}: the station would stop at once, so nothing was sent.",
            field="idTag",
            details={"tagStatus": status},
        )
        self.status = status


@dataclass(frozen=True)
class RemoteStartTransaction(Command):
    """The one remote start: refused before sending when the badge would be refused."""

    action = "RemoteStartTransaction"
    id_tag: str
    connector_id: int | None = None
    charging_profile: dict[str, Any] | None = None

    def check(self) -> None:
        text(self.id_tag, "idTag", 20)
        at_least(self.connector_id, 1, "connectorId")

    async def prepare(self, ctx: Prepare) -> Self:
        refused = await ctx.read(
            remote_start_refusal, ctx.target.charge_box_id, self.connector_id, self.id_tag
        )
        if refused is not None:
            raise TagRefused(self.id_tag, refused)
        return self


@dataclass(frozen=True)
class RemoteStopTransaction(Command):
    action = "RemoteStopTransaction"
    transaction_id: int

    def check(self) -> None:
        at_least(self.transaction_id, 0, "transactionId")


def accepted(answer: dict[str, Any]) -> bool:
    return answer.get("status") in ACCEPTED
