"""A zeep-free OCPP 1.5 ChargePointService for tests: every request is checked against the
official ChargePoint WSDL schema, recorded, and answered with a schema-valid response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import trio
from lxml import etree
from quart import Response, request
from quart_trio import QuartTrio

from ocpp15wire.codec import decode, encode
from ocpp15wire.envelope import CONTENT_TYPE, SOAP12_NS, WSA_NS, answer_envelope, parse_envelope
from ocpp15wire.schema import CP_NS, element_name, operation_of, validate
from portal import serve_portal

#: What this station answers, per operation (its behaviour, not the gateway's).
ANSWERS: dict[str, dict[str, Any]] = {
    "Reset": {"status": "Accepted"},
    "RemoteStartTransaction": {"status": "Accepted"},
    "RemoteStopTransaction": {"status": "Accepted"},
    "UnlockConnector": {"status": "Accepted"},
    "ChangeAvailability": {"status": "Scheduled"},
    "GetConfiguration": {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
        "unknownKey": ["Nope"],
    },
    "ClearCache": {"status": "Accepted"},
    "ReserveNow": {"status": "Occupied"},
    "CancelReservation": {"status": "Rejected"},
    "UpdateFirmware": {},
    "GetDiagnostics": {"fileName": "CP15-diagnostics.log"},
    "DataTransfer": {"status": "Accepted", "data": "pong"},
    "GetLocalListVersion": {"listVersion": 7},
}


@dataclass
class SoapStation:
    received: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    addressing: list[dict[str, str]] = field(default_factory=list)  # WS-Addressing per command
    delay: float = 0.0
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cp"

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        app = QuartTrio(__name__)

        @app.post("/cp")
        async def service() -> Response:
            data = await request.get_data()
            envelope = parse_envelope(data, CP_NS)
            header = etree.fromstring(data).find(f"{{{SOAP12_NS}}}Header")
            self.addressing.append(
                {
                    etree.QName(h).localname: (h.findtext(f"{{{WSA_NS}}}Address") or h.text or "")
                    for h in (header if header is not None else [])
                }
            )
            validate(envelope.body)  # the gateway's request, against the official schema
            operation = operation_of(envelope.body, CP_NS)
            assert operation is not None, envelope.body.tag
            self.received.append((envelope.charge_box_id, operation, decode(CP_NS, envelope.body)))
            await trio.sleep(self.delay)
            body = encode(CP_NS, element_name(operation, "Response"), ANSWERS[operation])
            data = answer_envelope(CP_NS, operation, "x", body)
            return Response(data, content_type=CONTENT_TYPE)

        async with trio.open_nursery() as nursery:
            self.port = await nursery.start(serve_portal, app, "127.0.0.1", 0)
            task_status.started()
