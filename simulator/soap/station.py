"""SoapStation: the simulated station speaking OCPP 1.5 over SOAP. Same outlets, sessions,
queues and command handlers as the 1.6-J station; only the link differs: each request is an
HTTP POST to the central system, commands arrive at the process's ChargePointService."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import trio
from lxml import etree

from ocpp15wire.codec import decode, encode
from ocpp15wire.convert import (
    LOCAL_ONLY,
    answer_to_15,
    command_to_16,
    list_hash,
    reply_to_16,
    request_to_15,
)
from ocpp15wire.envelope import (
    CONTENT_TYPE,
    EnvelopeError,
    answer_envelope,
    fault_of,
    parse_envelope,
    request_envelope,
)
from ocpp15wire.schema import (
    COMMANDS_15,
    CP_NS,
    CS_NS,
    REQUESTS_15,
    SchemaError,
    element_name,
    validate,
)
from simulator import commands
from simulator.errors import (
    CallErrorReceived,
    CallTimeoutError,
    ConnectionLostError,
    StationOfflineError,
)
from simulator.protocol import Call, CallError
from simulator.soap.service import ChargePointService, CommandAnswer, fault_envelope
from simulator.station import SimulatedStation

__all__ = ["SoapStation"]


class SoapStation(SimulatedStation):
    """A charge point on OCPP 1.5 SOAP; give it the process's shared ``service`` (a fleet
    does), or it runs a ChargePointService listener of its own."""

    protocol = "ocpp1.5"

    def __init__(
        self, *args: Any, service: ChargePointService | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.service = service
        self._linked = False  # "connected": the central system answered since the last failure
        self._instance = uuid.uuid4()  # MessageIDs: the same CALL re-sent keeps its id

    @property
    def endpoint(self) -> str:
        """This station's ChargePointService address (sent as wsa:From and wsa:ReplyTo)."""
        return self.service.url if self.service is not None else ""

    # ----------------------------------------------------------------- actor
    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        if self.service is not None:
            await self._run_registered(self.service, task_status)
            return
        service = ChargePointService(ca_file=self.settings.ca_file)
        async with trio.open_nursery() as nursery:
            await nursery.start(service.run)
            self.service = service
            try:
                await self._run_registered(service, task_status)
            finally:
                self.service = None
                nursery.cancel_scope.cancel()

    async def _run_registered(
        self, service: ChargePointService, task_status: trio.TaskStatus[None]
    ) -> None:
        service.add(self)
        try:
            await super().run(task_status=task_status)
        finally:
            service.remove(self)

    async def _connection(self, accepted: Callable[[], None]) -> None:
        """ "Connected" while the central system answers: probe (or boot), then run the
        sender and heartbeat until a request fails to reach it."""
        if self.service is None or self.service.client is None:
            raise StationOfflineError(f"{self.charge_box_id}: no ChargePointService running")
        self._linked = True
        self.connect_count += 1
        try:
            if not self._needs_boot and not self.settings.boot_on_reconnect:
                await self._call_now("Heartbeat", {})  # reachable again?
            await self._boot_if_needed()
            async with trio.open_nursery() as conn:
                self._conn_scope = conn.cancel_scope
                self._went_online(conn, accepted)
                await trio.sleep_forever()
        finally:
            self._linked = False
            self._lose_pending()

    def _disconnected(self) -> None:
        self._linked = False
        super()._disconnected()

    # ----------------------------------------------------------------- requests
    def _message_id(self, unique_id: str) -> str:
        return f"urn:uuid:{uuid.uuid5(self._instance, unique_id)}"

    def _http_headers(self) -> dict[str, str]:
        headers = {"Content-Type": CONTENT_TYPE}
        password = self.config.get("AuthorizationKey") or self.settings.password
        if password:
            token = base64.b64encode(f"{self.charge_box_id}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return headers

    async def send_raw(self, text: str) -> None:
        """POST ``text`` as is (fault injection: a malformed request); the answer is dropped."""
        await self._post(text.encode())

    async def _post(self, data: bytes) -> httpx.Response:
        client = self.service.client if self.service is not None else None
        if not self._linked or client is None:
            raise StationOfflineError(self.charge_box_id)
        if self._history:
            self.frames.append(("out", data.decode("utf-8", "replace")))
        try:
            reply = await client.post(self.settings.url, content=data, headers=self._http_headers())
        except httpx.TransportError as exc:
            self.drop_connection()  # unreachable: offline until a probe gets through
            raise ConnectionLostError(f"{self.charge_box_id}: {exc!r}") from None
        self.counters["received"] += 1
        if self._history:
            self.frames.append(("in", reply.content.decode("utf-8", "replace")))
        return reply

    async def _exchange(self, call: Call, timeout: float | None) -> dict[str, Any]:
        local = LOCAL_ONLY.get(call.action)
        if local is not None and call.payload.get("status") in local:
            return {}  # a 1.6 status OCPP 1.5 does not have: nothing to tell
        if call.action not in REQUESTS_15:
            raise CallErrorReceived("NotSupported", f"{call.action} does not exist in OCPP 1.5")
        if not self._linked:
            raise StationOfflineError(self.charge_box_id)
        body = encode(
            CS_NS, element_name(call.action, "Request"), request_to_15(call.action, call.payload)
        )
        try:
            validate(body)
        except SchemaError as exc:
            raise CallErrorReceived("FormationViolation", f"not sent: {exc}") from None
        data = request_envelope(
            CS_NS,
            to=self.settings.url,
            charge_box_id=self.charge_box_id,
            action=call.action,
            body=body,
            message_id=self._message_id(call.unique_id),
            reply_to=self.endpoint,
        )
        started = trio.current_time()
        outcome = "ok"
        try:
            self.counters["sent"] += 1
            with trio.move_on_after(timeout or self.settings.call_timeout):
                reply = await self._post(data)
                if self.faults.lost_replies.get(call.action, 0) > 0:
                    self.faults.lost_replies[call.action] -= 1
                    await trio.sleep_forever()  # the answer never arrives
                try:
                    return self._reply(call.action, reply)
                except CallErrorReceived:
                    outcome = "error"
                    self.counters["call_errors"] += 1
                    raise
            outcome = "timeout"
            self.counters["timeouts"] += 1
            raise CallTimeoutError(f"{self.charge_box_id}: no answer to {call.action}")
        except StationOfflineError:
            outcome = "lost"
            raise
        finally:
            if self.observer is not None:
                self.observer.call_done(call.action, trio.current_time() - started, outcome)

    def _reply(self, action: str, reply: httpx.Response) -> dict[str, Any]:
        try:
            received = parse_envelope(reply.content, CS_NS)
        except EnvelopeError as exc:
            text = f"HTTP {reply.status_code}, {exc}"
            raise CallErrorReceived("FormationViolation", text) from None
        refused = fault_of(received.body)
        if refused is not None:
            if self.state in ("connecting", "booting"):
                self.rejected_status = reply.status_code
            raise CallErrorReceived(refused.code, refused.reason)
        if etree.QName(received.body).localname != element_name(action, "Response"):
            raise CallErrorReceived("FormationViolation", f"answered {received.body.tag}")
        try:
            validate(received.body)
        except SchemaError as exc:
            raise CallErrorReceived("FormationViolation", f"answer: {exc}") from None
        return reply_to_16(action, decode(CS_NS, received.body))

    # ----------------------------------------------------------------- commands
    async def answer_command(
        self, operation: str, body: etree._Element, message_id: str
    ) -> CommandAnswer | None:
        """A command from the central system: (HTTP status, SOAP answer, what to do once it
        is sent), or None when the station is mute (no answer at all)."""
        if not self._linked:
            reason = f"{self.charge_box_id} is offline"
            return 503, fault_envelope("Receiver", "GenericError", reason, message_id), None
        if self.faults.silent:
            return None
        if self.faults.drop_answers > 0:
            self.faults.drop_answers -= 1
            return None
        validate(body)
        self.counters["received"] += 1
        data = decode(CP_NS, body)
        if self._history:
            self.frames.append(("in", etree.tostring(body, encoding="unicode")))
        if operation not in COMMANDS_15:  # pragma: no cover - the schema has no others
            reason = f"{operation} is not an OCPP 1.5 command"
            return 400, fault_envelope("Sender", "NotSupported", reason, message_id), None
        given = data.get("hash")
        if given and given != list_hash(data.get("localAuthorisationList", [])):
            payload, after = {"status": "HashError"}, None
        else:
            call = Call(message_id or "soap", operation, command_to_16(operation, data))
            reply, after = commands.dispatch(self, call)
            if isinstance(reply, CallError):
                text = fault_envelope("Sender", reply.code, reply.description, message_id)
                return 400, text, None
            payload = answer_to_15(operation, reply.payload)
        if operation == "SendLocalList":
            listed = [
                {"idTag": t, "idTagInfo": i} for t, i in sorted(self.local_auth.local_list.items())
            ]
            payload["hash"] = list_hash(listed)
        element = encode(CP_NS, element_name(operation, "Response"), payload)
        validate(element)
        if self.faults.answer_delay > 0:
            await trio.sleep(self.faults.answer_delay)
        self.counters["sent"] += 1
        answer = answer_envelope(CP_NS, operation, message_id, element)
        if self._history:
            self.frames.append(("out", answer.decode()))
        return 200, answer, (lambda: self.spawn(after)) if after is not None else None
