"""A minimal asyncio WebSocket client protocol for the load generator (text frames only).

Thousands of stations per process must cost the load generator little, so this is an
``asyncio.Protocol`` rather than a full client library: it sends the HTTP upgrade,
then parses frames in ``data_received``. Client frames carry the mask bit with an
all-zero masking key (RFC 6455 §5.3 asks for an unpredictable key; servers only XOR),
so the payload goes out unchanged. Pings are answered; fragmented messages reassembled.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable

__all__ = ["HandshakeError", "WsClientProtocol", "open_websocket"]

_ZERO_MASK = b"\x00\x00\x00\x00"


class HandshakeError(ConnectionError):
    """The server did not answer the upgrade with 101 Switching Protocols."""


def _frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + _ZERO_MASK + payload


class WsClientProtocol(asyncio.Protocol):
    """One client connection; ``on_text(str)`` is called for every complete text message."""

    def __init__(self, request: bytes, on_text: Callable[[str], None]) -> None:
        self._request = request
        self.on_text = on_text
        self.transport: asyncio.Transport | None = None
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buf = bytearray()
        self._upgraded = False
        self._fragments: list[bytes] = []

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(exc or ConnectionResetError("closed during handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self._upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end])
            del buf[: end + 4]
            status = head.split(b"\r\n", 1)[0]
            if b" 101 " not in status + b" ":
                if not self.handshake.done():
                    self.handshake.set_exception(HandshakeError(status.decode(errors="replace")))
                assert self.transport is not None
                self.transport.close()
                return
            self._upgraded = True
            self.handshake.set_result(None)
        self._parse_frames()

    # -- frames -----------------------------------------------------------------------

    def _parse_frames(self) -> None:
        buf = self._buf
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            n = b1 & 0x7F
            offset = pos + 2
            if n == 126:
                if size - offset < 2:
                    break
                (n,) = struct.unpack_from("!H", buf, offset)
                offset += 2
            elif n == 127:
                if size - offset < 8:
                    break
                (n,) = struct.unpack_from("!Q", buf, offset)
                offset += 8
            mask = b""
            if b1 & 0x80:
                if size - offset < 4:
                    break
                mask = bytes(buf[offset : offset + 4])
                offset += 4
            if size - offset < n:
                break
            payload = bytes(buf[offset : offset + n])
            pos = offset + n
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            self._on_frame(b0 & 0x80, b0 & 0x0F, payload)
        if pos:
            del buf[:pos]

    def _on_frame(self, fin: int, opcode: int, payload: bytes) -> None:
        if opcode == 0x1 or opcode == 0x0:
            if not fin:
                self._fragments.append(payload)
                return
            if self._fragments:
                payload = b"".join([*self._fragments, payload])
                self._fragments.clear()
            self.on_text(payload.decode())
        elif opcode == 0x9:  # ping
            self._write(0xA, payload)
        elif opcode == 0x8:  # close: echo, then let the server close the TCP connection
            self._write(0x8, payload[:2])
            if self.transport is not None:
                self.transport.close()

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_frame(opcode, payload))

    # -- API --------------------------------------------------------------------------

    def send_text(self, text: str) -> None:
        self._write(0x1, text.encode())

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._write(0x8, struct.pack("!H", 1000))
            self.transport.close()


async def open_websocket(
    host: str,
    port: int,
    path: str,
    on_text: Callable[[str], None],
    *,
    subprotocol: str = "ocpp1.6",
    authorization: str | None = None,
) -> WsClientProtocol:
    """Connect, send the upgrade request, wait for 101; return the protocol."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        f"Sec-WebSocket-Protocol: {subprotocol}",
    ]
    if authorization:
        lines.append(f"Authorization: {authorization}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    _transport, protocol = await loop.create_connection(
        lambda: WsClientProtocol(request, on_text), host, port
    )
    await protocol.handshake
    return protocol
