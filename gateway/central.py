"""The Gateway: the OCPP 1.6-J central system's public face (serve, call, events, state)."""

from __future__ import annotations

import gc
import logging
import math
import ssl
import sys
from collections.abc import Callable
from typing import Any

import trio

from db import Store
from db.engine.failures import FailureLog
from db.ocpp.ocpp_records import StationRecord, find_station, find_stations
from db.ocpp.ocpp_transactions import MeterIn, MeterResult, record_meter_batch
from gateway.actor import StationActor
from gateway.admission import Admission, open_file_limit
from gateway.batching import BatchingStore, WriteBatcher
from gateway.cert_expiry import CertificateWatch
from gateway.commands import (
    Command,
    CommandResult,
    Prepare,
    Target,
    check_command,
    command_from_ocpp,
)
from gateway.config import GatewayConfig
from gateway.errors import StationOfflineError, UnknownStationError
from gateway.events import EventBus
from gateway.frame_log import FrameLog
from gateway.handshake import GatewayWebSocketServer
from gateway.importer import ConfigImporter
from gateway.ocpp15.endpoint import CentralSystem15, SoapAnswer
from gateway.ocpp16.schemas import SchemaSet, schemas
from gateway.oplog import oplog
from gateway.pinger import Pinger
from gateway.refusals import RefusalLog
from gateway.registry import Registry
from gateway.server import ConnectionHandler
from gateway.snapshot import StationSnapshot
from gateway.supervisor import Supervisor
from gateway.transport import open_listeners

__all__ = ["Gateway"]

log = logging.getLogger(__name__)


def _station_of(message: MeterIn) -> int:
    return message.station_id


