"""SimulatedStation: one OCPP 1.6-J charge point as a Trio actor (connection, calls, timers)."""

from __future__ import annotations

import base64
import logging
import math
import random
import ssl
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    HandshakeError,
    WebSocketConnection,
    open_websocket_url,
)

from simulator import maintenance, security
from simulator.certstore import CertificateStore
from simulator.config import StationConfiguration, default_specs
from simulator.errors import (
    CallErrorReceived,
    CallTimeoutError,
    StationOfflineError,
)
from simulator.link import LinkMixin, Pending
from simulator.localauth import LocalAuth
from simulator.meter import Meter, iso
from simulator.outbox import OutboxMixin
from simulator.outlet import Outlet
from simulator.profiles import ChargingProfiles
from simulator.protocol import (
    MessageIds,
)
from simulator.sessions import SessionsMixin
from simulator.settings import CallObserver, FaultSettings, StationSettings
from simulator.txqueue import TxQueue

__all__ = [
    "CallObserver",
    "FaultSettings",
    "SimulatedStation",
    "StationSettings",
    "backoff_delay",
]

log = logging.getLogger("simulator.station")

_CONFIG_SPECS: dict[tuple, dict] = {}


def backoff_delay(attempt: int, initial: float, maximum: float, rng: random.Random) -> float:
    """Reconnect delay: doubling from ``initial`` up to ``maximum``, each with 50 % jitter."""
    return min(maximum, initial * 2**attempt) * rng.uniform(0.5, 1.0)


