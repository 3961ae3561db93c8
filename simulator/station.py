"""SimulatedStation: one OCPP 1.6-J charge point as a Trio actor (connection, calls, timers)."""

from __future__ import annotations

import base64
import logging
import math
import random
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    HandshakeError,
    WebSocketConnection,
    open_websocket_url,
)

from simulator import commands, maintenance
from simulator.config import StationConfiguration, default_specs
from simulator.errors import (
    CallErrorReceived,
    CallTimeoutError,
    ConnectionLostError,
    StationOfflineError,
)
from simulator.localauth import LocalAuth
from simulator.meter import Meter, iso
from simulator.outlet import Outlet
from simulator.profiles import ChargingProfiles
from simulator.protocol import (
    Call,
    CallError,
    CallResult,
    FrameError,
    MessageIds,
    parse_frame,
)
from simulator.sessions import SessionsMixin
from simulator.txqueue import TxQueue

__all__ = ["CallObserver", "FaultSettings", "SimulatedStation", "StationSettings"]

log = logging.getLogger("simulator.station")

_CONFIG_SPECS: dict[tuple, dict] = {}


class CallObserver(Protocol):
    """Receives every CALL outcome of a station (the load runner counts and times them)."""

    def call_done(self, action: str, seconds: float, outcome: str) -> None: ...

    def station_state(self, charge_box_id: str, state: str) -> None: ...


@dataclass(slots=True)
class StationSettings:
    """How a simulated station presents itself and where it connects."""

    url: str
    charge_box_id: str
    password: str | None = None
    outlets: int = 2
    ca_file: str | None = None
    vendor: str = "ChargePortal"
    model: str = "SimCharger"
    serial_number: str = ""
    firmware_version: str = "1.0.0"
    max_power_w: float = 22_000.0
    call_timeout: float = 30.0
    connect_timeout: float = 20.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    reboot_delay: float = 1.0
    boot_on_reconnect: bool = False
    fixed_cable: bool = False
    open_id_tag: str = "FreeCharging"  # idTag of sessions without a badge (open outlets)
    history: int = 500  # frames kept for assertions (0: none, for big fleets)
    heartbeat_interval: float | None = None  # overrides the central system's interval
    config: dict[str, str] = field(default_factory=dict)  # initial key overrides


@dataclass(slots=True)
class FaultSettings:
    """Misbehaviour to inject (changed at run time by tests, scenarios or the CLI)."""

    silent: bool = False  # no heartbeats
    answer_delay: float = 0.0  # seconds before answering a central-system CALL
    drop_answers: int = 0  # the next N central-system CALLs get no answer at all
    unlock_fails: bool = False
    download_fails: bool = False
    install_fails: bool = False
    upload_fails: bool = False


class _Pending:
    __slots__ = ("error", "event", "lost", "result")

    def __init__(self) -> None:
        self.event = trio.Event()
        self.result: dict[str, Any] | None = None
        self.error: CallError | None = None
        self.lost = False


