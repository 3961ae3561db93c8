"""TLS for stations: the listener context (profiles 2, 3), client certificates, failed handshakes.

One listener serves security profiles 2 and 3: the context asks every client for a
certificate (``CERT_OPTIONAL``) and verifies one that is presented against the
operator's CA bundle only (never the system's trust store), so a certificate that is
expired or from an unknown CA fails the TLS handshake itself, while a station without
one may still go on to Basic auth (profile 2). Whether the certificate names the
station is decided after the handshake, when the charge box id is known (``server``).

``trio.SSLStream`` cannot be subclassed; ``TlsStream`` wraps it so that a handshake the
TLS layer refuses (before any WebSocket request exists) is still reported once, with
the peer's address and OpenSSL's reason.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trio
from cryptography import x509
from cryptography.x509.oid import NameOID

__all__ = [
    "ClientCertificate",
    "TlsFailure",
    "TlsStream",
    "client_certificate",
    "peer_certificate",
    "station_tls_context",
]

TlsFailure = Callable[[str, str], None]  # (peer "address:port", reason)


def station_tls_context(
    cert_file: str, key_file: str, client_ca_file: str | None = None
) -> ssl.SSLContext:
    """The gateway's TLS context; with ``client_ca_file`` it verifies client certificates."""
    for path in (cert_file, key_file, client_ca_file):
        if path and not Path(path).is_file():
            raise FileNotFoundError(f"no such file: {path}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    if client_ca_file:
        context.verify_mode = ssl.CERT_OPTIONAL  # profile 2 stations present none
        context.load_verify_locations(cafile=client_ca_file)
    return context


@dataclass(frozen=True)
class ClientCertificate:
    """What the gateway needs from a verified station certificate."""

    subject: str  # RFC 4514
    common_name: str
    names: tuple[str, ...]  # subjectAltName DNS names and URIs
    serial: str  # hex
    not_after: dt.datetime  # naive UTC, as the database stores time

    def names_station(self, charge_box_id: str) -> bool:
        """The whitepaper's rule: the certificate names the station it is presented for
        (its commonName, or one of its subjectAltName entries)."""
        return charge_box_id == self.common_name or charge_box_id in self.names


def client_certificate(der: bytes) -> ClientCertificate:
    """The fields of a DER certificate (one the TLS layer has already verified)."""
    cert = x509.load_der_x509_certificate(der)
    common = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    names: list[str] = []
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        pass
    else:
        names += alt.get_values_for_type(x509.DNSName)
        names += alt.get_values_for_type(x509.UniformResourceIdentifier)
    return ClientCertificate(
        subject=cert.subject.rfc4514_string(),
        common_name=str(common[0].value) if common else "",
        names=tuple(names),
        serial=format(cert.serial_number, "x"),
        not_after=cert.not_valid_after_utc.replace(tzinfo=None),
    )


class TlsStream(trio.abc.Stream):
    """A server-side ``trio.SSLStream`` whose refused handshake is reported to ``on_failure``."""

    __slots__ = ("_inner", "_on_failure", "_received")

    def __init__(self, inner: trio.SSLStream[trio.abc.Stream], on_failure: TlsFailure) -> None:
        self._inner = inner
        self._on_failure: TlsFailure | None = on_failure
        self._received = False

    @property
    def transport_stream(self) -> trio.abc.Stream:
        return self._inner.transport_stream

    def getpeercert(self, binary_form: bool = False):  # type: ignore[no-untyped-def]
        return self._inner.getpeercert(binary_form)

    def __repr__(self) -> str:
        return repr(self._inner.transport_stream)

    def _failed(self, exc: BaseException) -> None:
        if self._received:
            return
        # trio-websocket does not close a connection that broke before its request
        # arrived (it waits for its connect timeout): close it now, freeing the slot
        abort = getattr(self._inner.transport_stream, "abort", None)
        cause = exc.__cause__
        report = self._on_failure
        self._on_failure = None  # once per connection
        if report is not None and isinstance(cause, ssl.SSLError):
            reason = getattr(cause, "verify_message", None) or cause.reason or str(cause)
            report(repr(self), str(reason).replace("_", " ").lower())
        if abort is not None:
            abort()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        try:
            data = await self._inner.receive_some(max_bytes)
        except trio.BrokenResourceError as exc:
            self._failed(exc)
            raise
        self._received = True
        return data

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        try:
            await self._inner.send_all(data)
        except trio.BrokenResourceError as exc:
            self._failed(exc)
            raise

    async def wait_send_all_might_not_block(self) -> None:
        await self._inner.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        await self._inner.aclose()


def peer_certificate(stream: object) -> ClientCertificate | None:
    """The verified client certificate of a TLS stream (None: plain TCP or none presented)."""
    getpeercert = getattr(stream, "getpeercert", None)
    if getpeercert is None:
        return None
    try:
        der = getpeercert(True)
    except (ValueError, ssl.SSLError):  # no handshake yet
        return None
    return client_certificate(der) if der else None
