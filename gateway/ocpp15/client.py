"""Commands to an OCPP 1.5 station: SOAP 1.2 POSTs to its ChargePointService endpoint."""

from __future__ import annotations

import math
import ssl
from functools import cache
from typing import Any

import certifi
import httpx
import trio

from gateway.errors import CallErrorReply, CommandTimeoutError, PayloadValidationError
from ocpp15wire.codec import decode, encode
from ocpp15wire.convert import answer_to_16, command_to_15
from ocpp15wire.envelope import (
    CONTENT_TYPE,
    EnvelopeError,
    fault_of,
    parse_envelope,
    request_envelope,
)
from ocpp15wire.schema import CP_NS, SchemaError, element_name, validate

__all__ = ["call_station"]


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every command: building one (the CA bundle) costs ~200 ms of
    CPU on a loaded machine, which a new client per command paid, blocking the loop."""
    return ssl.create_default_context(cafile=certifi.where())


def _answer(action: str, data: bytes) -> dict[str, Any]:
    try:
        envelope = parse_envelope(data, CP_NS)
    except EnvelopeError as exc:
        raise CallErrorReply("FormationViolation", f"the station's answer: {exc}") from None
    body = envelope.body
    refused = fault_of(body)
    if refused is not None:
        raise CallErrorReply(refused.code, refused.reason)
    if body.tag != f"{{{CP_NS}}}{element_name(action, 'Response')}":
        raise CallErrorReply("FormationViolation", f"the station answered {body.tag!r}")
    try:
        validate(body)
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
    body = encode(CP_NS, element_name(action, "Request"), command_to_15(action, payload))
    try:
        validate(body)
    except SchemaError as exc:
        raise PayloadValidationError([f"{action} for OCPP 1.5: {exc}"]) from None
    data = request_envelope(
        CP_NS, to=endpoint, charge_box_id=charge_box_id, action=action, body=body, reply_to=reply_to
    )
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
