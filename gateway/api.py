"""``GatewayAPI``: everything the portal may ask of the gateway, as a typed protocol.

The in-process ``Gateway`` implements it; a gateway reached over PostgreSQL (scale-out)
will be a second implementation, so callers change nothing when stations move to
another node. Commands are objects (``gateway.commands``); errors are
``gateway.errors`` and ``db.errors``.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

import trio

from gateway.commands import Command, CommandResult
from gateway.events import LiveEvent
from gateway.snapshot import StationSnapshot

if TYPE_CHECKING:
    from gateway.ocpp15.endpoint import SoapAnswer

__all__ = ["EventSource", "GatewayAPI"]


class EventSource(Protocol):
    """The live event bus: what happened at stations, as it happens."""

    def subscribe(
        self, max_buffer: int = 1000
    ) -> AbstractAsyncContextManager[trio.MemoryReceiveChannel[LiveEvent]]: ...

    def publish(self, event: LiveEvent) -> None: ...


class GatewayAPI(Protocol):
    """Send commands to stations, read their live state, follow their events."""

    @property
    def events(self) -> EventSource: ...

    async def send(
        self,
        charge_box_id: str,
        command: Command,
        *,
        deadline: float | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        """Send ``command``; one deadline (trio clock) covers queue, send and answer."""
        ...

    def check_payload(self, action: str, payload: dict[str, Any]) -> None:
        """Refuse a wire payload its action's schema rejects (PayloadValidationError)."""
        ...

    async def handle_soap15(
        self, body: bytes, headers: list[tuple[bytes, bytes]], remote: str, own_url: str = ""
    ) -> SoapAnswer:
        """Answer one HTTP POST to the OCPP 1.5 endpoint (the portal only carries bytes;
        ``own_url``: the endpoint as the station reached it)."""
        ...

    def leads_cluster(self) -> bool:
        """Whether cluster-wide duties (daily jobs: e-mail, backups) run in this process:
        always in one process; with several (PostgreSQL) only on the leader, a node with
        a gateway (a portal-only process never leads)."""
        ...

    def is_online(self, charge_box_id: str) -> bool: ...

    def online_stations(self) -> list[str]: ...

    @property
    def port(self) -> int | None:
        """The OCPP-J listener's port (None until it listens)."""
        ...

    def snapshot(self, charge_box_id: str) -> StationSnapshot | None:
        """The station's live state (None when not seen since start)."""
        ...
