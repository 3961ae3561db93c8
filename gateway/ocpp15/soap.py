"""SOAP 1.2 envelopes for OCPP 1.5: read a request's parts, write faults, address answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree

from gateway.ocpp15.schema import CP_NS, CS_NS

__all__ = [
    "SOAP12_NS",
    "WSA_NS",
    "Envelope",
    "EnvelopeError",
    "add_answer_headers",
    "fault",
    "parse_envelope",
]

SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
WSA_NS = "http://www.w3.org/2005/08/addressing"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
)


class EnvelopeError(ValueError):
    """Not a SOAP 1.2 envelope we can read (the message is the readable reason)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """The parts of a request that matter before its body is read."""

    body: etree._Element  # the body's one child, e.g. cs:bootNotificationRequest
    charge_box_id: str
    action: str  # wsa:Action, e.g. "/BootNotification" ("" when absent)
    message_id: str
    reply_from: str  # wsa:From/wsa:Address: where the station's own service listens


def _text(header: etree._Element | None, path: str) -> str:
    if header is None:
        return ""
    found = header.find(path)
    return (found.text or "").strip() if found is not None else ""


def parse_envelope(data: bytes, service_ns: str = CS_NS) -> Envelope:
    """Read a request; EnvelopeError when it is not XML, not SOAP 1.2, or has no body."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise EnvelopeError(f"the request is not well-formed XML: {exc}") from None
    if root.tag != f"{{{SOAP12_NS}}}Envelope":
        raise EnvelopeError("the request is not a SOAP 1.2 envelope (soap12 Envelope expected)")
    body = root.find(f"{{{SOAP12_NS}}}Body")
    children = [] if body is None else [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise EnvelopeError("the SOAP Body must hold exactly one element")
    header = root.find(f"{{{SOAP12_NS}}}Header")
    return Envelope(
        body=children[0],
        charge_box_id=_text(header, f"{{{service_ns}}}chargeBoxIdentity"),
        action=_text(header, f"{{{WSA_NS}}}Action"),
        message_id=_text(header, f"{{{WSA_NS}}}MessageID"),
        reply_from=_text(header, f"{{{WSA_NS}}}From/{{{WSA_NS}}}Address"),
    )


def _envelope() -> tuple[etree._Element, etree._Element, etree._Element]:
    nsmap = {"s": SOAP12_NS, "a": WSA_NS}
    root = etree.Element(f"{{{SOAP12_NS}}}Envelope", nsmap=nsmap)
    header = etree.SubElement(root, f"{{{SOAP12_NS}}}Header")
    body = etree.SubElement(root, f"{{{SOAP12_NS}}}Body")
    return root, header, body


def _address(header: etree._Element, action: str, relates_to: str) -> None:
    etree.SubElement(header, f"{{{WSA_NS}}}Action").text = action
    etree.SubElement(header, f"{{{WSA_NS}}}MessageID").text = f"urn:uuid:{uuid.uuid4()}"
    if relates_to:
        etree.SubElement(header, f"{{{WSA_NS}}}RelatesTo").text = relates_to


def fault(code: str, subcode: str, reason: str, *, relates_to: str = "") -> bytes:
    """A SOAP 1.2 Fault: ``code`` Sender|Receiver, an OCPP ``subcode``, a readable reason."""
    root, header, body = _envelope()
    _address(header, "http://www.w3.org/2005/08/addressing/soap/fault", relates_to)
    element = etree.SubElement(body, f"{{{SOAP12_NS}}}Fault")
    code_el = etree.SubElement(element, f"{{{SOAP12_NS}}}Code")
    etree.SubElement(code_el, f"{{{SOAP12_NS}}}Value").text = f"s:{code}"
    sub = etree.SubElement(code_el, f"{{{SOAP12_NS}}}Subcode")
    value = etree.SubElement(sub, f"{{{SOAP12_NS}}}Value", nsmap={"cs": CS_NS})
    value.text = f"cs:{subcode}"
    reason_el = etree.SubElement(element, f"{{{SOAP12_NS}}}Reason")
    text = etree.SubElement(reason_el, f"{{{SOAP12_NS}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = reason
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def add_answer_headers(answer: bytes, action: str, relates_to: str) -> bytes:
    """The answer with WS-Addressing headers (Action, MessageID, RelatesTo) added."""
    root = etree.fromstring(answer, _PARSER)
    header = root.find(f"{{{SOAP12_NS}}}Header")
    if header is None:
        header = etree.Element(f"{{{SOAP12_NS}}}Header")
        root.insert(0, header)
    _address(header, action, relates_to)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


#: Namespaces of the two OCPP 1.5 services (re-exported for callers of this module).
SERVICE_NAMESPACES = (CS_NS, CP_NS)
