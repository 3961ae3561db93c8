"""A raw OCPP-J test station over trio-websocket: exact frames in, exact frames out."""

from __future__ import annotations

import base64
import itertools
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio
import trio.lowlevel
from trio_websocket import WebSocketConnection, open_websocket

__all__ = ["RawStation", "open_station"]


class RawStation:
    """Sends CALLs and waits for their replies; CALLs from the gateway are queued."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self.incoming_calls: list[list[Any]] = []

    async def send_raw(self, text: str | bytes) -> None:
        await self.ws.send_message(text)

    async def receive(self) -> list[Any]:
        return json.loads(await self.ws.get_message())  # type: ignore[no-any-return]

    async def call(
        self, action: str, payload: dict[str, Any], *, unique_id: str | None = None
    ) -> list[Any]:
        """Send ``[2, id, action, payload]``; return the matching CALLRESULT/CALLERROR frame."""
        unique_id = unique_id or f"t{next(self._ids)}"
        await self.send_raw(json.dumps([2, unique_id, action, payload]))
        return await self.reply_to(unique_id)

    async def reply_to(self, unique_id: str) -> list[Any]:
        while True:
            frame = await self.receive()
            if frame[0] == 2:
                self.incoming_calls.append(frame)
                continue
            assert frame[1] == unique_id, frame
            return frame

    async def result(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A CALL that must succeed: the CALLRESULT payload."""
        frame = await self.call(action, payload)
        assert frame[0] == 3, frame
        return frame[2]  # type: ignore[no-any-return]

    async def next_call(self) -> list[Any]:
        """The next CALL the gateway sends us."""
        if self.incoming_calls:
            return self.incoming_calls.pop(0)
        while True:
            frame = await self.receive()
            if frame[0] == 2:
                return frame

    async def answer(self, call: list[Any], payload: dict[str, Any]) -> None:
        await self.send_raw(json.dumps([3, call[1], payload]))

    async def answer_error(self, call: list[Any], code: str, description: str = "") -> None:
        await self.send_raw(json.dumps([4, call[1], code, description, {}]))


@asynccontextmanager
async def open_station(
    port: int,
    charge_box_id: str,
    *,
    password: str | None = None,
    user: str | None = None,
    subprotocols: tuple[str, ...] = ("ocpp1.6",),
    ssl_context: ssl.SSLContext | None = None,
    path: str | None = None,
) -> AsyncIterator[RawStation]:
    headers = []
    if password is not None:
        token = base64.b64encode(f"{user or charge_box_id}:{password}".encode()).decode()
        headers.append(("Authorization", f"Basic {token}"))
    async with open_websocket(
        "127.0.0.1",
        port,
        path or f"/Ocpp/websocket/{charge_box_id}",
        use_ssl=ssl_context if ssl_context is not None else False,
        subprotocols=list(subprotocols),
        extra_headers=headers,
        max_message_size=2**22,
    ) as ws:
        yield RawStation(ws)


def now_iso() -> str:
    from db.schema.models import utcnow

    return utcnow().isoformat(timespec="milliseconds") + "Z"


async def settle() -> None:
    """Let queued tasks run (e.g. events published after a reply)."""
    for _ in range(5):
        await trio.lowlevel.checkpoint()
