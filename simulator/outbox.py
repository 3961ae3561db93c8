"""The station's outgoing side: StatusNotifications and queued transaction messages (a mixin)."""

from __future__ import annotations

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
        while True:
            self._work = trio.Event()
            if self.faults.silent:  # a hung station: everything waits in the queue
                await self._work.wait()
                continue
            if await self._deliver_head():
                continue  # transaction messages first (StartTransaction before Charging)
            for outlet in (self.connector0, *self.outlets):
                if outlet.status_changed():
                    await self._send_status(outlet)
            if len(self.txq) or any(o.status_changed() for o in (self.connector0, *self.outlets)):
                continue
            await self._work.wait()

    async def _send_status(self, outlet: Outlet) -> None:
        status, error = outlet.status, outlet.error_code
        payload: dict[str, Any] = {
            "connectorId": outlet.connector_id,
            "errorCode": error,
            "status": str(status),
            "timestamp": self.timestamp(),
        }
        if outlet.fault is not None:
            if outlet.fault.info:
                payload["info"] = outlet.fault.info
            if outlet.fault.vendor_error_code:
                payload["vendorId"] = self.settings.vendor
                payload["vendorErrorCode"] = outlet.fault.vendor_error_code
        try:
            await self.call("StatusNotification", payload)
        except (CallTimeoutError, CallErrorReceived):
            pass
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
