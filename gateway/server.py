"""The OCPP 1.6-J WebSocket listener: path, subprotocol, Basic auth, then a station actor."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import trio
from trio_websocket import WebSocketRequest

from db.accounts.passwords import verify_password
from db.ocpp.ocpp_records import StationRecord
from db.ocpp.security_profiles import PROFILE_NAMES, ProfileChange, record_profile_connection
from db.ocpp.station_batches import ConnectIn, Running, record_connections
from db.schema.models import utcnow
from db.system.alarms import log_event
from gateway.actor import StationActor
from gateway.auth_throttle import StationAuthThrottle
from gateway.oplog import oplog
from gateway.tls import ClientCertificate, peer_certificate
from gateway.transport import transport_stream

if TYPE_CHECKING:
    from gateway.central import Gateway

__all__ = [
    "PATH_PREFIX",
    "SUBPROTOCOL",
    "ConnectionHandler",
    "forget_handshake",
    "parse_basic_auth",
    "peer_text",
]

log = logging.getLogger(__name__)

PATH_PREFIX = "/Ocpp/websocket/"
SUBPROTOCOL = "ocpp1.6"


def parse_basic_auth(headers: list[tuple[bytes, bytes]]) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic`` header, if there is one."""
    for name, value in headers:
        if name.lower() != b"authorization":
            continue
        scheme, _, token = value.partition(b" ")
        if scheme.lower() != b"basic":
            return None
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        return (user, password) if sep else None
    return None


def peer_text(endpoint: object) -> str:
    """``address:port`` of a trio-websocket endpoint (an ``Endpoint``, or the stream's repr)."""
    address, port = getattr(endpoint, "address", None), getattr(endpoint, "port", None)
    return str(endpoint) if address is None else f"{address}:{port}"


def _refused(request: WebSocketRequest, who: str, why: str, detail: str = "") -> None:
    """One line per refused handshake: who (station id first), why, from where."""
    remote = getattr(request, "remote", None)
    oplog(
        who,
        "handshake.refused",
        why=why,
        detail=detail or None,
        peer=peer_text(remote) if remote is not None else None,
    )


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups from nurseries."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _why(actor: StationActor, ws: Any) -> str:
    """Why a connection ended, for the connection log: the gateway's reason, the crash,
    or the close code (and reason) of the WebSocket."""
    if actor.ended:
        return actor.ended
    if actor.crashed is not None:
        return f"internal error: {type(_leaf(actor.crashed)).__name__}"
    closed = getattr(ws, "closed", None)
    if closed is None:
        return "gateway stopped"
    text = f"connection closed ({closed.code} {closed.name})"
    return f"{text}: {closed.reason}" if closed.reason else text


def forget_handshake(ws: object) -> None:
    """Let go of what only the opening handshake needed, once the connection is upgraded.

    wsproto keeps the handshake object for the connection's life (``WSConnection.events``
    drains its event queue first, always empty after the upgrade): its event deque (760
    bytes) and, when wsproto's own ``H11Handshake`` read the request (our ``FastHandshake``
    hands it unusual ones), the h11 connection with its state and receive buffer (~1.5 KB),
    per connected station, never used again. An empty tuple reads as the empty queue.
    Private attributes of wsproto 1.x and gateway.handshake (pinned by a test in
    tests/gateway/test_connections.py); without them, nothing changes.
    """
    handshake = getattr(getattr(ws, "_wsproto", None), "handshake", None)
    if handshake is None or getattr(handshake, "connection", None) is None:
        return  # not upgraded (or not wsproto 1.x)
    real = getattr(handshake, "_real", handshake)  # FastHandshake: wsproto's, if it read it
    for part in (handshake, real):
        if part is None:
            continue
        if hasattr(part, "_h11_connection"):
            part._h11_connection = None
        if not getattr(part, "_events", True):  # an empty deque
            part._events = ()