class Gateway:
    """OCPP 1.6-J central system: one actor per connected station.

    ``serve`` runs the listener and the watchdog; ``call`` sends a command to a
    station and returns its answer; ``events`` is the live event bus; ``snapshot``
    tells a station's live state. The portal never speaks OCPP itself.
    """

    def __init__(
        self,
        store: Store,
        *,
        config: GatewayConfig | None = None,
        events: EventBus | None = None,
    ) -> None:
        self.store = store
        self.config = config or GatewayConfig()
        self.events = events if events is not None else EventBus()  # a cluster's forwards
        self.registry = Registry()
        self.schemas: SchemaSet = schemas()
        self.supervisor = Supervisor(self)
        self.certificates = CertificateWatch(self)
        # telemetry goes in the batches, but for a station's MeterValues that stands
        # between an operator's command and its answer (see StationActor.call)
        self.meter_writer: WriteBatcher[MeterIn, MeterResult] = WriteBatcher(
            store,
            record_meter_batch,
            source=_station_of,
            wake_rounds=self.config.meter_wake_rounds,
            part=self.config.meter_write_part,
        )
        self.station_store = BatchingStore(store)  # what actors write through
        # a boot storm's station lookups: one query per batch, not one thread job each
        self.station_lookup: WriteBatcher[str, StationRecord | None] = WriteBatcher(
            store, find_stations, via=store.read
        )
        self.importer = ConfigImporter()
        self.frame_log = FrameLog(store, self.config)  # the station message log
        self.pinger = Pinger()  # every station's WebSocket pings, from one task
        # station messages the database could not store: one log line per kind a minute
        self.storage_failures = FailureLog(logging.getLogger("gateway.storage"))
        self.refusals = RefusalLog(
            store,
            self.events,
            interval=self.config.refusal_interval,
            max_ids=self.config.refused_ids_remembered,
        )
        self._handler = ConnectionHandler(self)
        self.auth_throttle = self._handler.throttle  # 1.6 and 1.5 passwords count together
        self.soap15 = CentralSystem15(self)  # OCPP 1.5: served over the portal's HTTP
        self._commands = 0
        self._command_errors = 0
        self.port: int | None = None
        self.admission: Admission | None = None  # while serving
        # OCPP security profiles the listener serves: 2 over TLS, 3 when it verifies
        # client certificates (ChangeConfiguration SecurityProfile checks it)
        self.profiles_offered: frozenset[int] = frozenset({0, 1})

    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 9000,
        *,
        ssl_context: ssl.SSLContext | None = None,
        task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen at ``ws[s]://host:port/Ocpp/websocket/{chargeBoxId}`` until cancelled."""
        previous_interval = sys.getswitchinterval()
        previous_threshold = gc.get_threshold()
        if self.config.switch_interval is not None:
            sys.setswitchinterval(self.config.switch_interval)
        if self.config.gc_threshold is not None:
            gc.set_threshold(*self.config.gc_threshold)
        try:
            await self._serve(host, port, ssl_context, task_status)
        finally:
            sys.setswitchinterval(previous_interval)
            gc.set_threshold(*previous_threshold)

    #: How often the station-password failures other processes recorded are read back.
    auth_refresh_seconds = 5.0

    async def _refresh_auth_failures(self) -> None:
        """Another gateway process's wrong station passwords count here within seconds
        (every connect still refuses from memory, without a database read)."""
        while True:
            await trio.sleep(self.auth_refresh_seconds)
            try:
                await self._load_auth_failures()
            except Exception:  # a database hiccup: try again next round
                log.warning("station-password failures could not be read", exc_info=True)

    async def _load_auth_failures(self) -> None:
        """Station-password failures of the window, recorded before this start or by another
        process: a restart does not forgive a guessing attacker."""
        from db.accounts.auth_failures import failure_ages

        throttle = self.auth_throttle
        throttle.load(await self.store.read(failure_ages, "station", None, throttle.window))

    async def record_auth_failure(self, charge_box_id: str, address: str) -> None:
        """Count a wrong station password here and in the database (both protocols)."""
        from db.accounts.auth_failures import record_failure

        throttle = self.auth_throttle
        throttle.failed(charge_box_id, address)
        await self.store.write(record_failure, "station", throttle.keys(charge_box_id, address))

    async def record_auth_success(self, charge_box_id: str) -> None:
        from db.accounts.auth_failures import clear_failures

        if self.auth_throttle.succeeded(charge_box_id):
            key, _ = self.auth_throttle.keys(charge_box_id, "")
            await self.store.write(clear_failures, "station", key)

    async def _serve(
        self,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None,
        task_status: trio.TaskStatus[int],
    ) -> None:
        await self._load_auth_failures()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._refresh_auth_failures)
            await nursery.start(self.meter_writer.run)
            await nursery.start(self.station_store.units.run)
            await nursery.start(self.station_lookup.run)
            await nursery.start(self.importer.run)
            await nursery.start(self.frame_log.run)
            await nursery.start(self.supervisor.run)
            await nursery.start(self.certificates.run)
            await nursery.start(self.refusals.run)
            await nursery.start(self.soap15.run)
            await nursery.start(self.pinger.run)
            config = self.config
            self.admission = Admission(
                max_pending=config.max_pending_handshakes,
                max_open=config.max_connections or open_file_limit() - config.fd_reserve,
            )
            if ssl_context is not None:
                verifies = ssl_context.verify_mode != ssl.CERT_NONE
                self.profiles_offered = frozenset({0, 1, 2, 3} if verifies else {0, 1, 2})
            listeners = await open_listeners(
                port,
                host,
                ssl_context,
                self.admission,
                self._tls_refused,
                reuse_port=config.reuse_port,
            )
            server = GatewayWebSocketServer(  # trio-websocket's, with FastHandshake
                self._handler,
                # typed for trio's own listeners; any trio Listener works (serve_listeners)
                listeners,  # type: ignore[arg-type]
                message_queue_size=1,
                max_message_size=self.config.max_message_size,
                connect_timeout=self.config.connect_timeout,
                disconnect_timeout=self.config.disconnect_timeout,
            )
            await nursery.start(server.run)
            self.port = listeners[0].port
            log.info("OCPP 1.6-J gateway listening on %s:%s", host, self.port)
            task_status.started(self.port)

    def _tls_refused(self, remote: str, why: str) -> None:
        """A TLS handshake failed (e.g. an expired or unknown client certificate)."""
        self._handler.refused["tls"] = self._handler.refused.get("tls", 0) + 1
        oplog("-", "handshake.refused", why="tls", detail=why, peer=remote)
        self.refusals.tls_refused(remote, why)

    async def send(
        self,
        charge_box_id: str,
        command: Command,
        *,
        deadline: float | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        """Send a command object; its answer, recorded by the command, and what it means.

        One deadline (trio clock) covers the wait in the station's queue, the send and
        the answer; ``timeout`` (seconds from now) is another way to give it, and
        ``config.command_timeout`` the default. Raises a DomainError (the command refused
        its input or the database state), UnknownStationError, StationOfflineError,
        StationBusyError, CommandTimeoutError, CallErrorReply or PayloadValidationError.
        """
        return await self._send(charge_box_id, command, deadline, timeout, None)

    async def send_and_finish(
        self,
        charge_box_id: str,
        command: Command,
        *,
        deadline: float | None,
        finish: Callable[[CommandResult], object],
    ) -> CommandResult:
        """``send``, with ``finish(result)`` run in the same unit of work that records the
        answer (a command routed from another node: its row is marked done exactly when
        the outcome is recorded; ``finish`` raising rolls the record back)."""
        return await self._send(charge_box_id, command, deadline, None, finish)

    async def _send(
        self,
        charge_box_id: str,
        command: Command,
        deadline: float | None,
        timeout: float | None,
        finish: Callable[[CommandResult], object] | None,
    ) -> CommandResult:
        if deadline is None and timeout is not None:
            deadline = trio.current_time() + timeout if timeout > 0 else math.inf
        actor = await self._connected(charge_box_id)
        protocol = getattr(actor, "protocol", "1.6")  # a SoapStation speaks 1.5
        target = Target(actor.state.station_id, charge_box_id, protocol)
        if protocol != "1.6":
            command.payload(protocol)  # UnsupportedProtocolError before anything is prepared
        ready = await command.prepare(
            Prepare(
                target,
                self.store.read,
                self.store.write,
                trio.to_thread.run_sync,
                self.profiles_offered,
            )
        )
        payload = ready.payload(target.protocol)
        check_command(self.schemas, ready.action, payload)  # 1.5: also the 1.5 schema later
        self._commands += 1
        try:
            answer = await actor.call(ready.action, payload, deadline)
        except Exception as exc:
            self._command_errors += 1
            oplog(
                charge_box_id,
                "command.failed",
                action=ready.action,
                error=type(exc).__name__,
                detail=str(exc)[:200],
            )
            raise
        oplog(charge_box_id, "command.done", action=ready.action, status=answer.get("status"))
        return await self._record(ready, target, payload, answer, finish)

    async def call(
        self,
        charge_box_id: str,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """``send`` for an OCPP action and its payload as on the wire (checked against the
        action's schema first); returns the station's CALLRESULT payload."""
        self.check_payload(action, payload)
        command = command_from_ocpp(action, payload)
        result = await self.send(charge_box_id, command, deadline=deadline, timeout=timeout)
        return result.answer

    def check_payload(self, action: str, payload: dict[str, Any]) -> None:
        """Refuse a wire payload its action's OCPP 1.6 schema rejects (or an action a
        central system cannot send): PayloadValidationError, UnknownActionError."""
        check_command(self.schemas, action, payload)

    async def _connected(self, charge_box_id: str) -> StationActor:
        actor = self.registry.actor(charge_box_id)
        if actor is not None:
            return actor
        if await self.store.read(find_station, charge_box_id) is None:
            raise UnknownStationError(f"no station {charge_box_id!r}")
        raise StationOfflineError(f"{charge_box_id} is offline: nothing was sent.")

    async def _record(
        self,
        command: Command,
        target: Target,
        payload: dict[str, Any],
        answer: dict[str, Any],
        finish: Callable[[CommandResult], object] | None = None,
    ) -> CommandResult:
        """The command's own record of the answer, in one unit of work (with ``finish``)."""

        def unit() -> CommandResult:
            outcome = command.apply(target, answer)
            result = CommandResult(
                command.action, payload, answer, outcome.message, outcome.ok, outcome.extra
            )
            if finish is not None:
                finish(result)
            return result

        try:
            # a person waits for this answer: ahead of the fleet's telemetry
            done: CommandResult = await self.store.write_urgent(unit)
        except Exception:
            log.exception(
                "%s: recording the answer to %s failed", target.charge_box_id, command.action
            )
            message = "The station answered, but its answer could not be recorded."
            result = CommandResult(command.action, payload, answer, message, False)
            if finish is not None:
                await self.store.write(finish, result)
            return result
        return done

    async def handle_soap15(
        self, body: bytes, headers: list[tuple[bytes, bytes]], remote: str, own_url: str = ""
    ) -> SoapAnswer:
        """Answer one HTTP POST to ``/Ocpp/CentralSystemService15`` (OCPP 1.5 SOAP);
        ``own_url``: that endpoint as the station reached it (From/ReplyTo of commands)."""
        return await self.soap15.handle(body, headers, remote, own_url)

    def leads_cluster(self) -> bool:
        """Whether cluster-wide duties (daily jobs, alarms of stations nobody holds) run in
        this process: always in one process; with several nodes, on the leader only."""
        cluster = self.supervisor.cluster
        return cluster is None or cluster.is_leader

    def is_online(self, charge_box_id: str) -> bool:
        return self.registry.actor(charge_box_id) is not None

    def online_stations(self) -> list[str]:
        return self.registry.online()

    def snapshot(self, charge_box_id: str) -> StationSnapshot | None:
        """Live state of a station seen since start (None when never seen)."""
        state = self.registry.state(charge_box_id)
        if state is None:
            return None
        return state.snapshot(no_network_alarm=self.supervisor.alarmed(charge_box_id))

    def statistics(self) -> dict[str, Any]:
        writer = self.store.writer.statistics()
        return {
            "online": len(self.registry),
            "known": len(self.registry.states()),
            "commands": self._commands,
            "commandErrors": self._command_errors,
            "refused": dict(self._handler.refused),
            "refusals": self.refusals.statistics(),
            "connections": self.admission.statistics() if self.admission is not None else {},
            "passwordChecks": self._handler.password_checks,
            "crashedActors": self._handler.crashed,
            "events": self.events.statistics(),
            "supervisor": self.supervisor.statistics(),
            "meterBatches": self.meter_writer.statistics(),
            "stationBatches": self.station_store.units.statistics(),
            "stationLookups": self.station_lookup.statistics(),
            "configImports": self.importer.statistics(),
            "frameLog": self.frame_log.statistics(),
            "pinger": {"scheduled": len(self.pinger), "pings": self.pinger.pings},
            "writer": {
                "jobs": writer.jobs,
                "batches": writer.batches,
                "failedJobs": writer.failed_jobs,
                "largestBatch": writer.largest_batch,
                "queued": writer.queued,
                "busySeconds": round(writer.busy_seconds, 3),
                "cpuSeconds": round(writer.cpu_seconds, 3),
            },
        }
