"""Commands to an OCPP 1.5 station: SOAP 1.2 POSTs to its ChargePointService endpoint."""

from __future__ import annotations

import math
import ssl
import uuid
from functools import cache
from typing import Any

import certifi
import httpx
import trio
from lxml import etree

from gateway.errors import CallErrorReply, CommandTimeoutError, PayloadValidationError
from gateway.ocpp15.convert import answer_to_16, command_to_15
from gateway.ocpp15.schema import CP_NS, SchemaError, validate_body
from gateway.ocpp15.soap import (
    CONTENT_TYPE,
    SOAP12_NS,
    WSA_NS,
    EnvelopeError,
    parse_envelope,
)
from gateway.ocpp15.xmlcodec import decode, encode

__all__ = ["call_station", "request_envelope"]


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every command: building one (the CA bundle) costs ~200 ms of
    CPU on a loaded machine, which a new client per command paid, blocking the loop."""
    return ssl.create_default_context(cafile=certifi.where())


def _element(action: str, suffix: str) -> str:
    return f"{action[0].lower()}{action[1:]}{suffix}"


def request_envelope(
    endpoint: str, charge_box_id: str, action: str, body: etree._Element, reply_to: str = ""
) -> bytes:
    """The SOAP 1.2 request with the WS-Addressing headers the 1.5 WSDL asks for; From and
    ReplyTo name our own endpoint (``reply_to``) when it is known."""
    nsmap = {"s": SOAP12_NS, "a": WSA_NS, "cp": CP_NS}
    root = etree.Element(f"{{{SOAP12_NS}}}Envelope", nsmap=nsmap)
    header = etree.SubElement(root, f"{{{SOAP12_NS}}}Header")
    etree.SubElement(header, f"{{{CP_NS}}}chargeBoxIdentity").text = charge_box_id
    etree.SubElement(header, f"{{{WSA_NS}}}Action").text = f"/{action}"
    etree.SubElement(header, f"{{{WSA_NS}}}MessageID").text = f"urn:uuid:{uuid.uuid4()}"
    etree.SubElement(header, f"{{{WSA_NS}}}To").text = endpoint
    if reply_to:
        for name in ("From", "ReplyTo"):
            wrapper = etree.SubElement(header, f"{{{WSA_NS}}}{name}")
            etree.SubElement(wrapper, f"{{{WSA_NS}}}Address").text = reply_to
    etree.SubElement(root, f"{{{SOAP12_NS}}}Body").append(body)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def _answer(action: str, data: bytes) -> dict[str, Any]:
    try:
        envelope = parse_envelope(data, CP_NS)
    except EnvelopeError as exc:
        raise CallErrorReply("FormationViolation", f"the station's answer: {exc}") from None
    body = envelope.body
    if body.tag == f"{{{SOAP12_NS}}}Fault":
        reason = body.findtext(f"{{{SOAP12_NS}}}Reason/{{{SOAP12_NS}}}Text") or ""
        code = body.findtext(f".//{{{SOAP12_NS}}}Subcode/{{{SOAP12_NS}}}Value") or ""
        raise CallErrorReply(code.rpartition(":")[2] or "GenericError", reason.strip())
    if body.tag != f"{{{CP_NS}}}{_element(action, 'Response')}":
        raise CallErrorReply("FormationViolation", f"the station answered {body.tag!r}")
    try:
        validate_body(body)
    except SchemaError as exc:
        raise CallErrorReply("FormationViolation", f"the station's answer: {exc}") from None
    return answer_to_16(action, decode(CP_NS, body))


async def call_station(
    endpoint: str,
    charge_box_id: str,
    action: str,
    payload: dict[str, Any],
    deadline: float,
    *,
    reply_to: str = "",
) -> dict[str, Any]:
    """POST ``action`` to the station's endpoint; its answer in the 1.6 shape."""
    body = encode(CP_NS, _element(action, "Request"), command_to_15(action, payload))
    try:
        validate_body(body)
    except SchemaError as exc:
        raise PayloadValidationError([f"{action} for OCPP 1.5: {exc}"]) from None
    data = request_envelope(endpoint, charge_box_id, action, body, reply_to)
    started = trio.current_time()
    with trio.move_on_at(deadline):
        timeout = None if math.isinf(deadline) else max(deadline - started, 0.001)
        async with httpx.AsyncClient(timeout=timeout, verify=_tls()) as client:
            try:
                reply = await client.post(
                    endpoint, content=data, headers={"Content-Type": CONTENT_TYPE}
                )
            except httpx.TimeoutException:
                pass
            except httpx.HTTPError as exc:
                raise CallErrorReply(
                    "GenericError", f"the station's endpoint {endpoint} is unreachable: {exc}"
                ) from None
            else:
                return _answer(action, reply.content)
    waited = trio.current_time() - started
    raise CommandTimeoutError(f"{charge_box_id} did not answer {action} in time", waited=waited)
