"""A minimal OCPP 1.6-J central system, the simulator's peer in its own tests.

It is deliberately tiny: it only answers and records, so the simulator's tests do not depend
on the real gateway (which has its own end-to-end tests in ``tests/e2e``).
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

from simulator.protocol import Call, CallError, CallResult, parse_frame
from simulator.schemas import SchemaViolationError, validate


class MinimalCentralSystem:
    """Accepts every station, assigns transaction ids, records every CALL it receives."""

    def __init__(
        self, *, interval: int = 300, tags: dict[str, str] | None = None, ssl_context=None
    ) -> None:
        self.ssl_context = ssl_context
        self.interval = interval
        self.tags = (
            tags
            if tags is not None
            else {"TAG1": "Accepted", "TAG2": "Accepted", "FreeCharging": "Accepted"}
        )
        self.received: list[tuple[str, str, dict[str, Any]]] = []
        self.invalid: list[tuple[str, str]] = []  # CALLs that break the OCPP 1.6 schemas
        self.frames: list[tuple[str, str]] = []
        self.drop: dict[str, int] = defaultdict(int)  # action -> answers to swallow
        self.boot_answers: list[str] = []  # statuses to give before Accepted (Pending...)
        self.refusing = False  # answer every handshake with HTTP 401
        self.auth_headers: list[str] = []
        self.port = 0
        self._ids = itertools.count(1)
        self._tx: dict[tuple, int] = {}
        self._conns: dict[str, Any] = {}
        self._waiting: dict[str, tuple[trio.Event, list]] = {}
        self._changed = trio.Event()

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            server = await nursery.start(
                serve_websocket, self._handler, "127.0.0.1", 0, self.ssl_context
            )
            self.port = server.port
            task_status.started(self.port)

    @property
    def url(self) -> str:
        scheme = "wss" if self.ssl_context is not None else "ws"
        return f"{scheme}://127.0.0.1:{self.port}/Ocpp/websocket"

    def actions(self, cbid: str | None = None) -> list[str]:
        return [a for c, a, _ in self.received if cbid is None or c == cbid]

    def payloads(self, action: str) -> list[dict[str, Any]]:
        return [p for _, a, p in self.received if a == action]

    async def wait_for(self, predicate) -> None:
        while not predicate():
            await self._changed.wait()

    async def call(self, cbid: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        ws = self._conns[cbid]
        uid = f"cs{next(self._ids)}"
        event, box = trio.Event(), []
        self._waiting[uid] = (event, box)
        await ws.send_message(Call(uid, action, payload).to_json())
        with trio.fail_after(10):
            await event.wait()
        frame = box[0]
        if isinstance(frame, CallError):
            raise RuntimeError(frame.code)
        return frame.payload

    def _changed_now(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def _handler(self, request: WebSocketRequest) -> None:
        cbid = request.path.rsplit("/", 1)[-1]
        auth = dict(request.headers).get(b"authorization", b"").decode()
        self.auth_headers.append(auth)
        if self.refusing:
            await request.reject(401)
            return
        ws = await request.accept(subprotocol="ocpp1.6")
        self._conns[cbid] = ws
        try:
            while True:
                text = await ws.get_message()
                self.frames.append((cbid, text))
                try:
                    frame = parse_frame(text)
                except Exception:
                    self._changed_now()
                    continue
                if isinstance(frame, Call):
                    try:
                        validate(frame.action, frame.payload)
                    except SchemaViolationError as exc:
                        self.invalid.append((frame.action, exc.description))
                    self.received.append((cbid, frame.action, frame.payload))
                    self._changed_now()
                    if self.drop[frame.action] > 0:
                        self.drop[frame.action] -= 1
                        continue
                    answer = self._answer(cbid, frame.action, frame.payload)
                    await ws.send_message(CallResult(frame.unique_id, answer).to_json())
                else:
                    waiting = self._waiting.pop(frame.unique_id, None)
                    if waiting:
                        waiting[1].append(frame)
                        waiting[0].set()
        except ConnectionClosed:
            pass
        finally:
            if self._conns.get(cbid) is ws:
                del self._conns[cbid]
            self._changed_now()

    def _answer(self, cbid: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if action == "BootNotification":
            status = self.boot_answers.pop(0) if self.boot_answers else "Accepted"
            interval = self.interval if status == "Accepted" else 1
            return {"status": status, "currentTime": now, "interval": interval}
        if action == "Heartbeat":
            return {"currentTime": now}
        if action == "Authorize":
            return {"idTagInfo": {"status": self.tags.get(payload["idTag"], "Invalid")}}
        if action == "StartTransaction":
            key = (cbid, payload["connectorId"], payload["timestamp"], payload["meterStart"])
            tx = self._tx.setdefault(key, 1000 + len(self._tx))
            status = self.tags.get(payload["idTag"], "Invalid")
            return {"transactionId": tx, "idTagInfo": {"status": status}}
        if action == "StopTransaction":
            return {"idTagInfo": {"status": "Accepted"}} if "idTag" in payload else {}
        if action == "DataTransfer":
            return {"status": "Accepted"}
        return {}


def frames_of(cs: MinimalCentralSystem, action: str) -> list[str]:
    """The raw texts of every CALL of ``action`` the central system received."""
    out = []
    for _, text in cs.frames:
        data = json.loads(text)
        if data[0] == 2 and data[2] == action:
            out.append(text)
    return out
