"""One ChargePointService (OCPP 1.5 SOAP) listener per simulator process: commands from the
central system, routed by ``chargeBoxIdentity`` to the station, answered in 1.5; and the
HTTP client the stations of the process share for their own requests."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol

import httpx
import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve as hypercorn_serve
from lxml import etree

from ocpp15wire.envelope import CONTENT_TYPE, EnvelopeError, fault, fault_of, parse_envelope
from ocpp15wire.schema import CP_NS, SchemaError, operation_of

__all__ = ["PATH", "ChargePointService", "CommandAnswer", "CommandTarget", "fault_envelope"]

log = logging.getLogger("simulator.soap")

PATH = "/ChargePointService"
MAX_REQUEST = 256 * 1024
MUTE_FOR = 600.0  # longest a mute station keeps a command's connection open


#: (HTTP status, SOAP envelope, what to start once the answer is sent)
CommandAnswer = tuple[int, bytes, Callable[[], None] | None]


class CommandTarget(Protocol):
    """What the listener needs from a station: answer one command (SOAP in, SOAP out)."""

    @property
    def charge_box_id(self) -> str: ...

    async def answer_command(
        self, operation: str, body: etree._Element, message_id: str
    ) -> CommandAnswer | None: ...


def fault_envelope(code: str, subcode: str, reason: str, relates_to: str = "") -> bytes:
    """A station's SOAP Fault (its OCPP subcode unqualified, e.g. ``NotSupported``)."""
    return fault(code, subcode, reason, relates_to=relates_to, service_ns=None)


class ChargePointService:
    """The HTTP server of the stations' ChargePointService, and their shared HTTP client."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        ca_file: str | None = None,
        max_connections: int = 64,
    ) -> None:
        self.host = host
        self.port = port
        self.ca_file = ca_file
        self.max_connections = max_connections  # to the central system, for all stations
        self.url = ""  # http://host:port/ChargePointService once running
        self.stations: dict[str, CommandTarget] = {}
        self.client: httpx.AsyncClient | None = None
        self.requests = 0

    def add(self, station: CommandTarget) -> None:
        self.stations[station.charge_box_id] = station

    def remove(self, station: CommandTarget) -> None:
        if self.stations.get(station.charge_box_id) is station:
            del self.stations[station.charge_box_id]

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled; ``started(url)`` once listening."""
        config = HypercornConfig()
        config.bind = [f"{self.host}:{self.port}"]
        config.accesslog = None
        config.errorlog = logging.getLogger("simulator.soap.http")
        config.graceful_timeout = 0.5
        config.keep_alive_timeout = 60
        # A pool of kept-alive connections shared by the process's stations: a thousand
        # stations opening a socket each overflowed a loaded server's accept backlog (every
        # refused connect sent a station offline). No httpx timeouts: each call's own
        # deadline (the station's call timeout) bounds the wait, pool included.
        limits = httpx.Limits(
            max_connections=self.max_connections, max_keepalive_connections=self.max_connections
        )
        verify: ssl.SSLContext | bool = True
        if self.ca_file:
            verify = ssl.create_default_context(cafile=self.ca_file)
        timeout = httpx.Timeout(None)
        async with httpx.AsyncClient(limits=limits, verify=verify, timeout=timeout) as client:
            self.client = client
            try:
                async with trio.open_nursery() as nursery:
                    binds: list[str] = await nursery.start(
                        partial(hypercorn_serve, self._asgi, config)  # type: ignore[arg-type]
                    )
                    self.url = binds[0].rstrip("/") + PATH
                    task_status.started(self.url)
            finally:
                self.client = None

    async def _asgi(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_REQUEST or not message.get("more_body"):
                break
        after: Callable[[], None] | None = None
        if scope["method"] != "POST" or scope["path"] != PATH:
            status, data = 404, fault_envelope("Sender", "NotSupported", "POST to " + PATH)
        elif len(body) > MAX_REQUEST:
            status, data = 413, fault_envelope("Sender", "FormationViolation", "request too big")
        else:
            answer = await self.handle(body)
            if answer is None:  # a mute station: no answer until the client gives up
                with trio.move_on_after(MUTE_FOR):
                    while (await receive())["type"] != "http.disconnect":
                        pass
                return
            status, data, after = answer
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", CONTENT_TYPE.encode())],
            }
        )
        await send({"type": "http.response.body", "body": data})
        if after is not None:
            after()

    async def handle(self, body: bytes) -> CommandAnswer | None:
        """One command: (HTTP status, SOAP answer), or None when the station stays mute."""
        self.requests += 1
        try:
            received = parse_envelope(body, CP_NS)
        except EnvelopeError as exc:
            return 400, fault_envelope("Sender", "FormationViolation", str(exc)), None
        relates = received.message_id
        if fault_of(received.body) is not None:
            return (
                400,
                fault_envelope("Sender", "FormationViolation", "a fault is no command"),
                None,
            )
        operation = operation_of(received.body, CP_NS)
        if operation is None:
            name = etree.QName(received.body).localname
            reason = f"{name!r} is no OCPP 1.5 ChargePointService operation"
            return 400, fault_envelope("Sender", "NotSupported", reason, relates), None
        station = self.stations.get(received.charge_box_id)
        if station is None:
            reason = f"no station {received.charge_box_id!r} here (chargeBoxIdentity)"
            return 404, fault_envelope("Sender", "IdentityMismatch", reason, relates), None
        try:
            return await station.answer_command(operation, received.body, relates)
        except SchemaError as exc:
            return 400, fault_envelope("Sender", "FormationViolation", str(exc), relates), None
        except Exception:
            log.exception("%s: %s failed", received.charge_box_id, operation)
            reason = f"{operation} failed"
            return 500, fault_envelope("Receiver", "InternalError", reason, relates), None
