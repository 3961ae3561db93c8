"""OCPP 1.5 (SOAP) conformance checks on the wire: faults for bad requests, refused
stations; the endpoint must answer the next request after each."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import trio
from lxml import etree

from ocpp15wire.codec import encode
from ocpp15wire.envelope import (
    CONTENT_TYPE,
    EnvelopeError,
    fault_of,
    parse_envelope,
    request_envelope,
)
from ocpp15wire.schema import CS_NS
from simulator.conformance_base import CheckResult, ConformanceOptions
from simulator.conformance_refused import refusal_checks
from simulator.soap.station import SoapStation
from simulator.station import SimulatedStation, StationSettings

__all__ = ["soap_error_cases", "soap_refused"]


def _request(o: ConformanceOptions, body: str | etree._Element, cbid: str | None = None) -> bytes:
    element = etree.fromstring(body) if isinstance(body, str) else body
    return request_envelope(
        CS_NS,
        to=o.url,
        charge_box_id=o.charge_box_id if cbid is None else cbid,
        action="Conformance",
        body=element,
    )


_CS = f'xmlns:cs="{CS_NS}"'
_SOAP11 = (
    '<?xml version="1.0"?><e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/">'
    f"<e:Body><cs:heartbeatRequest {_CS}/></e:Body></e:Envelope>"
)


def _cases(o: ConformanceOptions) -> list[tuple[str, bytes, set[str]]]:
    """(check, request, fault subcodes that pass; empty: any fault)."""
    heartbeat = encode(CS_NS, "heartbeatRequest", {})
    return [
        ("fault-not-xml", b"this is not XML <", {"FormationViolation"}),
        ("fault-not-soap12", _SOAP11.encode(), set()),
        (
            "fault-unknown-operation",
            _request(o, f"<cs:fooBarRequest {_CS}/>"),
            {"NotSupported", "NotImplemented"},
        ),
        (
            "fault-schema-invalid",
            _request(
                o,
                f"<cs:bootNotificationRequest {_CS}><cs:chargePointVendor>V"
                "</cs:chargePointVendor></cs:bootNotificationRequest>",
            ),
            {"FormationViolation", "OccurenceConstraintViolation", "ProtocolError"},
        ),
        (
            "fault-bad-enumeration",
            _request(
                o,
                f"<cs:statusNotificationRequest {_CS}><cs:connectorId>1</cs:connectorId>"
                "<cs:status>Bogus</cs:status><cs:errorCode>NoError</cs:errorCode>"
                "</cs:statusNotificationRequest>",
            ),
            {"FormationViolation", "PropertyConstraintViolation"},
        ),
        ("fault-missing-identity", _request(o, heartbeat, cbid=""), set()),
        (
            "fault-oversized-request",
            _request(
                o,
                f"<cs:dataTransferRequest {_CS}><cs:vendorId>V</cs:vendorId>"
                f"<cs:data>{'x' * 2_000_000}</cs:data></cs:dataTransferRequest>",
            ),
            set(),
        ),
    ]


def _auth(o: ConformanceOptions) -> httpx.BasicAuth | None:
    return httpx.BasicAuth(o.charge_box_id, o.password) if o.password else None


async def _post(client: httpx.AsyncClient, o: ConformanceOptions, data: bytes) -> Any:
    auth = _auth(o)
    headers = {"Content-Type": CONTENT_TYPE}
    if auth is None:
        reply = await client.post(o.url, content=data, headers=headers)
    else:
        reply = await client.post(o.url, content=data, headers=headers, auth=auth)
    return reply.status_code, parse_envelope(reply.content, CS_NS)


async def soap_error_cases(o: ConformanceOptions, results: list[CheckResult]) -> None:
    """Each bad request gets a SOAP 1.2 Fault (HTTP 4xx) with a readable reason, and the
    endpoint still answers a good request afterwards."""
    verify: Any = ssl.create_default_context(cafile=o.ca_file) if o.ca_file else True
    async with httpx.AsyncClient(timeout=o.timeout, verify=verify) as client:
        for name, data, codes in _cases(o):
            try:
                with trio.fail_after(o.timeout):
                    status, received = await _post(client, o, data)
            except (httpx.HTTPError, trio.TooSlowError, EnvelopeError) as exc:
                results.append(CheckResult(name, "FAIL", f"no SOAP answer: {exc!r}"[:120]))
                continue
            fault = fault_of(received.body)
            if fault is None:
                results.append(CheckResult(name, "FAIL", f"HTTP {status}, not a Fault"))
            elif codes and fault.code not in codes:
                results.append(
                    CheckResult(name, "FAIL", f"expected {sorted(codes)}, got {fault.code}")
                )
            elif not fault.reason or not 400 <= status < 500:
                results.append(CheckResult(name, "FAIL", f"HTTP {status}, reason {fault.reason!r}"))
            else:
                results.append(CheckResult(name, "PASS", f"HTTP {status} {fault.code}"))
        try:
            with trio.fail_after(o.timeout):
                status, received = await _post(
                    client, o, _request(o, encode(CS_NS, "heartbeatRequest", {}))
                )
            body = received.body
            ok = body.tag == f"{{{CS_NS}}}heartbeatResponse"
            detail = "Heartbeat answered after the faults" if ok else f"HTTP {status}"
        except (httpx.HTTPError, trio.TooSlowError, EnvelopeError) as exc:
            ok, detail = False, repr(exc)[:120]
        results.append(CheckResult("fault-endpoint-survives", "PASS" if ok else "FAIL", detail))


async def soap_refused(o: ConformanceOptions, results: list[CheckResult]) -> None:
    """An unknown chargeBoxIdentity and a wrong password get Faults, not a boot."""

    def station(cbid: str, password: str | None) -> SimulatedStation:
        return SoapStation(
            StationSettings(
                o.url,
                cbid,
                password=password,
                ca_file=o.ca_file,
                history=50,
                connect_timeout=o.timeout,
                call_timeout=o.timeout,
                backoff_initial=60,
            )
        )

    await refusal_checks(o, results, station)
