"""The official OCPP 1.5 WSDL schemas (lxml): validate message bodies of both services."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

__all__ = ["CP_NS", "CS_NS", "SchemaError", "body_schema", "schema_document", "validate_body"]

CS_NS = "urn://Ocpp/Cs/2012/06/"
CP_NS = "urn://Ocpp/Cp/2012/06/"
_XSD = "http://www.w3.org/2001/XMLSchema"
_FILES = {
    CS_NS: "ocpp_centralsystemservice_1.5_final.wsdl",
    CP_NS: "ocpp_chargepointservice_1.5_final.wsdl",
}
_HERE = Path(__file__).parent / "wsdl"


class SchemaError(ValueError):
    """A body element that the official schema rejects (the message says where and why)."""


@cache
def schema_document(namespace: str) -> etree._Element:
    """The ``xs:schema`` element embedded in the official WSDL of the service ``namespace``."""
    wsdl = etree.parse(str(_HERE / _FILES[namespace]))
    schema = wsdl.find(f".//{{{_XSD}}}schema")
    if schema is None:
        raise LookupError(f"no schema in {_FILES[namespace]}")
    return etree.fromstring(etree.tostring(schema))


@cache
def body_schema(namespace: str) -> etree.XMLSchema:
    """The XML Schema of the service ``namespace`` (from its official WSDL)."""
    return etree.XMLSchema(schema_document(namespace))


def validate_body(element: etree._Element) -> None:
    """Raise SchemaError unless ``element`` (a SOAP body's child) is valid for its service."""
    namespace = etree.QName(element).namespace or ""
    if namespace not in _FILES:
        raise SchemaError(f"element {etree.QName(element).localname!r} is in no OCPP 1.5 namespace")
    schema = body_schema(namespace)
    document = etree.fromstring(etree.tostring(element))
    if not schema.validate(document):
        error = schema.error_log.last_error
        raise SchemaError(f"line {error.line}: {error.message}" if error else "schema-invalid")
