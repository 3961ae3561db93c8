"""Where a refusal becomes an HTTP status: one table, one renderer for JSON, one for pages.

Lower layers raise kinds (``db.errors``: NotFound, Conflict, Invalid, NotAllowed,
Unavailable; ``gateway.errors``: offline, busy, timeout, the station's CALLERROR…) and
know nothing of HTTP. The status comes from the kind alone, never from the message.
"""

from __future__ import annotations

from typing import Any

from db.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound, Unavailable
from gateway.commands import TagRefused
from gateway.errors import (
    CallErrorReply,
    CommandTimeoutError,
    GatewayError,
    PayloadValidationError,
    StationBusyError,
    StationOfflineError,
    UnknownActionError,
    UnknownStationError,
    UnsupportedProtocolError,
)

__all__ = ["REFUSALS", "json_error", "page_error", "status_of"]

#: What a page or an API call shows as an answer instead of failing (refusals, not bugs).
REFUSALS: tuple[type[Exception], ...] = (DomainError, GatewayError)

#: (kind, HTTP status, machine code); the first kind that matches wins.
_TABLE: tuple[tuple[type[Exception], int, str], ...] = (
    (TagRefused, 409, "tag-refused"),
    (NotFound, 404, "not-found"),
    (Conflict, 409, "conflict"),
    (NotAllowed, 403, "forbidden"),
    (Unavailable, 503, "unavailable"),
    (Invalid, 400, "invalid"),
    (DomainError, 400, "invalid"),
    (UnknownStationError, 404, "not-found"),
    (StationOfflineError, 409, "offline"),
    (StationBusyError, 503, "busy"),
    (CommandTimeoutError, 504, "timeout"),
    (CallErrorReply, 502, "call-error"),
    (PayloadValidationError, 400, "schema"),
    (UnknownActionError, 404, "unknown-action"),
    (UnsupportedProtocolError, 409, "not-supported-by-protocol"),
    (GatewayError, 500, "gateway"),
)


def status_of(exc: Exception) -> tuple[int, str]:
    """(HTTP status, machine code) of a refusal; (500, "internal") for anything else."""
    for kind, status, code in _TABLE:
        if isinstance(exc, kind):
            return status, code
    return 500, "internal"


def json_error(exc: Exception) -> tuple[int, dict[str, Any]]:
    """The JSON API's answer to a refusal: status and body (``error``, ``message``, …)."""
    status, code = status_of(exc)
    body: dict[str, Any] = {"error": code, "message": _message(exc)}
    if isinstance(exc, DomainError):
        body["field"] = exc.field
        body.update(exc.details)
    elif isinstance(exc, CallErrorReply):
        body.update(code=exc.code, description=exc.description, details=exc.details)
    elif isinstance(exc, PayloadValidationError):
        body["errors"] = exc.errors
    elif isinstance(exc, CommandTimeoutError):
        body["sent"] = exc.sent
    return status, body


def page_error(exc: Exception) -> tuple[int, str]:
    """A page's answer to a refusal: the status and the sentence to show."""
    status, _code = status_of(exc)
    if isinstance(exc, CallErrorReply):
        return status, f"The station refused: {exc}"
    return status, _message(exc)


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, DomainError) else str(exc)
