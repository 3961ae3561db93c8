"""Send a WebSocket text frame at once, without a trip through the scheduler first.

trio-websocket's ``send_message`` takes the connection's send lock, and taking a trio
lock is a scheduling point even when it is free: the frame leaves only after every other
task that is ready has run once. At 5,000 busy stations that round takes hundreds of
milliseconds, and every answer paid it before its bytes went out (a remote start's chain
three times). ``send_text`` takes the free lock without yielding and writes the frame
(``TcpStream.send_all`` yields only when the socket is full); a lock that is held, or a
connection that is closing, takes trio-websocket's own path. This reads three private
attributes of ``WebSocketConnection`` (trio-websocket 0.12); without them it falls back.
"""

from __future__ import annotations

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection
from wsproto.events import TextMessage

__all__ = ["send_text"]


async def send_text(ws: WebSocketConnection, text: str) -> None:
    """``ws.send_message(text)``, sent before the next scheduling point when it can be."""
    lock: trio.StrictFIFOLock | None = getattr(ws, "_stream_lock", None)
    stream = getattr(ws, "_stream", None)
    wsproto = getattr(ws, "_wsproto", None)
    if lock is None or stream is None or wsproto is None or ws.closed is not None:
        await ws.send_message(text)
        return
    try:
        lock.acquire_nowait()
    except trio.WouldBlock:  # another frame is being sent (a ping, a command)
        await ws.send_message(text)
        return
    try:
        data = wsproto.send(TextMessage(data=text))
        try:
            await stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            await ws._abort_web_socket()  # as trio-websocket does on a broken stream
            raise ConnectionClosed(ws.closed) from None
    finally:
        lock.release()
