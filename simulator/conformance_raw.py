"""Conformance checks on the wire: every CALLERROR case, refused handshakes."""

from __future__ import annotations

import base64
import json
import ssl
from typing import Any

import trio
from trio_websocket import ConnectionClosed, HandshakeError, open_websocket_url

from simulator.conformance_base import CheckResult, ConformanceOptions
from simulator.conformance_refused import refusal_checks
from simulator.station import SimulatedStation, StationSettings

__all__ = ["ERROR_CASES", "error_cases", "refused"]

ERROR_CASES: list[tuple[str, str, set[str]]] = [
    ("error-not-implemented", '[2,"e1","FooBarAction",{}]', {"NotImplemented"}),
    ("error-not-supported", '[2,"e2","Reset",{"type":"Soft"}]', {"NotSupported"}),
    (
        "error-type-constraint",
        '[2,"e3","BootNotification",{"chargePointVendor":12,"chargePointModel":"M"}]',
        {"TypeConstraintViolation"},
    ),
    (
        "error-occurrence-constraint",
        '[2,"e4","BootNotification",{"chargePointVendor":"V"}]',
        # a missing required field: "violates occurence constraints" or "payload incomplete"
        {"OccurenceConstraintViolation", "ProtocolError"},
    ),
    (
        "error-property-constraint",
        '[2,"e5","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Bogus"}]',
        {"PropertyConstraintViolation"},
    ),
    ("error-formation", '[2,"e6","Heartbeat",[]]', {"FormationViolation", "FormatViolation"}),
    ("error-protocol", '[2,"e7","Heartbeat"]', {"ProtocolError", "FormationViolation"}),
]


async def error_cases(o: ConformanceOptions, results: list[CheckResult]) -> None:
    url = f"{o.url.rstrip('/')}/{o.charge_box_id}"
    ctx = ssl.create_default_context(cafile=o.ca_file) if o.url.startswith("wss:") else None
    if ctx is not None and o.client_cert and o.client_key:  # profile 3
        ctx.load_cert_chain(o.client_cert, o.client_key)
    headers = []
    if o.password and not o.client_cert:
        token = base64.b64encode(f"{o.charge_box_id}:{o.password}".encode()).decode()
        headers.append((b"Authorization", f"Basic {token}".encode()))
    try:
        async with open_websocket_url(
            url, ctx, subprotocols=["ocpp1.6"], extra_headers=headers, connect_timeout=o.timeout
        ) as ws:

            async def exchange(text: str, uid: str) -> list[Any]:
                await ws.send_message(text)
                with trio.fail_after(o.timeout):
                    while True:
                        frame = json.loads(await ws.get_message())
                        if frame[1] == uid and frame[0] in (3, 4):
                            return frame
                        if frame[0] == 2:  # a command meanwhile: say we do not know it
                            await ws.send_message(
                                json.dumps([4, frame[1], "NotImplemented", "", {}])
                            )

            boot = (
                '[2,"b0","BootNotification",{"chargePointVendor":"Conf","chargePointModel":"Raw"}]'
            )
            await exchange(boot, "b0")
            for name, text, codes in ERROR_CASES:
                try:
                    frame = await exchange(text, json.loads(text)[1])
                except trio.TooSlowError:
                    results.append(CheckResult(name, "FAIL", "no answer"))
                    continue
                if frame[0] == 4 and frame[2] in codes:
                    results.append(CheckResult(name, "PASS", frame[2]))
                else:
                    got = frame[2] if frame[0] == 4 else "a CALLRESULT"
                    results.append(
                        CheckResult(name, "FAIL", f"expected {sorted(codes)}, got {got}")
                    )
            # answers to CALLs never made must be ignored, not break the connection
            await ws.send_message('[3,"never-asked",{}]')
            await ws.send_message('[4,"never-asked-2","GenericError","",{}]')
            frame = await exchange('[2,"h1","Heartbeat",{}]', "h1")
            ok = frame[0] == 3
            results.append(
                CheckResult(
                    "error-connection-survives",
                    "PASS" if ok else "FAIL",
                    "Heartbeat answered after the errors and stray answers" if ok else str(frame),
                )
            )
    except (HandshakeError, ConnectionClosed, OSError, trio.TooSlowError) as exc:
        results.append(CheckResult("error-cases", "FAIL", f"raw connection: {exc!r}"))


async def refused(o: ConformanceOptions, results: list[CheckResult]) -> None:
    """An unknown id and a wrong password are refused at the handshake (HTTP 401/403/404)."""

    def station(cbid: str, password: str | None) -> SimulatedStation:
        certified = cbid != o.charge_box_id  # our certificate does not make a stranger us
        return SimulatedStation(
            StationSettings(
                o.url,
                cbid,
                password=password,
                ca_file=o.ca_file,
                client_cert=o.client_cert if certified else None,
                client_key=o.client_key if certified else None,
                history=50,
                connect_timeout=o.timeout,
                backoff_initial=60,
            )
        )

    await refusal_checks(o, results, station)
