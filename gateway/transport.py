"""A lean trio byte stream and listener over non-blocking TCP sockets, for many small frames.

trio's ``SocketStream`` is general: every ``send_all`` and every ``receive_some``
passes through conflict detectors, a memoryview context, the socket wrapper's retry
helper, and ends with an extra trip through the scheduler even when the system call
succeeded at once. A gateway answering thousands of small OCPP frames a second pays
that on every frame. ``TcpStream`` makes the system call directly and yields to the
scheduler only when it has to wait:

- ``send_all`` never adds a scheduling point of its own. Its caller, trio-websocket's
  ``WebSocketConnection._send``, has just taken its stream lock (which yields), and
  that lock also serializes senders. Cancellation is still honoured on entry.
- ``receive_some`` waits for readability when nothing is buffered (which yields);
  when data is already there it yields once before returning, so a peer that keeps
  the socket full cannot starve other tasks.

Only public trio API is used (``trio.lowlevel.wait_readable`` and friends). TLS works
by wrapping the stream in ``trio.SSLStream``, as ``trio.SSLListener`` would.
"""

from __future__ import annotations

import errno
import socket as stdlib_socket
import ssl

import trio

from gateway.admission import Admission
from gateway.tls import TlsFailure, TlsStream

__all__ = [
    "TcpListener",
    "TcpStream",
    "open_listeners",
    "reuse_port_sockets",
    "transport_stream",
]

#: accept() errors that mean "out of resources": trio.serve_listeners sleeps and retries
_CAPACITY_ERRNOS = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS}
#: accept() errors about one half-open connection: skip it, go on accepting
_SKIP_ERRNOS = {errno.ECONNABORTED, errno.EPROTO, errno.EPERM, errno.ECONNRESET}

DEFAULT_RECEIVE_SIZE = 65536


class TcpStream(trio.abc.HalfCloseableStream):
    """One accepted TCP connection (non-blocking, TCP_NODELAY)."""

    __slots__ = ("_admission", "_closed", "_peer", "socket")

    def __init__(
        self,
        sock: stdlib_socket.socket,
        admission: Admission | None = None,
        peer: str | None = None,
    ) -> None:
        sock.setblocking(False)
        self._admission = admission
        try:
            sock.setsockopt(stdlib_socket.IPPROTO_TCP, stdlib_socket.TCP_NODELAY, 1)
        except OSError:
            pass  # not TCP (a socketpair in a test): nothing to tune
        self.socket = sock  # trio-websocket reads getpeername() here for TLS endpoints
        self._closed = False
        self._peer = peer  # "host:port" (given by accept(), else asked of the kernel once)

    def __repr__(self) -> str:
        # the peer's "host:port", asked of the kernel once: trio-websocket's ``remote``
        # (3-4 times per connection: the handler, the logs) is this repr
        peer = self._peer
        if peer is None:
            try:
                host, port, *_ = self.socket.getpeername()
            except (OSError, ValueError):
                return "TcpStream(closed)"
            peer = self._peer = f"{host}:{port}"
        return peer

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await trio.lowlevel.checkpoint_if_cancelled()
        if self._closed:
            raise trio.ClosedResourceError("the stream was closed")
        sock = self.socket
        view = memoryview(data)
        sent = 0
        total = len(view)
        try:
            while sent < total:
                try:
                    sent += sock.send(view[sent:])
                    continue
                except BlockingIOError:
                    pass
                await trio.lowlevel.wait_writable(sock)  # outside the except clause, as above
        except OSError as exc:
            if self._closed:
                raise trio.ClosedResourceError("the stream was closed") from None
            raise trio.BrokenResourceError(f"send failed: {exc}") from exc
        finally:
            view.release()

    async def wait_send_all_might_not_block(self) -> None:
        if self._closed:
            raise trio.ClosedResourceError("the stream was closed")
        await trio.lowlevel.wait_writable(self.socket)

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self._closed:
            raise trio.ClosedResourceError("the stream was closed")
        size = max_bytes or DEFAULT_RECEIVE_SIZE
        sock = self.socket
        waited = False
        try:
            while True:
                try:
                    data = sock.recv(size)
                    break
                except BlockingIOError:
                    pass
                # wait outside the except clause: an idle connection, waiting here nearly
                # all the time, would otherwise keep the exception and its traceback alive
                await trio.lowlevel.wait_readable(sock)
                waited = True
        except OSError as exc:
            if self._closed:
                raise trio.ClosedResourceError("the stream was closed") from None
            raise trio.BrokenResourceError(f"receive failed: {exc}") from exc
        if not waited:
            await trio.lowlevel.cancel_shielded_checkpoint()
        return data

    async def send_eof(self) -> None:
        await trio.lowlevel.checkpoint()
        if self._closed:
            raise trio.ClosedResourceError("the stream was closed")
        try:
            self.socket.shutdown(stdlib_socket.SHUT_WR)
        except OSError:
            pass  # the peer is gone already

    def abort(self) -> None:
        """Close at once (no await): the task reading it wakes with ClosedResourceError."""
        if not self._closed:
            self._closed = True
            trio.lowlevel.notify_closing(self.socket)  # wakes a task blocked on it
            self.socket.close()
            if self._admission is not None:
                self._admission.closed(self)

    async def aclose(self) -> None:
        self.abort()
        await trio.lowlevel.checkpoint()


