"""OCPP 1.6 JSON schemas (shipped in the ``ocpp`` package) compiled once with fastjsonschema."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema

__all__ = ["SchemaViolationError", "known_action", "validate"]

# Rule of the failed schema keyword -> OCPP-J 1.6 error code (§4.2.3 spelling).
_RULE_CODES = {
    "type": "TypeConstraintViolation",
    "required": "OccurenceConstraintViolation",
    "minItems": "OccurenceConstraintViolation",
    "maxItems": "OccurenceConstraintViolation",
    "additionalProperties": "FormationViolation",
}


class SchemaViolationError(Exception):
    """A payload that does not match its schema; ``code`` is the OCPP-J error code."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


def _strip_multiple_of(node: Any) -> Any:
    # "multipleOf": 0.1 on floats fails for values such as 7.4 (binary rounding).
    if isinstance(node, dict):
        return {k: _strip_multiple_of(v) for k, v in node.items() if k != "multipleOf"}
    if isinstance(node, list):
        return [_strip_multiple_of(v) for v in node]
    return node


def _schema_file(name: str) -> Any:
    return resources.files("ocpp.v16").joinpath("schemas", f"{name}.json")


@cache
def known_action(action: str) -> bool:
    """True when OCPP 1.6 defines ``action`` (in either direction)."""
    return action.isidentifier() and _schema_file(action).is_file()


@cache
def _validator(name: str) -> Callable[[Any], Any]:
    text = _schema_file(name).read_text(encoding="utf-8-sig")
    schema = _strip_multiple_of(json.loads(text))
    schema.pop("$schema", None)
    return fastjsonschema.compile(schema)


def validate(action: str, payload: dict[str, Any], *, response: bool = False) -> None:
    """Check ``payload`` of ``action`` (request, or its response); raise SchemaViolationError."""
    if not known_action(action):
        raise SchemaViolationError("NotImplemented", f"no OCPP 1.6 action {action!r}")
    name = f"{action}Response" if response else action
    try:
        _validator(name)(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        code = _RULE_CODES.get(exc.rule or "", "PropertyConstraintViolation")
        raise SchemaViolationError(code, exc.message) from None
