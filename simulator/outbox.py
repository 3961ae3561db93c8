"""The station's outgoing side: StatusNotifications and queued transaction messages (a mixin)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import trio

from simulator.errors import CallErrorReceived, CallTimeoutError, StationOfflineError
from simulator.outlet import Outlet

if TYPE_CHECKING:
    from simulator.config import StationConfiguration
    from simulator.protocol import Call, MessageIds
    from simulator.txqueue import TxQueue

__all__ = ["OutboxMixin"]


class OutboxMixin:
    """One sender task per connection: transaction messages first, then changed statuses."""

    if TYPE_CHECKING:
        outlets: list[Outlet]
        connector0: Outlet
        config: StationConfiguration
        txq: TxQueue
        ids: MessageIds
        settings: Any
        faults: Any
        _work: trio.Event
        _call_lock: trio.Lock

        def timestamp(self) -> str: ...
        def observe(self, outlet: Outlet, *, again: bool = False) -> None: ...
        def _notify(self) -> None: ...
        async def call(
            self, action: str, payload: dict[str, Any], *, timeout: float | None = None
        ) -> dict[str, Any]: ...
        async def _exchange(self, call: Call, timeout: float | None) -> dict[str, Any]: ...

    async def _sender_loop(self) -> None:
        """The one task that sends StatusNotifications and queued transaction messages."""
        try:
            await self._send_pending_forever()
        except StationOfflineError:
            pass  # the connection is going down; the next one starts a new sender

    async def _send_pending_forever(self) -> None:
        connectors = (self.connector0, *self.outlets)
        while True:
            self._work = trio.Event()
            if self.faults.silent:  # a hung station: everything waits in the queue
                await self._work.wait()
                continue
            head = self.txq.head()
            first: Outlet | None = None
            order = head.seq if head is not None else math.inf
            for outlet in connectors:
                if outlet.changes and outlet.changes[0][0] < order:
                    first, order = outlet, outlet.changes[0][0]
            if first is not None:  # in the order things happened: Preparing, Start, Charging
                await self._send_status(first)
                continue
            if head is not None:
                await self._deliver_head()
                continue
            stale = [o for o in connectors if o.status_changed() and not o.changes]
            for outlet in stale:  # a change nobody observed: report it now
                self.observe(outlet, again=True)
            if stale:
                continue
            await self._work.wait()

    async def _send_status(self, outlet: Outlet) -> None:
        seq, status, error, timestamp = outlet.changes[0]
        payload: dict[str, Any] = {
            "connectorId": outlet.connector_id,
            "errorCode": error,
            "status": str(status),
            "timestamp": timestamp,
        }
        fault = outlet.fault
        if fault is not None and error == fault.error_code:
            if fault.info:
                payload["info"] = fault.info
            if fault.vendor_error_code:
                payload["vendorId"] = self.settings.vendor
                payload["vendorErrorCode"] = fault.vendor_error_code
        try:
            await self.call("StatusNotification", payload)
        except (CallTimeoutError, CallErrorReceived):
            pass
        if outlet.changes and outlet.changes[0][0] == seq:
            outlet.changes.pop(0)
        outlet.reported, outlet.reported_error = status, error
        self._notify()

    async def _deliver_head(self) -> bool:
        """Send the oldest transaction message; True when the queue moved."""
        message = self.txq.head()
        if message is None:
            return False
        call = message.freeze(self.ids)
        if call is None:
            self.txq.pop(delivered=False)
            return True
        if message.sends:
            self.txq.resent += 1
        message.sends += 1
        try:
            async with self._call_lock:
                result = await self._exchange(call, None)
        except CallTimeoutError:
            self._notify()  # waiters may watch the queue
            await trio.sleep(self._retry_interval(message.sends))
            return True
        except CallErrorReceived:
            message.attempts += 1
            if message.attempts >= max(1, self.config.get_int("TransactionMessageAttempts")):
                self.txq.pop(delivered=False)
            else:
                await trio.sleep(self._retry_interval(message.attempts))
            return True
        self.txq.pop()
        if message.on_result is not None:
            message.on_result(result)
        self._notify()
        return True

    def _retry_interval(self, attempt: int) -> float:
        base = max(1, self.config.get_int("TransactionMessageRetryInterval"))
        return float(min(base * attempt, 300))
