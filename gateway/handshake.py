"""The listener's WebSocket opening handshake: a station's usual upgrade request without h11.

wsproto reads the opening handshake through h11, about 140 µs of CPU per connection
here (a fresh HTTP state machine, header validation by regular expressions, the 101
response built the same way): a tenth of what a restarting station costs the event
loop. ``FastHandshake`` takes the request every station sends (one ``GET … HTTP/1.1``
head, plain ASCII, Host, Connection: Upgrade, Upgrade: websocket, version 13, a key,
subprotocols, no extensions, no body) in one pass and answers 101 with the bytes h11
would write. Anything else (an odd byte, a header h11 treats specially, extensions,
data after the head, a rejection) is handed to wsproto's ``H11Handshake`` with every
byte received so far, so odd and hostile requests get exactly wsproto's answers.
tests/gateway/test_handshake.py compares the two on the same inputs.

``GatewayWebSocketServer`` is trio-websocket's server with this handshake in its
``WSConnection`` (trio-websocket 0.12 builds the ``WSConnection`` inside the private
``_handle_connection``; this copy of it changes only that line).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Generator
from typing import Any

import trio
from trio_websocket import WebSocketConnection, WebSocketServer
from wsproto import ConnectionType, WSConnection
from wsproto.connection import Connection, ConnectionState
from wsproto.events import AcceptConnection, Event, Request
from wsproto.handshake import H11Handshake
from wsproto.utilities import LocalProtocolError, generate_accept_token, split_comma_header

__all__ = ["FastHandshake", "GatewayWebSocketServer"]

#: a request head longer than this is left to h11 (its own limit is 16 KiB)
MAX_HEAD = 8192
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
#: a header value after trimming: visible ASCII, inner spaces and tabs (no controls)
_VALUE = re.compile(rb"(?:[\x21-\x7e](?:[\x20\x09]*[\x21-\x7e])*)?")
_TARGET = re.compile(rb"[\x21-\x7e]+")
#: headers whose meaning h11 checks or acts on (a body, expectations): h11 reads those
_SPECIAL = frozenset(
    {b"content-length", b"transfer-encoding", b"expect", b"sec-websocket-extensions"}
)
#: the headers the handshake reads one value of
_ONCE = frozenset(
    {b"host", b"connection", b"upgrade", b"sec-websocket-key", b"sec-websocket-version"}
)


def _parse(head: bytes) -> tuple[Request, bytes] | None:
    """(the wsproto ``Request``, the key) of a plain upgrade request head; None: h11's."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or parts[0] != b"GET" or parts[2] != b"HTTP/1.1":
        return None
    target = parts[1]
    if not _TARGET.fullmatch(target):
        return None
    connection: list[str] | None = None
    host: str | None = None
    key: bytes | None = None
    subprotocols: list[str] = []
    upgrade = b""
    version: bytes | None = None
    headers: list[tuple[bytes, bytes]] = []
    seen: set[bytes] = set()
    for line in lines[1:]:
        name, colon, raw = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            return None  # no colon, a space before it, obs-fold, an empty line inside
        value = raw.strip(b" \t")
        if not _VALUE.fullmatch(value):
            return None
        name = name.lower()
        if name in _SPECIAL:
            return None
        if name in _ONCE:
            if name in seen:
                return None  # read twice, wsproto keeps one or joins them: its own way
            seen.add(name)
        if name == b"host":
            try:
                host = value.decode("idna")
            except UnicodeError:
                return None
            continue
        if name == b"sec-websocket-protocol":
            subprotocols.extend(split_comma_header(value))
            continue
        if name == b"connection":
            connection = split_comma_header(value)
        elif name == b"sec-websocket-key":
            key = value
        elif name == b"sec-websocket-version":
            version = value
        elif name == b"upgrade":
            upgrade = value
        headers.append((name, value))
    if (
        connection is None
        or not any(token.lower() == "upgrade" for token in connection)
        or version != b"13"
        or key is None
        or upgrade.lower() != b"websocket"
        or host is None
    ):
        return None  # wsproto refuses it: let it say how
    request = Request(
        host=host,
        target=target.decode("ascii"),
        extensions=[],
        extra_headers=headers,
        subprotocols=subprotocols,
    )
    return request, key


