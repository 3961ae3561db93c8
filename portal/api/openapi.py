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


def _obj(required: tuple[str, ...] = (), **props: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    return schema


_S, _I, _B = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
_TIME = {"type": "string", "format": "date-time"}
_TAG_STATUS = {"type": "string", "enum": ["Accepted", "Blocked", "Expired", "Invalid"]}
_ROLE = {"type": "string", "enum": ["admin", "site-admin", "ev-user", "support"]}
_USER: dict[str, Any] = {
    "email": _S,
    "password": _S,
    "firstName": _S,
    "lastName": _S,
    "role": _ROLE,
    "siteId": _I,
    "emailAtAlarm": _B,
    "rfid": {
        "type": "string",
        "maxLength": 20,
        "description": "the badge's OCPP idTag, stored exactly as given (no conversion)",
    },
}
_TAG: dict[str, Any] = {
    "idTag": {
        "type": "string",
        "minLength": 1,
        "maxLength": 20,
        "description": "any OCPP idTag (CiString20: printable ASCII), stored exactly as given",
    },
    "status": _TAG_STATUS,
    "expiryDate": _TIME,
    "userId": _I,
    "parentIdTag": _S,
    "note": _S,
}
#: Request bodies by endpoint (the rest take a free-form object).
BODIES: dict[str, dict[str, Any]] = {
    "api.tokens.token_create": _obj(
        ("name", "role"),
        name=_S,
        role={"type": "string", "enum": ["admin", "site-admin", "support"]},
        siteId=_I,
        expiresAt={**_TIME, "description": "optional; absent or null: never expires"},
    ),
    "api.stations.station_create": _obj(
        ("chargeBoxId",),
        chargeBoxId=_S,
        siteId=_I,
        floorId=_I,
        name=_S,
        description=_S,
        nodeType={"type": "string", "enum": ["station", "controller"]},
        outlets={"type": "integer", "minimum": 1, "maximum": 4},
        protocol={"type": "string", "enum": ["1.6", "1.5"]},
    ),
    "api.stations.station_update": _obj(
        name=_S, description=_S, chargeBoxId=_S, protocol=_S, siteId=_I, floorId=_I
    ),
    "api.stations.station_password": _obj(
        password={"type": ["string", "null"], "minLength": 16, "maxLength": 40},
        generate=_B,
        sendToStation=_B,
    ),
    "api.stations.outlet_create": _obj(
        ("connectorId",), connectorId=_I, connectorType=_S, mode={"enum": ["OPEN", "RFID"]}
    ),
    "api.stations.outlet_update": _obj(
        connectorType=_S, parking=_S, mode={"enum": ["OPEN", "RFID"]}
    ),
    "api.stations.outlet_start": _obj(("idTag",), idTag=_S),
    "api.topology.site_create": _obj(("name",), name=_S, identification=_S, description=_S),
    "api.topology.site_update": _obj(name=_S, identification=_S, description=_S, city=_S),
    "api.topology.floor_create": _obj(("siteId", "name"), siteId=_I, name=_S),
    "api.topology.floor_update": _obj(name=_S, planName=_S),
    "api.accounts.user_create": _obj(("email", "password", "role"), **_USER),
    "api.accounts.user_update": _obj(**_USER),
    "api.accounts.tag_create": _obj(("idTag",), **_TAG),
    "api.accounts.tag_update": _obj(**{k: v for k, v in _TAG.items() if k != "idTag"}),
    "api.commands.command": {
        "type": "object",
        "description": "the OCPP 1.6 request payload as on the wire (camelCase)",
    },
}


def _path_and_params(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in _CONVERTER.findall(rule):
        schema = {"type": "integer"} if converter == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule), params


def openapi_document() -> dict[str, Any]:
    from gateway.commands import BY_KEBAB as _BY_KEBAB

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
                body = BODIES.get(rule.endpoint, {"type": "object"})
                operation["requestBody"] = {
                    "required": rule.endpoint in BODIES,
                    "content": {"application/json": {"schema": body}},
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