class TcpListener(trio.abc.Listener[trio.abc.Stream]):
    """Accepts ``TcpStream`` connections (wrapped in ``trio.SSLStream`` when TLS)."""

    def __init__(
        self,
        sock: stdlib_socket.socket,
        ssl_context: ssl.SSLContext | None = None,
        admission: Admission | None = None,
        on_tls_failure: TlsFailure | None = None,
    ) -> None:
        sock.setblocking(False)
        self.socket = sock
        self._on_tls_failure = on_tls_failure
        self._admission = admission
        self.port: int = sock.getsockname()[1]
        self._ssl_context = ssl_context
        self._closed = False

    def __repr__(self) -> str:
        return f"TcpListener(port={self.port}, tls={self._ssl_context is not None})"

    async def accept(self) -> trio.abc.Stream:
        while True:
            if self._closed:
                raise trio.ClosedResourceError("the listener was closed")
            try:
                connection, address = self.socket.accept()
            except BlockingIOError:
                await trio.lowlevel.wait_readable(self.socket)
                continue
            except OSError as exc:
                if exc.errno in _SKIP_ERRNOS:
                    continue
                if self._closed:
                    raise trio.ClosedResourceError("the listener was closed") from None
                raise  # capacity errors: trio.serve_listeners waits and tries again
            await trio.lowlevel.cancel_shielded_checkpoint()
            # the peer as accept() gave it: no getpeername() system call per connection
            stream = TcpStream(connection, self._admission, _peer_of(address))
            if self._admission is not None and not self._admission.admit(stream):
                stream._admission = None  # never counted
                stream.abort()
                continue
            if self._ssl_context is None:
                return stream
            tls = trio.SSLStream(stream, self._ssl_context, server_side=True, https_compatible=True)
            if self._on_tls_failure is None:
                return tls
            return TlsStream(tls, self._on_tls_failure)  # type: ignore[arg-type]

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            trio.lowlevel.notify_closing(self.socket)
            self.socket.close()
        await trio.lowlevel.checkpoint()


async def open_listeners(
    port: int,
    host: str | None,
    ssl_context: ssl.SSLContext | None = None,
    admission: Admission | None = None,
    on_tls_failure: TlsFailure | None = None,
    *,
    reuse_port: bool = False,
) -> list[TcpListener]:
    """Bind like ``trio.open_tcp_listeners`` (every address of ``host``), as ``TcpListener``s.

    ``reuse_port``: several processes listen on the same port (SO_REUSEPORT) and the
    kernel spreads new connections over them (``chargeportal serve --workers N``).
    """
    if reuse_port:
        sockets = await trio.to_thread.run_sync(reuse_port_sockets, host, port)
        return [TcpListener(sock, ssl_context, admission, on_tls_failure) for sock in sockets]
    bound = await trio.open_tcp_listeners(port, host=host)
    listeners = []
    for listener in bound:
        sock = listener.socket
        # hand the descriptor over from trio's socket wrapper to a plain socket object
        plain = stdlib_socket.socket(sock.family, sock.type, sock.proto, fileno=sock.detach())
        listeners.append(TcpListener(plain, ssl_context, admission, on_tls_failure))
    return listeners


def reuse_port_sockets(host: str | None, port: int) -> list[stdlib_socket.socket]:
    """Listening sockets on every address of ``host`` with SO_REUSEPORT set (blocking:
    name resolution), so that other processes may bind the same port beside them."""
    if not hasattr(stdlib_socket, "SO_REUSEPORT"):
        raise OSError("SO_REUSEPORT is not available on this system (--workers needs it)")
    infos = stdlib_socket.getaddrinfo(
        host, port, type=stdlib_socket.SOCK_STREAM, flags=stdlib_socket.AI_PASSIVE
    )
    sockets: list[stdlib_socket.socket] = []
    seen: set[tuple[object, ...]] = set()
    try:
        for family, kind, proto, _name, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = stdlib_socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_REUSEADDR, 1)
            sock.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_REUSEPORT, 1)
            if family == stdlib_socket.AF_INET6:
                sock.setsockopt(stdlib_socket.IPPROTO_IPV6, stdlib_socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(4096)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _peer_of(address: object) -> str | None:
    """``host:port`` of an address accept() returned (IPv4 or IPv6), as getpeername's."""
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return None  # another family: asked of the kernel when needed


def transport_stream(request: object) -> TcpStream | None:
    """The ``TcpStream`` under a trio-websocket request (through TLS), if it is one.

    trio-websocket has no public way to reach it: ``request._connection._stream``
    (pinned by tests/gateway/test_admission.py).
    """
    stream = getattr(getattr(request, "_connection", None), "_stream", None)
    stream = getattr(stream, "transport_stream", stream)  # trio.SSLStream, TlsStream
    return stream if isinstance(stream, TcpStream) else None
