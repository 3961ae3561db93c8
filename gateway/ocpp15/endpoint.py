"""``/Ocpp/CentralSystemService15``: checks a SOAP request, then runs it through the same
station logic as OCPP 1.6 (converted at the edge) and answers, or answers a SOAP Fault."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import trio
from lxml import etree

from db.accounts.passwords import verify_password
from db.engine.failures import is_storage_failure
from db.ocpp.ocpp_records import outlet_count, record_connected, record_protocol, soap_endpoint
from db.schema.models import utcnow
from gateway.call_context import CallContext
from gateway.logic import HANDLERS
from gateway.ocpp15.service import call_wsgi, wsgi_app
from gateway.ocpp15.station import SoapStation
from gateway.ocpp16.framing import OcppError
from gateway.ocpp16.limits import check_payload, connector_id_of
from gateway.oplog import oplog
from gateway.server import parse_basic_auth
from ocpp15wire.convert import reply_to_15, request_to_16
from ocpp15wire.envelope import (
    CONTENT_TYPE,
    EnvelopeError,
    add_answer_headers,
    fault,
    parse_envelope,
)
from ocpp15wire.schema import CS_NS, SchemaError, operation_of, validate

if TYPE_CHECKING:
    from gateway.central import Gateway

__all__ = ["PATH", "CentralSystem15", "SoapAnswer"]

log = logging.getLogger(__name__)

PATH = "/Ocpp/CentralSystemService15"
SPYNE_THREADS = 64


@dataclass(frozen=True, slots=True)
class SoapAnswer:
    """What to send back over HTTP."""

    status: int
    body: bytes
    content_type: str = CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = ()  # extra HTTP headers (Retry-After)


class _RefusedError(Exception):
    def __init__(
        self, status: int, subcode: str, reason: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(reason)
        self.status, self.subcode, self.reason = status, subcode, reason
        self.headers = headers


def _first_contact(station_id: int) -> str:
    """First request since the gateway started: seen now, and it speaks OCPP 1.5; the
    ChargePointService address configured for it (used until a request names one)."""
    record_connected(station_id, utcnow())
    record_protocol(station_id, "1.5")
    return soap_endpoint(station_id)


class CentralSystem15:
    """The OCPP 1.5 SOAP side of a gateway (one per gateway; HTTP is the caller's job)."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._app = wsgi_app()
        self._stations: dict[str, SoapStation] = {}
        self._verified: set[tuple[bytes, bytes]] = set()
        # spyne threads at a time: each holds its thread while the station logic stores the
        # message (group commit), so this bounds the 1.5 messages in flight, not just CPU.
        # With 4, 200 SOAP stations could not all boot in 90 s (measured, soap15_bench).
        self._limiter = trio.CapacityLimiter(SPYNE_THREADS)
        self.nursery: trio.Nursery | None = None  # tasks the logic starts (idle watches)
        self.requests = 0
        self.faults = 0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Hold the nursery for work the station logic starts beside a request."""
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            task_status.started()
            await trio.sleep_forever()

    async def handle(
        self, body: bytes, headers: list[tuple[bytes, bytes]], remote: str, own_url: str = ""
    ) -> SoapAnswer:
        """Answer one HTTP POST to :data:`PATH` (never raises); ``own_url`` is this endpoint
        as the station reached it: the From/ReplyTo of the commands sent to that station."""
        self.requests += 1
        relates_to = ""
        heard: tuple[SoapStation, str] | None = None  # (station, operation) for its log
        try:
            if len(body) > self._gateway.config.max_message_size:
                limit = self._gateway.config.max_message_size
                raise _RefusedError(413, "FormationViolation", f"the request is over {limit} bytes")
            try:
                envelope = parse_envelope(body)
            except EnvelopeError as exc:
                raise _RefusedError(400, "FormationViolation", str(exc)) from None
            relates_to = envelope.message_id
            operation = operation_of(envelope.body, CS_NS)
            if operation is None:
                name = etree.QName(envelope.body).localname
                raise _RefusedError(400, "NotSupported", f"unknown operation {name!r}")
            try:
                validate(envelope.body)
            except SchemaError as exc:
                raise _RefusedError(400, "FormationViolation", f"{operation}: {exc}") from None
            station = await self._station(envelope.charge_box_id, headers, remote)
            station.heard(remote, envelope.reply_from, own_url)
            heard = (station, operation)
            self._log(heard, "in", "Call", relates_to, body)
            answer = await self._answer(station, operation, body, envelope.message_id)
            self._log(heard, "out", "CallResult", relates_to, answer.body)
            return answer
        except _RefusedError as refused:
            self.faults += 1
            code = "Sender" if refused.status < 500 else "Receiver"
            answer = SoapAnswer(
                refused.status,
                fault(code, refused.subcode, refused.reason, relates_to=relates_to),
                headers=refused.headers,
            )
            self._log(heard, "out", "CallError", relates_to, answer.body)
            return answer
        except Exception:
            self.faults += 1
            log.exception("OCPP 1.5 request failed")
            reason = "the request could not be processed"
            return SoapAnswer(
                500, fault("Receiver", "InternalError", reason, relates_to=relates_to)
            )

    async def _station(
        self, charge_box_id: str, headers: list[tuple[bytes, bytes]], remote: str
    ) -> SoapStation:
        gateway = self._gateway
        if not charge_box_id or len(charge_box_id) > 64 or not charge_box_id.isprintable():
            raise _RefusedError(
                400, "IdentityMismatch", "chargeBoxIdentity header missing or invalid"
            )
        throttle = gateway.auth_throttle
        address = remote.rpartition(":")[0] if remote.count(":") == 1 else remote
        wait, new_burst = throttle.retry_after(charge_box_id, address)
        if wait > 0:  # refused before any database read or password hash, as over 1.6
            oplog(charge_box_id, "soap.refused", why="throttled", peer=remote)
            detail = f"; throttled for {wait:.0f} s" if new_burst else ""
            gateway.refusals.bad_password(charge_box_id, None, None, remote, detail)
            raise _RefusedError(
                429,
                "SecurityError",
                f"Too many failed password attempts: retry in {int(wait) + 1} s",
                headers=(("Retry-After", str(int(wait) + 1)),),
            )
        record = await gateway.station_lookup.submit(charge_box_id)
        if record is None:
            oplog(charge_box_id, "soap.refused", why="not registered", peer=remote)
            gateway.refusals.not_registered(charge_box_id, remote)
            raise _RefusedError(404, "IdentityMismatch", "Not registered")
        if record.password_hash:
            ok, presented = await self._password_ok(record.password_hash, charge_box_id, headers)
            if not ok:
                oplog(charge_box_id, "soap.refused", why="auth", peer=remote)
                if presented:  # a wrong password (or user): counted towards the throttle
                    await gateway.record_auth_failure(charge_box_id, address)
                # a security event per interval, as for a refused 1.6 password
                gateway.refusals.bad_password(charge_box_id, record.id, record.site_id, remote, "")
                raise _RefusedError(
                    401,
                    "SecurityError",
                    "Unauthorized: HTTP Basic password required",
                    headers=(("WWW-Authenticate", 'Basic realm="OCPP", charset="UTF-8"'),),
                )
            await gateway.record_auth_success(charge_box_id)
        station = self._stations.get(charge_box_id)
        if station is None or station.state.station_id != record.id:
            state = gateway.registry.state_for(charge_box_id, record.id, record.site_id)
            if state.heartbeat_interval is None:
                state.heartbeat_interval = record.heartbeat_interval
            state.outlets = record.outlets
            station = SoapStation(
                gateway,
                state,
                self.nursery,
                on_end=self._ended,
                config_imported=record.config_imported,
            )
            self._stations[charge_box_id] = station
            station.endpoint = await gateway.station_store.write(_first_contact, record.id)
        if gateway.registry.actor(charge_box_id) is None:
            gateway.registry.register(station)  # type: ignore[arg-type]
            station.publish("station.online", {"remote": remote, "protocol": "1.5"})
        return station

    def _ended(self, station: SoapStation, reason: str) -> None:
        if self._gateway.registry.unregister(station):  # type: ignore[arg-type]
            station.publish("station.offline", {"crashed": False, "reason": reason})

    async def _password_ok(
        self, password_hash: str, charge_box_id: str, headers: list[tuple[bytes, bytes]]
    ) -> tuple[bool, bool]:
        """(right password, whether credentials were presented at all)."""
        credentials = parse_basic_auth(headers)
        if credentials is None:
            return False, False
        if credentials[0] != charge_box_id:
            return False, True
        key = (password_hash.encode(), hashlib.sha256(credentials[1].encode()).digest())
        if key in self._verified:
            return True, True
        ok = await trio.to_thread.run_sync(verify_password, password_hash, credentials[1])
        if ok:
            self._verified.add(key)
        return bool(ok), True

    def _log(
        self,
        heard: tuple[SoapStation, str] | None,
        direction: str,
        kind: str,
        message_id: str,
        body: bytes,
    ) -> None:
        """The station's message log keeps its SOAP requests and our answers as sent."""
        if heard is None:
            return  # not from a known, authenticated station
        station, operation = heard
        self._gateway.frame_log.frame(
            station.state.station_id,
            station.charge_box_id,
            direction,
            kind,
            message_id,
            operation,
            body.decode("utf-8", "replace"),
        )

    async def _answer(
        self, station: SoapStation, operation: str, body: bytes, message_id: str
    ) -> SoapAnswer:
        token = trio.lowlevel.current_trio_token()
        failure: list[_RefusedError] = []
        raw = body.decode("utf-8", "replace")
        unique_id = (message_id or f"urn:uuid:{uuid.uuid4()}")[-64:]

        def answer(name: str, payload: dict[str, Any]) -> dict[str, Any]:
            try:
                return trio.from_thread.run(
                    self._dispatch, station, name, payload, raw, unique_id, trio_token=token
                )
            except _RefusedError as refused:
                failure.append(refused)
                raise

        status, out = await trio.to_thread.run_sync(
            call_wsgi, self._app, body, answer, limiter=self._limiter
        )
        if failure:
            raise failure[0]
        if status != 200:
            raise _RefusedError(500, "InternalError", f"{operation} could not be answered")
        return SoapAnswer(200, add_answer_headers(out, f"/{operation}Response", message_id))

    async def _dispatch(
        self,
        station: SoapStation,
        operation: str,
        payload: dict[str, Any],
        raw: str,
        unique_id: str,
    ) -> dict[str, Any]:
        """The 1.6 handler of ``operation`` on the converted request; its answer in 1.5."""
        request = request_to_16(operation, payload)
        try:
            check_payload(request)
            await self._check_outlet(station, request)
            reply = await HANDLERS[operation](CallContext(station, unique_id, raw), request)
        except OcppError as exc:
            raise _RefusedError(400, exc.code, f"{operation}: {exc.description}") from None
        except Exception as exc:
            if is_storage_failure(exc):
                self._gateway.storage_failures.report("storing a station message failed", exc)
                raise _RefusedError(
                    500, "InternalError", f"{operation} could not be stored"
                ) from None
            log.exception("%s: %s failed", station.charge_box_id, operation)
            raise _RefusedError(
                500, "InternalError", f"{operation} could not be processed"
            ) from None
        return reply_to_15(operation, reply)

    async def _check_outlet(self, station: SoapStation, request: dict[str, Any]) -> None:
        """Refuse a connectorId beyond the station's outlets, as over 1.6 (read again: one
        may have been added)."""
        connector_id = connector_id_of(request)
        state = station.state
        if connector_id is None or not connector_id > state.outlets > 0:
            return
        state.outlets = await self._gateway.store.read(outlet_count, state.station_id)
        if connector_id > state.outlets > 0:
            raise OcppError(
                "PropertyConstraintViolation",
                f"connectorId: {connector_id} is beyond this station's {state.outlets} outlets",
            )
