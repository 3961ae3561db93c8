"""The OCPP-J link of a station: one outstanding CALL, answers to the central system (a mixin)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from simulator import commands
from simulator.errors import (
    CallErrorReceived,
    CallTimeoutError,
    ConnectionLostError,
    StationOfflineError,
)
from simulator.protocol import Call, CallError, CallResult, FrameError, MessageIds, parse_frame

if TYPE_CHECKING:
    from simulator.settings import CallObserver, FaultSettings

__all__ = ["LinkMixin", "Pending"]

log = logging.getLogger("simulator.station")


class Pending:
    __slots__ = ("error", "event", "lost", "result")

    def __init__(self) -> None:
        self.event = trio.Event()
        self.result: dict[str, Any] | None = None
        self.error: CallError | None = None
        self.lost = False


class LinkMixin:
    """Frames in and out of :class:`~simulator.station.SimulatedStation`."""

    if TYPE_CHECKING:
        settings: Any
        faults: FaultSettings
        observer: CallObserver | None
        state: str
        ids: MessageIds
        counters: dict[str, int]
        frames: deque[tuple[str, str]]
        _history: bool
        _ws: WebSocketConnection | None
        _send_lock: trio.Lock
        _call_lock: trio.Lock
        _pending: tuple[str, Pending] | None
        _nursery: trio.Nursery | None

        @property
        def charge_box_id(self) -> str: ...

    def _lose_pending(self) -> None:
        if self._pending is not None:
            self._pending[1].lost = True
            self._pending[1].event.set()

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
        if self.faults.silent:
            return
        if self.faults.drop_answers > 0:
            self.faults.drop_answers -= 1
            return
        reply, after = commands.dispatch(self, call)  # type: ignore[arg-type]
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
        slot = Pending()
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
