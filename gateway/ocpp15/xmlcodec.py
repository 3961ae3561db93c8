"""Plain data ↔ OCPP 1.5 XML, driven by the official schema (element order, lists, types)."""

from __future__ import annotations

from functools import cache
from typing import Any

from lxml import etree

from gateway.ocpp15.schema import schema_document

__all__ = ["decode", "encode"]

_XSD = "http://www.w3.org/2001/XMLSchema"


@cache
def _types(namespace: str) -> dict[str, list[tuple[str, str, bool]]]:
    """complexType name -> [(element, type's local name, repeats)] in sequence order."""
    found: dict[str, list[tuple[str, str, bool]]] = {}
    for complex_type in schema_document(namespace).iter(f"{{{_XSD}}}complexType"):
        name = complex_type.get("name")
        if not name:
            continue
        found[name] = [
            (
                el.get("name"),
                (el.get("type") or "").rpartition(":")[2],
                el.get("maxOccurs") == "unbounded",
            )
            for el in complex_type.iter(f"{{{_XSD}}}element")
        ]
    return found


def _type_of_element(namespace: str, element: str) -> str:
    for el in schema_document(namespace).findall(f"{{{_XSD}}}element"):
        if el.get("name") == element:
            return str(el.get("type") or "").rpartition(":")[2]
    raise KeyError(element)


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
            if kind in types and isinstance(value, dict):
                _fill(child, namespace, kind, value)
            else:
                child.text = _text(value)


def encode(namespace: str, element: str, data: dict[str, Any]) -> etree._Element:
    """The body element ``element`` (e.g. "resetRequest") holding ``data`` in schema order."""
    root = etree.Element(f"{{{namespace}}}{element}", nsmap={"cp": namespace})
    _fill(root, namespace, _type_of_element(namespace, element), data)
    return root


def _read(node: etree._Element, namespace: str, type_name: str) -> dict[str, Any]:
    types = _types(namespace)
    out: dict[str, Any] = {}
    fields = {name: (kind, repeats) for name, kind, repeats in types.get(type_name, [])}
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
        else:
            value = child.text or ""
        if repeats:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def decode(namespace: str, element: etree._Element) -> dict[str, Any]:
    """The data of a (schema-valid) body element, typed by the schema."""
    localname = etree.QName(element).localname
    return _read(element, namespace, _type_of_element(namespace, localname))
