"""A station's outgoing CALLs: one at a time (OCPP-J), each within its one deadline."""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from gateway.config import GatewayConfig
from gateway.errors import (
    CallErrorReply,
    CommandTimeoutError,
    GatewayError,
    StationBusyError,
    StationOfflineError,
)
from gateway.ocpp16.framing import CallError, CallResult, OcppError, pack_call
from gateway.ocpp16.limits import check_payload
from gateway.ocpp16.schemas import SchemaSet
from gateway.wsend import send_text

__all__ = ["Outbox"]

log = logging.getLogger(__name__)


class _Command:
    """One CALL to the station and, once answered, its outcome.

    ``stage`` says how far it got: ``queued`` (waiting for its turn), ``sending`` (the
    frame is being written), ``sent`` (waiting for the answer). A deadline that passes
    reports the stage, so the caller knows whether the station saw the CALL.
    """

    __slots__ = (
        "abandoned",
        "action",
        "deadline",
        "done",
        "error",
        "payload",
        "queued_at",
        "result",
        "stage",
        "unique_id",
    )

    def __init__(self, action: str, payload: dict[str, Any], deadline: float) -> None:
        self.action = action
        self.payload = payload
        self.deadline = deadline
        self.queued_at = trio.current_time()
        self.unique_id = ""
        self.stage = "queued"
        self.done = trio.Event()
        self.result: dict[str, Any] | None = None
        self.error: GatewayError | None = None
        self.abandoned = False

    def finish(
        self, *, result: dict[str, Any] | None = None, error: GatewayError | None = None
    ) -> None:
        if self.done.is_set():
            return
        self.result, self.error = result, error
        self.done.set()


