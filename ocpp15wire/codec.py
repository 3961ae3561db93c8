"""OCPP 1.5 body elements ↔ plain data, driven by the official schema (order, lists, types)."""

from __future__ import annotations

from functools import cache
from typing import Any

from lxml import etree

from ocpp15wire.schema import PREFIXES, element_type, schema_document

__all__ = ["decode", "encode"]

_XSD = "http://www.w3.org/2001/XMLSchema"

Field = tuple[str, str, bool]  # (element, its type's local name, repeats)


@cache
def _types(namespace: str) -> dict[str, list[Field]]:
    """complexType name -> its elements in sequence order."""
    found: dict[str, list[Field]] = {}
    for complex_type in schema_document(namespace).iter(f"{{{_XSD}}}complexType"):
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
            elif isinstance(value, dict):  # simple content with attributes (a meter value)
                child.text = _text(value.get("value", ""))
                for attribute, text in value.items():
                    if attribute != "value" and text is not None:
                        child.set(attribute, _text(text))
            else:
                child.text = _text(value)


def encode(namespace: str, element: str, data: dict[str, Any]) -> etree._Element:
    """The body element ``element`` (e.g. ``"resetRequest"``) holding ``data`` in schema
    order; KeyError when the service has no such element."""
    root = etree.Element(f"{{{namespace}}}{element}", nsmap={PREFIXES[namespace]: namespace})
    _fill(root, namespace, element_type(namespace, element), data)
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
        elif child.attrib:  # simple content with attributes (a meter value)
            value = {"value": child.text or "", **dict(child.attrib)}
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
    return _read(element, namespace, element_type(namespace, localname))
