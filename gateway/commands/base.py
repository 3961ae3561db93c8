"""What every command object shares: wire names, per-version payloads, outcomes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from db.errors import Invalid
from gateway.errors import UnsupportedProtocolError
from ocpp15wire.schema import COMMANDS_15

__all__ = [
    "ACCEPTED",
    "Command",
    "CommandResult",
    "Outcome",
    "Prepare",
    "Target",
    "camel",
    "describe",
    "iso",
    "kebab",
    "parse_time",
]

#: Answers that mean the station does (or will do) what was asked.
ACCEPTED = frozenset({"Accepted", "Unlocked", "Scheduled", "RebootRequired"})


@dataclass(frozen=True)
class Target:
    """The station a command goes to, as the command sees it in prepare and apply."""

    station_id: int
    charge_box_id: str
    protocol: str = "1.6"


@dataclass(frozen=True)
class Outcome:
    """What the answer means for a person, and what else the caller may show."""

    message: str
    ok: bool
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CommandResult:
    """A sent command: what went out, what came back, what it means."""

    action: str
    request: dict[str, Any]
    answer: dict[str, Any]
    message: str
    ok: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {
            "ocppAction": self.action,
            "request": self.request,
            "answer": self.answer,
            "message": self.message,
            "ok": self.ok,
            **self.extra,
        }


class Prepare:
    """What a command may do before it is sent: read or write the database (each call one
    unit of work), run slow work in a thread."""

    def __init__(
        self,
        target: Target,
        read: Callable[..., Awaitable[Any]],
        write: Callable[..., Awaitable[Any]],
        in_thread: Callable[..., Awaitable[Any]],
        profiles: frozenset[int] = frozenset({0, 1, 2, 3}),
    ) -> None:
        self.target = target
        self.read = read
        self.write = write
        self.in_thread = in_thread
        self.profiles = profiles  # the OCPP security profiles the gateway serves


def camel(name: str) -> str:
    """``cs_charging_profiles`` → ``csChargingProfiles`` (OCPP's field names)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def iso(moment: dt.datetime) -> str:
    """OCPP's date-time: UTC with ``Z``, whole seconds."""
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(raw: Any, name: str) -> dt.datetime:
    """An OCPP date-time (``Z`` or an offset; naive is UTC) as naive UTC."""
    if isinstance(raw, dt.datetime):
        moment = raw
    else:
        try:
            moment = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(f"{name} is a date and time (ISO 8601).", field=name) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _wire(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, tuple):
        return [_wire(v) for v in value]
    return value


@dataclass(frozen=True)
class Command:
    """One central-system operation. Subclasses are frozen dataclasses whose fields are the
    operation's inputs in snake_case (OCPP's names); fields with ``metadata={"wire": False}``
    stay off the wire. Construction validates (``check``), ``prepare`` does what needs
    the database before sending, ``payload`` builds the frame body per protocol version,
    ``apply`` records the answer in one unit of work and says what it means."""

    action: ClassVar[str] = ""
    #: fields holding date-times (parsed from OCPP text by ``from_ocpp``)
    times: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Refuse bad input with Invalid(field) (the schema check follows at send)."""

    async def prepare(self, ctx: Prepare) -> Self:
        """The command as it will be sent (e.g. with a reservation id it created)."""
        return self

    def payload(self, protocol: str) -> dict[str, Any]:
        if protocol == "1.6":
            return self.ocpp16()
        if protocol == "1.5" and self.action in COMMANDS_15:
            return self.ocpp16()  # the 1.5 shape is made at the SOAP edge (gateway.ocpp15)
        raise UnsupportedProtocolError(f"{self.action} is not supported by OCPP {protocol}")

    def ocpp16(self) -> dict[str, Any]:
        """The OCPP 1.6 payload: every wire field that is set, in camelCase."""
        body: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if value is None or not item.metadata.get("wire", True):
                continue
            body[item.metadata.get("name") or camel(item.name)] = _wire(value)
        return body

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        """Record what the answer changed (runs inside one database unit of work)."""
        return describe(answer)

    @classmethod
    def from_ocpp(cls, payload: dict[str, Any]) -> Self:
        """The command for an OCPP 1.6 payload as on the wire (the JSON API's body)."""
        names = {
            (item.metadata.get("name") or camel(item.name)): item.name
            for item in dataclasses.fields(cls)
            if item.metadata.get("wire", True)
        }
        values: dict[str, Any] = {}
        for key, value in payload.items():
            if key not in names:
                raise Invalid(f"{cls.action} has no field {key}.", field=key)
            name = names[key]
            values[name] = parse_time(value, key) if name in cls.times else value
        try:
            return cls(**values)
        except TypeError:
            missing = [
                camel(item.name)
                for item in dataclasses.fields(cls)
                if item.name not in values
                and item.default is dataclasses.MISSING
                and item.default_factory is dataclasses.MISSING
            ]
            raise Invalid(
                f"{cls.action} needs {', '.join(missing)}.", field=missing[0] if missing else None
            ) from None


def describe(answer: dict[str, Any]) -> Outcome:
    """The plain reading of an answer with a ``status`` (or none)."""
    status = answer.get("status")
    if status is None:
        return Outcome("The station answered.", True)
    return Outcome(f"The station answered {status}.", status in ACCEPTED)


def kebab(action: str) -> str:
    """``RemoteStartTransaction`` → ``remote-start-transaction``."""
    return "".join("-" + c.lower() if c.isupper() else c for c in action).lstrip("-")
