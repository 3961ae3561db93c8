"""The official OCPP 1.5 WSDLs: namespaces, operations, body elements and their validation."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

__all__ = [
    "COMMANDS_15",
    "CP_NS",
    "CS_NS",
    "PREFIXES",
    "REQUESTS_15",
    "SchemaError",
    "element_name",
    "element_type",
    "operation_of",
    "schema_document",
    "validate",
]

CS_NS = "urn://Ocpp/Cs/2012/06/"  # the central system's service (station -> central system)
CP_NS = "urn://Ocpp/Cp/2012/06/"  # the charge point's service (central system -> station)
#: The prefix each service's namespace is written with.
PREFIXES = {CS_NS: "cs", CP_NS: "cp"}
WSDL_DIR = Path(__file__).parent / "wsdl"
WSDL_FILES = {
    CS_NS: WSDL_DIR / "ocpp_centralsystemservice_1.5_final.wsdl",
    CP_NS: WSDL_DIR / "ocpp_chargepointservice_1.5_final.wsdl",
}
_XSD = "http://www.w3.org/2001/XMLSchema"
_WSDL = "http://schemas.xmlsoap.org/wsdl/"


class SchemaError(ValueError):
    """A body element the official schema rejects (the message says where and why)."""


@cache
def _wsdl(namespace: str) -> etree._ElementTree:
    return etree.parse(str(WSDL_FILES[namespace]))


def _operations(namespace: str) -> frozenset[str]:
    """The operations of the service's portType, e.g. "BootNotification"."""
    port_type = _wsdl(namespace).find(f"{{{_WSDL}}}portType")
    if port_type is None:
        raise LookupError(f"no portType in {WSDL_FILES[namespace].name}")
    return frozenset(str(op.get("name")) for op in port_type.findall(f"{{{_WSDL}}}operation"))


#: Station -> central system operations OCPP 1.5 has (CentralSystemService).
REQUESTS_15 = _operations(CS_NS)
#: Central system -> station operations OCPP 1.5 has (ChargePointService); the rest of
#: OCPP 1.6's are 1.6-only.
COMMANDS_15 = _operations(CP_NS)


def element_name(action: str, suffix: str) -> str:
    """``("Reset", "Request")`` -> ``"resetRequest"`` (the body element of an operation)."""
    return f"{action[0].lower()}{action[1:]}{suffix}"


def operation_of(element: etree._Element, namespace: str) -> str | None:
    """``{namespace}resetRequest`` -> ``"Reset"``; None unless it is the request of an
    operation of that service."""
    name = etree.QName(element)
    if name.namespace != namespace or not name.localname.endswith("Request"):
        return None
    local = name.localname.removesuffix("Request")
    operation = f"{local[:1].upper()}{local[1:]}"
    return operation if operation in _operations(namespace) else None


@cache
def schema_document(namespace: str) -> etree._Element:
    """The ``xs:schema`` element embedded in the official WSDL of the service ``namespace``."""
    schema = _wsdl(namespace).find(f".//{{{_XSD}}}schema")
    if schema is None:
        raise LookupError(f"no schema in {WSDL_FILES[namespace].name}")
    return etree.fromstring(etree.tostring(schema))


@cache
def _element_types(namespace: str) -> dict[str, str]:
    return {
        str(el.get("name")): str(el.get("type") or "").rpartition(":")[2]
        for el in schema_document(namespace).findall(f"{{{_XSD}}}element")
    }


def element_type(namespace: str, element: str) -> str:
    """The complexType of a body element (``"resetRequest"`` -> ``"ResetRequest"``);
    KeyError when the service has no such element."""
    return _element_types(namespace)[element]


@cache
def _schema(namespace: str) -> etree.XMLSchema:
    return etree.XMLSchema(schema_document(namespace))


def validate(element: etree._Element) -> None:
    """Raise SchemaError unless ``element`` (a SOAP body's child) is valid for its service's
    official schema."""
    namespace = etree.QName(element).namespace or ""
    if namespace not in WSDL_FILES:
        raise SchemaError(f"element {etree.QName(element).localname!r} is in no OCPP 1.5 namespace")
    schema = _schema(namespace)
    if element.getparent() is not None:  # validate it as a document of its own
        element = etree.fromstring(etree.tostring(element))
    if not schema.validate(etree.ElementTree(element)):
        error = schema.error_log.last_error
        raise SchemaError(f"line {error.line}: {error.message}" if error else "schema-invalid")