class Outbox:
    """The CALLs the gateway sends one station, and the loop that sends them.

    The queue and its loop exist only once a command is sent: an idle station costs no
    extra task. A reply frame from the receive loop goes to ``deliver``; ``close`` fails
    whatever is left when the connection ends.
    """

    __slots__ = (
        "_closed",
        "_config",
        "_current",
        "_end",
        "_log_frame",
        "_nursery",
        "_queue",
        "_schemas",
        "_sending",
        "_ws",
        "charge_box_id",
        "sent_calls",
    )

    def __init__(
        self,
        charge_box_id: str,
        ws: WebSocketConnection,
        config: GatewayConfig,
        schemas: SchemaSet,
        end: Callable[[], None],
        log_frame: Callable[[str, str, str, str, str], None] | None = None,
    ) -> None:
        self.charge_box_id = charge_box_id
        self._ws = ws
        self._config = config
        self._schemas = schemas
        self._end = end  # ends the connection (a frame cut off half-way)
        self._log_frame = log_frame  # the station's message log
        # a list, not a deque: an empty deque is 760 bytes per connected station, and a
        # station's queue holds a few commands at most (command_queue_size)
        self._queue: list[_Command] = []
        self._sending = False  # a send loop task is running
        self._closed = False
        self._current: _Command | None = None
        self._nursery: trio.Nursery | None = None
        self.sent_calls = 0

    def attach(self, nursery: trio.Nursery | None) -> None:
        """Send through ``nursery`` (the connection's) from now on; None: not yet/no more."""
        self._nursery = nursery
        if nursery is not None and self._queue and not self._sending:
            self._sending = True  # commands queued while connecting
            nursery.start_soon(self._command_loop)

    @property
    def awaiting_answer(self) -> bool:
        """A CALL of ours is queued or sent, and the station has not answered it yet."""
        return self._current is not None or bool(self._queue)

    def statistics(self) -> dict[str, Any]:
        return {
            "queuedCommands": len(self._queue),
            "outstandingCall": self._current.action if self._current is not None else None,
        }

    async def call(
        self, action: str, payload: dict[str, Any], deadline: float | None = None
    ) -> dict[str, Any]:
        """Queue a CALL; wait for the station's CALLRESULT payload (or raise).

        ``deadline`` (trio clock; default: ``command_timeout`` from now) covers the wait
        in the queue, the send and the answer: past it, CommandTimeoutError says which
        of those the CALL got to.
        """
        if self._closed:
            raise StationOfflineError(f"{self.charge_box_id} is not connected")
        if len(self._queue) >= self._config.command_queue_size:
            raise StationBusyError(
                f"{self.charge_box_id}: {len(self._queue)} commands already queued; "
                f"{action} was not sent"
            )
        if deadline is None:
            timeout = self._config.command_timeout
            deadline = trio.current_time() + timeout if timeout > 0 else math.inf
        command = _Command(action, payload, deadline)
        self._queue.append(command)
        if not self._sending and self._nursery is not None:
            self._sending = True
            self._nursery.start_soon(self._command_loop)
        try:
            with trio.move_on_at(deadline):
                await command.done.wait()
            command.finish(error=self._expired(command))
        except BaseException:
            command.abandoned = True
            raise
        if command.stage == "queued" and command in self._queue:
            self._queue.remove(command)  # expired before its turn: frees its place
        if command.error is not None:
            raise command.error
        assert command.result is not None
        return command.result

    def _expired(self, command: _Command) -> CommandTimeoutError:
        """What to tell the caller whose deadline passed: how far its CALL got."""
        waited = trio.current_time() - command.queued_at
        cbid, action = self.charge_box_id, command.action
        if command.stage == "queued":
            ahead = self._current.action if self._current is not None else "nothing"
            return CommandTimeoutError(
                f"{cbid}: {action} was not sent: it waited {waited:.3g} s in the queue "
                f"behind {ahead}, which the station has not answered",
                sent=False,
                waited=waited,
            )
        if command.stage == "sending":
            return CommandTimeoutError(
                f"{cbid}: {action} could not be sent within {waited:.3g} s "
                "(the connection is not taking data); the station may not have received it",
                sent=False,
                waited=waited,
            )
        return CommandTimeoutError(
            f"{cbid}: {action} was sent but the station did not answer "
            f"within {waited:.3g} s of the request",
            sent=True,
            waited=waited,
        )

    async def _command_loop(self) -> None:
        """Send queued CALLs one at a time; ends when the queue is empty (no idle task)."""
        try:
            while self._queue:
                command = self._queue.pop(0)
                if not command.abandoned and not command.done.is_set():
                    await self._send_command(command)
        finally:
            self._sending = False

    async def _send_command(self, command: _Command) -> None:
        command.unique_id = str(uuid.uuid4())
        self._current = command
        try:
            with trio.move_on_at(command.deadline):
                command.stage = "sending"
                text = pack_call(command.unique_id, command.action, command.payload)
                if self._log_frame is not None:
                    self._log_frame("out", "Call", command.unique_id, command.action, text)
                await send_text(self._ws, text)
                command.stage = "sent"
                self.sent_calls += 1
                await command.done.wait()
            if command.stage == "sending":
                # a frame cut off half-way leaves the stream unusable: end the connection
                log.info("%s: send of %s timed out, closing", self.charge_box_id, command.action)
                self._end()
            command.finish(error=self._expired(command))
        except ConnectionClosed:
            pass
        finally:
            # disconnected or cancelled while waiting: the caller must not hang
            command.finish(error=StationOfflineError(f"{self.charge_box_id} disconnected"))
            self._current = None

    def close(self) -> None:
        """The connection ended: every waiting caller hears so."""
        self._closed = True
        offline = StationOfflineError(f"{self.charge_box_id} disconnected")
        if self._current is not None:
            self._current.finish(error=offline)
        while self._queue:
            self._queue.pop(0).finish(error=offline)

    def action_of(self, unique_id: str) -> str:
        """The action of the outstanding CALL with this id ("" when none is)."""
        command = self._current
        return command.action if command is not None and command.unique_id == unique_id else ""

    def deliver(self, frame: CallResult | CallError) -> None:
        """A CALLRESULT or CALLERROR from the station, for the outstanding CALL."""
        command = self._current
        if command is None or command.unique_id != frame.unique_id or command.done.is_set():
            log.info("%s: dropped late or unknown reply %s", self.charge_box_id, frame.unique_id)
            return
        if isinstance(frame, CallError):
            command.finish(error=CallErrorReply(frame.code, frame.description, frame.details))
            return
        try:
            self._schemas.validate_response(command.action, frame.payload)
            check_payload(frame.payload)
        except OcppError as exc:
            command.finish(
                error=CallErrorReply(
                    exc.code, f"invalid {command.action} reply: {exc.description}", exc.details
                )
            )
        else:
            command.finish(result=frame.payload)
