"""OCPP-J 1.6 framing: parse and build CALL / CALLRESULT / CALLERROR frames, no I/O."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CALL",
    "CALLERROR",
    "CALLRESULT",
    "Call",
    "CallError",
    "CallResult",
    "Frame",
    "FrameError",
    "MessageIds",
    "dumps",
    "parse_frame",
]

CALL = 2
CALLRESULT = 3
CALLERROR = 4


class FrameError(Exception):
    """A frame that cannot be understood; ``code`` is the OCPP-J error code to answer."""

    def __init__(self, code: str, description: str, unique_id: str | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.unique_id = unique_id


@dataclass(frozen=True, slots=True)
class Call:
    """A request: ``[2, uniqueId, action, payload]``."""

    unique_id: str
    action: str
    payload: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps([CALL, self.unique_id, self.action, self.payload], separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class CallResult:
    """An answer: ``[3, uniqueId, payload]``."""

    unique_id: str
    payload: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps([CALLRESULT, self.unique_id, self.payload], separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class CallError:
    """An error answer: ``[4, uniqueId, errorCode, errorDescription, errorDetails]``."""

    unique_id: str
    code: str
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        frame = [CALLERROR, self.unique_id, self.code, self.description, self.details]
        return json.dumps(frame, separators=(",", ":"))


Frame = Call | CallResult | CallError


def dumps(frame: Frame) -> str:
    """The wire text of ``frame``."""
    return frame.to_json()


def parse_frame(text: str | bytes) -> Frame:
    """Parse one wire message; raise :class:`FrameError` with the OCPP-J code on bad input."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FrameError("FormationViolation", f"not JSON: {exc}") from None
    if not isinstance(data, list) or len(data) < 3:
        raise FrameError("FormationViolation", "a frame is a JSON array of 3 to 5 elements")
    kind, unique_id = data[0], data[1]
    if not isinstance(unique_id, str) or len(unique_id) > 36:
        raise FrameError("FormationViolation", "uniqueId must be a string of at most 36 chars")
    if kind == CALL:
        if len(data) != 4 or not isinstance(data[2], str):
            raise FrameError("FormationViolation", "CALL is [2, id, action, payload]", unique_id)
        if not isinstance(data[3], dict):
            raise FrameError("FormationViolation", "payload must be an object", unique_id)
        return Call(unique_id, data[2], data[3])
    if kind == CALLRESULT:
        if len(data) != 3 or not isinstance(data[2], dict):
            raise FrameError("FormationViolation", "CALLRESULT is [3, id, payload]", unique_id)
        return CallResult(unique_id, data[2])
    if kind == CALLERROR:
        if len(data) != 5 or not isinstance(data[2], str):
            raise FrameError("FormationViolation", "CALLERROR is [4, id, code, text, details]")
        details = data[4] if isinstance(data[4], dict) else {}
        return CallError(unique_id, data[2], str(data[3]), details)
    raise FrameError("ProtocolError", f"unknown message type {kind!r}", unique_id)


class MessageIds:
    """Unique ids for one station's outgoing CALLs: a short prefix plus a counter."""

    __slots__ = ("_counter", "_prefix")

    def __init__(self, prefix: str = "") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter)}"