class SimulatedStation(SessionsMixin):
    """A charge point with 1–4 outlets; scriptable from pytest, or one of a CLI fleet."""

    def __init__(
        self,
        settings: StationSettings,
        *,
        faults: FaultSettings | None = None,
        observer: CallObserver | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not 1 <= settings.outlets <= 4:
            raise ValueError("a station has 1 to 4 outlets")
        self.settings = settings
        self.faults = faults or FaultSettings()
        self.observer = observer
        self.rng = rng or random.Random()
        key = (settings.outlets, settings.vendor, settings.model)
        specs = _CONFIG_SPECS.get(key)
        if specs is None:  # one key table per station kind, shared by a whole fleet
            specs = _CONFIG_SPECS[key] = default_specs(
                outlets=settings.outlets,
                vendor=settings.vendor,
                model=settings.model,
                firmware=settings.firmware_version,
                identity=settings.charge_box_id,
            )
        self.config = StationConfiguration(specs)
        self.config.set("chargeboxidentity", settings.charge_box_id)
        self.config.set("FirmwareVersion", settings.firmware_version)
        self.config.set("endpoint", settings.url)
        if settings.password:
            self.config.set("AuthorizationKey", settings.password)
        for name, value in settings.config.items():
            self.config.set(name, value)
        self.outlets = [
            Outlet(
                i, meter=Meter(max_power_w=settings.max_power_w), locked_cable=settings.fixed_cable
            )
            for i in range(1, settings.outlets + 1)
        ]
        self.connector0 = Outlet(0)
        self.profiles = ChargingProfiles(settings.max_power_w)
        self.local_auth = LocalAuth(self.config.get_int("LocalAuthListMaxLength"))
        self.txq = TxQueue()
        self.ids = MessageIds()
        self.state = "offline"  # offline | connecting | booting | pending | accepted | rejected
        self.heartbeat_interval = float(self.config.get_int("HeartbeatInterval"))
        self.boot_count = 0
        self.connect_count = 0
        self.firmware_status = "Idle"
        self.diagnostics_status = "Idle"
        self.counters = {
            "sent": 0,
            "received": 0,
            "errors": 0,
            "call_errors": 0,
            "timeouts": 0,
            "sessions": 0,
        }
        self.frames: deque[tuple[str, str]] = deque(maxlen=max(1, settings.history))
        self._history = settings.history > 0
        self._ws: WebSocketConnection | None = None
        self._send_lock = trio.Lock()
        self._call_lock = trio.Lock()
        self._pending: tuple[str, _Pending] | None = None
        self._changed = trio.Event()
        self._work = trio.Event()
        self._wake = trio.Event()
        self._online = trio.Event()
        self._heartbeat_changed = trio.Event()
        self._conn_scope: trio.CancelScope | None = None
        self._run_scope: trio.CancelScope | None = None
        self._nursery: trio.Nursery | None = None
        self._needs_boot = True
        self._reboot: str | None = None  # "Soft" / "Hard" while rebooting
        self._offline_until = 0.0
        self._wall0 = datetime.now(UTC)
        self._trio0: float | None = None
        self._local_ids = 0
        self.pending_profiles: dict[int, dict[str, Any]] = {}
        self.rejected_status: int | None = None  # HTTP status of the last refused handshake
        self._aligned_slot: int | None = None

    # ----------------------------------------------------------------- clock
    def now(self) -> datetime:
        """Wall-clock time that follows the Trio clock (so autojump_clock tests agree)."""
        if self._trio0 is None:
            return datetime.now(UTC)
        return self._wall0 + timedelta(seconds=trio.current_time() - self._trio0)

    def timestamp(self) -> str:
        return iso(self.now())

    @property
    def charge_box_id(self) -> str:
        return self.settings.charge_box_id

    @property
    def online(self) -> bool:
        return self.state == "accepted"

    def outlet(self, connector_id: int) -> Outlet:
        if not 1 <= connector_id <= len(self.outlets):
            raise ValueError(f"no connector {connector_id}")
        return self.outlets[connector_id - 1]

    def statistics(self) -> dict[str, Any]:
        """What the station is doing, for the CLI summary and tests."""
        return {
            "chargeBoxId": self.charge_box_id,
            "state": self.state,
            "boots": self.boot_count,
            "connects": self.connect_count,
            "connectors": {o.connector_id: str(o.status) for o in self.outlets},
            "transactions": sum(1 for o in self.outlets if o.transaction is not None),
            "txQueue": self.txq.statistics(),
            **self.counters,
        }

    # ----------------------------------------------------------------- actor
    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Connect, boot and stay connected until cancelled; ``started`` once first Accepted."""
        self._trio0 = trio.current_time()
        self._wall0 = datetime.now(UTC)
        started = False

        def accepted() -> None:
            nonlocal started
            if not started:
                started = True
                task_status.started()

        with trio.CancelScope() as self._run_scope:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._timer_loop)
                attempt = 0
                while True:
                    wait = self._offline_until - trio.current_time()
                    if wait > 0:
                        await trio.sleep(wait)
                    try:
                        self._set_state("connecting")
                        await self._connection(accepted)
                        attempt = 0
                    except (
                        OSError,
                        HandshakeError,
                        ConnectionClosed,
                        trio.TooSlowError,
                        trio.BrokenResourceError,
                        CallTimeoutError,
                        CallErrorReceived,
                        StationOfflineError,
                    ) as exc:
                        self.counters["errors"] += 1
                        if isinstance(exc, ConnectionRejected):
                            self.rejected_status = exc.status_code
                        log.debug("%s: connection failed: %r", self.charge_box_id, exc)
                    finally:
                        self._disconnected()
                    if self._reboot is not None:
                        await self._do_reboot()
                        attempt = 0
                        continue
                    if self._offline_until > trio.current_time():
                        continue
                    delay = min(
                        self.settings.backoff_max, self.settings.backoff_initial * 2**attempt
                    )
                    attempt = min(attempt + 1, 16)
                    await trio.sleep(delay * self.rng.uniform(0.5, 1.0))

    def stop(self) -> None:
        """End :meth:`run` (the connection closes)."""
        if self._run_scope is not None:
            self._run_scope.cancel()

    def _set_state(self, state: str) -> None:
        self.state = state
        if self.observer is not None:
            self.observer.station_state(self.charge_box_id, state)
        self._notify()

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.settings.url.startswith("wss:"):
            return None
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def _headers(self) -> list[tuple[bytes, bytes]]:
        password = self.config.get("AuthorizationKey") or self.settings.password
        if not password:
            return []
        token = base64.b64encode(f"{self.charge_box_id}:{password}".encode()).decode()
        return [(b"Authorization", f"Basic {token}".encode())]

    async def _connection(self, accepted: Callable[[], None]) -> None:
        url = f"{self.settings.url.rstrip('/')}/{self.charge_box_id}"
        # trio-websocket 0.12 leaves its reader task waiting when the handshake times out
        # (open_websocket then hangs until the server closes the socket): bound the whole
        # opening with our own scope, lifted once the handshake is done.
        deadline = trio.current_time() + self.settings.connect_timeout + 1
        with trio.CancelScope(deadline=deadline) as opening:
            async with open_websocket_url(
                url,
                self._ssl_context(),
                subprotocols=["ocpp1.6"],
                extra_headers=self._headers(),
                connect_timeout=self.settings.connect_timeout,
                disconnect_timeout=2,
                message_queue_size=4,
            ) as ws:
                opening.deadline = math.inf
                await self._connected(ws, accepted)
        if opening.cancelled_caught:
            raise trio.TooSlowError(f"{url}: no handshake answer")

    async def _connected(self, ws: WebSocketConnection, accepted: Callable[[], None]) -> None:
        if ws.subprotocol != "ocpp1.6":
            raise HandshakeError(f"central system chose subprotocol {ws.subprotocol!r}")
        self._ws = ws
        self.connect_count += 1
        try:
            async with trio.open_nursery() as conn:
                self._conn_scope = conn.cancel_scope
                conn.start_soon(self._receive_loop, ws, conn.cancel_scope)
                await self._boot_if_needed()
                self._set_state("accepted")
                self._online.set()
                accepted()
                for outlet in (self.connector0, *self.outlets):
                    outlet.reported = None  # report every connector again on (re)connection
                self._kick()
                conn.start_soon(self._sender_loop)
                conn.start_soon(self._heartbeat_loop)
                await trio.sleep_forever()
        finally:
            self._ws = None
            self._lose_pending()

    def _disconnected(self) -> None:
        self._ws = None
        self._conn_scope = None
        if self._online.is_set():
            self._online = trio.Event()
        self._lose_pending()
        self._set_state("offline")

    def _lose_pending(self) -> None:
        if self._pending is not None:
            self._pending[1].lost = True
            self._pending[1].event.set()

    async def _boot_if_needed(self) -> None:
        if not self._needs_boot and not self.settings.boot_on_reconnect:
            return
        self._set_state("booting")
        while True:
            payload = {
                "chargePointVendor": self.settings.vendor,
                "chargePointModel": self.settings.model,
                "firmwareVersion": self.config.get("FirmwareVersion"),
                "meterType": "SimMeter",
            }
            if self.settings.serial_number:
                payload["chargePointSerialNumber"] = self.settings.serial_number
            answer = await self._call_now("BootNotification", payload)
            interval = float(answer.get("interval") or 0)
            if answer.get("status") == "Accepted":
                if self.settings.heartbeat_interval:
                    self.heartbeat_interval = self.settings.heartbeat_interval
                elif interval > 0:
                    self.heartbeat_interval = interval
                    self.config.set("HeartbeatInterval", str(int(interval)))
                self.boot_count += 1
                self._needs_boot = False
                self._after_boot()
                return
            self._set_state("pending" if answer.get("status") == "Pending" else "rejected")
            await trio.sleep(interval if interval > 0 else 30)

    def _after_boot(self) -> None:
        """Hook run after every accepted boot (firmware Installed notification)."""
        if self.firmware_status == "Installing":
            self.firmware_status = "Installed"
            self.spawn(maintenance.send_firmware_status, self, "Installed")

    # ----------------------------------------------------------------- frames
    async def send_raw(self, text: str) -> None:
        """Put ``text`` on the wire as is (fault injection: malformed frames)."""
        ws = self._ws
        if ws is None:
            raise StationOfflineError(self.charge_box_id)
        async with self._send_lock:
            await ws.send_message(text)
        if self._history:
            self.frames.append(("out", text))

    async def _receive_loop(self, ws: WebSocketConnection, scope: trio.CancelScope) -> None:
        try:
            while True:
                text = await ws.get_message()
                if self._history:
                    self.frames.append(("in", text if isinstance(text, str) else repr(text)))
                self.counters["received"] += 1
                try:
                    frame = parse_frame(text)
                except FrameError as exc:
                    self.counters["errors"] += 1
                    if exc.unique_id is not None:
                        reply = CallError(exc.unique_id, exc.code, exc.description)
                        await self.send_raw(reply.to_json())
                    continue
                if isinstance(frame, Call):
                    await self._answer(frame)
                    continue
                pending = self._pending
                if pending is None or pending[0] != frame.unique_id:
                    continue  # a late answer to a CALL given up on
                if isinstance(frame, CallResult):
                    pending[1].result = frame.payload
                else:
                    pending[1].error = frame
                pending[1].event.set()
        except ConnectionClosed:
            pass
        finally:
            self._ws = None
            self._lose_pending()
            scope.cancel()

    async def _answer(self, call: Call) -> None:
        if self.faults.drop_answers > 0:
            self.faults.drop_answers -= 1
            return
        reply, after = commands.dispatch(self, call)
        if self.faults.answer_delay > 0:
            self.spawn(self._late_answer, reply, self.faults.answer_delay)
        else:
            await self.send_raw(reply.to_json())
        if after is not None:
            self.spawn(after)

    async def _late_answer(self, reply: CallResult | CallError, delay: float) -> None:
        await trio.sleep(delay)
        try:
            await self.send_raw(reply.to_json())
        except (StationOfflineError, ConnectionClosed, trio.BrokenResourceError):
            pass

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` in the station's nursery (after-answer effects)."""
        if self._nursery is not None:
            self._nursery.start_soon(self._guarded, fn, *args)

    async def _guarded(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            await fn(*args)
        except (StationOfflineError, CallTimeoutError, CallErrorReceived) as exc:
            log.debug("%s: %s failed: %r", self.charge_box_id, fn, exc)

    # ----------------------------------------------------------------- calls
    async def call(
        self, action: str, payload: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a CALL once the station is accepted; the CALLRESULT payload or an error."""
        if self.state != "accepted":
            raise StationOfflineError(f"{self.charge_box_id} is {self.state}")
        return await self._call_now(action, payload, timeout=timeout)

    async def send_call(self, call: Call, *, timeout: float | None = None) -> dict[str, Any]:
        """Send a prepared CALL (the same frame may be sent again: a re-send)."""
        if self.state != "accepted":
            raise StationOfflineError(f"{self.charge_box_id} is {self.state}")
        async with self._call_lock:
            return await self._exchange(call, timeout)

    async def _call_now(
        self, action: str, payload: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        async with self._call_lock:
            return await self._exchange(Call(self.ids.next(), action, payload), timeout)

    async def _exchange(self, call: Call, timeout: float | None) -> dict[str, Any]:
        if self._ws is None:
            raise StationOfflineError(self.charge_box_id)
        slot = _Pending()
        self._pending = (call.unique_id, slot)
        started = trio.current_time()
        outcome = "ok"
        try:
            try:
                await self.send_raw(call.to_json())
            except (ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError):
                raise ConnectionLostError(self.charge_box_id) from None
            self.counters["sent"] += 1
            with trio.move_on_after(timeout or self.settings.call_timeout):
                await slot.event.wait()
            if slot.lost:
                outcome = "lost"
                raise ConnectionLostError(f"{self.charge_box_id}: closed during {call.action}")
            if slot.error is not None:
                outcome = "error"
                self.counters["call_errors"] += 1
                raise CallErrorReceived(slot.error.code, slot.error.description, slot.error.details)
            if slot.result is None:
                outcome = "timeout"
                self.counters["timeouts"] += 1
                raise CallTimeoutError(f"{self.charge_box_id}: no answer to {call.action}")
            return slot.result
        finally:
            self._pending = None
            if self.observer is not None:
                self.observer.call_done(call.action, trio.current_time() - started, outcome)

    # ----------------------------------------------------------------- loops
    def _kick(self) -> None:
        """Something to send (status change or transaction message)."""
        self._work.set()

    def _notify(self) -> None:
        """Wake whoever waits on a state change (tests) and the timer loop."""
        self._changed.set()
        self._changed = trio.Event()
        self._wake.set()

    async def _sender_loop(self) -> None:
        """The one task that sends StatusNotifications and queued transaction messages."""
        try:
            await self._send_pending_forever()
        except StationOfflineError:
            pass  # the connection is going down; the next one starts a new sender

    async def _send_pending_forever(self) -> None:
        while True:
            self._work = trio.Event()
            if await self._deliver_head():
                continue  # transaction messages first (StartTransaction before Charging)
            for outlet in (self.connector0, *self.outlets):
                if outlet.status_changed():
                    await self._send_status(outlet)
            if len(self.txq) or any(o.status_changed() for o in (self.connector0, *self.outlets)):
                continue
            await self._work.wait()

    async def _send_status(self, outlet: Outlet) -> None:
        status, error = outlet.status, outlet.error_code
        payload: dict[str, Any] = {
            "connectorId": outlet.connector_id,
            "errorCode": error,
            "status": str(status),
            "timestamp": self.timestamp(),
        }
        if outlet.fault is not None:
            if outlet.fault.info:
                payload["info"] = outlet.fault.info
            if outlet.fault.vendor_error_code:
                payload["vendorId"] = self.settings.vendor
                payload["vendorErrorCode"] = outlet.fault.vendor_error_code
        try:
            await self.call("StatusNotification", payload)
        except (CallTimeoutError, CallErrorReceived):
            pass
        outlet.reported, outlet.reported_error = status, error
        self._notify()

    async def _deliver_head(self) -> bool:
        """Send the oldest transaction message; True when the queue moved."""
        message = self.txq.head()
        if message is None:
            return False
        call = message.freeze(self.ids)
        if call is None:
            self.txq.pop(delivered=False)
            return True
        if message.sends:
            self.txq.resent += 1
        message.sends += 1
        try:
            async with self._call_lock:
                result = await self._exchange(call, None)
        except CallTimeoutError:
            await trio.sleep(self._retry_interval(message.sends))
            return True
        except CallErrorReceived:
            message.attempts += 1
            if message.attempts >= max(1, self.config.get_int("TransactionMessageAttempts")):
                self.txq.pop(delivered=False)
            else:
                await trio.sleep(self._retry_interval(message.attempts))
            return True
        self.txq.pop()
        if message.on_result is not None:
            message.on_result(result)
        self._notify()
        return True

    def _retry_interval(self, attempt: int) -> float:
        base = max(1, self.config.get_int("TransactionMessageRetryInterval"))
        return float(min(base * attempt, 300))

    def set_heartbeat_interval(self, seconds: float) -> None:
        """Use a new interval now (ChangeConfiguration HeartbeatInterval)."""
        self.heartbeat_interval = seconds
        self._heartbeat_changed.set()
        self._heartbeat_changed = trio.Event()

    async def _heartbeat_loop(self) -> None:
        while True:
            changed = self._heartbeat_changed
            with trio.move_on_after(self.heartbeat_interval or 300):
                await changed.wait()
                continue
            if self.faults.silent:
                continue
            try:
                await self.call("Heartbeat", {})
            except (CallTimeoutError, CallErrorReceived):
                pass
            except StationOfflineError:
                return  # the connection is going down

    async def _timer_loop(self) -> None:
        """Meter sampling, clock-aligned data, EV full, reservation and plug timeouts."""
        while True:
            self._wake = trio.Event()
            deadline = self.tick(trio.current_time())
            with trio.move_on_at(deadline):
                await self._wake.wait()

    # ----------------------------------------------------------------- scripting
    async def wait_online(self) -> None:
        """Return once connected and accepted."""
        await self._online.wait()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds (re-checked on every state change)."""
        while not predicate():
            await self._changed.wait()

    async def wait_status(self, connector_id: int, status: str) -> None:
        """Wait until the central system has been told ``status`` for the connector."""
        outlet = self.connector0 if connector_id == 0 else self.outlet(connector_id)
        await self.wait_for(lambda: outlet.reported == status and not outlet.status_changed())

    async def wait_idle(self) -> None:
        """Wait until every queued transaction message and status has been delivered."""
        await self.wait_for(
            lambda: (
                len(self.txq) == 0
                and self.online
                and not any(o.status_changed() for o in (self.connector0, *self.outlets))
            )
        )

    def drop_connection(self, *, offline_for: float = 0.0) -> None:
        """Close the connection now; stay offline ``offline_for`` seconds before reconnecting."""
        if offline_for > 0:
            self._offline_until = trio.current_time() + offline_for
        if self._conn_scope is not None:
            self._conn_scope.cancel()

    def request_reboot(self, kind: str) -> None:
        """Reset: close the connection, reboot, boot again (sessions handled by the caller)."""
        self._reboot = kind
        self.drop_connection()

    async def _do_reboot(self) -> None:
        await trio.sleep(self.settings.reboot_delay)
        self._reboot = None
        self._needs_boot = True
        self.pending_profiles.clear()
        for outlet in self.outlets:
            outlet.pending_tag = None
            outlet.finishing = False
            outlet.evse_suspended = False
            if outlet.inoperative_scheduled:
                outlet.inoperative_scheduled = False
                outlet.operative = False
        self.ids = MessageIds(prefix=f"b{self.boot_count + 1}-")
        self._notify()
