"""The JSON API ``/api/v1`` (bearer tokens or the browser session, same role rules).

One module per subject, each with its own blueprint registered below; add yours to
``API_MODULES`` (one line). Errors become JSON in exactly one place: ``_to_json``.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from quart import Blueprint, jsonify
from werkzeug.exceptions import HTTPException

from db.accounts import AccountError, DuplicateEmailError, DuplicateRfidError
from db.config_errors import ConfigurationError, NotFoundError
from db.id_tags import DuplicateIdTagError
from gateway.errors import (
    CallErrorReply,
    CommandTimeoutError,
    GatewayError,
    PayloadValidationError,
)
from portal.api.common import ApiError

__all__ = ["API_MODULES", "bp"]

log = logging.getLogger(__name__)

API_MODULES = [
    "portal.api.openapi",
    "portal.api.stations",
    "portal.api.commands",
    "portal.api.topology",
    "portal.api.accounts",
    "portal.api.alarms",
    "portal.api.sessions",
    "portal.api.configuration",
    "portal.api.schedules",
]

bp = Blueprint("api", __name__, url_prefix="/api/v1")
for _name in API_MODULES:
    bp.register_blueprint(importlib.import_module(_name).bp)


def _to_json(exc: Exception) -> Any:
    """The one place an exception of a lower layer becomes an HTTP status."""
    if isinstance(exc, ApiError):
        status, body = exc.status, exc.body()
    elif isinstance(exc, HTTPException):
        status = exc.code or 500
        body = {
            "error": (exc.name or "error").lower().replace(" ", "-"),
            "message": exc.description,
        }
    elif isinstance(exc, DuplicateEmailError | DuplicateRfidError | DuplicateIdTagError):
        status, body = 409, {"error": "conflict", "message": exc.message, "field": exc.field}
    elif isinstance(exc, AccountError):
        status, body = 400, {"error": "invalid", "message": exc.message, "field": exc.field}
    elif isinstance(exc, NotFoundError):
        status, body = 404, {"error": "not-found", "message": exc.message}
    elif isinstance(exc, ConfigurationError):
        status = 409 if "already" in exc.message or "still has" in exc.message else 400
        body = {"error": "invalid", "message": exc.message, "field": exc.field}
    elif isinstance(exc, CallErrorReply):
        status = 502
        body = {
            "error": "call-error",
            "message": str(exc),
            "code": exc.code,
            "description": exc.description,
            "details": exc.details,
        }
    elif isinstance(exc, CommandTimeoutError):
        status = 504
        body = {"error": "timeout", "message": str(exc), "sent": exc.sent}
    elif isinstance(exc, PayloadValidationError):
        status, body = 400, {"error": "schema", "message": str(exc), "errors": exc.errors}
    elif isinstance(exc, GatewayError):
        status = exc.http_status
        body = {"error": type(exc).__name__, "message": str(exc)}
    else:
        log.exception("API error", exc_info=exc)
        status, body = 500, {"error": "internal", "message": "internal error"}
    response = jsonify(body)
    response.status_code = status
    return response


for _exc in (ApiError, AccountError, ConfigurationError, GatewayError, HTTPException):
    bp.register_error_handler(_exc, _to_json)