class FastHandshake:
    """The server side of ``wsproto.handshake.H11Handshake``, one pass for the usual
    request (see the module docstring); the same methods and properties."""

    def __init__(self) -> None:
        self.client = False
        self._buffer = b""
        self._real: H11Handshake | None = None
        self._request: Request | None = None
        self._key = b""
        self._state = ConnectionState.CONNECTING
        self._connection: Connection | None = None
        self._events: deque[Event] = deque()

    @property
    def state(self) -> ConnectionState:
        return self._real.state if self._real is not None else self._state

    @property
    def connection(self) -> Connection | None:
        return self._real.connection if self._real is not None else self._connection

    def _h11(self) -> H11Handshake:
        """From now on wsproto's handshake, given every byte received so far."""
        if self._real is None:
            real = H11Handshake(ConnectionType.SERVER)
            emitted = self._request is not None
            data, self._buffer = self._buffer, b""
            self._real = real
            if data:
                real.receive_data(data)
            if emitted:  # it parses the same request again: told once is enough
                for _ in real.events():
                    pass
        return self._real

    def receive_data(self, data: bytes | None) -> None:
        if self._real is not None:
            self._real.receive_data(data)
            return
        if self._request is not None or not data:
            # bytes after the head, or the end of the stream (b"" or None): wsproto's
            self._h11().receive_data(data)
            return
        buffer = self._buffer + data
        self._buffer = buffer
        end = buffer.find(b"\r\n\r\n")
        if (
            len(buffer) > MAX_HEAD
            or not buffer.startswith(b"GET /"[: len(buffer)])
            or buffer.count(b"\n") != buffer.count(b"\r\n")  # h11 also ends lines at LF
        ):
            self._h11()  # h11 may answer before a CRLF CRLF comes: it reads them all
            return
        if end < 0:
            return
        parsed = _parse(buffer[:end]) if end + 4 == len(buffer) else None
        if parsed is None:
            self._h11()
            return
        self._request, self._key = parsed
        self._events.append(self._request)

    def events(self) -> Generator[Event, None, None]:
        while self._events:
            yield self._events.popleft()
        if self._real is not None:
            yield from self._real.events()

    def initiate_upgrade_connection(self, headers: Any, path: bytes | str) -> None:
        self._h11().initiate_upgrade_connection(headers, path)

    def send(self, event: Event) -> bytes:
        request = self._request
        if self._real is None and self._state is not ConnectionState.CONNECTING:
            # accepted already (wsproto's own fails inside h11 here)
            raise LocalProtocolError(f"Event {event} cannot be sent in state {self._state}")
        if (
            self._real is not None
            or request is None
            or not isinstance(event, AcceptConnection)
            or event.extensions
            or event.extra_headers
        ):
            return self._h11().send(event)
        head = [
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + generate_accept_token(self._key) + b"\r\n"
        ]
        if event.subprotocol is not None:
            if event.subprotocol not in request.subprotocols:
                raise LocalProtocolError(f"unexpected subprotocol {event.subprotocol}")
            head.append(b"Sec-WebSocket-Protocol: " + event.subprotocol.encode("ascii") + b"\r\n")
        head.append(b"\r\n")
        self._connection = Connection(ConnectionType.SERVER, [])
        self._state = ConnectionState.OPEN
        self._buffer = b""
        return b"".join(head)


def server_connection() -> WSConnection:
    """A server ``WSConnection`` whose opening handshake is a ``FastHandshake``."""
    connection = WSConnection(ConnectionType.SERVER)
    connection.handshake = FastHandshake()  # type: ignore[assignment]
    return connection


class GatewayWebSocketServer(WebSocketServer):
    """``trio_websocket.WebSocketServer`` whose connections start with ``FastHandshake``."""

    async def _handle_connection(self, stream: trio.abc.Stream) -> None:
        # trio-websocket 0.12.2's WebSocketServer._handle_connection, but for the
        # WSConnection it is given (pinned by tests/gateway/test_handshake.py)
        async with trio.open_nursery() as nursery:
            connection = WebSocketConnection(
                stream,
                server_connection(),
                message_queue_size=self._message_queue_size,
                max_message_size=self._max_message_size,
                receive_buffer_size=self._receive_buffer_size,
            )
            nursery.start_soon(connection._reader_task)
            with trio.move_on_after(self._connect_timeout) as connect_scope:
                request = await connection._get_request()
            if connect_scope.cancelled_caught:
                nursery.cancel_scope.cancel()
                await stream.aclose()
                return
            try:
                await self._handler(request)
            finally:
                with trio.move_on_after(self._disconnect_timeout):
                    # aclose() will shut down the reader task even if it's cancelled:
                    await connection.aclose()
