"""The OCPP 1.6 JSON schemas shipped with the ``ocpp`` package, compiled once (fastjsonschema)."""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastjsonschema

from gateway.ocpp16.framing import OcppError

__all__ = ["SchemaSet", "schema_dir", "schemas", "violation_code"]

Validator = Callable[[Any], Any]

#: fastjsonschema rule -> OCPP-J 1.6 CallError code.
_RULE_CODES: dict[str, str] = {
    "type": "TypeConstraintViolation",
    "maxLength": "TypeConstraintViolation",  # CiStringNType: the type's length limit
    "minLength": "TypeConstraintViolation",
    "required": "ProtocolError",  # "Payload for Action is incomplete"
    "minItems": "OccurenceConstraintViolation",
    "maxItems": "OccurenceConstraintViolation",
    "uniqueItems": "OccurenceConstraintViolation",
    "additionalProperties": "FormationViolation",
    "enum": "PropertyConstraintViolation",
    "format": "PropertyConstraintViolation",
    "pattern": "PropertyConstraintViolation",
    "minimum": "PropertyConstraintViolation",
    "maximum": "PropertyConstraintViolation",
    "exclusiveMinimum": "PropertyConstraintViolation",
    "exclusiveMaximum": "PropertyConstraintViolation",
    "multipleOf": "PropertyConstraintViolation",
}


def violation_code(rule: str | None) -> str:
    """The CallError code for a failed schema rule (FormationViolation when unknown)."""
    return _RULE_CODES.get(rule or "", "FormationViolation")


def schema_dir() -> Path:
    """``ocpp/v16/schemas`` of the installed ``ocpp`` package, found without importing it."""
    spec = importlib.util.find_spec("ocpp")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the ocpp package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "v16" / "schemas"


class SchemaSet:
    """Compiled request and response validators for every OCPP 1.6 action."""

    def __init__(self, directory: Path | None = None) -> None:
        self._requests: dict[str, Validator] = {}
        self._responses: dict[str, Validator] = {}
        for path in sorted((directory or schema_dir()).glob("*.json")):
            definition = json.loads(path.read_text(encoding="utf-8-sig"))
            definition.pop("$schema", None)  # draft-04 semantics are fastjsonschema's default
            validator = fastjsonschema.compile(definition)
            if path.stem.endswith("Response"):
                self._responses[path.stem[: -len("Response")]] = validator
            else:
                self._requests[path.stem] = validator

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(self._requests)

    def validate_request(self, action: str, payload: dict[str, Any]) -> None:
        """Raise ``OcppError`` with the OCPP-J code when ``payload`` breaks the schema."""
        self._validate(self._requests, action, payload)

    def validate_response(self, action: str, payload: dict[str, Any]) -> None:
        self._validate(self._responses, action, payload)

    def request_errors(self, action: str, payload: dict[str, Any]) -> list[str]:
        """Human-readable schema errors of a request payload (empty when valid)."""
        try:
            self.validate_request(action, payload)
        except OcppError as exc:
            return [exc.description]
        return []

    @staticmethod
    def _validate(table: dict[str, Validator], action: str, payload: dict[str, Any]) -> None:
        try:
            validator = table[action]
        except KeyError:
            raise OcppError("NotImplemented", f"no schema for action {action!r}") from None
        try:
            validator(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise OcppError(
                violation_code(exc.rule),
                exc.message.replace("data.", "", 1).replace("data ", "payload ", 1),
                {"field": (exc.name or "data").removeprefix("data").lstrip(".")},
            ) from None


@functools.cache
def schemas() -> SchemaSet:
    """The process-wide compiled schema set (compiled on first use, then shared)."""
    return SchemaSet()