def _ping_interval(record: StationRecord, default: float) -> float:
    """The station's WebSocketPingInterval when it has one (> 0), else the gateway's.

    OCPP 1.6: 0 means the station does not ping itself and the central system may; a
    station configured to ping every N s is pinged at that same rhythm by the gateway.
    """
    if record.ping_interval is not None and record.ping_interval > 0:
        return float(record.ping_interval)
    return default


class ConnectionHandler:
    """Decides who may connect, then runs the station's actor until the socket closes."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._verified: set[tuple[str, bytes]] = set()
        self._auth_limiter = trio.CapacityLimiter(2)
        self.refused = {
            "path": 0,
            "subprotocol": 0,
            "unknown": 0,
            "auth": 0,
            "throttled": 0,
            "profile": 0,
        }
        self.crashed = 0
        self.password_checks = 0  # argon2 verifications run
        config = gateway.config
        self._throttle = StationAuthThrottle(
            per_station=config.auth_failures_per_station,
            per_address=config.auth_failures_per_address,
            window=config.auth_failure_window,
            clock=trio.current_time,  # the gateway's clock (a test's MockClock)
        )

    @property
    def throttle(self) -> StationAuthThrottle:
        """Failed station passwords (shared with the OCPP 1.5 endpoint)."""
        return self._throttle

    async def __call__(self, request: WebSocketRequest) -> None:
        # An exception escaping here would tear down serve_websocket and every station.
        admission = self._gateway.admission
        stream = transport_stream(request)
        if admission is not None and stream is not None:
            admission.handshaken(stream)  # no longer one the next arrival may evict
        try:
            await self._handle(request)
        except Exception:
            log.exception("connection handler failed for %s", request.path)
            try:
                await request.reject(500, body=b"Internal error")
            except Exception:
                pass  # already accepted or gone: nothing more to tell the station

    async def _handle(self, request: WebSocketRequest) -> None:
        gateway = self._gateway
        path = request.path.split("?", 1)[0]
        if not path.startswith(PATH_PREFIX):
            self.refused["path"] += 1
            _refused(request, "-", "path", path[:80])
            await request.reject(404, body=b"Not found")
            return
        charge_box_id = unquote(path[len(PATH_PREFIX) :]).rstrip("/")
        if (
            not charge_box_id
            or "/" in charge_box_id
            or len(charge_box_id) > 64
            or not charge_box_id.isprintable()  # NUL, control characters: never an id
        ):
            self.refused["path"] += 1
            _refused(request, "-", "path", path[:80])
            await request.reject(404, body=b"Not found")
            return
        if SUBPROTOCOL not in request.proposed_subprotocols:
            self.refused["subprotocol"] += 1
            _refused(request, charge_box_id, "subprotocol", ",".join(request.proposed_subprotocols))
            await request.reject(400, body=b"subprotocol ocpp1.6 required")
            return
        remote = peer_text(request.remote)  # "127.0.0.1:57546"
        address = remote.rpartition(":")[0] or remote
        wait, new_burst = self._throttle.retry_after(charge_box_id, address)
        if wait > 0:  # refused before any database read or password hash
            self.refused["throttled"] += 1
            detail = ""
            if new_burst:  # logged once per burst; a security event row per interval
                log.warning(
                    "%s: station password attempts from %s throttled for %.0f s",
                    charge_box_id,
                    address,
                    wait,
                )
                detail = f"; throttled for {wait:.0f} s"
            gateway.refusals.bad_password(charge_box_id, None, None, remote, detail)
            await request.reject(
                429,
                extra_headers=[(b"Retry-After", str(int(wait) + 1).encode())],
                body=b"Too many failed attempts",
            )
            return
        record = await gateway.station_lookup.submit(charge_box_id)
        if record is None:
            self.refused["unknown"] += 1
            _refused(request, charge_box_id, "not registered")
            gateway.refusals.not_registered(charge_box_id, remote)  # counted, written later
            await request.reject(404, body=b"Not registered")
            return
        stream = getattr(getattr(request, "_connection", None), "_stream", None)
        tls = hasattr(stream, "getpeercert")  # trio.SSLStream or gateway.tls.TlsStream
        certificate = peer_certificate(stream) if tls else None
        if certificate is not None and not certificate.names_station(charge_box_id):
            named = certificate.common_name or certificate.subject
            await self._refuse_profile(
                request, record, remote, f"its client certificate names {named!r}, not this id"
            )
            return
        if certificate is not None:  # profile 3: the certificate proves who it is
            await self._admit(request, record, 3, certificate)
            return
        ok, presented = await self._authenticated(record, request)
        if not ok:
            self.refused["auth"] += 1
            _refused(request, charge_box_id, "auth", "bad password" if presented else "no password")
            if presented:  # a wrong password (or user): counted towards the throttle
                await gateway.record_auth_failure(charge_box_id, address)
                gateway.refusals.bad_password(charge_box_id, record.id, record.site_id, remote, "")
            await request.reject(
                401,
                extra_headers=[(b"WWW-Authenticate", b'Basic realm="OCPP", charset="UTF-8"')],
                body=b"Unauthorized",
            )
            return
        if presented:
            await self._gateway.record_auth_success(charge_box_id)
        profile = (2 if tls else 1) if presented and record.password_hash else 0
        if profile < record.security_profile:
            floor = record.security_profile
            why = f"profile {profile} ({PROFILE_NAMES[profile]})"
            if floor == 3:
                why = f"no client certificate, {why}" if tls else f"not TLS, {why}"
            await self._refuse_profile(
                request,
                record,
                remote,
                f"{why}, below the station's security profile {floor} ({PROFILE_NAMES[floor]})",
            )
            return
        await self._admit(request, record, profile, None)

    async def _refuse_profile(
        self, request: WebSocketRequest, record: StationRecord, remote: str, why: str
    ) -> None:
        """A connection the station's security profile does not allow: 403, a security event."""
        self.refused["profile"] += 1
        _refused(request, record.charge_box_id, "security profile", why)
        self._gateway.refusals.security_refused(
            record.charge_box_id, record.id, record.site_id, remote, why
        )
        await request.reject(403, body=b"Security profile not met")

    async def _admit(
        self,
        request: WebSocketRequest,
        record: StationRecord,
        profile: int,
        certificate: ClientCertificate | None,
    ) -> None:
        charge_box_id = record.charge_box_id
        ws = await request.accept(subprotocol=SUBPROTOCOL)
        forget_handshake(ws)
        oplog(charge_box_id, "station.connected", peer=peer_text(ws.remote), profile=profile)
        try:
            await self._serve(record, ws, profile, certificate)
        finally:
            oplog(charge_box_id, "station.disconnected", peer=peer_text(ws.remote))

    async def _serve(  # type: ignore[no-untyped-def]
        self,
        record: StationRecord,
        ws,
        profile: int = 0,
        certificate: ClientCertificate | None = None,
    ) -> None:
        gateway = self._gateway
        state = gateway.registry.state_for(record.charge_box_id, record.id, record.site_id)
        actor = StationActor(
            gateway,
            ws,
            state,
            config_imported=record.config_imported,
            ping_interval=_ping_interval(record, gateway.config.ping_interval),
        )
        previous = gateway.registry.register(actor)
        if previous is not None:
            previous.replace()
            actor.publish("station.replaced", {"remote": peer_text(ws.remote)})
            # an event row per interval, not per replacement (two clients may fight)
            gateway.refusals.replaced(
                record.charge_box_id, record.id, record.site_id, peer_text(ws.remote)
            )
        fresh = not state.connectors  # first sight since start: learn running sessions
        now = utcnow()
        actor.connected(
            peer_text(ws.remote),
            heartbeat_interval=record.heartbeat_interval,
            outlets=record.outlets,
            now=now,
        )
        actor.publish("station.online", {"remote": state.remote, "replaced": previous is not None})
        gateway.frame_log.connection(
            record.id,
            record.charge_box_id,
            "connected",
            "replaced the previous connection" if previous is not None else "",
            state.remote,
        )
        try:
            connection = ConnectIn(record.id, record.charge_box_id, "1.6", now, fresh)

            def unit() -> tuple[list[Running], ProfileChange | None]:
                running = record_connections([connection])[0]
                change = record_profile_connection(
                    record.id,
                    record.charge_box_id,
                    record.site_id,
                    profile,
                    record.security_profile_pending,
                    None if certificate is None else (certificate.subject, certificate.not_after),
                    now,
                )
                return running, change

            change: ProfileChange | None = None
            if certificate is not None or record.security_profile_pending is not None:
                running, change = await gateway.station_store.write(unit)
            else:  # most connections: written with the others of the moment
                running = await gateway.station_store.write_each(record_connections, connection)
            if change is not None:
                oplog(
                    record.charge_box_id,
                    "security.profile",
                    upgraded=change.upgraded,
                    profile=change.profile,
                    wanted=change.wanted,
                )
                actor.publish(
                    "security.profile",
                    {
                        "upgraded": change.upgraded,
                        "profile": change.profile,
                        "wanted": change.wanted,
                    },
                )
            actor.learn_running(running)
            await actor.run()
        except Exception as exc:
            self.crashed += 1
            actor.crashed = exc
            log.exception("%s: station actor failed", record.charge_box_id)
            cause = _leaf(exc)
            actor.publish("station.crashed", {"error": type(cause).__name__})
            await self._log(record, "station.crashed", "error", f"{type(cause).__name__}: {cause}")
            with trio.move_on_after(gateway.config.disconnect_timeout):
                await ws.aclose(1011, "internal error")
        finally:
            if gateway.registry.unregister(actor):
                actor.disconnected()
                gateway.frame_log.connection(
                    record.id, record.charge_box_id, "disconnected", _why(actor, ws), state.remote
                )
                actor.publish(
                    "station.offline",
                    {"crashed": actor.crashed is not None, "reason": actor.ended},
                )
            if actor.replaced:
                with trio.move_on_after(gateway.config.disconnect_timeout):
                    await ws.aclose(1000, "replaced by a newer connection")
            elif actor.ended:
                # a silent or half-open peer never answers the close: bounded, then dropped
                with trio.move_on_after(gateway.config.disconnect_timeout):
                    await ws.aclose(1001, actor.ended[:120])
                await self._log(record, "station.closed", "warning", actor.ended)

    async def _log(self, record: StationRecord, kind: str, severity: str, message: str) -> None:
        """An event-log entry that must never take the connection down with it."""
        try:
            await self._gateway.store.write(
                lambda: log_event(
                    kind,
                    record.charge_box_id,
                    station_id=record.id,
                    site_id=record.site_id,
                    severity=severity,
                    message=message[:500],
                )
            )
        except Exception:
            log.exception("%s: could not log %s", record.charge_box_id, kind)

    async def _authenticated(
        self, record: StationRecord, request: WebSocketRequest
    ) -> tuple[bool, bool]:
        """(accepted, whether credentials were presented)."""
        if not record.password_hash:
            return True, False  # security profile 0: a station without a password (test rigs)
        credentials = parse_basic_auth(request.headers)
        if credentials is None:
            return False, False
        if credentials[0] != record.charge_box_id:
            return False, True
        password = credentials[1]
        key = (record.password_hash, hashlib.sha256(password.encode()).digest())
        if key in self._verified:
            return True, True
        self.password_checks += 1
        ok = await trio.to_thread.run_sync(
            verify_password, record.password_hash, password, limiter=self._auth_limiter
        )
        if ok:
            if len(self._verified) >= self._gateway.config.auth_cache_size:
                self._verified.clear()
            self._verified.add(key)
        return ok, True
