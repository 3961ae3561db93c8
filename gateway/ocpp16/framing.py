"""OCPP-J framing: parse and build CALL / CALLRESULT / CALLERROR messages (no I/O)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CALL",
    "CALLERROR",
    "CALLRESULT",
    "ERROR_CODES",
    "Call",
    "CallError",
    "CallResult",
    "Frame",
    "OcppError",
    "dumps",
    "pack_call",
    "pack_call_error",
    "pack_call_result",
    "parse_frame",
]

CALL = 2
CALLRESULT = 3
CALLERROR = 4

#: OCPP-J 1.6 §4.2.3 CallError codes, with the spec's spellings.
ERROR_CODES: dict[str, str] = {
    "NotImplemented": "Requested Action is not known by receiver",
    "NotSupported": "Requested Action is recognized but not supported by the receiver",
    "InternalError": "An internal error occurred and the receiver was not able to process "
    "the requested Action successfully",
    "ProtocolError": "Payload for Action is incomplete",
    "SecurityError": "During the processing of Action a security issue occurred preventing "
    "receiver from completing the Action successfully",
    "FormationViolation": "Payload for Action is syntactically incorrect or not conform the "
    "PDU structure for Action",
    "PropertyConstraintViolation": "Payload is syntactically correct but at least one field "
    "contains an invalid value",
    "OccurenceConstraintViolation": "Payload for Action is syntactically correct but at least "
    "one of the fields violates occurence constraints",
    "TypeConstraintViolation": "Payload for Action is syntactically correct but at least one "
    'of the fields violates data type constraints (e.g. "somestring": 12)',
    "GenericError": "Any other error not covered by the previous ones",
}

#: The longest unique id OCPP-J allows (36 characters, a UUID).
MAX_UNIQUE_ID = 36


class OcppError(Exception):
    """An error to answer with a CALLERROR; ``unique_id`` is known when the frame had one."""

    def __init__(
        self,
        code: str,
        description: str = "",
        details: dict[str, Any] | None = None,
        *,
        unique_id: str | None = None,
    ) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"not an OCPP-J 1.6 error code: {code!r}")
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description or ERROR_CODES[code]
        self.details = details or {}
        self.unique_id = unique_id


@dataclass(frozen=True, slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    unique_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    unique_id: str
    code: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)


Frame = Call | CallResult | CallError


class _NotFiniteError(ValueError):
    """NaN, Infinity or a number too large for a double: not JSON (RFC 8259), refused."""


def _refuse_constant(name: str) -> Any:
    raise _NotFiniteError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise _NotFiniteError(f"{text[:24]} does not fit a double")
    return value


def _unicode(text: str) -> bool:
    """Whether ``text`` holds no lone surrogate (``"\\ud800"`` decodes to one)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_decoder = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Any) -> str:
    """Compact JSON, the one encoder used for every frame sent."""
    return _encoder.encode(value)


def _unique_id(message: list[Any]) -> str | None:
    if len(message) > 1 and isinstance(message[1], str):
        return message[1]
    return None


_LEADING_ID = re.compile(r'\s*\[\s*[234]\s*,\s*"([!#-\[\]-~]{1,36})"')


def _leading_unique_id(text: str) -> str | None:
    """The unique id at the start of a frame that is not valid JSON further on, if any:
    the sender can then match the CALLERROR to its CALL."""
    match = _LEADING_ID.match(text)
    return match.group(1) if match else None


def parse_frame(text: str | bytes) -> Frame:
    """Turn one WebSocket message into a frame, or raise ``OcppError``.

    The error carries the frame's unique id when one could be read, so the caller can
    answer with a CALLERROR that the sender can match.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise OcppError("FormationViolation", "message is not UTF-8 text") from None
    try:
        message = _decoder.decode(text)
    except _NotFiniteError as exc:
        raise OcppError(
            "FormationViolation",
            f"message is not valid JSON: {exc}",
            unique_id=_leading_unique_id(text),
        ) from None
    except ValueError:
        raise OcppError(
            "FormationViolation", "message is not valid JSON", unique_id=_leading_unique_id(text)
        ) from None
    if not isinstance(message, list) or not message:
        raise OcppError("FormationViolation", "message is not a JSON array")
    unique_id = _unique_id(message)
    kind = message[0]
    if unique_id is None:
        raise OcppError("FormationViolation", "unique id missing or not a string")
    if not _unicode(unique_id):
        raise OcppError("FormationViolation", "unique id is not a Unicode string")
    if not unique_id or len(unique_id) > MAX_UNIQUE_ID:
        raise OcppError(
            "FormationViolation", "unique id must have 1..36 characters", unique_id=unique_id[:36]
        )
    if kind == CALL and type(kind) is int:
        if len(message) != 4:
            raise OcppError(
                "FormationViolation", "a CALL has exactly 4 elements", unique_id=unique_id
            )
        action, payload = message[2], message[3]
        if not isinstance(action, str) or not action:
            raise OcppError("FormationViolation", "action must be a string", unique_id=unique_id)
        if not isinstance(payload, dict):
            raise OcppError(
                "FormationViolation", "payload must be a JSON object", unique_id=unique_id
            )
        return Call(unique_id, action, payload)
    if kind == CALLRESULT and type(kind) is int:
        if len(message) != 3 or not isinstance(message[2], dict):
            raise OcppError(
                "FormationViolation",
                "a CALLRESULT is [3, id, {payload}]",
                unique_id=unique_id,
            )
        return CallResult(unique_id, message[2])
    if kind == CALLERROR and type(kind) is int:
        if len(message) != 5 or not isinstance(message[2], str):
            raise OcppError(
                "FormationViolation",
                "a CALLERROR is [4, id, code, description, {details}]",
                unique_id=unique_id,
            )
        details = message[4] if isinstance(message[4], dict) else {}
        description = message[3] if isinstance(message[3], str) else ""
        return CallError(unique_id, message[2], description, details)
    raise OcppError("FormationViolation", f"unknown message type {kind!r}", unique_id=unique_id)


def pack_call(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return dumps([CALL, unique_id, action, payload])


def pack_call_result(unique_id: str, payload: dict[str, Any]) -> str:
    return dumps([CALLRESULT, unique_id, payload])


def pack_call_error(
    unique_id: str, code: str, description: str = "", details: dict[str, Any] | None = None
) -> str:
    return dumps([CALLERROR, unique_id, code, description, details or {}])
