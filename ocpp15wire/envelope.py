"""SOAP 1.2 envelopes with WS-Addressing for OCPP 1.5: read one, write requests, answers
and faults (either side of the link)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree

from ocpp15wire.schema import CS_NS, PREFIXES

__all__ = [
    "CONTENT_TYPE",
    "SOAP12_NS",
    "WSA_NS",
    "Envelope",
    "EnvelopeError",
    "Fault",
    "add_answer_headers",
    "answer_envelope",
    "fault",
    "fault_of",
    "parse_envelope",
    "request_envelope",
]

SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
WSA_NS = "http://www.w3.org/2005/08/addressing"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"
FAULT_ACTION = "http://www.w3.org/2005/08/addressing/soap/fault"
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
)


class EnvelopeError(ValueError):
    """Not a SOAP 1.2 envelope we can read (the message is the readable reason)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """The parts of a message that matter before its body is read."""

    body: etree._Element  # the body's one child, e.g. cs:bootNotificationRequest, s:Fault
    charge_box_id: str
    action: str  # wsa:Action, e.g. "/BootNotification" ("" when absent)
    message_id: str
    reply_from: str  # wsa:From/wsa:Address: where the sender's own service listens


@dataclass(frozen=True, slots=True)
class Fault:
    """A SOAP Fault: its OCPP subcode (e.g. ``SecurityError``) and readable reason."""

    code: str
    reason: str


def _text(header: etree._Element | None, path: str) -> str:
    if header is None:
        return ""
    found = header.find(path)
    return (found.text or "").strip() if found is not None else ""


def parse_envelope(data: bytes, service_ns: str = CS_NS) -> Envelope:
    """Read a message to or from the service ``service_ns``; EnvelopeError when it is not
    XML, not SOAP 1.2, or has not exactly one body element."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise EnvelopeError(f"the message is not well-formed XML: {exc}") from None
    if root.tag != f"{{{SOAP12_NS}}}Envelope":
        raise EnvelopeError("the message is not a SOAP 1.2 envelope (soap12 Envelope expected)")
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


def fault_of(body: etree._Element) -> Fault | None:
    """The Fault a body element is (its subcode without prefix), or None for a message."""
    if body.tag != f"{{{SOAP12_NS}}}Fault":
        return None
    subcode = body.findtext(f".//{{{SOAP12_NS}}}Subcode/{{{SOAP12_NS}}}Value") or ""
    reason = body.findtext(f"{{{SOAP12_NS}}}Reason/{{{SOAP12_NS}}}Text") or ""
    return Fault(subcode.rpartition(":")[2].strip() or "GenericError", reason.strip())


def _envelope(service_ns: str | None) -> tuple[etree._Element, etree._Element, etree._Element]:
    nsmap = {"s": SOAP12_NS, "a": WSA_NS}
    if service_ns:
        nsmap[PREFIXES[service_ns]] = service_ns
    root = etree.Element(f"{{{SOAP12_NS}}}Envelope", nsmap=nsmap)
    header = etree.SubElement(root, f"{{{SOAP12_NS}}}Header")
    body = etree.SubElement(root, f"{{{SOAP12_NS}}}Body")
    return root, header, body


def _add(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _address(header: etree._Element, action: str, relates_to: str) -> None:
    """Action, a new MessageID and (answering a message) RelatesTo."""
    _add(header, f"{{{WSA_NS}}}Action", action)
    _add(header, f"{{{WSA_NS}}}MessageID", f"urn:uuid:{uuid.uuid4()}")
    if relates_to:
        _add(header, f"{{{WSA_NS}}}RelatesTo", relates_to)


def _serialise(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def request_envelope(
    service_ns: str,
    *,
    to: str,
    charge_box_id: str,
    action: str,
    body: etree._Element,
    message_id: str = "",
    reply_to: str = "",
) -> bytes:
    """A request to the service ``service_ns`` at ``to``: chargeBoxIdentity, Action,
    MessageID (a new one unless given), To, and From/ReplyTo naming the sender's own
    service ``reply_to`` when it is known."""
    root, header, body_el = _envelope(service_ns)
    _add(header, f"{{{service_ns}}}chargeBoxIdentity", charge_box_id)
    _add(header, f"{{{WSA_NS}}}Action", f"/{action}")
    _add(header, f"{{{WSA_NS}}}MessageID", message_id or f"urn:uuid:{uuid.uuid4()}")
    _add(header, f"{{{WSA_NS}}}To", to)
    if reply_to:
        for name in ("From", "ReplyTo"):
            _add(etree.SubElement(header, f"{{{WSA_NS}}}{name}"), f"{{{WSA_NS}}}Address", reply_to)
    body_el.append(body)
    return _serialise(root)


def answer_envelope(service_ns: str, action: str, relates_to: str, body: etree._Element) -> bytes:
    """The answer of the service ``service_ns`` to ``action``: Action ``/XResponse``, a new
    MessageID, RelatesTo the request's MessageID."""
    root, header, body_el = _envelope(service_ns)
    _address(header, f"/{action}Response", relates_to)
    body_el.append(body)
    return _serialise(root)


def add_answer_headers(answer: bytes, action: str, relates_to: str) -> bytes:
    """An answer written without addressing (spyne's) with Action, MessageID, RelatesTo."""
    root = etree.fromstring(answer, _PARSER)
    header = root.find(f"{{{SOAP12_NS}}}Header")
    if header is None:
        header = etree.Element(f"{{{SOAP12_NS}}}Header")
        root.insert(0, header)
    _address(header, action, relates_to)
    return _serialise(root)


def fault(
    code: str, subcode: str, reason: str, *, relates_to: str = "", service_ns: str | None = CS_NS
) -> bytes:
    """A SOAP 1.2 Fault: ``code`` Sender|Receiver, an OCPP ``subcode`` (qualified in the
    service's namespace, bare when ``service_ns`` is None), a readable reason."""
    root, header, body = _envelope(service_ns)
    _address(header, FAULT_ACTION, relates_to)
    element = etree.SubElement(body, f"{{{SOAP12_NS}}}Fault")
    code_el = etree.SubElement(element, f"{{{SOAP12_NS}}}Code")
    _add(code_el, f"{{{SOAP12_NS}}}Value", f"s:{code}")
    sub = etree.SubElement(code_el, f"{{{SOAP12_NS}}}Subcode")
    qualified = f"{PREFIXES[service_ns]}:{subcode}" if service_ns else subcode
    _add(sub, f"{{{SOAP12_NS}}}Value", qualified)
    text = _add(etree.SubElement(element, f"{{{SOAP12_NS}}}Reason"), f"{{{SOAP12_NS}}}Text", reason)
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    return _serialise(root)
