"""``/api/v1/openapi.json``: the OpenAPI 3.1 description, generated from the routes."""

from __future__ import annotations

import inspect
import re
from typing import Any

from quart import Blueprint, current_app

__all__ = ["bp", "openapi_document"]

bp = Blueprint("openapi", __name__)

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
_ERROR = {"$ref": "#/components/schemas/Error"}
_COMMON_ERRORS = {
    "400": "bad input (the message names the field)",
    "401": "not logged in and no valid bearer token",
    "403": "the role may not do this",
    "404": "does not exist, or not in the caller's site",
}
_COMMAND_ERRORS = {
    "400": "the payload breaks the action's OCPP 1.6 schema",
    "404": "unknown station or unknown command",
    "409": "the station is offline",
    "502": "the station answered with a CallError (its code in `code`)",
    "503": "the station's command queue is full",
    "504": "the station did not answer in time",
}


def _path_and_params(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in _CONVERTER.findall(rule):
        schema = {"type": "integer"} if converter == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule), params


def openapi_document() -> dict[str, Any]:
    from portal.api.commands import _BY_KEBAB

    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path, params = _path_and_params(rule.rule[len("/api/v1") :] or "/")
        view = current_app.view_functions[rule.endpoint]
        doc = inspect.getdoc(view) or rule.endpoint
        tag = rule.endpoint.split(".")[1] if rule.endpoint.count(".") >= 2 else "api"
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            is_command = path.endswith("/commands/{action}")
            errors = _COMMAND_ERRORS if is_command else _COMMON_ERRORS
            operation: dict[str, Any] = {
                "operationId": f"{rule.endpoint.replace('.', '_')}_{method.lower()}",
                "summary": doc.splitlines()[0],
                "description": doc,
                "tags": [tag],
                "parameters": [
                    (
                        {**p, "schema": {"type": "string", "enum": sorted(_BY_KEBAB)}}
                        if is_command and p["name"] == "action"
                        else p
                    )
                    for p in params
                ],
                "responses": {
                    "200": {"description": "success", "content": {"application/json": {}}},
                    **{
                        code: {
                            "description": text,
                            "content": {"application/json": {"schema": _ERROR}},
                        }
                        for code, text in errors.items()
                    },
                },
            }
            if path != "/openapi.json":
                operation["security"] = [{"bearer": []}, {"cookie": []}]
            if method in ("POST", "PUT", "PATCH"):
                operation["requestBody"] = {
                    "required": False,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            if method == "POST" and not is_command:
                operation["responses"]["201"] = {"description": "created"}
            if method == "DELETE":
                operation["responses"]["204"] = {"description": "deleted"}
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Charge Portal API",
            "version": "1",
            "description": (
                "Stations, outlets, sites, floors, users, id tags, sessions and station "
                "commands, with the portal's role rules. Authenticate with an API token "
                "(`Authorization: Bearer …`, created by an administrator under "
                "Provisioning → API tokens) or the browser session (then send the "
                "`X-CSRF-Token` header on changes)."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "cp_session"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string"},
                        "message": {"type": "string"},
                        "field": {"type": "string"},
                        "code": {"type": "string", "description": "OCPP CallError code"},
                    },
                }
            },
        },
    }


@bp.get("/openapi.json")
async def openapi() -> Any:
    """This description (public: it holds no data)."""
    return openapi_document()
