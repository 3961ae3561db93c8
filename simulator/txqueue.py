"""Transaction-related messages (OCPP 1.6 §3.7 / §4.8): kept in order, frozen at first send."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.protocol import Call, MessageIds

__all__ = ["TX_ACTIONS", "TxMessage", "TxQueue", "TxQueueFullError"]

TX_ACTIONS = frozenset({"StartTransaction", "StopTransaction", "MeterValues"})


class TxQueueFullError(Exception):
    """The station's transaction message memory is full."""


@dataclass(slots=True)
class TxMessage:
    """One queued message; its payload is built late (transactionId known) then frozen."""

    action: str
    build: Callable[[], dict[str, Any] | None]
    on_result: Callable[[dict[str, Any]], None] | None = None
    call: Call | None = None
    attempts: int = 0  # CALLERROR answers so far
    sends: int = 0  # times it went on the wire
    seq: int = 0  # the station's event order (statuses and messages interleave by it)

    def freeze(self, ids: MessageIds) -> Call | None:
        """The frame to send; the same one on every re-send (None: nothing to send any more)."""
        if self.call is None:
            payload = self.build()
            if payload is None:
                return None
            self.call = Call(ids.next(), self.action, payload)
        return self.call


class TxQueue:
    """A bounded FIFO; when full, the oldest periodic MeterValues make room first."""

    __slots__ = ("_items", "delivered", "dropped", "max_length", "resent")

    def __init__(self, max_length: int = 2000) -> None:
        self._items: deque[TxMessage] = deque()
        self.max_length = max_length
        self.delivered = 0
        self.dropped = 0
        self.resent = 0

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def push(self, message: TxMessage) -> None:
        if len(self._items) >= self.max_length:
            for item in self._items:
                if item.action == "MeterValues" and item.call is None:
                    self._items.remove(item)
                    self.dropped += 1
                    break
            else:
                raise TxQueueFullError(f"{len(self._items)} transaction messages waiting")
        self._items.append(message)

    def head(self) -> TxMessage | None:
        return self._items[0] if self._items else None

    def pop(self, *, delivered: bool = True) -> TxMessage:
        message = self._items.popleft()
        if delivered:
            self.delivered += 1
        else:
            self.dropped += 1
        return message

    def statistics(self) -> dict[str, int]:
        return {
            "queued": len(self._items),
            "delivered": self.delivered,
            "dropped": self.dropped,
            "resent": self.resent,
        }
