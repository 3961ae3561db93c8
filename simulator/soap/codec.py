"""OCPP 1.5 message bodies ↔ plain data, driven by the official WSDL schemas (lxml)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

__all__ = ["CP_NS", "CS_NS", "SchemaError", "decode", "element_name", "encode", "validate"]

CS_NS = "urn://Ocpp/Cs/2012/06/"  # the central system's service (station -> central system)
CP_NS = "urn://Ocpp/Cp/2012/06/"  # the charge point's service (central system -> station)
_XSD = "http://www.w3.org/2001/XMLSchema"
_FILES = {
    CS_NS: "ocpp_centralsystemservice_1.5_final.wsdl",
    CP_NS: "ocpp_chargepointservice_1.5_final.wsdl",
}
_HERE = Path(__file__).parent / "wsdl"

Field = tuple[str, str, bool]  # (element, its type's local name, repeats)


class SchemaError(ValueError):
    """A body element the official schema rejects (the message says where and why)."""


def element_name(action: str, suffix: str) -> str:
    """``("Reset", "Request")`` -> ``"resetRequest"`` (the body element of an operation)."""
    return f"{action[0].lower()}{action[1:]}{suffix}"


@cache
def _schema_document(namespace: str) -> etree._Element:
    wsdl = etree.parse(str(_HERE / _FILES[namespace]))
    schema = wsdl.find(f".//{{{_XSD}}}schema")
    if schema is None:
        raise LookupError(f"no schema in {_FILES[namespace]}")
    return etree.fromstring(etree.tostring(schema))


@cache
def _schema(namespace: str) -> etree.XMLSchema:
    return etree.XMLSchema(_schema_document(namespace))


@cache
def _types(namespace: str) -> dict[str, list[Field]]:
    """complexType name -> its elements in sequence order."""
    found: dict[str, list[Field]] = {}
    for complex_type in _schema_document(namespace).iter(f"{{{_XSD}}}complexType"):
        name = complex_type.get("name")
        if name:
            found[name] = [
                (
                    str(el.get("name")),
                    (el.get("type") or "").rpartition(":")[2],
                    el.get("maxOccurs") == "unbounded",
                )
                for el in complex_type.iter(f"{{{_XSD}}}element")
            ]
    return found


@cache
def _element_types(namespace: str) -> dict[str, str]:
    return {
        str(el.get("name")): str(el.get("type") or "").rpartition(":")[2]
        for el in _schema_document(namespace).findall(f"{{{_XSD}}}element")
    }


def known_element(namespace: str, element: str) -> bool:
    return element in _element_types(namespace)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: etree._Element, namespace: str, type_name: str, data: dict[str, Any]) -> None:
    types = _types(namespace)
    for name, kind, _repeats in types.get(type_name, []):
        if data.get(name) is None:
            continue
        values = data[name] if isinstance(data[name], list) else [data[name]]
        for value in values:
            child = etree.SubElement(parent, f"{{{namespace}}}{name}")
            if kind in types:
                _fill(child, namespace, kind, value)
            elif isinstance(value, dict):  # simple content with attributes (a meter value)
                child.text = _text(value.get("value", ""))
                for attribute, text in value.items():
                    if attribute != "value" and text is not None:
                        child.set(attribute, _text(text))
            else:
                child.text = _text(value)


def encode(namespace: str, element: str, data: dict[str, Any]) -> etree._Element:
    """The body element ``element`` (e.g. ``heartbeatRequest``) holding ``data`` in order."""
    root = etree.Element(f"{{{namespace}}}{element}", nsmap={"o": namespace})
    _fill(root, namespace, _element_types(namespace)[element], data)
    return root


def _read(node: etree._Element, namespace: str, type_name: str) -> dict[str, Any]:
    types = _types(namespace)
    fields = {name: (kind, repeats) for name, kind, repeats in types.get(type_name, [])}
    out: dict[str, Any] = {}
    for child in node:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        kind, repeats = fields.get(name, ("string", False))
        value: Any
        if kind in types:
            value = _read(child, namespace, kind)
        elif kind == "int":
            value = int((child.text or "0").strip())
        elif kind == "boolean":
            value = (child.text or "").strip() in ("true", "1")
        elif child.attrib:
            value = {"value": child.text or "", **dict(child.attrib)}
        else:
            value = (child.text or "").strip()
        if repeats:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def decode(namespace: str, element: etree._Element) -> dict[str, Any]:
    """The data of a (schema-valid) body element, typed by the schema."""
    localname = etree.QName(element).localname
    return _read(element, namespace, _element_types(namespace)[localname])


def validate(element: etree._Element) -> None:
    """Raise SchemaError unless ``element`` is valid for its service's official schema."""
    namespace = etree.QName(element).namespace or ""
    if namespace not in _FILES:
        raise SchemaError(f"{etree.QName(element).localname!r} is in no OCPP 1.5 namespace")
    schema = _schema(namespace)
    if element.getparent() is not None:  # validate it as a document of its own
        element = etree.fromstring(etree.tostring(element))
    if not schema.validate(etree.ElementTree(element)):
        error = schema.error_log.last_error
        raise SchemaError(f"line {error.line}: {error.message}" if error else "schema-invalid")
