"""The schema check every payload passes before it is sent."""

from __future__ import annotations

from typing import Any

from gateway.errors import PayloadValidationError, UnknownActionError
from gateway.ocpp16.actions import CENTRAL_SYSTEM_INITIATED, SECURITY_CENTRAL_INITIATED
from gateway.ocpp16.framing import OcppError
from gateway.ocpp16.schemas import SchemaSet

__all__ = ["COMMAND_ACTIONS", "check_command"]

#: Every action the portal may send to a 1.6-J station.
COMMAND_ACTIONS: frozenset[str] = CENTRAL_SYSTEM_INITIATED | SECURITY_CENTRAL_INITIATED


def check_command(schemas: SchemaSet, action: str, payload: dict[str, Any]) -> None:
    """Refuse an action a central system cannot send, or a payload its schema rejects."""
    if action not in COMMAND_ACTIONS:
        raise UnknownActionError(f"{action!r} is not a central-system-initiated OCPP 1.6 action")
    if not isinstance(payload, dict):
        raise PayloadValidationError(["payload must be a JSON object"])
    try:
        schemas.validate_request(action, payload)
    except OcppError as exc:
        raise PayloadValidationError([f"{exc.code}: {exc.description}"]) from None
