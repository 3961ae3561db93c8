"""SOAP 1.2 envelopes with WS-Addressing for the simulator's OCPP 1.5 link (both ways)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree

from simulator.soap.codec import CP_NS, CS_NS

__all__ = [
    "CONTENT_TYPE",
    "SOAP12_NS",
    "WSA_NS",
    "EnvelopeError",
    "Fault",
    "Received",
    "answer_envelope",
    "fault_envelope",
    "parse",
    "request_envelope",
]

SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
WSA_NS = "http://www.w3.org/2005/08/addressing"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
)


class EnvelopeError(ValueError):
    """Not a SOAP 1.2 envelope the simulator can read."""


@dataclass(frozen=True, slots=True)
class Fault:
    """A SOAP Fault: its OCPP subcode (e.g. ``SecurityError``) and readable reason."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Received:
    """A parsed envelope: the body's one element (or a fault) and the addressing headers."""

    body: etree._Element | None
    fault: Fault | None
    charge_box_id: str
    message_id: str
    action: str


def _envelope(nsmap: dict[str, str]) -> tuple[etree._Element, etree._Element, etree._Element]:
    root = etree.Element(f"{{{SOAP12_NS}}}Envelope", nsmap={"s": SOAP12_NS, "a": WSA_NS, **nsmap})
    header = etree.SubElement(root, f"{{{SOAP12_NS}}}Header")
    body = etree.SubElement(root, f"{{{SOAP12_NS}}}Body")
    return root, header, body


def _add(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _serialise(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def request_envelope(
    *,
    to: str,
    charge_box_id: str,
    action: str,
    message_id: str,
    endpoint: str,
    body: etree._Element,
) -> bytes:
    """A station's request to the central system: identity, Action, MessageID, To, and
    From/ReplyTo naming the station's own ChargePointService ``endpoint``."""
    root, header, body_el = _envelope({"cs": CS_NS})
    _add(header, f"{{{CS_NS}}}chargeBoxIdentity", charge_box_id)
    _add(header, f"{{{WSA_NS}}}Action", f"/{action}")
    _add(header, f"{{{WSA_NS}}}MessageID", message_id)
    _add(header, f"{{{WSA_NS}}}To", to)
    if endpoint:
        for name in ("From", "ReplyTo"):
            _add(etree.SubElement(header, f"{{{WSA_NS}}}{name}"), f"{{{WSA_NS}}}Address", endpoint)
    body_el.append(body)
    return _serialise(root)


def answer_envelope(action: str, relates_to: str, body: etree._Element) -> bytes:
    """The station's answer to a command: Action ``/XResponse``, RelatesTo its MessageID."""
    root, header, body_el = _envelope({"cp": CP_NS})
    _add(header, f"{{{WSA_NS}}}Action", f"/{action}Response")
    _add(header, f"{{{WSA_NS}}}MessageID", f"urn:uuid:{uuid.uuid4()}")
    if relates_to:
        _add(header, f"{{{WSA_NS}}}RelatesTo", relates_to)
    body_el.append(body)
    return _serialise(root)


def fault_envelope(code: str, subcode: str, reason: str, relates_to: str = "") -> bytes:
    """A SOAP 1.2 Fault (``code`` Sender|Receiver) with an OCPP subcode and a reason."""
    root, header, body = _envelope({"cp": CP_NS})
    _add(header, f"{{{WSA_NS}}}Action", "http://www.w3.org/2005/08/addressing/soap/fault")
    if relates_to:
        _add(header, f"{{{WSA_NS}}}RelatesTo", relates_to)
    element = etree.SubElement(body, f"{{{SOAP12_NS}}}Fault")
    code_el = etree.SubElement(element, f"{{{SOAP12_NS}}}Code")
    _add(code_el, f"{{{SOAP12_NS}}}Value", f"s:{code}")
    _add(etree.SubElement(code_el, f"{{{SOAP12_NS}}}Subcode"), f"{{{SOAP12_NS}}}Value", subcode)
    text = _add(etree.SubElement(element, f"{{{SOAP12_NS}}}Reason"), f"{{{SOAP12_NS}}}Text", reason)
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    return _serialise(root)


def _header_text(header: etree._Element | None, path: str) -> str:
    if header is None:
        return ""
    found = header.find(path)
    return (found.text or "").strip() if found is not None else ""


def parse(data: bytes, service_ns: str) -> Received:
    """Read an envelope; EnvelopeError when it is not SOAP 1.2 with one body element."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise EnvelopeError(f"not well-formed XML: {exc}") from None
    if root.tag != f"{{{SOAP12_NS}}}Envelope":
        raise EnvelopeError("not a SOAP 1.2 envelope")
    body = root.find(f"{{{SOAP12_NS}}}Body")
    children = [] if body is None else [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise EnvelopeError("the SOAP Body must hold exactly one element")
    header = root.find(f"{{{SOAP12_NS}}}Header")
    child = children[0]
    fault = None
    if child.tag == f"{{{SOAP12_NS}}}Fault":
        subcode = child.findtext(f".//{{{SOAP12_NS}}}Subcode/{{{SOAP12_NS}}}Value") or ""
        reason = child.findtext(f"{{{SOAP12_NS}}}Reason/{{{SOAP12_NS}}}Text") or ""
        fault = Fault(subcode.rpartition(":")[2].strip() or "GenericError", reason.strip())
    return Received(
        body=None if fault else child,
        fault=fault,
        charge_box_id=_header_text(header, f"{{{service_ns}}}chargeBoxIdentity"),
        message_id=_header_text(header, f"{{{WSA_NS}}}MessageID"),
        action=_header_text(header, f"{{{WSA_NS}}}Action"),
    )
