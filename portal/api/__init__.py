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

from db.errors import DomainError
from gateway.errors import GatewayError
from portal.api.common import ApiError
from portal.errors import REFUSALS, json_error

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
    "portal.api.tokens",
    "portal.api.messages",
]

bp = Blueprint("api", __name__, url_prefix="/api/v1")
for _name in API_MODULES:
    bp.register_blueprint(importlib.import_module(_name).bp)


def _to_json(exc: Exception) -> Any:
    """The one place an exception of a lower layer becomes a JSON answer."""
    if isinstance(exc, ApiError):
        status, body = exc.status, exc.body()
    elif isinstance(exc, HTTPException):
        status = exc.code or 500
        body = {
            "error": (exc.name or "error").lower().replace(" ", "-"),
            "message": exc.description,
        }
    elif isinstance(exc, REFUSALS):
        status, body = json_error(exc)
    else:
        log.exception("API error", exc_info=exc)
        status, body = 500, {"error": "internal", "message": "internal error"}
    response = jsonify(body)
    response.status_code = status
    return response


for _exc in (ApiError, DomainError, GatewayError, HTTPException):
    bp.register_error_handler(_exc, _to_json)
