"""Per-app state (store, gateway, throttle) and per-request helpers views use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from quart import current_app, g, request
from werkzeug.exceptions import NotFound

from db.accounts.auth_failures import (
    clear_failures,
    failure_ages,
    is_revoked,
    record_failure,
    revoke_session,
)
from db.engine.store import Store
from db.topology.topology import SYSTEM, NodeRef
from gateway.api import GatewayAPI
from portal.security import LoginThrottle

__all__ = [
    "PortalState",
    "get_gateway",
    "get_state",
    "get_store",
    "page_number",
    "scope_node",
    "selected_node",
]


@dataclass
class PortalState:
    """What every view reaches through ``current_app``: kept in ``app.extensions``."""

    store: Store
    gateway: GatewayAPI  # the portal's only way to the stations
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    sse_clients: int = 0

    # Logged-out cookies and failed logins live in the database (``db.accounts.
    # auth_failures``): a restart forgets neither, and every portal process sees them.

    async def revoke_session(self, cookie: str, lifetime: float) -> None:
        """Refuse this session cookie from now on (until it would have expired anyway)."""
        await self.store.write(revoke_session, cookie, lifetime)

    async def is_revoked(self, cookie: str) -> bool:
        return await self.store.read(is_revoked, cookie)

    async def login_wait(self, account: str, address: str) -> float:
        """Seconds before ``account`` may try again from ``address`` (0: now), counting the
        failures every process recorded within the window."""
        keys = [f"a:{account}", f"ip:{address}"]
        ages = await self.store.read(failure_ages, "portal", keys, self.throttle.window)
        for key in keys:
            self.throttle.load(key, ages.get(key, []))
        return self.throttle.retry_after(account, address)

    async def login_failed(self, account: str, address: str) -> None:
        self.throttle.failed(account, address)
        await self.store.write(record_failure, "portal", [f"a:{account}", f"ip:{address}"])

    async def login_succeeded(self, account: str) -> None:
        self.throttle.succeeded(account)
        await self.store.write(clear_failures, "portal", f"a:{account}")

    def statistics(self) -> dict[str, Any]:
        """What the portal is doing: open live streams, login throttling."""
        return {"sse_clients": self.sse_clients, "login_throttle": self.throttle.statistics()}


def get_state() -> PortalState:
    return cast("PortalState", current_app.extensions["chargeportal"])


def get_store() -> Store:
    return get_state().store


def get_gateway() -> GatewayAPI:
    return get_state().gateway


def selected_node() -> NodeRef:
    """The Navigator node this page is scoped to (``?node=site:3``), already checked
    against the principal's site: nodes outside it answered 404 before the view ran."""
    return cast("NodeRef", g.get("node") or SYSTEM)


def scope_node() -> Any:
    """The selected node as ``db.topology.scope.Node`` (for session/station scope queries)."""
    from db.topology.scope import Node

    node = selected_node()
    return Node(node.kind, node.id)


#: Beyond this a page number is nonsense (and its offset would overflow SQLite).
MAX_PAGE = 1_000_000


def page_number(name: str = "page") -> int:
    """The 1-based page of a paged table (``?page=``): 1 when absent or not a number,
    404 beyond ``MAX_PAGE``."""
    try:
        page = int(request.args.get(name, "1"))
    except ValueError:
        return 1
    if page > MAX_PAGE:
        raise NotFound(f"There is no page {page}.")
    return max(1, page)
