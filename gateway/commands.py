"""The command API's checks and follow-ups: what happens around ``Gateway.call``."""

from __future__ import annotations

import logging
from typing import Any

from db import Store
from db.certificate_requests import settle_pending_request
from db.models import utcnow
from db.ocpp_records import (
    record_command_outcome,
    set_configuration_value,
    store_configuration,
)
from gateway.errors import PayloadValidationError, UnknownActionError
from gateway.ocpp16.actions import CENTRAL_SYSTEM_INITIATED, SECURITY_CENTRAL_INITIATED
from gateway.ocpp16.framing import OcppError
from gateway.ocpp16.schemas import SchemaSet

__all__ = ["COMMAND_ACTIONS", "after_command", "check_command"]

log = logging.getLogger(__name__)

#: Every action the portal may send to a 1.6-J station.
COMMAND_ACTIONS: frozenset[str] = CENTRAL_SYSTEM_INITIATED | SECURITY_CENTRAL_INITIATED


_OUTCOMES = frozenset(
    {
        "ReserveNow",
        "CancelReservation",
        "SendLocalList",
        "GetLocalListVersion",
        "SetChargingProfile",
    }
)


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


async def after_command(
    store: Store, station_id: int, action: str, payload: dict[str, Any], result: dict[str, Any]
) -> None:
    """Remember in the database what a successful command changed at the station."""
    try:
        if action == "GetConfiguration" and "configurationKey" in result:
            keys = result["configurationKey"]
            whole = not payload.get("key")
            await store.write(
                lambda: store_configuration(station_id, keys, mark_imported=whole, now=utcnow())
            )
        elif action == "ChangeConfiguration" and result.get("status") in (
            "Accepted",
            "RebootRequired",
        ):
            await store.write(
                set_configuration_value, station_id, payload["key"], payload["value"], utcnow()
            )
        elif action == "CertificateSigned":
            # an external CA's certificate, sent by the operator for a pending request
            accepted = result.get("status") == "Accepted"
            await store.write(settle_pending_request, station_id, accepted)
        elif action in _OUTCOMES:
            await store.write(record_command_outcome, station_id, action, payload, result)
    except Exception:
        log.exception("recording the outcome of %s failed", action)