class SimulatedStation(LinkMixin, OutboxMixin, SessionsMixin):
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
        self.certificates = CertificateStore(settings.charge_box_id, settings.vendor)
        if settings.client_cert and settings.client_key:
            self.certificates.use_files(settings.client_cert, settings.client_key)
        self.security = security.SecurityState(security.initial_profile(settings))
        self.config.set("SecurityProfile", str(self.security.profile))
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
        self._pending: tuple[str, Pending] | None = None
        self._changed = trio.Event()
        self._work = trio.Event()
        self._wake = trio.Event()
        self._online = trio.Event()
        self._heartbeat_changed = trio.Event()
        self._back_online = trio.Event()
        self._script: list[tuple[float, Callable[..., Any], tuple[Any, ...]]] = []
        self.script_done = trio.Event()
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
        self.boot_answer: dict[str, Any] | None = None  # the last BootNotification answer
        self._aligned_slot: int | None = None
        self._seq = 0
        # several endpoints (a comma-separated url): the next one after a failed connection
        self._urls = [u.strip() for u in settings.url.split(",") if u.strip()] or [settings.url]
        self._url_index = 0

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
    def endpoint(self) -> str:
        """The central system URL (without the id) this station connects to now."""
        return self._urls[self._url_index % len(self._urls)]

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
                if self._script:
                    self.spawn(self._run_script)

        with trio.CancelScope() as self._run_scope:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._timer_loop)
                attempt = 0
                while True:
                    if self._offline_until > trio.current_time():
                        self._back_online = trio.Event()
                        with trio.move_on_at(self._offline_until):
                            await self._back_online.wait()
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
                        self._url_index += 1  # another node, when there are several
                        log.debug("%s: connection failed: %r", self.charge_box_id, exc)
                        security.connection_failed(self)
                    finally:
                        self._disconnected()
                    if self._reboot is not None:
                        await self._do_reboot()
                        attempt = 0
                        continue
                    if self._offline_until > trio.current_time():
                        continue
                    settings = self.settings
                    delay = backoff_delay(
                        attempt, settings.backoff_initial, settings.backoff_max, self.rng
                    )
                    attempt = min(attempt + 1, 16)
                    await trio.sleep(delay)

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
        if not self.endpoint.startswith("wss:"):
            return None
        context = ssl.create_default_context(cafile=self.settings.ca_file)
        roots = self.certificates.central_system_roots_pem()  # InstallCertificate
        if roots:
            context.load_verify_locations(cadata=roots)
        if self.security.profile == 3 and self.certificates.files is not None:
            context.load_cert_chain(*self.certificates.files)
        return context

    def _headers(self) -> list[tuple[bytes, bytes]]:
        password = self.config.get("AuthorizationKey") or self.settings.password
        if not password or self.security.profile == 3:  # the certificate tells who it is
            return []
        token = base64.b64encode(f"{self.charge_box_id}:{password}".encode()).decode()
        return [(b"Authorization", f"Basic {token}".encode())]

    async def _connection(self, accepted: Callable[[], None]) -> None:
        url = f"{self.endpoint.rstrip('/')}/{self.charge_box_id}"
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
                self._went_online(conn, accepted)
                if self.config.get_int("WebSocketPingInterval") > 0:
                    conn.start_soon(self._ping_loop, ws)
                await trio.sleep_forever()
        finally:
            self._ws = None
            self._lose_pending()

    def _went_online(self, conn: trio.Nursery, accepted: Callable[[], None]) -> None:
        """Accepted on this connection: report every connector, start sender and heartbeat."""
        self._set_state("accepted")
        self._online.set()
        accepted()
        security.connected(self)
        for outlet in (self.connector0, *self.outlets):
            # on every (re)connection: each connector's present status, first
            outlet.changes.clear()
            outlet.reported = None
            outlet.observed = (outlet.status, outlet.error_code)
            outlet.changes.append((-1, *outlet.observed, self.timestamp()))
        self._kick()
        conn.start_soon(self._sender_loop)
        conn.start_soon(self._heartbeat_loop)

    def _disconnected(self) -> None:
        self._ws = None
        self._conn_scope = None
        if self._online.is_set():
            self._online = trio.Event()
        self._lose_pending()
        self._set_state("offline")

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
            self.boot_answer = answer
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
        if security.after_boot(self):  # a signed update: SignedFirmwareStatusNotification
            return
        if self.firmware_status == "Installing":
            self.firmware_status = "Installed"
            self.spawn(maintenance.send_firmware_status, self, "Installed")

    # ----------------------------------------------------------------- loops
    def _kick(self) -> None:
        """Something to send (status change or transaction message)."""
        self._work.set()

    def _notify(self) -> None:
        """Wake whoever waits on a state change (tests) and the timer loop."""
        self._changed.set()
        self._changed = trio.Event()
        self._wake.set()

    def set_silent(self, silent: bool) -> None:
        """Fault: stay connected but send and answer nothing (or speak again)."""
        self.faults.silent = silent
        self._kick()

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

    async def _ping_loop(self, ws: WebSocketConnection) -> None:
        """WebSocket pings every ``WebSocketPingInterval`` seconds (read at connection)."""
        interval = self.config.get_int("WebSocketPingInterval")
        while True:
            await trio.sleep(interval)
            if self.faults.silent:
                continue
            try:
                await ws.ping()
            except ConnectionClosed:
                return
            self.counters["pings"] = self.counters.get("pings", 0) + 1
            self._notify()

    async def _timer_loop(self) -> None:
        """Meter sampling, clock-aligned data, EV full, reservation and plug timeouts."""
        while True:
            self._wake = trio.Event()
            deadline = self.tick(trio.current_time())
            with trio.move_on_at(deadline):
                await self._wake.wait()

    # ----------------------------------------------------------------- scripting
    def queue(self, action: str | Callable[..., Any], *args: Any, after: float = 0.0) -> None:
        """Queue a step run once the station is first accepted: ``queue("plug_in", 1)``.

        Steps run in order, each ``after`` seconds after the previous one ended; a string
        names a method of the station. :attr:`script_done` is set when the last one ends.
        """
        fn = getattr(self, action) if isinstance(action, str) else action
        self._script.append((after, fn, args))

    async def _run_script(self) -> None:
        try:
            for after, fn, args in self._script:
                if after > 0:
                    await trio.sleep(after)
                result = fn(*args)
                if hasattr(result, "__await__"):
                    await result
        finally:
            self.script_done.set()

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
        await self.wait_for(
            lambda: outlet.reported == status and not outlet.changes and not outlet.status_changed()
        )

    async def wait_idle(self) -> None:
        """Wait until every queued transaction message and status has been delivered."""
        await self.wait_for(
            lambda: (
                len(self.txq) == 0
                and self.online
                and not any(
                    o.changes or o.status_changed() for o in (self.connector0, *self.outlets)
                )
            )
        )

    def drop_connection(self, *, offline_for: float = 0.0) -> None:
        """Close the connection now; stay offline ``offline_for`` seconds before reconnecting."""
        if offline_for > 0:
            self._offline_until = trio.current_time() + offline_for
        if self._conn_scope is not None:
            self._conn_scope.cancel()

    def end_offline(self) -> None:
        """Reconnect now instead of at the end of ``drop_connection(offline_for=...)``."""
        self._offline_until = 0.0
        self._back_online.set()

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
