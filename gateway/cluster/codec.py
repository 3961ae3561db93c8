"""JSON forms of what crosses between nodes: commands, results, errors, events, snapshots.

Only classes of the command API (``gateway.commands``, ``db.ocpp.local_list``) and the
error hierarchies (``gateway.errors``, ``db.errors``, the commands' own refusals) are
rebuilt from text: a row cannot name any other class.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import json
from typing import Any

from db.errors import DomainError
from gateway.commands import BY_ACTION, Command, CommandResult
from gateway.errors import GatewayError
from gateway.events import LiveEvent
from gateway.snapshot import ConnectorSnapshot, StationSnapshot

__all__ = [
    "decode_command",
    "decode_error",
    "decode_event",
    "decode_result",
    "decode_snapshot",
    "encode_command",
    "encode_error",
    "encode_event",
    "encode_result",
    "encode_snapshot",
]

_VALUE_MODULES = ("gateway.commands.", "db.ocpp.local_list")
_ERROR_BASES = (GatewayError, DomainError)


def _time(value: dt.datetime) -> str:
    return value.isoformat()


def _untime(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            if any(k.startswith("$") for k in value):
                return {"$dict": [[k, _encode(v)] for k, v in value.items()]}
            return {k: _encode(v) for k, v in value.items()}
        return {"$dict": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {
            "$dc": f"{cls.__module__}:{cls.__qualname__}",
            "fields": {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    return value


def _allowed_class(path: str) -> type:
    module, _, name = path.partition(":")
    if not module.startswith(_VALUE_MODULES):
        raise ValueError(f"{path} is not a command value class")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ValueError(f"{path} is not a dataclass")
    return cls


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "$dt" in value:
            return dt.datetime.fromisoformat(value["$dt"])
        if "$tuple" in value:
            return tuple(_decode(v) for v in value["$tuple"])
        if "$dict" in value:
            return {_decode(k): _decode(v) for k, v in value["$dict"]}
        if "$dc" in value:
            cls = _allowed_class(value["$dc"])
            return cls(**{k: _decode(v) for k, v in value["fields"].items()})
        return {k: _decode(v) for k, v in value.items()}
    return value


def encode_command(command: Command) -> str:
    """The command's every field (wire or not), as JSON text."""
    fields = {f.name: _encode(getattr(command, f.name)) for f in dataclasses.fields(command)}
    return json.dumps({"action": command.action, "fields": fields}, separators=(",", ":"))


def decode_command(text: str) -> Command:
    data = json.loads(text)
    cls = BY_ACTION[data["action"]]
    return cls(**{k: _decode(v) for k, v in data["fields"].items()})


def encode_result(result: CommandResult) -> str:
    return json.dumps(
        {
            "action": result.action,
            "request": result.request,
            "answer": result.answer,
            "message": result.message,
            "ok": result.ok,
            "extra": _encode(result.extra),
        },
        separators=(",", ":"),
        default=str,
    )


def decode_result(text: str) -> CommandResult:
    data = json.loads(text)
    return CommandResult(
        data["action"],
        data["request"],
        data["answer"],
        data["message"],
        data["ok"],
        _decode(data["extra"]),
    )


def encode_error(exc: BaseException) -> str:
    """An error of the command API as JSON (its class, message and attributes)."""
    cls = type(exc) if isinstance(exc, _ERROR_BASES) else GatewayError
    attrs = {}
    for name, value in vars(exc).items():
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        attrs[name] = value
    return json.dumps(
        {
            "type": cls.__qualname__,
            "module": cls.__module__,
            "message": str(exc) if str(exc) else type(exc).__name__,
            "attrs": attrs,
        },
        separators=(",", ":"),
    )


def decode_error(text: str) -> Exception:
    """The error again (a GatewayError when its class cannot be rebuilt)."""
    data = json.loads(text)
    message = str(data.get("message") or "")
    try:
        cls = getattr(importlib.import_module(data["module"]), data["type"])
    except (ImportError, AttributeError, KeyError, ValueError):
        cls = None
    if not (isinstance(cls, type) and issubclass(cls, _ERROR_BASES)):
        return GatewayError(message)
    exc: Exception = cls.__new__(cls)
    Exception.__init__(exc, message)
    if isinstance(exc, DomainError):
        exc.message, exc.field, exc.details = message, None, {}
    exc.__dict__.update(data.get("attrs") or {})
    return exc


def encode_event(event: LiveEvent) -> dict[str, Any]:
    return {
        "k": event.kind,
        "c": event.charge_box_id,
        "d": event.data,
        "t": _time(event.time),
        "s": event.site_id,
    }


def decode_event(data: dict[str, Any]) -> LiveEvent:
    return LiveEvent(
        data["k"], data["c"], data.get("d") or {}, dt.datetime.fromisoformat(data["t"]), data["s"]
    )


def encode_snapshot(snapshot: StationSnapshot) -> dict[str, Any]:
    """Compact: short keys, connectors as lists."""
    return {
        "i": snapshot.station_id,
        "s": snapshot.site_id,
        "o": snapshot.online,
        "st": snapshot.status,
        "e": snapshot.error_code,
        "c": {
            str(cid): [c.status, c.error_code, c.transaction_id, c.meter_wh, c.power_w, c.energy_wh]
            for cid, c in snapshot.connectors.items()
        },
        "ls": _time(snapshot.last_seen) if snapshot.last_seen else None,
        "ca": _time(snapshot.connected_at) if snapshot.connected_at else None,
        "da": _time(snapshot.disconnected_at) if snapshot.disconnected_at else None,
        "ba": _time(snapshot.booted_at) if snapshot.booted_at else None,
        "b": dict(snapshot.boot) if snapshot.boot else None,
        "n": snapshot.no_network_alarm,
        "r": snapshot.remote,
    }


def decode_snapshot(charge_box_id: str, data: dict[str, Any]) -> StationSnapshot:
    return StationSnapshot(
        charge_box_id=charge_box_id,
        station_id=data["i"],
        site_id=data["s"],
        online=data["o"],
        status=data["st"],
        error_code=data["e"],
        connectors={int(cid): ConnectorSnapshot(*values) for cid, values in data["c"].items()},
        last_seen=_untime(data["ls"]),
        connected_at=_untime(data["ca"]),
        disconnected_at=_untime(data["da"]),
        booted_at=_untime(data["ba"]),
        boot=data["b"],
        no_network_alarm=data["n"],
        remote=data["r"],
    )
